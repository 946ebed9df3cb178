//! [`check`] end to end: one violating variant per rule, levels, exemptions, leaks, reports.

use serde_json::{Value, json};

use super::rule::RULES;
use super::*;

const NON_PROD: &str = "non-prod";
const CLUSTER: &str = "non-prod-sto2-workload";
const FILE: &str = "rendered/non-prod/sto2/workload/shop/deployment-web.yaml";
const REGISTRY: &str = "harbor.dev.welkin.example.com";

fn object(environment: &str, cluster: &str, file: &str, object: Value) -> RenderedObject {
    RenderedObject {
        environment: environment.into(),
        cluster: cluster.into(),
        component: "shop".into(),
        file: file.into(),
        object,
    }
}

/// A Deployment that follows every rule.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "securityContext": {"runAsNonRoot": true},
                "containers": [{
                    "name": "app",
                    "image": "harbor.dev.welkin.example.com/platform/web:1.4.2",
                    "securityContext": {"allowPrivilegeEscalation": false},
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }],
                "volumes": [{"name": "config", "configMap": {"name": "web"}}],
            },
        }},
    })
}

fn network_policy(environment: &str, cluster: &str, selector: Value) -> RenderedObject {
    object(
        environment,
        cluster,
        "rendered/non-prod/sto2/workload/shop/networkpolicy-default.yaml",
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default", "namespace": "shop"},
            "spec": {"podSelector": selector, "policyTypes": ["Ingress"]},
        }),
    )
}

fn facts(environment: &str, cluster: &str, registries: &[&str]) -> ClusterFacts {
    ClusterFacts {
        environment: environment.into(),
        cluster: cluster.into(),
        registries: registries.iter().map(|r| r.to_string()).collect(),
        secret_values: Vec::new(),
    }
}

/// `objects` on the non-prod cluster, with a NetworkPolicy that selects every pod of `shop`.
fn run_with(objects: Vec<Value>, config: &PolicyConfig) -> Vec<Violation> {
    let mut rendered: Vec<RenderedObject> = objects
        .into_iter()
        .map(|o| object(NON_PROD, CLUSTER, FILE, o))
        .collect();
    rendered.push(network_policy(NON_PROD, CLUSTER, json!({})));
    check(
        &rendered,
        &[facts(NON_PROD, CLUSTER, &[REGISTRY])],
        &[],
        config,
    )
}

fn run(objects: Vec<Value>) -> Vec<Violation> {
    run_with(objects, &PolicyConfig::default())
}

fn config(value: Value) -> PolicyConfig {
    match serde_json::from_value(value) {
        Ok(c) => c,
        Err(e) => panic!("bad test config: {e}"),
    }
}

fn summary(violations: &[Violation]) -> Vec<(&str, &str, &str)> {
    violations
        .iter()
        .map(|v| (v.rule, v.field.as_str(), v.message.as_str()))
        .collect()
}

const APP: &str = "spec.template.spec.containers[name=app]";

#[test]
fn a_compliant_deployment_passes_every_rule() {
    let v = run(vec![deployment()]);
    assert_eq!(summary(&v), []);
}

#[test]
fn each_rule_has_a_violating_variant() {
    type Edit = fn(&mut Value);
    let cases: Vec<(Edit, &str, String, &str)> = vec![
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] =
                    json!(true)
            },
            "no-privileged",
            format!("{APP}.securityContext.privileged"),
            "container `app` runs privileged",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] =
                    json!(0)
            },
            "run-as-non-root",
            format!("{APP}.securityContext.runAsUser"),
            "container `app` runs as root (`runAsUser: 0` in its own securityContext)",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["securityContext"] =
                    json!({"runAsUser": 0, "runAsNonRoot": true})
            },
            "run-as-non-root",
            "spec.template.spec.securityContext.runAsUser".to_string(),
            "container `app` runs as root (`runAsUser: 0` in the pod's securityContext)",
        ),
        (
            |d| d["spec"]["template"]["spec"]["securityContext"] = json!({}),
            "run-as-non-root",
            format!("{APP}.securityContext.runAsNonRoot"),
            "container `app` may run as root: neither it nor its pod sets `runAsNonRoot: true` or a `runAsUser` above 0",
        ),
        (
            |d| d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({}),
            "no-privilege-escalation",
            format!("{APP}.securityContext.allowPrivilegeEscalation"),
            "container `app` does not set `allowPrivilegeEscalation: false`",
        ),
        (
            |d| d["spec"]["template"]["spec"]["hostPID"] = json!(true),
            "no-host-namespaces",
            "spec.template.spec.hostPID".to_string(),
            "the pod shares the host's PID namespace (`hostPID: true`)",
        ),
        (
            |d| d["spec"]["template"]["spec"]["hostNetwork"] = json!(true),
            "no-host-namespaces",
            "spec.template.spec.hostNetwork".to_string(),
            "the pod shares the host's network namespace (`hostNetwork: true`)",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["volumes"][0] =
                    json!({"name": "docker", "hostPath": {"path": "/var/run"}})
            },
            "volume-types",
            "spec.template.spec.volumes[name=docker].hostPath".to_string(),
            "volume `docker` is of type `hostPath`, which is not allowed",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("docker.io/library/nginx:1.27")
            },
            "allowed-registries",
            format!("{APP}.image"),
            "image `docker.io/library/nginx:1.27` of container `app` is not from a registry of environment non-prod: harbor.dev.welkin.example.com",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("harbor.dev.welkin.example.com/platform/web:latest")
            },
            "image-pinned",
            format!("{APP}.image"),
            "image `harbor.dev.welkin.example.com/platform/web:latest` of container `app` uses the tag `latest`, which moves",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("harbor.dev.welkin.example.com/platform/web")
            },
            "image-pinned",
            format!("{APP}.image"),
            "image `harbor.dev.welkin.example.com/platform/web` of container `app` has no tag or digest, so it means `latest`",
        ),
        (
            |d| {
                d["spec"]["template"]["spec"]["containers"][0]["resources"] =
                    json!({"requests": {"memory": "1Gi"}})
            },
            "resource-requests",
            format!("{APP}.resources.requests"),
            "container `app` does not request cpu",
        ),
        (
            |d| d["spec"]["template"]["metadata"]["labels"] = json!({"app": "api"}),
            "network-policy",
            "spec.template.metadata.labels".to_string(),
            "no NetworkPolicy in namespace `shop` on cluster non-prod-sto2-workload selects these pods (labels app=api)",
        ),
        (
            |d| d["metadata"]["annotations"] = json!({"strata.dev/exempt": "no-privileged"}),
            "exemption-reason",
            "metadata.annotations[\"strata.dev/exempt\"]".to_string(),
            "the exemption from `no-privileged` gives no reason, so it exempts nothing",
        ),
    ];
    for (edit, rule, field, message) in cases {
        let mut d = deployment();
        edit(&mut d);
        let mut rendered = vec![object(NON_PROD, CLUSTER, FILE, d)];
        // The network-policy case selects only `app: web`.
        rendered.push(network_policy(
            NON_PROD,
            CLUSTER,
            json!({"matchLabels": {"app": "web"}}),
        ));
        let v = check(
            &rendered,
            &[facts(NON_PROD, CLUSTER, &[REGISTRY])],
            &[],
            &PolicyConfig::default(),
        );
        assert_eq!(summary(&v), [(rule, field.as_str(), message)], "{rule}");
        assert_eq!(v[0].file, FILE);
        assert_eq!(v[0].resource, "apps/Deployment shop/web");
        assert_eq!(v[0].level, Level::Deny);
        assert!(v[0].fails());
        assert!(!v[0].hint.is_empty(), "{rule} has a hint");
    }
}

#[test]
fn cronjobs_init_and_ephemeral_containers_are_checked() {
    let cronjob = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop"},
        "spec": {"jobTemplate": {"spec": {"template": {
            "metadata": {"labels": {"app": "report"}},
            "spec": {
                "securityContext": {"runAsUser": 1000},
                "containers": [{
                    "name": "report",
                    "image": "harbor.dev.welkin.example.com/platform/report@sha256:0123",
                    "securityContext": {"allowPrivilegeEscalation": false},
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                }],
                "initContainers": [{
                    "name": "init",
                    "image": "harbor.dev.welkin.example.com/platform/init:2",
                    "securityContext": {"allowPrivilegeEscalation": false, "privileged": true},
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                }],
                "ephemeralContainers": [{
                    "name": "debug",
                    "image": "harbor.dev.welkin.example.com/platform/debug:1",
                }],
            },
        }}}},
    });
    let v = run(vec![cronjob]);
    let eph = "spec.jobTemplate.spec.template.spec.ephemeralContainers[name=debug]";
    assert_eq!(
        summary(&v),
        [
            (
                "no-privilege-escalation",
                format!("{eph}.securityContext.allowPrivilegeEscalation").as_str(),
                "ephemeral container `debug` does not set `allowPrivilegeEscalation: false`"
            ),
            (
                "no-privileged",
                "spec.jobTemplate.spec.template.spec.initContainers[name=init].securityContext.privileged",
                "init container `init` runs privileged"
            ),
        ]
    );
}

#[test]
fn every_workload_kind_is_checked() {
    for (api, kind) in [
        ("v1", "Pod"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
    ] {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["hostIPC"] = json!(true);
        let mut o = json!({"apiVersion": api, "kind": kind, "metadata": d["metadata"].clone()});
        if kind == "Pod" {
            o["metadata"]["labels"] = d["spec"]["template"]["metadata"]["labels"].clone();
            o["spec"] = d["spec"]["template"]["spec"].clone();
        } else {
            o["spec"] = d["spec"].clone();
        }
        let v = run(vec![o]);
        assert_eq!(v.len(), 1, "{kind}: {v:#?}");
        assert_eq!(v[0].rule, "no-host-namespaces");
        assert!(v[0].field.ends_with(".hostIPC"), "{kind}");
    }
}

#[test]
fn a_network_policy_of_another_cluster_or_namespace_does_not_cover() {
    let objects = vec![
        object(NON_PROD, CLUSTER, FILE, deployment()),
        network_policy(NON_PROD, "non-prod-osl2-workload", json!({})),
        object(
            NON_PROD,
            CLUSTER,
            "np.yaml",
            json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "x", "namespace": "other"}, "spec": {"podSelector": {}},
            }),
        ),
    ];
    let v = check(
        &objects,
        &[facts(NON_PROD, CLUSTER, &[REGISTRY])],
        &[],
        &PolicyConfig::default(),
    );
    assert_eq!(
        summary(&v).iter().map(|s| s.0).collect::<Vec<_>>(),
        ["network-policy"]
    );
    let objects = vec![
        object(NON_PROD, CLUSTER, FILE, deployment()),
        network_policy(
            NON_PROD,
            CLUSTER,
            json!({"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["web", "api"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ]}),
        ),
    ];
    let v = check(
        &objects,
        &[facts(NON_PROD, CLUSTER, &[REGISTRY])],
        &[],
        &PolicyConfig::default(),
    );
    assert_eq!(summary(&v), []);
}

#[test]
fn levels_apply_per_environment() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
    d["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("harbor.dev.welkin.example.com/platform/web");
    let c = config(json!({"rules": {
        "resource-requests": {"non-prod": "warn", "prod": "deny"},
        "image-pinned": "off",
    }}));
    let prod = "prod-sto2-workload";
    let objects = vec![
        object(NON_PROD, CLUSTER, "a.yaml", d.clone()),
        network_policy(NON_PROD, CLUSTER, json!({})),
        object("prod", prod, "b.yaml", d),
        network_policy("prod", prod, json!({})),
    ];
    let clusters = [
        facts(NON_PROD, CLUSTER, &[REGISTRY]),
        facts("prod", prod, &[REGISTRY]),
    ];
    let v = check(&objects, &clusters, &[], &c);
    let levels: Vec<(&str, &str, Level, bool)> = v
        .iter()
        .map(|v| (v.file.as_str(), v.rule, v.level, v.fails()))
        .collect();
    assert_eq!(
        levels,
        [
            ("a.yaml", "resource-requests", Level::Warn, false),
            ("b.yaml", "resource-requests", Level::Deny, true),
        ]
    );
    assert_eq!(
        v[0].message,
        "container `app` does not request cpu or memory"
    );
}

#[test]
fn the_registry_rule_is_off_where_no_registries_are_configured() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("docker.io/library/nginx:1.27");
    let objects = vec![
        object(NON_PROD, CLUSTER, FILE, d),
        network_policy(NON_PROD, CLUSTER, json!({})),
    ];
    let v = check(
        &objects,
        &[facts(NON_PROD, CLUSTER, &[])],
        &[],
        &PolicyConfig::default(),
    );
    assert_eq!(summary(&v), []);
    // Without facts for the cluster, the configured list applies as written.
    let c = config(json!({"registries": {"non-prod": [REGISTRY]}}));
    let v = check(&objects, &[], &[], &c);
    assert_eq!(
        summary(&v).iter().map(|s| s.0).collect::<Vec<_>>(),
        ["allowed-registries"]
    );
}

#[test]
fn an_exemption_with_a_reason_is_recorded_and_does_not_fail() {
    let mut d = deployment();
    d["metadata"]["annotations"] =
        json!({"strata.dev/exempt": "no-privileged=Cilium agent needs host access (CHG-1234)"});
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let v = run(vec![d]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, "no-privileged");
    assert_eq!(
        v[0].exemption.as_deref(),
        Some("Cilium agent needs host access (CHG-1234)")
    );
    assert!(!v[0].fails());
}

#[test]
fn an_exemption_without_a_reason_is_a_violation_and_exempts_nothing() {
    let mut d = deployment();
    d["metadata"]["annotations"] = json!({"strata.dev/exempt": "no-privileged="});
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let v = run(vec![d]);
    let found: Vec<(&str, bool)> = v.iter().map(|v| (v.rule, v.fails())).collect();
    assert_eq!(found, [("exemption-reason", true), ("no-privileged", true)]);
}

fn secret(fields: Value) -> Value {
    let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}});
    if let (Some(s), Some(fields)) = (s.as_object_mut(), fields.as_object()) {
        s.extend(fields.clone());
    }
    s
}

#[test]
fn plaintext_secrets_fail_and_sops_external_and_sealed_secrets_pass() {
    let v = run(vec![secret(
        json!({"stringData": {"password": "hunter2", "user": "shop"}}),
    )]);
    assert_eq!(
        summary(&v),
        [(
            "no-plaintext-secrets",
            "stringData",
            "Secret `db` holds 2 keys in plaintext (`password`, `user`) and is not SOPS-encrypted"
        )]
    );
    let passing = vec![
        secret(
            json!({"data": {"password": "ENC[AES256_GCM,data:abc,type:str]"},
                      "sops": {"version": "3.9.0", "age": [{"recipient": "age1xyz"}]}}),
        ),
        secret(json!({"data": {}})),
        secret(json!({"type": "kubernetes.io/service-account-token"})),
        json!({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
               "metadata": {"name": "db", "namespace": "shop"},
               "spec": {"data": [{"secretKey": "password", "remoteRef": {"key": "shop/db"}}]}}),
        json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
               "metadata": {"name": "db", "namespace": "shop"},
               "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA=="}}}),
    ];
    assert_eq!(summary(&run(passing)), []);
}

fn secret_facts(value: &str) -> ClusterFacts {
    ClusterFacts {
        secret_values: vec![SecretValue {
            value: value.into(),
            set_in: "environments/non-prod/sto2/workload.cluster.yaml".into(),
            line: 14,
            path: "grafana.adminPassword".into(),
        }],
        ..facts(NON_PROD, CLUSTER, &[REGISTRY])
    }
}

#[test]
fn an_x_strata_secret_value_in_clear_is_found_and_never_printed() {
    let password = "c0rrect-h0rse-battery";
    let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "grafana", "namespace": "shop"},
        "data": {"grafana.ini": format!("[security]\nadmin_password = {password}\n")}});
    let objects = vec![object(NON_PROD, CLUSTER, "cm.yaml", configmap)];
    let v = check(
        &objects,
        &[secret_facts(password)],
        &[],
        &PolicyConfig::default(),
    );
    let expected = format!(
        "the secret value of `grafana.adminPassword` ({}) appears in clear",
        secret::fingerprint(password)
    );
    assert_eq!(
        summary(&v),
        [(
            "secret-value-leak",
            "data[\"grafana.ini\"]",
            expected.as_str()
        )]
    );
    assert_eq!(
        v[0].origin,
        Some((
            "environments/non-prod/sto2/workload.cluster.yaml".into(),
            14
        ))
    );
    assert!(!render_sarif(&v, "0.1.0").contains(password));
}

#[test]
fn an_x_strata_secret_value_is_found_base64_encoded_in_a_secret() {
    // "hunter2hunter2" in base64.
    let s = secret(json!({"data": {"password": "aHVudGVyMmh1bnRlcjI="}}));
    let objects = vec![object(NON_PROD, CLUSTER, "s.yaml", s)];
    let v = check(
        &objects,
        &[secret_facts("hunter2hunter2")],
        &[],
        &PolicyConfig::default(),
    );
    let rules: Vec<(&str, &str)> = v.iter().map(|v| (v.rule, v.field.as_str())).collect();
    assert_eq!(
        rules,
        [
            ("no-plaintext-secrets", "data"),
            ("secret-value-leak", "data.password (base64-decoded)")
        ]
    );
}

#[test]
fn short_secret_values_match_only_whole_values() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"},
                    "data": {"user": "administrator", "pin": "admin"}});
    let objects = vec![object(NON_PROD, CLUSTER, "cm.yaml", cm)];
    let v = check(
        &objects,
        &[secret_facts("admin")],
        &[],
        &PolicyConfig::default(),
    );
    assert_eq!(
        v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(),
        ["data.pin"]
    );
}

fn leaf(
    env: &'static str,
    cluster: &'static str,
    path: &str,
    value: &'static str,
    set_in: &'static str,
    line: u32,
) -> ResolvedLeaf<'static> {
    ResolvedLeaf {
        environment: env,
        cluster,
        path: path.into(),
        value,
        set_in,
        line,
    }
}

fn welkin_leaves() -> Vec<ResolvedLeaf<'static>> {
    vec![
        leaf(
            "prod",
            "prod-sto2-workload",
            "global.baseDomain",
            "prod.welkin.example.com",
            "environments/prod/layer.yaml",
            8,
        ),
        leaf(
            "prod",
            "prod-sto2-workload",
            "harbor.externalHostname",
            "harbor.prod.welkin.example.com",
            "environments/prod/layer.yaml",
            12,
        ),
        leaf(
            "prod",
            "prod-sto2-workload",
            "ingress.pullPolicy",
            "IfNotPresent",
            "environments/prod/layer.yaml",
            20,
        ),
        leaf(
            "prod",
            "prod-sto2-workload",
            "opensearch.memory",
            "4096Mi",
            "environments/prod/layer.yaml",
            21,
        ),
        leaf(
            "prod",
            "prod-sto2-workload",
            "kured.startTime",
            "01:00",
            "environments/prod/layer.yaml",
            22,
        ),
        leaf(
            "prod",
            "prod-sto2-workload",
            "thanos.bucket",
            "thanos-prod",
            "environments/prod/layer.yaml",
            23,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "global.baseDomain",
            "dev.welkin.example.com",
            "environments/non-prod/layer.yaml",
            8,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "harbor.externalHostname",
            "harbor.dev.welkin.example.com",
            "environments/non-prod/layer.yaml",
            12,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "ingress.pullPolicy",
            "Always",
            "environments/non-prod/layer.yaml",
            20,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "opensearch.memory",
            "1024Mi",
            "environments/non-prod/layer.yaml",
            21,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "thanos.bucket",
            "thanos-dev",
            "environments/non-prod/layer.yaml",
            23,
        ),
    ]
}

fn configmap(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop"}, "data": data})
}

fn leaks(data: Value, leaves: &[ResolvedLeaf], config: &PolicyConfig) -> Vec<Violation> {
    let objects = vec![object(
        NON_PROD,
        CLUSTER,
        "rendered/non-prod/sto2/workload/shop/configmap-app.yaml",
        configmap(data),
    )];
    check(
        &objects,
        &[facts(NON_PROD, CLUSTER, &[REGISTRY])],
        leaves,
        config,
    )
}

#[test]
fn a_prod_domain_inside_a_non_prod_url_is_a_leak_named_with_its_layer() {
    let v = leaks(
        json!({"url": "https://grafana.prod.welkin.example.com/api"}),
        &welkin_leaves(),
        &PolicyConfig::default(),
    );
    assert_eq!(
        summary(&v),
        [(
            "environment-leak",
            "data.url",
            "`https://grafana.prod.welkin.example.com/api` contains `prod.welkin.example.com`, which belongs to environment prod (set at `global.baseDomain` in environments/prod/layer.yaml:8)"
        )]
    );
    assert_eq!(
        v[0].file,
        "rendered/non-prod/sto2/workload/shop/configmap-app.yaml"
    );
    assert_eq!(
        v[0].origin,
        Some(("environments/prod/layer.yaml".into(), 8))
    );
    assert_eq!(v[0].environment, "non-prod");
    assert_eq!(
        v[0].hint,
        "use non-prod's own value here; if it is shared on purpose, add it to `policies.allowShared`"
    );
}

#[test]
fn the_longest_owned_string_is_reported() {
    let v = leaks(
        json!({"registry": "harbor.prod.welkin.example.com/platform"}),
        &welkin_leaves(),
        &PolicyConfig::default(),
    );
    assert_eq!(v.len(), 1);
    assert!(v[0].message.contains("contains `harbor.prod.welkin.example.com`, which belongs to environment prod (set at `harbor.externalHostname` in environments/prod/layer.yaml:12)"), "{}", v[0].message);
}

#[test]
fn a_copy_into_the_leaking_environments_own_layer_is_named_in_the_hint() {
    let mut leaves = welkin_leaves();
    leaves.push(leaf(
        "non-prod",
        CLUSTER,
        "velero.bucket",
        "thanos-prod",
        "environments/non-prod/sto2/layer.yaml",
        4,
    ));
    let v = leaks(
        json!({"bucket": "thanos-prod"}),
        &leaves,
        &PolicyConfig::default(),
    );
    assert_eq!(
        summary(&v),
        [(
            "environment-leak",
            "data.bucket",
            "`thanos-prod` belongs to environment prod (set at `thanos.bucket` in environments/prod/layer.yaml:23) and must not appear in non-prod"
        )]
    );
    assert_eq!(
        v[0].hint,
        "non-prod sets it itself at `velero.bucket` in environments/non-prod/sto2/layer.yaml:4: use non-prod's own value there; if it is shared on purpose, add it to `policies.allowShared`"
    );
}

#[test]
fn allow_shared_suppresses_a_leak() {
    let c = config(json!({"allowShared": ["prod.welkin.example.com"]}));
    let v = leaks(
        json!({"url": "https://grafana.prod.welkin.example.com/api"}),
        &welkin_leaves(),
        &c,
    );
    assert_eq!(summary(&v), []);
    // An entry that the owned string contains: every name under a shared cloud domain.
    let leaves = vec![
        leaf(
            "prod",
            "p",
            "velero.s3",
            "s3.sto2.example-cloud.com",
            "environments/prod/sto2/layer.yaml",
            3,
        ),
        leaf(
            "non-prod",
            CLUSTER,
            "velero.s3",
            "s3.osl2.example-cloud.com",
            "environments/non-prod/layer.yaml",
            3,
        ),
    ];
    let url = json!({"s3": "https://s3.sto2.example-cloud.com"});
    assert_eq!(
        leaks(url.clone(), &leaves, &PolicyConfig::default()).len(),
        1
    );
    let c = config(json!({"allowShared": ["example-cloud.com"]}));
    assert_eq!(summary(&leaks(url, &leaves, &c)), []);
}

#[test]
fn short_common_and_numeric_strings_are_not_owned() {
    let data =
        json!({"policy": "IfNotPresent", "memory": "4096Mi", "start": "01:00", "word": "prod"});
    assert_eq!(
        summary(&leaks(data, &welkin_leaves(), &PolicyConfig::default())),
        []
    );
}

#[test]
fn owned_patterns_reserve_strings_for_an_environment() {
    let c = config(json!({"ownedPatterns": {"prod": ["*.prod.welkin.example.com", "prod-*"]}}));
    let v = leaks(
        json!({"a": "https://loki.prod.welkin.example.com:3100/push", "b": "prod-backups", "c": "myprod-x"}),
        &[],
        &c,
    );
    assert_eq!(
        summary(&v),
        [
            (
                "environment-leak",
                "data.a",
                "`loki.prod.welkin.example.com` matches `*.prod.welkin.example.com`, which `policies.ownedPatterns` reserves for environment prod"
            ),
            (
                "environment-leak",
                "data.b",
                "`prod-backups` matches `prod-*`, which `policies.ownedPatterns` reserves for environment prod"
            ),
        ]
    );
    // A pattern does not apply to its own environment.
    let objects = vec![object(
        "prod",
        "prod-sto2-workload",
        "p.yaml",
        configmap(json!({"b": "prod-backups"})),
    )];
    assert_eq!(summary(&check(&objects, &[], &[], &c)), []);
}

#[test]
fn a_leaked_secret_value_is_shown_as_its_fingerprint() {
    let mut leaves = welkin_leaves();
    leaves.push(leaf(
        "prod",
        "prod-sto2-workload",
        "grafana.adminPassword",
        "pr0d-s3cret-pw",
        "environments/prod/secrets.yaml",
        2,
    ));
    let mut prod_facts = facts("prod", "prod-sto2-workload", &[]);
    prod_facts.secret_values.push(SecretValue {
        value: "pr0d-s3cret-pw".into(),
        set_in: "environments/prod/secrets.yaml".into(),
        line: 2,
        path: "grafana.adminPassword".into(),
    });
    let objects = vec![object(
        NON_PROD,
        CLUSTER,
        "cm.yaml",
        configmap(json!({"ini": "password = pr0d-s3cret-pw"})),
    )];
    let v = check(&objects, &[prod_facts], &leaves, &PolicyConfig::default());
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].message,
        format!(
            "this value contains {}, which belongs to environment prod (set at `grafana.adminPassword` in environments/prod/secrets.yaml:2)",
            secret::fingerprint("pr0d-s3cret-pw")
        )
    );
}

#[test]
fn output_is_sorted_and_deterministic() {
    let mut bad = deployment();
    bad["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        json!({"privileged": true});
    let mut objects = vec![
        object(NON_PROD, CLUSTER, "b.yaml", bad.clone()),
        object(NON_PROD, CLUSTER, "a.yaml", bad),
        network_policy(NON_PROD, CLUSTER, json!({})),
    ];
    let first = check(&objects, &[], &[], &PolicyConfig::default());
    objects.reverse();
    let second = check(&objects, &[], &[], &PolicyConfig::default());
    assert_eq!(first, second);
    let order: Vec<(&str, &str)> = first.iter().map(|v| (v.file.as_str(), v.rule)).collect();
    assert_eq!(
        order,
        [
            ("a.yaml", "no-host-namespaces"),
            ("a.yaml", "no-privilege-escalation"),
            ("a.yaml", "no-privileged"),
            ("b.yaml", "no-host-namespaces"),
            ("b.yaml", "no-privilege-escalation"),
            ("b.yaml", "no-privileged"),
        ]
    );
}

fn one_violation() -> Vec<Violation> {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    run(vec![d])
}

#[test]
fn sarif_output_has_the_fields_code_scanning_requires() {
    let mut violations = one_violation();
    let mut exempted = violations[0].clone();
    exempted.rule = "volume-types";
    exempted.exemption = Some("legacy NFS, ticket OPS-1".into());
    violations.push(exempted);
    let parsed: Value = match serde_json::from_str(&render_sarif(&violations, "0.3.0")) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        parsed["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(parsed["version"], "2.1.0");
    let run = &parsed["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "strata");
    assert_eq!(run["tool"]["driver"]["version"], "0.3.0");
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(rules, RULES.len());
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "no-privileged");
    assert!(run["tool"]["driver"]["rules"][0]["help"]["text"].is_string());
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "no-privileged");
    assert_eq!(result["ruleIndex"], 0);
    assert_eq!(result["level"], "error");
    assert!(
        result["message"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("container `app` runs privileged"))
    );
    let location = &result["locations"][0]["physicalLocation"];
    // Code scanning needs a file of the source repository: the component, for a finding
    // without a layer line.
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("components/") && u.ends_with("/component.yaml")),
        "{location}"
    );
    assert_eq!(location["region"]["startLine"], 1);
    let suppressed = &run["results"][1];
    assert_eq!(suppressed["level"], "note");
    assert_eq!(
        suppressed["suppressions"][0]["justification"],
        "legacy NFS, ticket OPS-1"
    );
}

#[test]
fn policy_list_shows_levels_per_environment() {
    let c = config(json!({
        "rules": {"image-pinned": "warn", "resource-requests": {"non-prod": "warn"}},
        "registries": {"prod": ["harbor.{{ global.baseDomain }}"]},
    }));
    let table = list_rules(&c, &["non-prod".into(), "prod".into()]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "RULE                     NON-PROD  PROD  CHECKS");
    assert!(lines.contains(&"allowed-registries       off*      deny  images come from the environment's registries (`policies.registries`)"), "{table}");
    assert!(lines.contains(&"image-pinned             warn      warn  images are pinned to a tag other than `latest`, or to a digest"), "{table}");
    assert!(
        lines.contains(
            &"resource-requests        warn      deny  containers request CPU and memory"
        ),
        "{table}"
    );
    assert_eq!(
        lines.last(),
        Some(
            &"* off: no registries configured for non-prod (set `policies.registries.<environment>`)"
        )
    );
}
