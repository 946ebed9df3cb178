//! Fuzz regressions: every input under `tests/fuzz_regressions/<target>/` runs through the code
//! path of the fuzz target of the same name and must not panic.
//!
//! The fuzz targets in `fuzz/fuzz_targets/` include this file as their harness (`#[path]`), so
//! a crash that `cargo fuzz` finds replays here, on stable, in `cargo test`, byte for byte:
//! copy the crashing input into `tests/fuzz_regressions/<target>/` and name it after what broke.
//! Inputs under `tests/fuzz_regressions/pending/` crash the current source and are skipped
//! until the fix lands; move them up a level with the fix.
//!
//! - `layers`: the bytes as YAML (where the fast reader of rendered YAML reads them, it must
//!   agree with the full parser), then as a layer file and as a cluster file of a small
//!   platform, compiled. The compile may fail, but only with a diagnostic, and the diagnostics
//!   must print.
//! - `templates`: the bytes as a template of that platform's component, compiled.
//! - `live`: the bytes as `kubectl get -o yaml|json` output, compared with itself and with a
//!   fixed desired object.

use strata::Selection;
use strata::compare::drift::Options;
use strata::load::IgnoreRule;
use strata::world::MemWorld;

const STRATA_YAML: &str = "output: {repoURL: https://git.example.com/out.git}\n";
const COMPONENT: &str =
    "name: web\nversion: \"1.0\"\nnamespace: web\nroles: [workload]\nsyncWave: 2\n";
const VALUES: &str = "replicas: 1\nimage: registry.example.com/web:1.27\nargs: [--a]\n";
/// Strict where the template needs a type, open elsewhere, so that fuzzed values reach the
/// renderer as often as they reach the schema check.
const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "replicas": {"type": "integer", "minimum": 1},
    "image": {"type": "string"},
    "args": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["replicas", "image", "args"]
}
"#;
/// A Deployment that passes the default policies, and a ConfigMap that carries every value.
const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: {{ values.image | quote }}
          args: {{ values.args | tojson }}
          resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}
          securityContext: {allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-{{ cluster.environment }}
data:
  values: {{ values | tojson | quote }}
  global: {{ global | toyaml | quote }}
  cluster: {{ cluster | tojson | quote }}
"#;
/// Partials for the `templates` target to include and import.
const HELPERS: &str = r#"{% macro labels(name) %}app.kubernetes.io/name: {{ name }}
app.kubernetes.io/version: {{ component.version | quote }}{% endmacro %}
{% macro tree(n) %}{% if n > 0 %}[{{ tree(n - 1) }}]{% endif %}{% endmacro %}
"#;
const LIB: &str =
    "{# shared by every component #}\nteam: {{ global.team | default(\"platform\") }}\n";
const ROOT_LAYER: &str = "values:\n  global: {domain: example.com, team: web}\n";
const PROD_LAYER: &str = "values:\n  web:\n    replicas: 2\n    args: !append [--prod]\n";
const CLUSTER: &str = "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 3}\n";

const PROD_LAYER_PATH: &str = "environments/prod/layer.yaml";
const CLUSTER_PATH: &str = "environments/prod/sto2/workload.cluster.yaml";
const TEMPLATE_PATH: &str = "components/web/templates/t.yaml";

/// The platform every target compiles: one component, one workload cluster in `prod`.
pub fn platform() -> MemWorld {
    MemWorld::new("fuzz")
        .with("strata.yaml", STRATA_YAML)
        .with("components/web/component.yaml", COMPONENT)
        .with("components/web/values.yaml", VALUES)
        .with("components/web/values.schema.json", SCHEMA)
        .with(TEMPLATE_PATH, TEMPLATE)
        .with("components/web/templates/_helpers.tpl", HELPERS)
        .with("components/_lib/team.yaml", LIB)
        .with("environments/layer.yaml", ROOT_LAYER)
        .with(PROD_LAYER_PATH, PROD_LAYER)
        .with(CLUSTER_PATH, CLUSTER)
}

/// Compiles `world` and prints what came out, as `strata render` would. Panics if the compile
/// fails without saying why.
fn compile(world: &MemWorld) {
    match strata::compile(world, &Selection::default()) {
        Ok(compiled) => {
            let _ = strata::diag::render(&compiled.warnings, &compiled.source.texts);
        }
        Err(failure) => {
            assert!(
                !failure.diagnostics.is_empty(),
                "compile failed without a diagnostic"
            );
            let printed = strata::diag::render(&failure.diagnostics, &failure.texts);
            assert!(!printed.is_empty(), "diagnostics printed as nothing");
        }
    }
}

/// The `layers` fuzz target.
pub fn layers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let full = strata::yaml::parse_documents(text);
    // The fast reader of rendered YAML agrees with the full parser wherever it reads a text.
    if let Some(fast) = strata::yaml::fast::documents(text) {
        let full: Vec<serde_json::Value> = match full {
            Ok(docs) => docs
                .into_iter()
                .map(strata::yaml::Node::into_json)
                .collect(),
            Err(e) => panic!("the fast reader read a text the full parser rejects: {e}"),
        };
        // As text, so that key order counts.
        assert_eq!(
            serde_json::to_string(&fast).ok(),
            serde_json::to_string(&full).ok(),
            "the fast reader and the full parser differ"
        );
    }
    let _ = strata::yaml::parse_one(text);
    compile(&platform().with(PROD_LAYER_PATH, text));
    compile(&platform().with(CLUSTER_PATH, text));
}

/// The `templates` fuzz target.
pub fn templates(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    compile(&platform().with(TEMPLATE_PATH, text));
}

/// The desired object the `live` target compares live input with.
fn desired() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "web",
                     "labels": {"app.kubernetes.io/managed-by": "strata"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "web", "image": "web:1", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}}
        ]}}}
    })
}

/// The `live` fuzz target.
pub fn live(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let objects = match strata::compare::drift::parse_live(text) {
        Ok(objects) => objects,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let ignoring = Options {
        ignore: vec![IgnoreRule {
            group: "*".into(),
            kind: "*".into(),
            json_pointers: vec![
                "/spec/replicas".into(),
                "/metadata/labels/app.kubernetes.io~1name".into(),
                "/spec/template/spec/containers/0".into(),
                "/".into(),
            ],
            name: None,
            namespace: None,
        }],
        ignore_aggregated_roles: true,
    };
    let desired = [desired()];
    for options in [Options::default(), ignoring] {
        for (want, have) in [
            (&objects[..], &objects[..]),
            (&desired[..], &objects[..]),
            (&objects[..], &desired[..]),
        ] {
            let report = strata::compare::drift::drift(want, have, &options);
            let _ = strata::compare::drift::render_human(&report);
            let _ = serde_json::to_string(&report);
        }
    }
}

#[cfg(test)]
mod replay {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    fn inputs(target: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz_regressions")
            .join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no inputs in {}", dir.display());
        files
    }

    /// A generous bound for one input in a debug build: the fuzzers stop an input at 5 s in
    /// release, and every input here takes milliseconds. A slow input is a bug too.
    const SLOW: Duration = Duration::from_secs(30);

    /// Runs every input, each in its own thread (with the main thread's stack, as under
    /// libFuzzer) so that one panic names its file and the rest still run.
    fn replay(target: &str, harness: fn(&[u8])) {
        let mut failed = Vec::new();
        for path in inputs(target) {
            let data = std::fs::read(&path).expect("read input");
            let started = Instant::now();
            let run = std::thread::Builder::new()
                .stack_size(8 * 1024 * 1024)
                .spawn(move || harness(&data))
                .expect("spawn");
            if run.join().is_err() {
                failed.push(format!("{}: panicked", path.display()));
            } else if started.elapsed() > SLOW {
                failed.push(format!("{}: took {:?}", path.display(), started.elapsed()));
            }
        }
        assert!(failed.is_empty(), "these inputs fail: {failed:#?}");
    }

    #[test]
    fn layers_inputs_compile_or_fail_with_a_diagnostic() {
        replay("layers", super::layers);
    }

    #[test]
    fn templates_inputs_compile_or_fail_with_a_diagnostic() {
        replay("templates", super::templates);
    }

    #[test]
    fn live_inputs_parse_and_compare_without_panicking() {
        replay("live", super::live);
    }

    /// Issue 28, point 12: `cargo fuzz` is not part of CI, so this is the bounded stand-in for
    /// the drift input (`kubectl get -o yaml|json`): the live seeds, mutated at random (bytes
    /// replaced, spans dropped or repeated, YAML and JSON punctuation put in) a few thousand
    /// times, run through the `live` harness. A panic names the input; `STRATA_FUZZ_SEED`
    /// replays a run.
    #[test]
    fn random_live_inputs_parse_and_compare_without_panicking() {
        let seeds: Vec<Vec<u8>> = inputs("live")
            .iter()
            .map(|p| std::fs::read(p).expect("read"))
            .collect();
        let mut state: u64 = std::env::var("STRATA_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(28);
        let mut next = |below: usize| -> usize {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % below.max(1)
        };
        const PUNCTUATION: &[&[u8]] = &[
            b":",
            b"- ",
            b"\n",
            b"  ",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b"\"",
            b"'",
            b"---\n",
            b"&a ",
            b"*a",
            b"!!str ",
            b"null",
            b"-1",
            b"1e999",
            b"kind: List\nitems:\n",
        ];
        for _ in 0..3000 {
            let mut data = seeds[next(seeds.len())].clone();
            for _ in 0..1 + next(4) {
                let at = next(data.len() + 1);
                match next(4) {
                    0 if at < data.len() => data[at] = next(256) as u8,
                    1 => {
                        let end = (at + next(16)).min(data.len());
                        data.drain(at..end);
                    }
                    2 => {
                        let end = (at + next(32)).min(data.len());
                        let span = data[at..end].to_vec();
                        data.splice(at..at, span);
                    }
                    _ => {
                        let p = PUNCTUATION[next(PUNCTUATION.len())];
                        data.splice(at..at, p.iter().copied());
                    }
                }
            }
            let shown = String::from_utf8_lossy(&data).to_string();
            let run = std::panic::catch_unwind(|| super::live(&data));
            assert!(run.is_ok(), "the live harness panicked on:\n{shown}");
        }
    }

    /// The fixture platform itself compiles, so the targets reach render and emit.
    #[test]
    fn the_fixture_platform_compiles() {
        let world = super::platform();
        if let Err(failure) = strata::compile(&world, &strata::Selection::default()) {
            panic!(
                "{}",
                strata::diag::render(&failure.diagnostics, &failure.texts)
            );
        }
    }
}
