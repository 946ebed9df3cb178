//! The compliance policies, end to end: render refuses a violation at level deny, validate
//! reports it with its rule id, file and message, and the example platform passes them all.

mod common;

use common::{Platform, repo_root, stderr, stdout};

const COMPLIANT: &str = r#"apiVersion: apps/v1
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
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: web
          image: {{ values.image | quote }}
          args: {{ values.args | tojson }}
          securityContext: {allowPrivilegeEscalation: false, privileged: false}
          resources:
            requests: {cpu: 10m, memory: 16Mi}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

/// The minimal platform with every policy on and a compliant workload.
fn compliant() -> Platform {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!("{}policies:\n  registries:\n    dev: [registry.example.com]\n    prod: [registry.example.com]\n", common::STRATA_YAML),
    );
    p.write(
        "components/web/values.yaml",
        "replicas: 1\nimage: registry.example.com/nginx:1.27\nargs: [--a]\n",
    );
    p.write("components/web/templates/deployment.yaml", COMPLIANT);
    p
}

fn validate(p: &Platform) -> (i32, String) {
    let o = p.strata(&["validate"]);
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

#[test]
fn a_compliant_platform_passes() {
    let (code, out) = validate(&compliant());
    assert_eq!(code, 0, "{out}");
}

#[test]
fn render_refuses_a_privileged_container_and_leaves_the_output_alone() {
    let p = compliant();
    assert_eq!(p.strata(&["render"]).status.code(), Some(0));
    let before = p.rendered();
    p.write(
        "components/web/templates/deployment.yaml",
        &COMPLIANT.replace("privileged: false", "privileged: true"),
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error[no-privileged]: apps/Deployment web/web:"),
        "{err}"
    );
    assert!(
        err.contains("in dev/sto2/workload/web/deployment-web.yaml"),
        "{err}"
    );
    assert!(
        err.contains("in prod/sto2/workload/web/deployment-web.yaml"),
        "{err}"
    );
    assert!(
        err.contains("field: spec.template.spec.containers[name=web].securityContext.privileged"),
        "{err}"
    );
    assert_eq!(p.rendered(), before);
}

#[test]
fn a_rule_can_warn_in_one_environment_and_deny_in_another() {
    let p = compliant();
    p.write(
        "components/web/values.yaml",
        "replicas: 1\nimage: registry.example.com/nginx:latest\nargs: [--a]\n",
    );
    let strata_yaml = std::fs::read_to_string(p.path().join("strata.yaml")).expect("read");
    p.write(
        "strata.yaml",
        &format!("{strata_yaml}  rules:\n    image-pinned: {{dev: warn, prod: deny}}\n"),
    );
    let (code, out) = validate(&p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("warning[image-pinned]"), "{out}");
    assert!(out.contains("error[image-pinned]"), "{out}");
    assert!(
        out.contains("in dev/sto2/workload/web/deployment-web.yaml"),
        "{out}"
    );
    p.write(
        "strata.yaml",
        &format!("{strata_yaml}  rules:\n    image-pinned: warn\n"),
    );
    let (code, out) = validate(&p);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn images_from_another_registry_are_refused() {
    let p = compliant();
    p.write(
        "components/web/values.yaml",
        "replicas: 1\nimage: docker.io/library/nginx:1.27\nargs: [--a]\n",
    );
    let (code, out) = validate(&p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[allowed-registries]"), "{out}");
    assert!(out.contains("docker.io/library/nginx:1.27"), "{out}");
}

#[test]
fn an_exemption_with_a_reason_is_recorded_and_one_without_is_a_violation() {
    let p = compliant();
    let privileged = COMPLIANT.replace("privileged: false", "privileged: true");
    let exempt = privileged.replacen("  name: web\nspec:", "  name: web\n  annotations:\n    strata.dev/exempt: \"no-privileged=needs raw sockets (SEC-42)\"\nspec:", 1);
    p.write("components/web/templates/deployment.yaml", &exempt);
    let o = p.strata(&["validate", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["exempted"][0]["rule"], "no-privileged");
    assert_eq!(j["exempted"][0]["reason"], "needs raw sockets (SEC-42)");

    let no_reason = privileged.replacen(
        "  name: web\nspec:",
        "  name: web\n  annotations:\n    strata.dev/exempt: \"no-privileged\"\nspec:",
        1,
    );
    p.write("components/web/templates/deployment.yaml", &no_reason);
    let (code, out) = validate(&p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[exemption-reason]"), "{out}");
}

#[test]
fn a_prod_domain_in_non_prod_output_is_a_leak_naming_the_owning_layer() {
    let p = compliant();
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  global: {domain: shop.prod.example.com}\n  web:\n    replicas: 2\n",
    );
    p.write(
        "environments/dev/layer.yaml",
        "values:\n  global: {domain: shop.dev.example.com}\n",
    );
    assert_eq!(validate(&p).0, 0, "{}", validate(&p).1);
    // A copy-paste into dev's own layer.
    p.write("environments/dev/layer.yaml", "values:\n  global: {domain: shop.dev.example.com}\n  web: {host: https://shop.prod.example.com/api}\n");
    p.write(
        "components/web/templates/host.yaml",
        "{% if values.host is defined %}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-host\ndata:\n  url: {{ values.host }}\n{% endif %}\n",
    );
    let (code, out) = validate(&p);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[environment-leak]: ConfigMap web/web-host"),
        "{out}"
    );
    assert!(out.contains("shop.prod.example.com"), "{out}");
    assert!(out.contains("environments/prod/layer.yaml:2"), "{out}");
    assert!(
        out.contains("in dev/sto2/workload/web/configmap-web-host.yaml"),
        "{out}"
    );
}

#[test]
fn sarif_output_for_code_scanning() {
    let p = compliant();
    p.write(
        "components/web/templates/deployment.yaml",
        &COMPLIANT.replace("privileged: false", "privileged: true"),
    );
    let o = p.strata(&["validate", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().expect("schema").contains("sarif"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "strata");
    assert!(
        run["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|r| r["ruleId"] == "no-privileged")
    );
    for r in run["results"].as_array().expect("results") {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("every result has a location");
        assert!(
            uri == "strata.yaml"
                || uri.starts_with("components/")
                || uri.starts_with("environments/"),
            "{uri} is not a source file"
        );
    }
}

#[test]
fn policy_list_says_when_the_registry_rule_is_off() {
    let p = Platform::minimal();
    let o = p.strata(&["policy", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("allowed-registries"), "{out}");
    assert!(out.contains("off: no registries configured"), "{out}");
}

#[test]
fn the_example_platform_passes_every_rule() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .args(["validate", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["valid"], true);
    assert_eq!(
        j["diagnostics"].as_array().expect("d").len(),
        0,
        "no warnings either: {j}"
    );
    assert_eq!(
        j["exempted"].as_array().expect("e").len(),
        0,
        "no exemptions: {j}"
    );
}
