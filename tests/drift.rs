//! Live drift against objects built from the example's render the way an API server returns
//! them: defaults filled in, status, managedFields and a last-applied-configuration.

mod common;

use serde_json::{Value, json};

use common::{Platform, repo_root, stderr, stdout};

/// The desired objects of one cluster of the example, as strata renders them.
fn desired(cluster_dir: &str) -> Vec<Value> {
    let world = strata::world::FsWorld::open(&repo_root()).expect("open");
    let tree = strata::compile(&world, &strata::Selection::default())
        .map_err(|f| format!("{:?}", f.diagnostics))
        .expect("compile")
        .tree;
    tree.files
        .iter()
        .filter(|(p, _)| p.starts_with(cluster_dir))
        .map(|(_, b)| yaml_serde::from_slice(b).expect("yaml"))
        .collect()
}

/// What `kubectl get -o yaml` returns for an applied object.
fn as_served(desired: &Value) -> Value {
    let mut live = desired.clone();
    let last_applied = serde_json::to_string(desired).expect("json");
    let meta = live["metadata"].as_object_mut().expect("metadata");
    meta.insert("uid".into(), json!("7c1e6a2e-0000-4000-8000-000000000001"));
    meta.insert("resourceVersion".into(), json!("123456"));
    meta.insert("generation".into(), json!(3));
    meta.insert("creationTimestamp".into(), json!("2026-11-20T10:00:00Z"));
    meta.insert(
        "managedFields".into(),
        json!([{"manager": "argocd-controller", "operation": "Apply"}]),
    );
    meta.entry("annotations").or_insert_with(|| json!({}))["kubectl.kubernetes.io/last-applied-configuration"] =
        json!(last_applied);
    // Server defaults: only where desired says nothing.
    fn default(v: &mut Value, key: &str, d: Value) {
        if let Some(m) = v.as_object_mut() {
            m.entry(key.to_string()).or_insert(d);
        }
    }
    if live["kind"] == "Deployment" {
        default(&mut live["spec"], "revisionHistoryLimit", json!(10));
        default(&mut live["spec"], "progressDeadlineSeconds", json!(600));
        default(
            &mut live["spec"],
            "strategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
        );
        default(
            &mut live["spec"]["template"]["spec"],
            "dnsPolicy",
            json!("ClusterFirst"),
        );
        default(
            &mut live["spec"]["template"]["spec"],
            "restartPolicy",
            json!("Always"),
        );
        if let Some(containers) = live["spec"]["template"]["spec"]["containers"].as_array_mut() {
            for c in containers {
                default(c, "terminationMessagePath", json!("/dev/termination-log"));
                default(c, "imagePullPolicy", json!("IfNotPresent"));
            }
        }
        live["status"] = json!({"replicas": 1, "readyReplicas": 1});
    }
    live
}

fn served_list(objects: &[Value]) -> String {
    yaml_serde::to_string(&json!({"apiVersion": "v1", "kind": "List", "items": objects.iter().map(as_served).collect::<Vec<_>>()})).expect("yaml")
}

fn run_drift(
    root: &std::path::Path,
    cluster: &str,
    live: &str,
    format: &str,
) -> std::process::Output {
    let file = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(file.path(), live).expect("write");
    assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(root)
        .args(["drift", "--cluster", cluster, "--live"])
        .arg(file.path())
        .args(["--format", format])
        .output()
        .expect("run")
}

const CLUSTER: &str = "prod-sto2-workload";
const DIR: &str = "prod/sto2/workload/";
const CONTROLLER: &str = "ingress-nginx-controller";

fn controller(objects: &mut [Value]) -> &mut Value {
    objects
        .iter_mut()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == CONTROLLER)
        .expect("the controller")
}

#[test]
fn no_drift_when_live_is_what_was_rendered() {
    common::helm_in_process();
    let objects = desired(DIR);
    assert!(objects.len() > 40);
    let o = run_drift(&repo_root(), CLUSTER, &served_list(&objects), "human");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!("in sync: {} objects", objects.len())),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_changed_image_is_drift() {
    common::helm_in_process();
    let mut objects = desired(DIR);
    let mut live: Vec<Value> = objects.iter().map(as_served).collect();
    let c = controller(&mut live);
    c["spec"]["template"]["spec"]["containers"][0]["image"] = json!("docker.io/evil/nginx:latest");
    let text = yaml_serde::to_string(&json!({"apiVersion": "v1", "kind": "List", "items": live}))
        .expect("yaml");
    let o = run_drift(&repo_root(), CLUSTER, &text, "json");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("json");
    let changed = report["changed"].as_array().expect("changed");
    assert_eq!(changed.len(), 1, "{report}");
    assert_eq!(changed[0]["name"], CONTROLLER);
    let field = &changed[0]["fields"][0];
    assert_eq!(
        field["path"],
        "spec.template.spec.containers[name=controller].image"
    );
    assert_eq!(field["live"], "docker.io/evil/nginx:latest");
    let _ = controller(&mut objects);
}

#[test]
fn kubectl_scale_is_drift_unless_ignore_differences_says_so() {
    common::helm_in_process();
    let p = Platform::minimal();
    let render = p.strata(&["render"]);
    assert_eq!(render.status.code(), Some(0), "{}", stderr(&render));
    let objects: Vec<Value> = p
        .rendered()
        .into_iter()
        .filter(|(path, _)| path.starts_with("prod/sto2/workload"))
        .map(|(_, b)| yaml_serde::from_slice(&b).expect("yaml"))
        .collect();
    let mut live: Vec<Value> = objects.iter().map(as_served).collect();
    for o in &mut live {
        if o["kind"] == "Deployment" {
            o["spec"]["replicas"] = json!(7);
        }
    }
    let text = yaml_serde::to_string(&json!({"kind": "List", "apiVersion": "v1", "items": live}))
        .expect("yaml");
    let o = run_drift(p.path(), CLUSTER, &text, "human");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("spec.replicas"), "{}", stdout(&o));

    p.write(
        "components/web/component.yaml",
        &format!("{}ignoreDifferences:\n  - group: apps\n    kind: Deployment\n    jsonPointers: [/spec/replicas]\n", common::WEB_COMPONENT),
    );
    let o = run_drift(p.path(), CLUSTER, &text, "human");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Argo CD is told the same, so self-heal does not undo the scale.
    assert_eq!(p.strata(&["render"]).status.code(), Some(0));
    let app = std::fs::read_to_string(
        p.path()
            .join("rendered/prod/argocd/apps/sto2-workload-web.yaml"),
    )
    .expect("app");
    assert!(app.contains("ignoreDifferences:\n  - group: apps\n    jsonPointers:\n    - /spec/replicas\n    kind: Deployment\n"), "{app}");
    assert!(app.contains("RespectIgnoreDifferences=true"), "{app}");
}

#[test]
fn a_label_removed_from_desired_but_still_live_is_drift() {
    common::helm_in_process();
    let objects = desired(DIR);
    let mut live: Vec<Value> = objects
        .iter()
        .map(|d| {
            let mut older = d.clone();
            if older["metadata"]["name"] == CONTROLLER && older["kind"] == "Deployment" {
                older["metadata"]["labels"]["team"] = json!("platform");
            }
            as_served(&older)
        })
        .collect();
    // The label was applied earlier and is still live; desired no longer sets it.
    assert!(controller(&mut live)["metadata"]["labels"]["team"] == "platform");
    let text = yaml_serde::to_string(&json!({"kind": "List", "apiVersion": "v1", "items": live}))
        .expect("yaml");
    let o = run_drift(&repo_root(), CLUSTER, &text, "json");
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        report["changed"][0]["fields"][0]["path"],
        "metadata.labels.team"
    );
    assert_eq!(
        report["changed"][0]["fields"][0]["kind"],
        "removed_still_live"
    );
}

#[test]
fn orphans_and_missing_objects() {
    common::helm_in_process();
    let objects = desired(DIR);
    let mut live: Vec<Value> = objects.iter().skip(1).map(as_served).collect();
    live.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old-config", "namespace": "ingress-nginx",
        "labels": {"app.kubernetes.io/managed-by": "strata", "strata.dev/component": "ingress-nginx"}}}));
    live.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": "ingress-nginx"}}));
    let text = yaml_serde::to_string(&json!({"kind": "List", "apiVersion": "v1", "items": live}))
        .expect("yaml");
    let o = run_drift(&repo_root(), CLUSTER, &text, "json");
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(report["summary"]["missing"], 1, "{report}");
    assert_eq!(report["summary"]["orphans"], 1, "{report}");
    assert_eq!(report["orphans"][0]["name"], "old-config");
    assert_eq!(report["missing"][0]["name"], objects[0]["metadata"]["name"]);
}

#[test]
fn a_secret_change_prints_no_value() {
    common::helm_in_process();
    let p = Platform::minimal();
    p.write(
        "components/web/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-token\nstringData:\n  token: correct-horse-battery\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let objects: Vec<Value> = p
        .rendered()
        .into_iter()
        .filter(|(path, _)| path.starts_with("prod/sto2/workload"))
        .map(|(_, b)| yaml_serde::from_slice(&b).expect("yaml"))
        .collect();
    let mut live: Vec<Value> = objects.iter().map(as_served).collect();
    for l in &mut live {
        if l["kind"] == "Secret" {
            l.as_object_mut().expect("obj").remove("stringData");
            // "hunter2-the-live-one", base64.
            l["data"] = json!({"token": "aHVudGVyMi10aGUtbGl2ZS1vbmU="});
            l["metadata"]["annotations"]
                .as_object_mut()
                .expect("ann")
                .remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    let text = yaml_serde::to_string(&json!({"kind": "List", "apiVersion": "v1", "items": live}))
        .expect("yaml");
    for format in ["human", "json"] {
        let o = run_drift(p.path(), CLUSTER, &text, format);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("web-token"), "{out}");
        assert!(out.contains("sha256:"), "{out}");
        for secret in [
            "correct-horse-battery",
            "hunter2-the-live-one",
            "aHVudGVyMi10aGUtbGl2ZS1vbmU=",
        ] {
            assert!(
                !out.contains(secret),
                "{format} output shows a secret: {out}"
            );
        }
    }
}

#[test]
fn quantities_compare_by_value() {
    common::helm_in_process();
    let objects = desired(DIR);
    let mut live: Vec<Value> = objects.iter().map(as_served).collect();
    let c = controller(&mut live);
    let resources = &mut c["spec"]["template"]["spec"]["containers"][0]["resources"];
    assert_eq!(resources["requests"]["cpu"], "100m");
    resources["requests"]["cpu"] = json!("0.1");
    resources["limits"]["memory"] = json!("0.5Gi");
    assert_eq!(
        objects
            .iter()
            .find(|o| o["metadata"]["name"] == CONTROLLER && o["kind"] == "Deployment")
            .expect("c")["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "512Mi"
    );
    let text = yaml_serde::to_string(&json!({"kind": "List", "apiVersion": "v1", "items": live}))
        .expect("yaml");
    let o = run_drift(&repo_root(), CLUSTER, &text, "human");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn unreadable_live_input_is_exit_2() {
    common::helm_in_process();
    let o = run_drift(&repo_root(), CLUSTER, "kind: [unclosed\n", "human");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("error[live-input]"), "{}", stderr(&o));
}

#[test]
fn kubectl_with_a_broken_kubeconfig_fails_cleanly() {
    common::helm_in_process();
    let dir = tempfile::tempdir().expect("tmp");
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    )
    .expect("write");
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "drift",
            "--cluster",
            CLUSTER,
            "--kubectl",
            "--context",
            "prod-sto2-workload",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("kubectl get failed"), "{err}");
    assert!(err.contains("context was not found"), "{err}");
}

/// Issue 28, point 3: a live input that did not parse was reported without its name.
#[test]
fn every_diagnostic_about_the_live_input_names_it() {
    let root = common::repo_root();
    let o = run_drift(&root, CLUSTER, "kind: List\nitems: x: y\n", "human");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let file = err
        .strip_prefix("error[live-input]: ")
        .and_then(|rest| rest.split_once(":2:"))
        .map(|(file, _)| file)
        .unwrap_or_else(|| panic!("no file:line: {err}"));
    assert!(
        file.starts_with(&std::env::temp_dir().display().to_string()),
        "{err}"
    );
    assert!(err.contains("document 1, line 2"), "{err}");

    // A problem with no line names the file and the document.
    let o = run_drift(&root, CLUSTER, "---\n- 1\n", "human");
    let err = stderr(&o);
    assert!(
        err.starts_with("error[live-input]: /")
            && err.contains(": the live input has a number at document 1, item 1"),
        "{err}"
    );
}
