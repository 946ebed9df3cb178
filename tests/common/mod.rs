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
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("run strata")
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
