//! Helm chart sources: the user's `helm template` over a chart vendored in the component.
//!
//! strata never points helm at the working tree. It writes the chart, as the [`World`] holds it
//! (the working tree, or a git commit for `diff --base` and the promotion gates), into a private
//! temporary directory with the values file beside it, and runs
//! `helm template RELEASE CHART --namespace NS --values FILE [--kube-version V]
//! [--api-versions X]... [--include-crds] --skip-tests` there, with the command sources' cleared
//! environment, timeout and output cap. `--skip-tests` leaves out the test hooks that Argo CD
//! never applies; every other hook is kept, its annotations untouched (README, "Helm charts").

use std::path::Path;

use crate::diag::{Code, DiagResult, Diagnostic, Diagnostics, Span};
use crate::load::{Component, HelmChart};
use crate::merge::{Cluster, Merged};
use crate::world::World;

use super::command::{self, CommandError};

/// The hook annotation of Helm; a document carrying it is a hook.
const HOOK: &str = "helm.sh/hook";

/// What one `helm template` run depends on besides the chart: the values file's bytes and the
/// flags strata derives from the cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HelmRun {
    pub(crate) values: String,
    pub(crate) kube_version: Option<String>,
    pub(crate) api_versions: Vec<String>,
}

/// The values file and flags of `component` on `cluster`: the component's merged values with
/// the merged `global` under `global`, as Helm hands `.Values.global` to every subchart.
pub(crate) fn helm_run(
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
) -> DiagResult<HelmRun> {
    let mut diags = Diagnostics::new();
    let mut json = values.to_json();
    if let Some(map) = json.as_object_mut() {
        if map.contains_key("global") {
            let span = values
                .get("global")
                .and_then(Merged::last_origin)
                .map(crate::merge::Origin::span);
            diags.push(
                Diagnostic::error(
                    Code::Values,
                    format!(
                        "component `{}` renders a Helm chart and has its own `global` values, which strata's `global` would replace",
                        component.name
                    ),
                )
                .at_opt(span)
                .note(format!("cluster: {}", cluster.name))
                .hint("set global values under `values.global` of a layer: strata passes them to the chart as `.Values.global`"),
            );
        }
        map.insert("global".into(), cluster.global.to_json());
    }
    let text_of = |key: &str| cluster.identity.get(key);
    let kube_version = match text_of("kubernetesVersion") {
        None => None,
        Some(m) => match m.as_str() {
            Some(v) => Some(v.to_string()),
            None if m.to_json().is_null() => None,
            None => {
                diags.push(
                    Diagnostic::error(
                        Code::Cluster,
                        format!("cluster `{}` has a kubernetesVersion that is not a string", cluster.name),
                    )
                    .at_opt(m.last_origin().map(crate::merge::Origin::span))
                    .hint("quote it, e.g. `kubernetesVersion: \"1.30\"`: YAML reads 1.30 as the number 1.3"),
                );
                None
            }
        },
    };
    let api_versions = match text_of("apiVersions").map(Merged::to_json) {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    Code::Cluster,
                    format!("cluster `{}` has apiVersions that are not a comma-separated string", cluster.name),
                )
                .at_opt(
                    text_of("apiVersions")
                        .and_then(Merged::last_origin)
                        .map(crate::merge::Origin::span),
                )
                .hint("write them as one string, e.g. `apiVersions: \"monitoring.coreos.com/v1, cert-manager.io/v1\"`"),
            );
            Vec::new()
        }
    };
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(HelmRun {
        values: serde_json::to_string_pretty(&json).unwrap_or_default(),
        kube_version,
        api_versions,
    })
}

/// The arguments of `helm template` for `run`, the chart and the values file named as they are
/// in the run's directory.
pub(crate) fn argv(
    chart: &HelmChart,
    component: &Component,
    run: &HelmRun,
    chart_arg: &str,
) -> Vec<String> {
    let mut argv: Vec<String> = [
        "helm",
        "template",
        &chart.release_name,
        chart_arg,
        "--namespace",
        &component.namespace,
        "--values",
        "values.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(v) = &run.kube_version {
        argv.extend(["--kube-version".into(), v.clone()]);
    }
    for api in &run.api_versions {
        argv.extend(["--api-versions".into(), api.clone()]);
    }
    if chart.include_crds {
        argv.push("--include-crds".into());
    }
    argv.push("--skip-tests".into());
    argv
}

/// Runs `helm template` on the chart as `world` holds it; returns helm's stdout.
pub(crate) fn run(
    world: &dyn World,
    chart: &HelmChart,
    cluster: &Cluster,
    component: &Component,
    run: &HelmRun,
) -> DiagResult<String> {
    let component_file = format!("{}/component.yaml", component.dir);
    let full = format!("{}/{}", component.dir, chart.chart);
    let io = |what: String| -> Diagnostics {
        Diagnostic::error(Code::Io, what)
            .at(Span::new(&component_file, 1, 1))
            .hint("check TMPDIR: strata writes the chart and its values to a temporary directory for helm")
            .into()
    };
    let scratch =
        tempfile::tempdir().map_err(|e| io(format!("cannot create a temporary directory: {e}")))?;
    let base = chart.chart.rsplit('/').next().unwrap_or("chart");
    let target = scratch.path().join(base);
    if chart.chart.ends_with(".tgz") {
        let bytes = world.read(&full).unwrap_or_default();
        std::fs::write(&target, bytes)
            .map_err(|e| io(format!("cannot write {}: {e}", target.display())))?;
    } else {
        write_tree(world, &full, &target)
            .map_err(|e| io(format!("cannot write the chart {full}: {e}")))?;
    }
    std::fs::write(scratch.path().join("values.json"), &run.values)
        .map_err(|e| io(format!("cannot write the values file: {e}")))?;
    let home = scratch.path().join("home");
    std::fs::create_dir(&home)
        .map_err(|e| io(format!("cannot create an empty home directory: {e}")))?;
    let argv = argv(chart, component, run, base);
    let values_file = scratch.path().join("values.json");
    command::run(&argv, scratch.path(), &values_file, &home, chart.timeout)
        .map_err(|e| failure(&e, &argv, cluster, component, &full).into())
}

/// How long `helm version` may take.
const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What `helm version` prints, when a component of `world` may run helm (its component.yaml
/// names helm: a chart source, or a command source that runs helm) and a `helm` is on `PATH`:
/// a part of the render cache's key, so that another helm renders every chart again.
/// `strata render` remembers it for the helm file ([`crate::cache::helm_file`]), so that a
/// render with nothing to do starts no helm; `publish` asks each time. Run the way `helm template` runs (cleared environment, empty home, process group,
/// deadline); a helm that cannot say its version gives the reason instead, which matches no
/// cache either.
pub(crate) fn version_for(world: &dyn World) -> Option<String> {
    if !uses_helm(world) {
        return None;
    }
    ask_version().map(|said| said.unwrap_or_else(|reason| reason))
}

/// Whether a component.yaml of the world may name a Helm source: a word found, not parsed, so
/// that a render with nothing to do need not parse its components to know.
pub(crate) fn uses_helm(world: &dyn World) -> bool {
    world.files().iter().any(|(path, bytes)| {
        let component_file = path
            .strip_prefix("components/")
            .and_then(|rest| rest.strip_suffix("/component.yaml"))
            .is_some_and(|name| !name.contains('/'));
        component_file && bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"helm"))
    })
}

/// What `helm version` says; why it said nothing, as text that matches no cache key; or
/// nothing at all when there is no helm to run.
pub(crate) fn ask_version() -> Option<Result<String, String>> {
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return Some(Err(format!("helm version not run: {e}"))),
    };
    let argv = ["helm".to_string(), "version".to_string()];
    let values = scratch.path().join("values.json");
    match command::run(
        &argv,
        scratch.path(),
        &values,
        scratch.path(),
        VERSION_TIMEOUT,
    ) {
        Ok(text) => Some(Ok(text.trim().to_string())),
        // No helm: the cache key has none either, and a chart's render says what is missing.
        Err(CommandError::Spawn { .. }) => None,
        Err(e) => Some(Err(format!("helm version failed: {e}"))),
    }
}

/// Writes every file of the world under `dir` below `target`: the paths come from the world,
/// checked to be relative and free of `..` when it was read.
fn write_tree(world: &dyn World, dir: &str, target: &Path) -> std::io::Result<()> {
    let prefix = format!("{dir}/");
    for (path, bytes) in world.under(dir) {
        let rel = &path[prefix.len()..];
        if rel
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            continue;
        }
        let file = target.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, bytes)?;
    }
    Ok(())
}

fn failure(
    e: &CommandError,
    argv: &[String],
    cluster: &Cluster,
    component: &Component,
    full: &str,
) -> Diagnostic {
    let component_file = format!("{}/component.yaml", component.dir);
    if let CommandError::Spawn { reason, .. } = e {
        return Diagnostic::error(
            Code::HelmMissing,
            format!(
                "component `{}` renders the Helm chart {full}, but strata cannot run `helm`: {reason}",
                component.name
            ),
        )
        .at(Span::new(&component_file, 1, 1))
        .note(format!("cluster: {}", cluster.name))
        .hint("install Helm 3 or 4 and put it on PATH (https://helm.sh/docs/intro/install/); in a clone of strata itself, `export PATH=\"$(tools/helm/install | tail -n1):$PATH\"` installs a helm on Helm's engine");
    }
    // Helm names a template error `CHART/templates/FILE:LINE:COL`: point at the vendored file.
    let stderr = e.stderr().unwrap_or("");
    let span = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Error: "))
        .and_then(|rest| template_span(rest, full));
    let mut d = Diagnostic::error(
        Code::Helm,
        format!(
            "helm could not render the chart {full} of component `{}`: {e}",
            component.name
        ),
    )
    .at(span.unwrap_or_else(|| Span::new(&component_file, 1, 1)))
    .note(format!("cluster: {}", cluster.name))
    .note(format!("command: {}", argv.join(" ")));
    if !stderr.is_empty() {
        d = d.note(format!("its stderr:\n{}", stderr.trim()));
    }
    d.hint(match e {
        CommandError::Timeout { .. } => {
            "raise `source.timeout` in component.yaml if the chart is just slow to render"
        }
        _ => "the chart rejected these values or has an error; the stderr above is helm's own message",
    })
}

/// The first `CHART/PATH:LINE:COL` in a message of helm's (Helm 4 starts with it, Helm 3 and a
/// chart's `fail` put it in parentheses) → the span of that file of the vendored chart.
fn template_span(message: &str, full: &str) -> Option<Span> {
    message.split_whitespace().find_map(|token| {
        let token = token.trim_matches(|c| matches!(c, '(' | ')' | ',' | '"' | ':'));
        let mut parts = token.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line: u32 = parts.next()?.parse().ok()?;
        let path = parts.next()?;
        let (_, rest) = path.split_once('/')?;
        Some(Span::new(format!("{full}/{rest}"), line, column))
    })
}

/// helm's stdout as (source file, text) pieces: each document under its `# Source:` header,
/// the path mapped into the vendored chart. A CRD file is printed whole under one header, so a
/// piece may hold several documents.
pub(crate) fn pieces(stdout: &str, full: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.split_inclusive('\n') {
        if let Some(source) = line.trim_end().strip_prefix("# Source: ") {
            if let Some(done) = current.take() {
                out.push(done);
            }
            let origin = match source.split_once('/') {
                Some((_, rest)) => format!("{full}/{rest}"),
                None => full.to_string(),
            };
            current = Some((origin, String::new()));
            continue;
        }
        match &mut current {
            Some((_, text)) => text.push_str(line),
            None if line.trim() == "---" || line.trim().is_empty() => {}
            None => current = Some((full.to_string(), line.to_string())),
        }
    }
    out.extend(current);
    out
}

/// Whether `object` is a Helm test hook, which Argo CD never applies: `--skip-tests` leaves
/// them out, and so does strata, whatever the helm.
pub(crate) fn is_test_hook(object: &serde_json::Value) -> bool {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(HOOK))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|events| {
            events
                .split(',')
                .any(|e| matches!(e.trim(), "test" | "test-success"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_splits_into_documents_under_their_source() {
        let out = "---\n# Source: dex/crds/a.yaml\nkind: A\n---\nkind: B\n---\n# Source: dex/charts/sub/templates/s.yaml\nkind: S\n";
        assert_eq!(
            pieces(out, "components/dex/charts/dex"),
            [
                (
                    "components/dex/charts/dex/crds/a.yaml".to_string(),
                    "kind: A\n---\nkind: B\n---\n".to_string()
                ),
                (
                    "components/dex/charts/dex/charts/sub/templates/s.yaml".to_string(),
                    "kind: S\n".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_template_error_points_into_the_vendored_chart() {
        let span = template_span(
            "dex/templates/x.yaml:6:19\n  executing",
            "components/dex/charts/dex",
        )
        .unwrap();
        assert_eq!(
            span,
            Span::new("components/dex/charts/dex/templates/x.yaml", 6, 19)
        );
        assert_eq!(
            template_span(
                "execution error at (dex/templates/fail.yaml:2:4): at most 2",
                "components/dex/charts/dex"
            ),
            Some(Span::new(
                "components/dex/charts/dex/templates/fail.yaml",
                2,
                4
            ))
        );
        assert_eq!(
            template_span("chart requires kubeVersion: >= 1.27.0-0", "c"),
            None
        );
    }

    #[test]
    fn test_hooks_are_told_apart() {
        let hook = |v: &str| serde_json::json!({"metadata": {"annotations": {HOOK: v}}});
        assert!(is_test_hook(&hook("test")));
        assert!(is_test_hook(&hook("test-success")));
        assert!(!is_test_hook(&hook("pre-install,pre-upgrade")));
        assert!(!is_test_hook(&serde_json::json!({"kind": "Pod"})));
    }
}
