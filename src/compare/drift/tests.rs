//! Tests across the module: Argo CD's real desired/live pairs, set-level drift, and the reports.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::compare::drift::compare::{DriftKind, FieldDrift};
use crate::compare::drift::{
    DriftReport, Options, compare_object, compare_object_with, drift, parse_live, render_human,
};
use crate::object::ObjectId;

/// Argo CD's pairs, relative to a directory above this crate (`/work/shared/…` beside the repo).
const PEER_DIR: &str = "shared/peer/argocd-diff";

/// The pairs that Argo CD's tests expect in sync.
const IN_SYNC: [&str; 8] = [
    "deployment",
    "elasticsearch",
    "mutatingwebhookconfig",
    "spinnaker-sa",
    "grafana-clusterrole",
    "sealedsecret",
    "endpoints",
    "wordpress",
];

fn peer_dir() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join(PEER_DIR))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "../shared is missing: no {PEER_DIR} in any directory above {}; \
                 the Argo CD pairs must be there for these tests",
                manifest_dir.display()
            )
        })
}

fn read(name: &str) -> String {
    let path = peer_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The desired object as Argo CD's tests read it, and the live one through `parse_live`.
fn pair(name: &str) -> (Value, Value) {
    let desired: Value =
        serde_json::from_str(&read(&format!("{name}-config.json"))).expect("desired JSON");
    let mut live = parse_live(&read(&format!("{name}-live.json"))).expect("live JSON");
    assert_eq!(live.len(), 1, "{name}: one live object");
    (desired, live.remove(0))
}

#[test]
fn every_peer_pair_is_tested() {
    let mut pairs: Vec<String> = std::fs::read_dir(peer_dir())
        .expect("peer dir readable")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix("-config.json").map(str::to_owned))
        .collect();
    pairs.sort();
    let mut known: Vec<String> = IN_SYNC.iter().map(|s| (*s).to_owned()).collect();
    known.push("aggr-clusterrole".into());
    known.sort();
    assert_eq!(
        pairs, known,
        "a pair was added or removed: give it an expected verdict"
    );
}

#[test]
fn argo_cd_in_sync_pairs_have_no_drift() {
    for name in IN_SYNC {
        let (desired, live) = pair(name);
        assert_eq!(
            compare_object(&desired, &live, &[]),
            vec![],
            "{name} should be in sync"
        );
    }
}

#[test]
fn elasticsearch_label_changes_are_drift_three_way() {
    let (mut desired, live) = pair("elasticsearch");
    let labels = desired["metadata"]["labels"]
        .as_object_mut()
        .expect("labels");
    labels.insert("foo".into(), json!("bar"));
    labels.insert("chart".into(), json!("elasticsearch-1.7.1"));
    labels.shift_remove("release");
    assert_eq!(
        compare_object(&desired, &live, &[]),
        vec![
            FieldDrift {
                path: "metadata.labels.chart".into(),
                kind: DriftKind::Changed,
                desired: Some(json!("elasticsearch-1.7.1")),
                live: Some(json!("elasticsearch-1.7.0")),
            },
            FieldDrift {
                path: "metadata.labels.foo".into(),
                kind: DriftKind::MissingInLive,
                desired: Some(json!("bar")),
                live: None,
            },
            FieldDrift {
                path: "metadata.labels.release".into(),
                kind: DriftKind::RemovedStillLive,
                desired: None,
                live: Some(json!("elasticsearch4")),
            },
        ]
    );
}

#[test]
fn aggregated_cluster_role_in_sync_only_with_the_default_ignore() {
    let (desired, live) = pair("aggr-clusterrole");
    assert_eq!(compare_object(&desired, &live, &[]), vec![]);
    let without = Options {
        ignore_aggregated_roles: false,
        ..Options::default()
    };
    let drifts = compare_object_with(&desired, &live, &without);
    let paths: Vec<(&str, DriftKind)> = drifts.iter().map(|d| (d.path.as_str(), d.kind)).collect();
    assert_eq!(paths, vec![("rules", DriftKind::RemovedStillLive)]);
}

fn object(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    strata: bool,
) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    if strata {
        metadata["labels"] = json!({"app.kubernetes.io/managed-by": "strata"});
    }
    json!({"apiVersion": api_version, "kind": kind, "metadata": metadata})
}

fn key(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectId {
    ObjectId {
        group: group.into(),
        kind: kind.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
    }
}

#[test]
fn missing_and_orphans() {
    let mut web = object("apps/v1", "Deployment", Some("shop"), "web", true);
    web["spec"] = json!({"replicas": 2});
    let mut web_live = object("apps/v1", "Deployment", Some("shop"), "web", true);
    web_live["spec"] = json!({"replicas": 3});
    let mut db = object("apps/v1", "StatefulSet", Some("shop"), "db", true);
    db["spec"] = json!({"volumeClaimTemplates": [{"metadata": {"name": "data"}}]});
    let desired = vec![
        web,
        object("v1", "Service", Some("shop"), "web", true),
        object("v1", "ConfigMap", Some("shop"), "web-config", true),
        object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            None,
            "web-reader",
            true,
        ),
        db.clone(),
    ];
    let mut pod = object("v1", "Pod", Some("shop"), "web-5d8f-abcde", true);
    pod["metadata"]["ownerReferences"] = json!([{"kind": "ReplicaSet", "name": "web-5d8f"}]);
    let live = vec![
        object("v1", "ConfigMap", Some("shop"), "old-config", true),
        web_live,
        object("v1", "Service", Some("shop"), "web", true),
        object("v1", "Endpoints", Some("shop"), "web", true),
        object(
            "v1",
            "PersistentVolumeClaim",
            Some("shop"),
            "data-db-0",
            true,
        ),
        object(
            "v1",
            "PersistentVolumeClaim",
            Some("shop"),
            "data-db-old",
            true,
        ),
        object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            None,
            "old-reader",
            true,
        ),
        object("v1", "ConfigMap", Some("kube-system"), "not-ours", false),
        pod,
        db,
    ];
    let report = drift(&desired, &live, &Options::default());
    assert_eq!(
        report.missing,
        vec![
            key("", "ConfigMap", Some("shop"), "web-config"),
            key(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                None,
                "web-reader"
            ),
        ]
    );
    assert_eq!(
        report.orphans,
        vec![
            key("", "ConfigMap", Some("shop"), "old-config"),
            key("", "PersistentVolumeClaim", Some("shop"), "data-db-old"),
            key(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                None,
                "old-reader"
            ),
        ]
    );
    assert_eq!(report.changed.len(), 1);
    assert_eq!(
        report.changed[0].object,
        key("apps", "Deployment", Some("shop"), "web")
    );
    assert_eq!(report.summary.in_sync, 2);
    assert_eq!(
        render_human(&report),
        "Drift (rendered → live):\n\
         ~ apps/Deployment shop/web\n\
         \x20   spec.replicas  2 → 3\n\
         - ConfigMap shop/web-config: missing from the cluster\n\
         - rbac.authorization.k8s.io/ClusterRole web-reader: missing from the cluster\n\
         ! ConfigMap shop/old-config: orphan (labelled managed-by=strata, no longer rendered)\n\
         ! PersistentVolumeClaim shop/data-db-old: orphan (labelled managed-by=strata, no longer rendered)\n\
         ! rbac.authorization.k8s.io/ClusterRole old-reader: orphan (labelled managed-by=strata, no longer rendered)\n\
         \n\
         1 object drifted, 2 missing, 3 orphans\n"
    );
}

#[test]
fn report_does_not_depend_on_input_order() {
    let desired = vec![
        object("v1", "ConfigMap", Some("b"), "x", true),
        object("v1", "ConfigMap", Some("a"), "x", true),
        object("apps/v1", "Deployment", Some("a"), "x", true),
    ];
    let mut reversed = desired.clone();
    reversed.reverse();
    let live = vec![
        object("v1", "Secret", Some("a"), "s", true),
        object("v1", "Secret", Some("a"), "r", true),
    ];
    let mut live_reversed = live.clone();
    live_reversed.reverse();
    let one = drift(&desired, &live, &Options::default());
    let other = drift(&reversed, &live_reversed, &Options::default());
    assert_eq!(one, other);
    let missing: Vec<String> = one.missing.iter().map(ToString::to_string).collect();
    assert_eq!(
        missing,
        ["ConfigMap a/x", "ConfigMap b/x", "apps/Deployment a/x"]
    );
}

#[test]
fn in_sync_summary() {
    let desired = vec![object("v1", "ConfigMap", Some("a"), "x", true)];
    let report = drift(&desired, &desired, &Options::default());
    assert!(report.is_in_sync());
    assert_eq!(render_human(&report), "in sync: 1 object\n");
    let report = drift(&[], &[], &Options::default());
    assert_eq!(render_human(&report), "in sync: 0 objects\n");
}

fn secret(fields: Value) -> Value {
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "db", "namespace": "shop"}});
    if let (Some(secret), Some(fields)) = (secret.as_object_mut(), fields.as_object()) {
        secret.extend(fields.clone());
    }
    secret
}

#[test]
fn secret_values_are_compared_by_hash_and_never_shown() {
    // "hunter2" and "correct horse" in base64.
    let in_sync = [
        (
            json!({"stringData": {"password": "hunter2"}}),
            json!({"data": {"password": "aHVudGVyMg=="}}),
        ),
        (
            json!({"data": {"password": "aHVudGVyMg=="}}),
            json!({"data": {"password": "aHVudGVyMg=="}, "type": "Opaque"}),
        ),
        (
            json!({"data": {"empty": ""}}),
            json!({"data": {"empty": null}}),
        ),
    ];
    for (desired, live) in in_sync {
        assert_eq!(
            compare_object(&secret(desired.clone()), &secret(live), &[]),
            vec![],
            "{desired}"
        );
    }

    let desired = secret(json!({"stringData": {"password": "hunter2", "user": "admin"}}));
    let mut live =
        secret(json!({"data": {"password": "Y29ycmVjdCBob3JzZQ==", "token": "c2VjcmV0LXRva2Vu"}}));
    live["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration":
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
               "stringData": {"token": "secret-token"}}).to_string()});
    let report = drift(std::slice::from_ref(&desired), &[live], &Options::default());
    let fields = &report.changed[0].fields;
    assert_eq!(
        fields,
        &vec![
            FieldDrift {
                path: "data.password".into(),
                kind: DriftKind::Changed,
                desired: Some(json!("sha256:f52fbd32b2b3")),
                live: Some(json!("sha256:4104d36f8da2")),
            },
            FieldDrift {
                path: "data.token".into(),
                kind: DriftKind::RemovedStillLive,
                desired: None,
                live: Some(json!("sha256:930bbdc51b6a")),
            },
            FieldDrift {
                path: "data.user".into(),
                kind: DriftKind::MissingInLive,
                desired: Some(json!("sha256:8c6976e5b541")),
                live: None,
            },
        ]
    );
    let human = render_human(&report);
    let json = serde_json::to_string(&report).expect("serializable");
    for output in [&human, &json] {
        for secret in [
            "hunter2",
            "aHVudGVyMg",
            "correct horse",
            "Y29ycmVjdCBob3JzZQ",
            "secret-token",
            "c2VjcmV0LXRva2Vu",
            "admin",
        ] {
            assert!(
                !output.contains(secret),
                "{secret:?} leaked into:\n{output}"
            );
        }
    }
    assert!(
        human.contains("data.password  \"sha256:f52fbd32b2b3\" → \"sha256:4104d36f8da2\""),
        "{human}"
    );
}

#[test]
fn json_shape() {
    let report = DriftReport {
        summary: crate::compare::drift::Summary {
            in_sync: 40,
            changed: 1,
            missing: 1,
            orphans: 1,
        },
        changed: vec![crate::compare::drift::ObjectDrift {
            object: key("apps", "Deployment", Some("shop"), "web"),
            fields: vec![
                FieldDrift {
                    path: "spec.replicas".into(),
                    kind: DriftKind::Changed,
                    desired: Some(json!(3)),
                    live: Some(json!(5)),
                },
                FieldDrift {
                    path: "metadata.labels.tier".into(),
                    kind: DriftKind::MissingInLive,
                    desired: Some(json!("web")),
                    live: None,
                },
            ],
        }],
        missing: vec![key("", "ConfigMap", Some("shop"), "web-config")],
        orphans: vec![key("rbac.authorization.k8s.io", "ClusterRole", None, "old")],
    };
    assert_eq!(
        serde_json::to_value(&report).expect("serializable"),
        json!({
            "summary": {"in_sync": 40, "changed": 1, "missing": 1, "orphans": 1},
            "changed": [{"group": "apps", "kind": "Deployment", "namespace": "shop", "name": "web",
                         "fields": [
                             {"path": "spec.replicas", "kind": "changed", "desired": 3, "live": 5},
                             {"path": "metadata.labels.tier", "kind": "missing_in_live", "desired": "web", "live": null}
                         ]}],
            "missing": [{"group": "", "kind": "ConfigMap", "namespace": "shop", "name": "web-config"}],
            "orphans": [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "namespace": null, "name": "old"}]
        })
    );
    let text = serde_json::to_string(&report).expect("serializable");
    assert!(text.starts_with("{\"summary\":{\"in_sync\":40,"), "{text}");
}

#[test]
fn human_report_for_every_kind_of_field() {
    let (mut desired, live) = pair("elasticsearch");
    let labels = desired["metadata"]["labels"]
        .as_object_mut()
        .expect("labels");
    labels.insert("foo".into(), json!("bar"));
    labels.insert("chart".into(), json!("elasticsearch-1.7.1"));
    labels.shift_remove("release");
    desired["metadata"]["namespace"] = json!("elasticsearch4");
    desired["spec"]["template"]["spec"]["containers"][0]["args"] = json!([]);
    let mut live = live;
    live["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--verbose"]);
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x".repeat(120));
    let report = drift(&[desired], &[live], &Options::default());
    let long = format!("\"{}…", "x".repeat(98));
    assert_eq!(
        render_human(&report),
        format!(
            "Drift (rendered → live):\n\
             ~ apps/StatefulSet elasticsearch4/elasticsearch4-data\n\
             \x20   metadata.labels.chart                                      \"elasticsearch-1.7.1\" → \"elasticsearch-1.7.0\"\n\
             \x20   metadata.labels.foo                                        \"bar\" → (not in cluster)\n\
             \x20   metadata.labels.release                                    (deleted from rendered) → \"elasticsearch4\"\n\
             \x20   spec.template.spec.containers[name=elasticsearch].args[0]  (not rendered) → \"--verbose\"\n\
             \x20   spec.template.spec.containers[name=elasticsearch].image    \"docker.elastic.co/elasticsearch/elasticsearch-oss:6.4.0\" → {long}\n\
             \n\
             1 object drifted, 0 missing, 0 orphans\n"
        )
    );
}

/// A small deterministic generator, so that odd inputs are tried without a fuzzing dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }

    fn value(&mut self, depth: u32) -> Value {
        const WORDS: [&str; 12] = [
            "name",
            "spec",
            "data",
            "resources",
            "1Gi",
            "1024Mi",
            "80",
            "",
            "containers",
            "metadata",
            "aGk=",
            "kind",
        ];
        let word = |g: &mut Lcg| WORDS[g.next(WORDS.len() as u64) as usize].to_owned();
        match if depth > 4 {
            self.next(4)
        } else {
            self.next(7)
        } {
            0 => Value::Null,
            1 => json!(self.next(3) == 0),
            2 => json!(self.next(100)),
            3 => Value::String(word(self)),
            4 | 5 => {
                let mut map = serde_json::Map::new();
                for _ in 0..self.next(4) {
                    map.insert(word(self), self.value(depth + 1));
                }
                Value::Object(map)
            }
            _ => Value::Array((0..self.next(4)).map(|_| self.value(depth + 1)).collect()),
        }
    }
}

#[test]
fn odd_objects_and_text_do_not_panic() {
    let mut generator = Lcg(7);
    let kinds = [
        ("v1", "Secret"),
        ("v1", "Endpoints"),
        ("apps/v1", "Deployment"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ];
    let ignore = vec![crate::load::IgnoreRule {
        group: "*".into(),
        kind: "*".into(),
        json_pointers: vec!["/spec/0".into(), "/data/name".into(), "/".into()],
        name: None,
        namespace: None,
    }];
    let options = Options {
        ignore,
        ..Options::default()
    };
    for round in 0..2000 {
        let (api_version, kind) = kinds[round % kinds.len()];
        let mut pair = Vec::new();
        for _ in 0..2 {
            let mut object = generator.value(0);
            if let Value::Object(fields) = &mut object {
                fields.insert("apiVersion".into(), json!(api_version));
                fields.insert("kind".into(), json!(kind));
                let metadata = json!({"name": "x", "labels": {"app.kubernetes.io/managed-by": "strata"},
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": generator.value(0).to_string()}});
                fields.insert("metadata".into(), metadata);
            }
            pair.push(object);
        }
        let report = drift(&pair[..1], &pair[1..], &options);
        let _ = render_human(&report);
        let itself = drift(&pair[..1], &pair[..1], &options);
        assert!(
            itself.is_in_sync(),
            "{} differs from itself: {itself:?}",
            pair[0]
        );
        let _ = compare_object(&pair[0], &generator.value(0), &[]);
    }
    let valid = read("deployment-live.json");
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: [1, {a: &x b}, *x]\n";
    let mut parsed = 0;
    for text in [valid.as_str(), yaml] {
        let chars: Vec<char> = text.chars().collect();
        for _ in 0..300 {
            let mut mutated = chars.clone();
            for _ in 0..3 {
                let at = generator.next(mutated.len() as u64) as usize;
                let replacement = [
                    '{', '}', '[', ']', ':', '"', '\n', '-', ' ', '&', '*', '!', '#', '\t',
                ];
                match generator.next(3) {
                    0 => {
                        mutated.remove(at);
                    }
                    1 => mutated.insert(
                        at,
                        replacement[generator.next(replacement.len() as u64) as usize],
                    ),
                    _ => mutated.truncate(at),
                }
                if mutated.is_empty() {
                    break;
                }
            }
            let text: String = mutated.into_iter().collect();
            if let Ok(objects) = parse_live(&text) {
                parsed += 1;
                let report = drift(&objects, &objects, &Options::default());
                assert!(report.is_in_sync(), "{text}");
            }
        }
    }
    assert!(parsed > 0, "some mutations stay valid");
}

#[test]
fn a_hook_is_neither_missing_when_absent_nor_an_orphan_when_present() {
    let hook = |name: &str, annotation: &str, value: &str| {
        serde_json::json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": "harbor",
                "labels": {"app.kubernetes.io/managed-by": "strata"},
                "annotations": {annotation: value}
            }
        })
    };
    let desired = vec![
        hook("migrate", "helm.sh/hook", "pre-install,pre-upgrade"),
        hook("crds", "helm.sh/hook", "crd-install"),
    ];
    let live = vec![hook("old-migrate", "argocd.argoproj.io/hook", "PreSync")];
    let report = super::drift(&desired, &live, &super::Options::default());
    let names: Vec<String> = report.missing.iter().map(|k| format!("{k:?}")).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].contains("crds"), "{names:?}");
    assert!(report.orphans.is_empty(), "{:?}", report.orphans);
}
