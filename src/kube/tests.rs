//! The Kubernetes check, case by case: invalid objects with their exact findings, valid
//! objects that must pass, and objects whose verdict depends on the Kubernetes version.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::*;

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("test YAML does not parse: {e}\n{text}"))
}

fn widget_crds() -> Crds {
    let mut crds = Crds::new();
    assert!(crds.add(&yaml(include_str!("testdata/widget-crd.yaml"))));
    crds
}

fn check(minor: u32, crds: &Crds, object: &Value) -> Vec<Finding> {
    Validator::new(KubeVersion::new(minor), crds)
        .expect("a supported version")
        .check(object)
}

const POD: &str = "
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0";

/// `(name, Kubernetes minor version, object)`: each must have at least one finding.
fn invalid_objects() -> Vec<(&'static str, u32, String)> {
    let deploy = |spec: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n{spec}")
    };
    let sts = |spec: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  serviceName: db\n{spec}"
        )
    };
    let cron = |spec: &str| {
        format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: backup}}\nspec:\n{spec}")
    };
    let svc = |spec: &str| {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n{spec}")
    };
    let ing = |spec: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: web}}\nspec:\n{spec}"
        )
    };
    let netpol = |spec: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web}}\nspec:\n{spec}"
        )
    };
    let widget = |api: &str, spec: &str| {
        format!("apiVersion: {api}\nkind: Widget\nmetadata: {{name: w}}\nspec:\n{spec}")
    };
    let job = "  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: backup, image: backup:1}]";
    vec![
        ("deployment: unknown field replica", 31, deploy(&format!("  replica: 3{POD}"))),
        ("deployment: containerPort as a string", 31, deploy(&format!("{POD}\n        ports: [{{containerPort: \"80\"}}]"))),
        ("deployment: imagePullPolicy Sometimes", 31, deploy(&format!("{POD}\n        imagePullPolicy: Sometimes"))),
        ("deployment: resources one level too high, in the pod", 31, deploy(&format!("{POD}\n      resources: {{limits: {{cpu: 500m}}}}"))),
        ("deployment: resources in the Deployment spec", 31, deploy(&format!("  resources: {{limits: {{cpu: 500m}}}}{POD}"))),
        ("deployment: selector missing", 31, deploy("  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1}]")),
        ("deployment: container without a name", 31, deploy("  selector: {matchLabels: {app: web}}\n  template:\n    spec:\n      containers: [{image: web:1}]")),
        ("deployment: memory 1Gb", 31, deploy(&format!("{POD}\n        resources: {{limits: {{memory: 1Gb}}, requests: {{cpu: 500 m}}}}"))),
        ("deployment: a label value that is a boolean", 31, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {canary: true}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: web:1}]}".to_string()),
        ("deployment: replicas with a fraction", 31, deploy(&format!("  replicas: 2.5{POD}"))),
        ("deployment: maxSurge as a fraction", 31, deploy(&format!("  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 0.25}}}}{POD}"))),
        ("deployment: strategy type Rolling", 31, deploy(&format!("  strategy: {{type: Rolling}}{POD}"))),
        ("deployment: two containers with one name", 31, deploy(&format!("{POD}\n      - name: web\n        image: sidecar:1"))),
        ("deployment: ports as a map", 31, deploy(&format!("{POD}\n        ports: {{containerPort: 80}}"))),
        ("statefulset: storage 10 GB", 31, sts(&format!("{POD}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10 GB}}}}}}"))),
        ("statefulset: podManagementPolicy Sequential", 31, sts(&format!("  podManagementPolicy: Sequential{POD}"))),
        ("statefulset: an env value that is a number", 31, sts(&format!("{POD}\n        env: [{{name: PORT, value: 8080}}]"))),
        ("statefulset: accessModes ReadWriteOnly", 31, sts(&format!("{POD}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec: {{accessModes: [ReadWriteOnly], resources: {{requests: {{storage: 10Gi}}}}}}"))),
        ("cronjob: batch/v1beta1 at 1.31", 31, format!("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {{name: backup}}\nspec:\n{job}")),
        ("cronjob: concurrencyPolicy Never", 31, cron(&format!("  concurrencyPolicy: Never\n{job}"))),
        ("cronjob: schedule missing", 31, cron("  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Never, containers: [{name: b, image: b:1}]}")),
        ("cronjob: suspend as a string", 31, cron(&format!("  suspend: \"true\"\n{job}"))),
        ("cronjob: restartPolicy Sometimes", 31, cron("  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Sometimes, containers: [{name: b, image: b:1}]}")),
        ("service: targetPort with a fraction", 31, svc("  ports: [{port: 80, targetPort: 80.5}]")),
        ("service: type Loadbalancer", 31, svc("  type: Loadbalancer\n  ports: [{port: 80}]")),
        ("service: a port without its number", 31, svc("  ports: [{name: http, targetPort: http}]")),
        ("service: the same port twice", 31, svc("  ports: [{port: 80, protocol: TCP, name: a}, {port: 80, protocol: TCP, name: b}]")),
        ("service: port beyond int32", 31, svc("  ports: [{port: 3000000000}]")),
        ("ingress: pathType prefix", 31, ing("  rules:\n  - host: web.example.com\n    http:\n      paths:\n      - {path: /, pathType: prefix, backend: {service: {name: web, port: {number: 80}}}}")),
        ("ingress: networking.k8s.io/v1beta1 at 1.31", 31, "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: web}\nspec: {}".to_string()),
        ("ingress: service port number as a string", 31, ing("  defaultBackend: {service: {name: web, port: {number: \"80\"}}}")),
        ("ingress: serviceName of extensions/v1beta1", 31, ing("  defaultBackend: {serviceName: web, servicePort: 80}")),
        ("networkpolicy: policyTypes ingress", 31, netpol("  podSelector: {}\n  policyTypes: [ingress]")),
        ("networkpolicy: protocol HTTP", 31, netpol("  podSelector: {}\n  ingress: [{ports: [{port: 80, protocol: HTTP}]}]")),
        ("networkpolicy: from as a map", 31, netpol("  podSelector: {}\n  ingress: [{from: {podSelector: {}}}]")),
        ("networkpolicy: podSelector missing", 31, netpol("  policyTypes: [Ingress]")),
        ("rbac: subject kind Serviceaccount", 31, "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r, namespace: n}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: Serviceaccount, name: sa, namespace: n}]".to_string()),
        ("rbac: roleRef missing", 31, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: r}\nsubjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]".to_string()),
        ("rbac: verbs as a string", 31, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:reader'}\nrules: [{apiGroups: [''], resources: [pods], verbs: get}]".to_string()),
        ("rbac: rbac.authorization.k8s.io/v1beta1 at 1.25", 25, "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: r}\nrules: []".to_string()),
        ("pdb: policy/v1beta1 at 1.25", 25, "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec: {minAvailable: 1}".to_string()),
        ("hpa: autoscaling/v2beta2 at 1.26", 26, "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {maxReplicas: 3}".to_string()),
        ("flowschema: v1beta3 at 1.32", 32, "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\nspec: {priorityLevelConfiguration: {name: p}}".to_string()),
        ("flowschema: v1beta3 at 1.30 is deprecated", 30, "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\nspec: {priorityLevelConfiguration: {name: p}}".to_string()),
        ("secret: data that is not base64", 31, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: hunter2!}".to_string()),
        ("configmap: a data value that is a number", 31, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {replicas: 3, enabled: \"true\"}".to_string()),
        ("kind: Deploymnet", 31, "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}".to_string()),
        ("kind: apps/v2", 31, "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: web}".to_string()),
        ("object: apiVersion and kind missing", 31, "metadata: {name: web}".to_string()),
        ("object: a list, not a map", 31, "[apiVersion, kind]".to_string()),
        ("crd: names missing", 31, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.example.com}\nspec: {group: example.com, scope: Namespaced, versions: []}".to_string()),
        ("cr: no CRD known", 31, "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: letsencrypt}\nspec: {acme: {}}".to_string()),
        ("cr: unknown field, wrong enum, bounds", 31, widget("example.com/v1", "  size: 11\n  mode: medium\n  colour: red")),
        ("cr: required size missing", 31, widget("example.com/v1", "  mode: fast")),
        ("cr: int-or-string and a quantity pattern", 31, widget("example.com/v1", "  size: 1\n  port: 80.5\n  memory: 1Gb")),
        ("cr: pattern, length, set and list-map", 31, widget("example.com/v1", "  size: 1\n  owner: Platform-Team\n  tags: [a, b, a, c]\n  targets: [{name: x}, {name: x, weight: 2}, {weight: 1}]")),
        ("cr: additionalProperties and metadata", 31, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, labels: {tier: 1}}\nspec: {size: 1, settings: {a: 1}}".to_string()),
        ("cr: version not served", 31, widget("example.com/v1alpha1", "  size: 1")),
        ("cr: version unknown", 31, widget("example.com/v2", "  size: 1")),
        ("cr: deprecated version", 31, widget("example.com/v1beta1", "  anything: goes")),
    ]
}

#[test]
fn invalid_objects_have_exact_findings() {
    let crds = widget_crds();
    let mut report = String::new();
    for (name, minor, text) in invalid_objects() {
        let findings = check(minor, &crds, &yaml(&text));
        assert!(!findings.is_empty(), "{name}: no finding for\n{text}");
        let _ = writeln!(report, "## {name} (Kubernetes 1.{minor})");
        for f in findings {
            let _ = writeln!(report, "{f}");
        }
        report.push('\n');
    }
    insta::assert_snapshot!("invalid_objects", report);
}

#[test]
fn there_are_at_least_thirty_invalid_objects_of_each_kind_asked_for() {
    let cases = invalid_objects();
    assert!(cases.len() >= 30);
    for kind in [
        "deployment",
        "statefulset",
        "cronjob",
        "service",
        "ingress",
        "networkpolicy",
        "rbac",
        "crd",
        "cr",
    ] {
        assert!(
            cases
                .iter()
                .any(|(n, _, _)| n.starts_with(&format!("{kind}:"))),
            "{kind}"
        );
    }
}

fn shared_argocd() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/argocd");
    assert!(
        dir.join("application-crd.yaml").is_file(),
        "../shared/argocd is missing: this test needs the shared directory beside the checkout ({})",
        dir.display()
    );
    dir
}

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---")
        .map(yaml)
        .filter(|v| !v.is_null())
        .collect()
}

fn argocd_crds() -> (Crds, Vec<Value>) {
    let mut crds = Crds::new();
    let mut objects = Vec::new();
    for file in ["application-crd.yaml", "appproject-crd.yaml"] {
        let text = std::fs::read_to_string(shared_argocd().join(file)).expect("read");
        let crd = yaml(&text);
        assert!(crds.add(&crd), "{file} is a CRD");
        objects.push(crd);
    }
    (crds, objects)
}

/// Every object of the golden output of the example platform, by file.
fn golden_objects() -> Vec<(String, Value)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.expect("walk golden");
        if entry.path().extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            for object in documents(&text) {
                let name = entry.path().strip_prefix(&root).unwrap_or(entry.path());
                out.push((name.display().to_string(), object));
            }
        }
    }
    assert!(out.len() > 500, "golden has {} objects", out.len());
    out
}

#[test]
fn the_example_platform_and_the_argo_cd_crds_pass_at_every_version() {
    let (crds, crd_objects) = argocd_crds();
    let objects = golden_objects();
    for version in KubeVersion::supported() {
        let validator = Validator::new(version, &crds).expect("supported");
        for crd in &crd_objects {
            assert_eq!(validator.check(crd), vec![], "the Argo CD CRD at {version}");
        }
        for (file, object) in &objects {
            let findings: Vec<Finding> = validator
                .check(object)
                .into_iter()
                // cert-manager and external-secrets CRDs are not part of the example platform.
                .filter(|f| f.rule != Rule::UnknownKind)
                .collect();
            assert_eq!(findings, vec![], "{file} at {version}");
        }
    }
}

#[test]
fn custom_resources_without_their_crd_are_unknown_kinds() {
    let (mut crds, _) = argocd_crds();
    // The CRDs the example renders itself (trivy-operator's chart) are known, as they are to
    // a render of the cluster that holds them.
    for (_, object) in golden_objects() {
        if object.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
            crds.add(&object);
        }
    }
    let validator = Validator::new(NEWEST, &crds).expect("supported");
    let mut unknown: Vec<String> = golden_objects()
        .iter()
        .flat_map(|(_, o)| validator.check(o))
        .filter(|f| f.rule == Rule::UnknownKind)
        .map(|f| f.message)
        .collect();
    unknown.sort();
    unknown.dedup();
    assert_eq!(
        unknown,
        [
            "no CRD for cert-manager.io/v1 ClusterIssuer is known for this cluster, so its fields cannot be checked",
            "no CRD for external-secrets.io/v1beta1 ExternalSecret is known for this cluster, so its fields cannot be checked",
        ]
    );
}

#[test]
fn every_int_or_string_and_quantity_form_passes() {
    let crds = widget_crds();
    let object = yaml(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}, annotations: {note: "1"}}
spec:
  replicas: 0
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, creationTimestamp: null}
    spec:
      containers:
      - name: web
        image: web:1
        ports: [{containerPort: 8080, name: http}]
        livenessProbe: {httpGet: {port: http, path: /}}
        readinessProbe: {tcpSocket: {port: 8080}}
        resources:
          limits: {cpu: 2, memory: 1Gi, ephemeral-storage: 1e9, example.com/gpu: "1"}
          requests: {cpu: 0.5, memory: 512Mi, ephemeral-storage: 500M}
      - name: side
        image: side:1
        resources:
          limits: {cpu: 1500m, memory: 1.5G, hugepages-2Mi: 100Mi}
          requests: {cpu: .25, memory: "134217728", ephemeral-storage: 1E3}
      volumes:
      - name: tmp
        emptyDir: {sizeLimit: 64Mi}
      - name: cfg
        configMap: {name: cfg, defaultMode: 0o400, items: [{key: a, path: a, mode: 256}]}
"#,
    );
    assert_eq!(check(31, &crds, &object), vec![]);
    let service = yaml(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80, targetPort: http}, {port: 443, targetPort: 8443, name: https}]",
    );
    assert_eq!(check(31, &crds, &service), vec![]);
    let pdb = yaml(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec: {maxUnavailable: 10%, selector: {matchLabels: {app: web}}}",
    );
    assert_eq!(check(31, &crds, &pdb), vec![]);
    let widget = yaml(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: 3\n  mode: slow\n  port: http\n  memory: 1.5Gi\n  owner: team\n  tags: [a, b]\n  targets: [{name: a, weight: 0.5}, {name: b}]\n  settings: {a: b}\n  extra: {anything: [1, 2]}\n  template: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}, data: {a: b}}\n  enabled: null\nstatus: {ready: true}",
    );
    assert_eq!(check(31, &crds, &widget), vec![]);
    let widget = yaml(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 10, port: 8080, memory: 100}",
    );
    assert_eq!(check(31, &crds, &widget), vec![]);
    assert_eq!(crds.scope("example.com", "Widget"), Some(Scope::Cluster));
}

#[test]
fn the_same_object_is_valid_at_one_version_and_refused_at_another() {
    let crds = Crds::new();
    // Pod-level resources: a field of PodSpec from 1.32 on.
    let pod_resources = yaml(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:{POD}\n      resources: {{limits: {{cpu: \"1\"}}}}"
    ));
    let flow = yaml(
        "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\nspec: {priorityLevelConfiguration: {name: p}}",
    );
    let flow_v1 = yaml(
        "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: f}\nspec: {priorityLevelConfiguration: {name: p}}",
    );
    let rules = |minor: u32, o: &Value| -> Vec<&'static str> {
        check(minor, &crds, o).iter().map(|f| f.rule.id()).collect()
    };
    let mut report = String::new();
    for (name, object) in [
        ("pod-level resources", &pod_resources),
        ("flowcontrol v1beta3", &flow),
        ("flowcontrol v1", &flow_v1),
    ] {
        let by_version: Vec<String> = KubeVersion::supported()
            .map(|v| format!("{v}: {}", rules(v.minor(), object).join(",")))
            .collect();
        let _ = writeln!(report, "{name}\n  {}", by_version.join("\n  "));
    }
    insta::assert_snapshot!("version_sensitivity", report);
    assert_eq!(rules(31, &pod_resources), vec!["schema"]);
    assert_eq!(rules(34, &pod_resources), Vec::<&str>::new());
    assert_eq!(rules(31, &flow), vec!["deprecated-api"]);
    assert_eq!(rules(32, &flow), vec!["removed-api"]);
    assert_eq!(rules(28, &flow_v1), vec!["unserved-version"]);
    assert_eq!(rules(29, &flow_v1), Vec::<&str>::new());
}

#[test]
fn an_unsupported_version_says_which_are_supported() {
    let crds = Crds::new();
    let err = Validator::new(KubeVersion::new(24), &crds)
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "strata has no Kubernetes schemas for version 1.24: it knows 1.25 to 1.37"
    );
}

/// `(key, text, plain)` of every scalar directly under `spec` in `text`.
fn spec_scalars(text: &str) -> Vec<(String, String, bool)> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_spec = false;
    let mut key: Option<String> = None;
    let mut last_top_key: Option<String> = None;
    let mut expecting_key_at_top = true;
    for event in Parser::new_from_str(text) {
        let (event, _) = event.expect("fixture parses");
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                if depth == 2 && last_top_key.as_deref() == Some("spec") {
                    in_spec = true;
                }
                if depth == 3 {
                    key = None;
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if depth == 2 {
                    in_spec = false;
                    expecting_key_at_top = true;
                }
                depth -= 1;
            }
            Event::Scalar(value, style, _, _) => {
                if depth == 1 {
                    if expecting_key_at_top {
                        last_top_key = Some(value.to_string());
                    }
                    expecting_key_at_top = !expecting_key_at_top;
                } else if depth == 2 && in_spec {
                    match key.take() {
                        None => key = Some(value.to_string()),
                        Some(k) => out.push((k, value.to_string(), style == ScalarStyle::Plain)),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn scalars_mean_what_kubectl_reads() {
    let text = include_str!("testdata/scalars.yaml");
    let observed: Value =
        serde_json::from_str(include_str!("testdata/scalars.kubectl.json")).expect("JSON");
    let scalars = spec_scalars(text);
    assert!(scalars.len() >= 60, "{} spellings", scalars.len());
    for (key, text, plain) in &scalars {
        let style = if *plain {
            scalar::Style::Plain
        } else {
            scalar::Style::Quoted
        };
        let meaning = scalar::resolve(text, style);
        let ours = scalar::to_json(&meaning).expect("JSON can hold it");
        let theirs = &observed["spec"][key];
        let same = match (&ours, theirs) {
            // kubectl prints whole floats as integers and holds integers beyond int64 as
            // floats: compare numbers by value.
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        assert!(
            same,
            "{key}: {text:?} ({style:?}) is {ours} to us, {theirs} to kubectl"
        );
    }
    // The merge keys, applied as kubectl applies them.
    assert_eq!(
        observed["spec"]["merge"]["requests"],
        serde_json::json!({"cpu": "200m", "memory": "128Mi"})
    );
    for (text, error) in [(".inf", "+Inf"), ("-.Inf", "-Inf"), (".NaN", "NaN")] {
        assert_eq!(
            scalar::resolve(text, scalar::Style::Plain),
            scalar::Meaning::NotJson(error),
            "kubectl: error converting YAML to JSON: json: unsupported value: {error}"
        );
    }
}
