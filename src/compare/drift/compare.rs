//! Comparison of one desired object with its live counterpart.
//!
//! The rules, which follow Argo CD's verdicts on real objects:
//! - A field that desired sets and live lacks is `missing_in_live`; one that live has with another
//!   value is `changed`.
//! - A field only live has is a server default, or a controller's addition: not drift.
//! - Three-way: a field that the live object's last-applied configuration sets, that desired
//!   no longer sets and that live still has, is `removed_still_live`, as `kubectl apply` or
//!   Argo CD would delete it. Exceptions: `metadata.name`, `metadata.namespace` (desired may
//!   leave the namespace to the caller) and the label `app.kubernetes.io/instance`, which
//!   Argo CD's label tracking writes into last-applied itself.
//! - Lists of maps that all carry a unique `name` (containers, env, ports, volumes, webhooks…)
//!   are matched by name, or else by a unique `mountPath` (volumeMounts often share a name);
//!   live-only items are not drift, like live-only fields. Other lists are compared by
//!   position, and an item that live has beyond the end of the desired list is drift:
//!   `removed_still_live` if last-applied had it, `extra_in_live` otherwise.
//!   `metadata.finalizers` is a set: controllers add their own. A (Cluster)RoleBinding's
//!   `subjects` are positional even when named: a subject added on the cluster grants access,
//!   and must show.
//! - Scalars: a number and a string are equal when both denote the same quantity (`80` and
//!   `"80"`, `1` and `"1000m"`): the API server writes int-or-string and quantity fields back
//!   as strings, and a bare number never equals unrelated text. Two strings are equal when
//!   they are equal text, or, under a resource field (`resources`, `limits`, `requests`,
//!   `hard`, `overhead`, `capacity`, `allocatable`, `sizeLimit`, `divisor`), when they are
//!   the same quantity. Numbers are equal by value (`1` and `1.0`).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::compare::drift::Options;
use crate::compare::drift::normalize::{Normalizer, last_applied};
use crate::compare::drift::quantity::Quantity;
use crate::compare::drift::secret::shorten_hashes;
use crate::compare::field_path::{self, Segment};
#[cfg(test)]
use crate::load::IgnoreRule;
use crate::object::ObjectId;

/// One field that differs between the desired and the live object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FieldDrift {
    /// Where: dotted keys, `[3]` for a list position, `[name=app]` for a named list item, and
    /// `["app.kubernetes.io/name"]` for a key that contains a dot:
    /// `spec.template.spec.containers[name=app].image`.
    pub(crate) path: String,
    pub(crate) kind: DriftKind,
    /// The desired value; `None` (`null` in JSON) when desired does not set the field.
    pub(crate) desired: Option<Value>,
    /// The live value; `None` (`null` in JSON) when the live object does not have the field.
    pub(crate) live: Option<Value>,
}

/// How a field drifted. Serialized in snake_case: `"changed"`, `"missing_in_live"`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DriftKind {
    /// Both set it, to different values.
    Changed,
    /// Desired sets it; the live object does not have it.
    MissingInLive,
    /// Desired no longer sets it, last-applied did, and the live object still has it.
    RemovedStillLive,
    /// A list item that the live object has past the end of the desired list (and that was
    /// never applied: otherwise it is `RemovedStillLive`).
    ExtraInLive,
}

/// Compares `desired` with `live`, with the given ignore rules and the default options
/// (aggregated ClusterRole rules ignored). An empty result means in sync.
#[cfg(test)]
pub(crate) fn compare_object(
    desired: &Value,
    live: &Value,
    ignore: &[IgnoreRule],
) -> Vec<FieldDrift> {
    let options = Options {
        ignore: ignore.to_vec(),
        ..Options::default()
    };
    compare_object_with(desired, live, &options)
}

/// Compares `desired` with `live` with all [`Options`]: ignore rules and the rest.
pub(crate) fn compare_object_with(
    desired: &Value,
    live: &Value,
    options: &Options,
) -> Vec<FieldDrift> {
    let Some(mut object) = ObjectId::of(desired).or_else(|| ObjectId::of(live)) else {
        return compare_unkeyed(desired, live);
    };
    // Ignore rules match on the namespace even when desired leaves it to the caller.
    if object.namespace.is_none() {
        object.namespace = ObjectId::of(live).and_then(|live| live.namespace);
    }
    let normalizer = Normalizer::new(&object, desired, live, options);
    let desired = normalizer.normalize(desired);
    let applied = last_applied(live).map(|applied| normalizer.normalize(&applied));
    let live = normalizer.normalize(live);

    let mut walk = Walk::default();
    walk.value(&desired, Some(&live), applied.as_ref());
    let mut drifts = walk.drifts;
    if object.is("", "Secret") {
        for drift in &mut drifts {
            drift.desired.iter_mut().for_each(shorten_hashes);
            drift.live.iter_mut().for_each(shorten_hashes);
        }
    }
    drifts
}

/// Objects without kind or name are a caller's mistake; they are compared whole, never panicked on.
fn compare_unkeyed(desired: &Value, live: &Value) -> Vec<FieldDrift> {
    if desired == live {
        return Vec::new();
    }
    vec![FieldDrift {
        path: String::new(),
        kind: DriftKind::Changed,
        desired: Some(desired.clone()),
        live: Some(live.clone()),
    }]
}

/// A step of the walk's path, owned while the walk goes on.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
    Item { key: &'static str, value: String },
}

impl Step {
    fn segment(&self) -> Segment<'_> {
        match self {
            Step::Key(key) => Segment::Key(key),
            Step::Index(index) => Segment::Index(*index),
            Step::Item { key, value } => Segment::Item { key, value },
        }
    }
}

/// Keys under which strings are quantities.
const QUANTITY_KEYS: [&str; 9] = [
    "resources",
    "limits",
    "requests",
    "hard",
    "overhead",
    "capacity",
    "allocatable",
    "sizeLimit",
    "divisor",
];

/// Fields by which list items are matched, in order of preference.
const ITEM_KEYS: [&str; 2] = ["name", "mountPath"];

/// Deeper than any real object (the YAML and JSON parsers stop at 128); past it, values are
/// compared whole rather than risking the stack.
const MAX_DEPTH: usize = 256;

#[derive(Default)]
struct Walk {
    path: Vec<Step>,
    drifts: Vec<FieldDrift>,
}

impl Walk {
    fn value(&mut self, desired: &Value, live: Option<&Value>, applied: Option<&Value>) {
        let Some(live) = live else {
            let empty_list = desired.as_array().is_some_and(Vec::is_empty);
            if !empty_list {
                self.push(DriftKind::MissingInLive, Some(desired), None);
            }
            return;
        };
        if self.path.len() > MAX_DEPTH {
            if desired != live {
                self.push(DriftKind::Changed, Some(desired), Some(live));
            }
            return;
        }
        match (desired, live) {
            (Value::Object(desired), Value::Object(live)) => {
                self.map(desired, live, applied.and_then(Value::as_object));
            }
            (Value::Array(desired), Value::Array(live)) => {
                self.list(desired, live, applied.and_then(Value::as_array));
            }
            (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
                self.push(DriftKind::Changed, Some(desired), Some(live));
            }
            _ => {
                if !scalars_equal(desired, live, self.under_quantity_key()) {
                    self.push(DriftKind::Changed, Some(desired), Some(live));
                }
            }
        }
    }

    fn map(
        &mut self,
        desired: &Map<String, Value>,
        live: &Map<String, Value>,
        applied: Option<&Map<String, Value>>,
    ) {
        let mut keys: BTreeSet<&String> = desired.keys().collect();
        keys.extend(applied.into_iter().flat_map(Map::keys));
        for key in keys {
            self.path.push(Step::Key(key.clone()));
            let applied_value = applied.and_then(|applied| applied.get(key));
            match desired.get(key) {
                Some(desired_value) => self.value(desired_value, live.get(key), applied_value),
                None => {
                    if let Some(live_value) = live.get(key)
                        && !self.exempt_from_removal()
                    {
                        self.push(DriftKind::RemovedStillLive, None, Some(live_value));
                    }
                }
            }
            self.path.pop();
        }
    }

    fn list(&mut self, desired: &[Value], live: &[Value], applied: Option<&Vec<Value>>) {
        if self.at(&["metadata", "finalizers"]) {
            return self.set(desired, live);
        }
        let item_key = ITEM_KEYS.into_iter().find(|key| {
            !desired.is_empty()
                && !self.at(&["subjects"])
                && keyed(desired, key)
                && keyed(live, key)
        });
        let Some(item_key) = item_key else {
            return self.positional(desired, live, applied);
        };
        let applied = applied.filter(|applied| keyed(applied, item_key));
        let find = |items: &'_ [Value], name: &str| -> Option<usize> {
            items
                .iter()
                .position(|item| key_of(item, item_key) == Some(name))
        };
        for desired_item in desired {
            let name = key_of(desired_item, item_key).unwrap_or_default();
            self.path.push(Step::Item {
                key: item_key,
                value: name.to_owned(),
            });
            let live_item = find(live, name).and_then(|i| live.get(i));
            let applied_item =
                applied.and_then(|applied| find(applied, name).and_then(|i| applied.get(i)));
            self.value(desired_item, live_item, applied_item);
            self.path.pop();
        }
        for applied_item in applied.into_iter().flatten() {
            let name = key_of(applied_item, item_key).unwrap_or_default();
            if find(desired, name).is_some() {
                continue;
            }
            if let Some(live_item) = find(live, name).and_then(|i| live.get(i)) {
                self.path.push(Step::Item {
                    key: item_key,
                    value: name.to_owned(),
                });
                self.push(DriftKind::RemovedStillLive, None, Some(live_item));
                self.path.pop();
            }
        }
    }

    fn positional(&mut self, desired: &[Value], live: &[Value], applied: Option<&Vec<Value>>) {
        for (index, desired_item) in desired.iter().enumerate() {
            self.path.push(Step::Index(index));
            let applied_item = applied.and_then(|applied| applied.get(index));
            self.value(desired_item, live.get(index), applied_item);
            self.path.pop();
        }
        for (index, live_item) in live.iter().enumerate().skip(desired.len()) {
            let was_applied = applied.is_some_and(|applied| index < applied.len());
            let kind = if was_applied {
                DriftKind::RemovedStillLive
            } else {
                DriftKind::ExtraInLive
            };
            self.path.push(Step::Index(index));
            self.push(kind, None, Some(live_item));
            self.path.pop();
        }
    }

    /// Every desired item must be live; live may have more.
    fn set(&mut self, desired: &[Value], live: &[Value]) {
        for (index, desired_item) in desired.iter().enumerate() {
            if !live.contains(desired_item) {
                self.path.push(Step::Index(index));
                self.push(DriftKind::MissingInLive, Some(desired_item), None);
                self.path.pop();
            }
        }
    }

    fn push(&mut self, kind: DriftKind, desired: Option<&Value>, live: Option<&Value>) {
        self.drifts.push(FieldDrift {
            path: field_path::render(self.path.iter().map(Step::segment)),
            kind,
            desired: desired.cloned(),
            live: live.cloned(),
        });
    }

    fn at(&self, keys: &[&str]) -> bool {
        self.path.len() == keys.len()
            && self
                .path
                .iter()
                .zip(keys)
                .all(|(segment, key)| matches!(segment, Step::Key(k) if k == key))
    }

    fn exempt_from_removal(&self) -> bool {
        self.at(&["metadata", "name"])
            || self.at(&["metadata", "namespace"])
            || self.at(&["metadata", "labels", "app.kubernetes.io/instance"])
    }

    fn under_quantity_key(&self) -> bool {
        self.path
            .iter()
            .any(|segment| matches!(segment, Step::Key(k) if QUANTITY_KEYS.contains(&k.as_str())))
    }
}

/// Every item is a map with a string `key`, and no two items share it.
fn keyed(items: &[Value], key: &str) -> bool {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .all(|item| key_of(item, key).is_some_and(|name| seen.insert(name)))
}

fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

pub(crate) fn scalars_equal(desired: &Value, live: &Value, quantity_context: bool) -> bool {
    match (desired, live) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || same_quantity(&a.to_string(), &b.to_string())
        }
        (Value::String(a), Value::String(b)) => a == b || (quantity_context && same_quantity(a, b)),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            same_quantity(&n.to_string(), s)
        }
        _ => desired == live,
    }
}

fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{DriftKind, FieldDrift, compare_object, compare_object_with, scalars_equal};
    use crate::compare::drift::Options;
    use crate::load::IgnoreRule;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop"}, "spec": spec})
    }

    fn pod_spec(pod: Value) -> Value {
        deployment(json!({"template": {"spec": pod}}))
    }

    fn with_last_applied(mut live: Value, applied: &Value) -> Value {
        live["metadata"]["annotations"] = json!({
            "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()
        });
        live
    }

    fn drift(
        path: &str,
        kind: DriftKind,
        desired: Option<Value>,
        live: Option<Value>,
    ) -> FieldDrift {
        FieldDrift {
            path: path.into(),
            kind,
            desired,
            live,
        }
    }

    #[test]
    fn quantities_compare_by_value_where_they_are_quantities() {
        let cases = [
            // (desired, live, under a resource field, equal)
            (json!("1000m"), json!("1"), true, true),
            (json!("1Gi"), json!("1024Mi"), true, true),
            (json!("0.5"), json!("500m"), true, true),
            (json!("1e3"), json!("1k"), true, true),
            (json!("100Mi"), json!("100M"), true, false),
            (json!(1), json!("1000m"), false, true),
            (json!(80), json!("80"), false, true),
            (json!("80"), json!(80), false, true),
            (json!(1), json!(1.0), false, true),
            (json!(1000), json!("1k"), false, true),
            (json!("1k"), json!("1000"), false, false),
            (json!("1.0"), json!("1"), false, false),
            (json!(80), json!("http"), false, false),
            (json!(true), json!("true"), false, false),
            (json!("v1.0"), json!("v1"), true, false),
        ];
        for (desired, live, quantity_context, equal) in cases {
            assert_eq!(
                scalars_equal(&desired, &live, quantity_context),
                equal,
                "{desired} vs {live} (resource field: {quantity_context})"
            );
        }
    }

    #[test]
    fn resources_are_compared_as_quantities() {
        let desired = pod_spec(json!({"containers": [{"name": "app", "resources": {
            "limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": "0.5"}}}]}));
        let live = pod_spec(json!({"containers": [{"name": "app", "resources": {
            "limits": {"cpu": "1", "memory": "1024Mi"}, "requests": {"cpu": "500m"}}}]}));
        assert_eq!(compare_object(&desired, &live, &[]), vec![]);

        let live = pod_spec(json!({"containers": [{"name": "app", "resources": {
            "limits": {"cpu": "2", "memory": "1G"}, "requests": {"cpu": "500m"}}}]}));
        let prefix = "spec.template.spec.containers[name=app].resources.limits";
        assert_eq!(
            compare_object(&desired, &live, &[]),
            vec![
                drift(
                    &format!("{prefix}.cpu"),
                    DriftKind::Changed,
                    Some(json!(1)),
                    Some(json!("2"))
                ),
                drift(
                    &format!("{prefix}.memory"),
                    DriftKind::Changed,
                    Some(json!("1Gi")),
                    Some(json!("1G"))
                ),
            ]
        );
        // Outside resource fields, text is text.
        let labelled = |version: &str| {
            let mut object = deployment(json!({}));
            object["metadata"]["labels"] = json!({"version": version});
            object
        };
        assert_eq!(
            compare_object(&labelled("1k"), &labelled("1000"), &[]).len(),
            1
        );
    }

    #[test]
    fn named_lists_match_by_name() {
        let desired = pod_spec(json!({"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "proxy", "image": "envoy:1"},
            {"name": "sidecar", "image": "log:1"}
        ]}));
        let live = pod_spec(json!({"containers": [
            {"name": "istio-proxy", "image": "istio:1"},
            {"name": "proxy", "image": "envoy:1", "imagePullPolicy": "IfNotPresent"},
            {"name": "app", "image": "app:1", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}
        ]}));
        assert_eq!(
            compare_object(&desired, &live, &[]),
            vec![
                drift(
                    "spec.template.spec.containers[name=app].image",
                    DriftKind::Changed,
                    Some(json!("app:2")),
                    Some(json!("app:1"))
                ),
                drift(
                    "spec.template.spec.containers[name=sidecar]",
                    DriftKind::MissingInLive,
                    Some(json!({"name": "sidecar", "image": "log:1"})),
                    None
                ),
            ]
        );
    }

    #[test]
    fn volume_mounts_sharing_a_name_match_by_mount_path() {
        let mounts = |mounts: Value| {
            pod_spec(json!({"containers": [{"name": "app", "volumeMounts": mounts}]}))
        };
        let desired = mounts(json!([
            {"name": "config", "mountPath": "/etc/a.yml", "subPath": "a.yml"},
            {"name": "config", "mountPath": "/etc/b.yml", "subPath": "b.yml"}
        ]));
        let live = mounts(json!([
            {"name": "config", "mountPath": "/etc/b.yml", "subPath": "b.yml"},
            {"name": "config", "mountPath": "/etc/a.yml", "subPath": "x.yml"}
        ]));
        assert_eq!(
            compare_object(&desired, &live, &[]),
            vec![drift(
                "spec.template.spec.containers[name=app].volumeMounts[mountPath=/etc/a.yml].subPath",
                DriftKind::Changed,
                Some(json!("a.yml")),
                Some(json!("x.yml"))
            )]
        );
    }

    #[test]
    fn positional_lists_compare_by_position() {
        let args = |args: Value| pod_spec(json!({"containers": [{"name": "app", "args": args}]}));
        let path = "spec.template.spec.containers[name=app].args";
        let cases = [
            (json!(["a", "b"]), json!(["a", "b"]), vec![]),
            (
                json!(["a", "b"]),
                json!(["b", "a"]),
                vec![
                    drift(
                        &format!("{path}[0]"),
                        DriftKind::Changed,
                        Some(json!("a")),
                        Some(json!("b")),
                    ),
                    drift(
                        &format!("{path}[1]"),
                        DriftKind::Changed,
                        Some(json!("b")),
                        Some(json!("a")),
                    ),
                ],
            ),
            (
                json!(["a"]),
                json!(["a", "--debug"]),
                vec![drift(
                    &format!("{path}[1]"),
                    DriftKind::ExtraInLive,
                    None,
                    Some(json!("--debug")),
                )],
            ),
            (
                json!(["a", "b"]),
                json!(["a"]),
                vec![drift(
                    &format!("{path}[1]"),
                    DriftKind::MissingInLive,
                    Some(json!("b")),
                    None,
                )],
            ),
            (json!([]), json!([]), vec![]),
        ];
        for (desired, live, expected) in cases {
            assert_eq!(
                compare_object(&args(desired.clone()), &args(live.clone()), &[]),
                expected,
                "{desired} vs {live}"
            );
        }
    }

    #[test]
    fn empty_list_in_desired_means_empty() {
        let role = |rules: Value| {
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                         "metadata": {"name": "r", "namespace": "n"}, "rules": rules})
        };
        assert_eq!(
            compare_object(&role(json!([])), &role(json!(null)), &[]),
            vec![]
        );
        let rule = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]});
        assert_eq!(
            compare_object(&role(json!([])), &role(json!([rule.clone()])), &[]),
            vec![drift("rules[0]", DriftKind::ExtraInLive, None, Some(rule))]
        );
    }

    #[test]
    fn server_defaults_are_not_drift() {
        let desired = pod_spec(
            json!({"containers": [{"name": "app", "image": "app:1", "resources": {}}],
                                      "securityContext": {}}),
        );
        let live = pod_spec(json!({"containers": [{"name": "app", "image": "app:1",
            "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"}],
            "dnsPolicy": "ClusterFirst", "securityContext": {}}));
        assert_eq!(compare_object(&desired, &live, &[]), vec![]);
    }

    #[test]
    fn a_subject_added_to_a_binding_is_drift() {
        let binding = |subjects: Value| {
            json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "n"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": subjects})
        };
        let alice =
            json!({"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"});
        let mallory =
            json!({"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"});
        assert_eq!(
            compare_object(
                &binding(json!([alice])),
                &binding(json!([alice, mallory])),
                &[]
            ),
            vec![drift(
                "subjects[1]",
                DriftKind::ExtraInLive,
                None,
                Some(mallory)
            )]
        );
    }

    #[test]
    fn finalizers_are_a_set() {
        let with = |finalizers: Value| {
            let mut object = deployment(json!({}));
            object["metadata"]["finalizers"] = finalizers;
            object
        };
        assert_eq!(
            compare_object(&with(json!(["a"])), &with(json!(["b", "a"])), &[]),
            vec![]
        );
        assert_eq!(
            compare_object(&with(json!(["a", "c"])), &with(json!(["a"])), &[]),
            vec![drift(
                "metadata.finalizers[1]",
                DriftKind::MissingInLive,
                Some(json!("c")),
                None
            )]
        );
    }

    #[test]
    fn three_way_removal() {
        let desired = {
            let mut object =
                pod_spec(json!({"containers": [{"name": "app", "image": "app:1", "args": ["a"]}]}));
            object["metadata"]["labels"] = json!({"team": "shop"});
            object
        };
        let applied = {
            let mut object = pod_spec(json!({"containers": [
                {"name": "app", "image": "app:1", "args": ["a", "b"], "workingDir": "/srv"},
                {"name": "debug", "image": "busybox"}]}));
            object["metadata"]["labels"] = json!({"team": "shop", "tier": "web", "gone": "yes",
                                                  "app.kubernetes.io/instance": "argo-app"});
            object["metadata"]["namespace"] = json!("elsewhere");
            object["spec"]["paused"] = json!(true);
            object
        };
        let live = {
            let mut object = pod_spec(json!({"containers": [
                {"name": "app", "image": "app:1", "args": ["a", "b"], "workingDir": "/srv"},
                {"name": "debug", "image": "busybox", "imagePullPolicy": "Always"}]}));
            object["metadata"]["labels"] = json!({"team": "shop", "tier": "web",
                                                  "app.kubernetes.io/instance": "argo-app"});
            object
        };
        let container = "spec.template.spec.containers";
        assert_eq!(
            compare_object(&desired, &with_last_applied(live.clone(), &applied), &[]),
            vec![
                drift(
                    "metadata.labels.tier",
                    DriftKind::RemovedStillLive,
                    None,
                    Some(json!("web"))
                ),
                drift(
                    &format!("{container}[name=app].args[1]"),
                    DriftKind::RemovedStillLive,
                    None,
                    Some(json!("b"))
                ),
                drift(
                    &format!("{container}[name=app].workingDir"),
                    DriftKind::RemovedStillLive,
                    None,
                    Some(json!("/srv"))
                ),
                drift(
                    &format!("{container}[name=debug]"),
                    DriftKind::RemovedStillLive,
                    None,
                    Some(json!({"name": "debug", "image": "busybox", "imagePullPolicy": "Always"}))
                ),
            ]
        );
        // Without a last-applied configuration only the extra argument is drift.
        assert_eq!(
            compare_object(&desired, &live, &[]),
            vec![drift(
                &format!("{container}[name=app].args[1]"),
                DriftKind::ExtraInLive,
                None,
                Some(json!("b"))
            )]
        );
    }

    #[test]
    fn ignore_rules() {
        let desired = {
            let mut object =
                deployment(json!({"replicas": 2, "template": {"spec": {"containers": [
                {"name": "app", "image": "app:1"}]}}}));
            object["metadata"]["labels"] = json!({"app.kubernetes.io/version": "1"});
            object
        };
        let live = {
            let mut object =
                deployment(json!({"replicas": 5, "template": {"spec": {"containers": [
                {"name": "app", "image": "app:2"}]}}}));
            object["metadata"]["labels"] = json!({"app.kubernetes.io/version": "2"});
            object
        };
        let rule = |group: &str, kind: &str, pointers: &[&str]| IgnoreRule {
            group: group.into(),
            kind: kind.into(),
            json_pointers: pointers.iter().map(|p| (*p).to_owned()).collect(),
            name: None,
            namespace: None,
        };
        let paths = |rules: &[IgnoreRule]| -> Vec<String> {
            compare_object(&desired, &live, rules)
                .into_iter()
                .map(|d| d.path)
                .collect()
        };
        let all = [
            "metadata.labels[\"app.kubernetes.io/version\"]",
            "spec.replicas",
            "spec.template.spec.containers[name=app].image",
        ];
        assert_eq!(paths(&[]), all);
        assert_eq!(
            paths(&[rule("apps", "Deployment", &["/spec/replicas"])]),
            all[..1]
                .iter()
                .chain(&all[2..])
                .copied()
                .collect::<Vec<_>>()
        );
        assert_eq!(
            paths(&[rule("apps", "StatefulSet", &["/spec/replicas"])]),
            all
        );
        assert_eq!(paths(&[rule("", "Deployment", &["/spec/replicas"])]), all);
        assert_eq!(
            paths(&[rule(
                "*",
                "*",
                &[
                    "/spec/replicas",
                    "/spec/template/spec/containers/0/image",
                    "/metadata/labels/app.kubernetes.io~1version",
                ]
            )]),
            Vec::<String>::new()
        );
        let named = |name: &str, namespace: &str| IgnoreRule {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            ..rule("apps", "Deployment", &["/spec/replicas"])
        };
        assert_eq!(paths(&[named("web", "shop")]).len(), 2);
        assert_eq!(paths(&[named("web", "other")]).len(), 3);
        assert_eq!(paths(&[named("api", "shop")]).len(), 3);
        let mut without_namespace = desired.clone();
        without_namespace["metadata"]
            .as_object_mut()
            .map(|metadata| metadata.shift_remove("namespace"));
        assert_eq!(
            compare_object(&without_namespace, &live, &[named("web", "shop")]).len(),
            2
        );
    }

    #[test]
    fn aggregated_cluster_role_rules_are_ignored_by_default() {
        let role = |rules: Value| {
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "view"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "true"}}]},
            "rules": rules})
        };
        let desired = role(json!([]));
        let live = role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]));
        assert_eq!(compare_object(&desired, &live, &[]), vec![]);
        let options = Options {
            ignore_aggregated_roles: false,
            ..Options::default()
        };
        assert_eq!(compare_object_with(&desired, &live, &options).len(), 1);
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let cases = [
            (json!(null), json!({}), 1),
            (json!("x"), json!("x"), 0),
            (
                json!({"kind": "A", "metadata": {"name": "a"}, "spec": 1}),
                json!({"kind": "A", "metadata": {"name": "a"}, "spec": {"x": 1}}),
                1,
            ),
            (
                json!({"kind": "A", "metadata": {"name": "a"}, "spec": [1]}),
                json!({"kind": "A", "metadata": "oops"}),
                2,
            ),
        ];
        for (desired, live, count) in cases {
            assert_eq!(
                compare_object(&desired, &live, &[]).len(),
                count,
                "{desired} vs {live}"
            );
        }
    }
}
