//! What the API server will see: every rendered object checked against the Kubernetes API of
//! its cluster's version (and the CRDs of its render), and YAML read and written so that
//! objects mean to the API server what they meant to kubectl.
//!
//! The scalar and bundle tests hold strata to kubectl itself: `kubectl label --local -o json`
//! reads a file offline, and what it reads from strata's output must equal what it reads from
//! strata's input.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Platform, stderr, stdout};
use serde_json::{Value, json};

/// A platform whose `web` component renders `template` (one file), in two clusters.
fn platform(template: &str) -> Platform {
    let p = Platform::minimal();
    p.write("components/web/templates/deployment.yaml", template);
    p
}

/// Renders `p` expecting exit 1 with the output untouched, and returns `validate`'s stderr,
/// checked to be the same as `render`'s.
fn refused(p: &Platform) -> String {
    let out = p.strata(&["render"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !p.path().join("rendered").exists(),
        "a refused render wrote output"
    );
    let validate = p.strata(&["validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert_eq!(
        stderr(&validate),
        err,
        "validate and render report the same"
    );
    err
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
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
          imagePullPolicy: Sometimes
          ports:
            - containerPort: {{ values.args[0] | tojson }}
"#;

#[test]
fn an_invalid_field_names_the_object_file_field_expected_type_and_the_line_that_set_it() {
    let p = platform(DEPLOYMENT);
    // The port comes from a layer, as a string: its line is the place to fix.
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    args: [\"8080\"]\n",
    );
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.com}\n  web:\n    args: [\"8080\"]\n",
    );
    let err = refused(&p);
    assert!(
        err.contains("error[schema]: apps/Deployment web/web: spec.template.spec.containers[0].imagePullPolicy: \"Sometimes\" is not one of the values this field allows; expected one of: Always, IfNotPresent, Never (Kubernetes 1.37)"),
        "{err}"
    );
    assert!(
        err.contains("components/web/templates/deployment.yaml:14:1"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:4:1"), "{err}");
    insta::assert_snapshot!(err);
    // The README shows this very finding.
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let block = err
        .split("\n\n")
        .find(|b| b.contains("environments/prod/layer.yaml"))
        .unwrap();
    assert!(
        readme.contains(&format!("```\n{block}\n```")),
        "README's example differs from:\n{block}"
    );
}

#[test]
fn a_layer_value_that_kubernetes_would_read_otherwise_is_a_warning() {
    let p = Platform::minimal();
    let schema = common::WEB_SCHEMA.replace(
        "\"host\": {\"type\": \"string\"}",
        "\"host\": {\"type\": \"string\"}, \"mode\": {}, \"debug\": {}",
    );
    p.write("components/web/values.schema.json", &schema);
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    mode: 0400\n    debug: yes\n    host: \"0400\"\n",
    );
    let out = p.strata(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let line =
        "warning[scalar-meaning]: `0400` is 400 to strata, but 256 to Kubernetes' YAML reader";
    assert!(err.contains(line) && readme.contains(line), "{err}");
    assert!(
        err.contains("warning[scalar-meaning]: `yes` is \"yes\" to strata, but true to Kubernetes' YAML reader"),
        "{err}"
    );
    assert_eq!(
        err.matches("warning[scalar-meaning]").count(),
        2,
        "the quoted value is no warning: {err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:3:11"), "{err}");
}

#[test]
fn removed_apis_are_errors_deprecated_ones_warnings_by_the_cluster_version() {
    let pdb = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n";
    let flow = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: web}\nspec:\n  priorityLevelConfiguration: {name: global-default}\n";
    let p = platform(&format!("{pdb}---\n{flow}"));
    p.write(
        "strata.yaml",
        &format!(
            "{}kubernetesVersion: \"1.28\"\n",
            std::fs::read_to_string(p.path().join("strata.yaml")).unwrap()
        ),
    );
    let err = refused(&p);
    insta::assert_snapshot!(err);

    // The same FlowSchema alone: served at 1.28 with a warning, gone at 1.32.
    let p = platform(flow);
    let strata = std::fs::read_to_string(p.path().join("strata.yaml")).unwrap();
    p.write(
        "strata.yaml",
        &format!("{strata}kubernetesVersion: \"1.28\"\n"),
    );
    let out = p.strata(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning[deprecated-api]: flowcontrol.apiserver.k8s.io/FlowSchema web: apiVersion: flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is no longer served from Kubernetes 1.32"),
        "{}",
        stderr(&out)
    );
    // One cluster upgraded: only its objects are refused.
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443, kubernetesVersion: \"1.32\"}\n",
    );
    let err = refused(&p);
    assert_eq!(err.matches("error[removed-api]").count(), 1, "{err}");
    assert!(err.contains("is not served by Kubernetes 1.32"), "{err}");
    insta::assert_snapshot!("one_cluster_upgraded", err);
}

#[test]
fn a_kubernetes_version_strata_cannot_use_is_an_error_at_its_line() {
    let p = Platform::minimal();
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster:\n  role: workload\n  server: https://prod-sto2.example.com:6443\n  kubernetesVersion: 1.30\n",
    );
    let out = p.strata(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let number = stderr(&out);
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster:\n  role: workload\n  server: https://prod-sto2.example.com:6443\n  kubernetesVersion: \"1.19\"\n",
    );
    let out = p.strata(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(format!("{number}\n{}", stderr(&out)));
}

const WIDGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
  - name: v1alpha1
    served: false
    storage: false
"#;

#[test]
fn custom_resources_are_checked_against_their_crd_and_unknown_kinds_warn() {
    // The CRD in one component, its resources in another.
    let p = platform(&format!(
        "{}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: big}}\nspec: {{size: 0}}\n---\napiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {{name: old}}\nspec: {{size: 1}}\n---\napiVersion: other.example.com/v1\nkind: Gadget\nmetadata: {{name: g}}\n",
        common::WEB_TEMPLATE
    ));
    p.write(
        "components/crds/component.yaml",
        "name: crds\nversion: \"1.0\"\nnamespace: crds\nroles: [workload]\n",
    );
    p.write("components/crds/values.yaml", "{}\n");
    p.write(
        "components/crds/values.schema.json",
        "{\"type\": \"object\"}\n",
    );
    p.write("components/crds/templates/widgets.yaml", WIDGET_CRD);
    let err = refused(&p);
    insta::assert_snapshot!(err);
}

#[test]
fn a_crd_declared_in_crds_gives_scope_and_schema_and_unknown_kind_has_levels() {
    let p = platform(&format!(
        "{}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {{size: 2}}\n---\napiVersion: other.example.com/v1\nkind: Gadget\nmetadata: {{name: g}}\n",
        common::WEB_TEMPLATE
    ));
    p.write("components/web/crds/widgets.yaml", WIDGET_CRD);
    let out = p.strata(&["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning[unknown-kind]: other.example.com/Gadget web/g"),
        "{err}"
    );
    // Cluster-scoped by its CRD: no namespace, and its file is named so.
    let widget = std::fs::read_to_string(
        p.path()
            .join("rendered/prod/sto2/workload/web/widget-w.yaml"),
    )
    .unwrap();
    assert!(!widget.contains("namespace"), "{widget}");
    assert!(
        !p.path()
            .join("rendered/prod/sto2/workload/web/crds")
            .exists()
    );

    // unknown-kind denied in prod only.
    let strata = std::fs::read_to_string(p.path().join("strata.yaml")).unwrap();
    p.write(
        "strata.yaml",
        &format!("{strata}    unknown-kind: {{prod: deny}}\n"),
    );
    let out = p.strata(&["validate", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut codes: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["severity"].as_str().unwrap(), d["code"].as_str().unwrap()))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [("error", "unknown-kind"), ("warning", "unknown-kind")],
        "{json:#}"
    );

    let out = p.strata(&["validate", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["unknown-kind", "unknown-kind"], "{sarif:#}");
}

/// What kubectl reads from `file`: the JSON of each object, strata's labels and the namespace
/// strata fills in removed so that input and output compare.
fn kubectl_reads(file: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .args(["label", "--local", "-o", "json", "-f"])
        .arg(file)
        .arg("strata-test=read")
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl refused {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // kubectl prints one JSON object per object, or a List of them.
    let mut objects = Vec::new();
    for v in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        let v = v.unwrap();
        match v.get("items").and_then(Value::as_array) {
            Some(items) if v["kind"] == "List" => objects.extend(items.iter().cloned()),
            _ => objects.push(v),
        }
    }
    for o in &mut objects {
        let meta = o["metadata"].as_object_mut().unwrap();
        meta.remove("namespace");
        let labels = meta["labels"].as_object_mut().unwrap();
        for strata in [
            "strata-test",
            "app.kubernetes.io/managed-by",
            "strata.dev/component",
        ] {
            labels.remove(strata);
        }
        if labels.is_empty() {
            meta.remove("labels");
        }
    }
    objects.sort_by_key(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]));
    objects
}

/// Every object strata wrote for the prod cluster's `web`, as kubectl reads them.
fn kubectl_reads_output(p: &Platform) -> Vec<Value> {
    let dir = p.path().join("rendered/prod/sto2/workload/web");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        out.extend(kubectl_reads(&entry.unwrap().path()));
    }
    out.sort_by_key(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]));
    out
}

/// `text` through a command source and through a template: kubectl must read the same
/// objects from strata's output as from `text`.
fn objects_out_equal_objects_in(text: &str, unknown_kind_off: bool) {
    let input = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
    std::fs::write(input.path(), text).unwrap();
    let expected = kubectl_reads(input.path());
    assert!(!expected.is_empty());

    for how in ["command", "template"] {
        let p = Platform::minimal();
        if unknown_kind_off {
            let strata = std::fs::read_to_string(p.path().join("strata.yaml")).unwrap();
            p.write("strata.yaml", &format!("{strata}    unknown-kind: off\n"));
        }
        p.remove("components/web/templates/deployment.yaml");
        if how == "command" {
            p.write("components/web/bundle.txt", text);
            p.write(
                "components/web/component.yaml",
                &format!(
                    "{}source:\n  command: [sh, -c, \"cat bundle.txt\"]\n",
                    common::WEB_COMPONENT
                ),
            );
        } else {
            // The text as a template that writes it out raw.
            p.write(
                "components/web/templates/bundle.yaml",
                &format!("{{% raw %}}{text}{{% endraw %}}"),
            );
        }
        let out = p.strata(&["render"]);
        assert_eq!(out.status.code(), Some(0), "{how}: {}", stderr(&out));
        let got = kubectl_reads_output(&p);
        assert_eq!(
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&expected).unwrap(),
            "through a {how}, kubectl reads other objects from strata's output than from its input"
        );
    }
}

#[test]
fn scalars_mean_to_kubectl_what_they_meant_in_the_input() {
    let text = include_str!("../src/kube/testdata/scalars.yaml").replace(
        "apiVersion: v1\nkind: ConfigMap",
        "apiVersion: test.strata.dev/v1\nkind: Scalars",
    );
    objects_out_equal_objects_in(&text, true);
}

#[test]
fn a_real_bundle_comes_through_as_kubectl_reads_it() {
    objects_out_equal_objects_in(include_str!("kubernetes/bundle.yaml"), false);
}

#[test]
fn infinity_is_refused_as_kubectl_refuses_it() {
    let p = platform(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {}\n---\napiVersion: test.strata.dev/v1\nkind: Scalars\nmetadata: {name: s}\nspec: {x: .inf}\n",
    );
    let err = refused(&p);
    assert!(
        err.contains("`.inf` is the float +Inf, which JSON cannot hold"),
        "{err}"
    );
}

#[test]
fn a_list_item_is_checked_and_named_like_any_object() {
    let p = platform(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {port: 80}\n",
    );
    let err = refused(&p);
    assert!(
        err.contains("error[schema]: ConfigMap web/a: data.port: wrong type: expected a string, found an integer: 80"),
        "{err}"
    );
    let _ = json!(null);
}
