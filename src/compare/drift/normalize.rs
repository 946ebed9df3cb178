//! Normalization: what is left of an object once the API server's bookkeeping is gone.
//!
//! The same steps run on the desired object, the live object and the live object's
//! last-applied configuration, so the three can be compared field by field:
//! 1. the ignore rules' JSON pointers are removed (they point into the object as written);
//! 2. `apiVersion` and `kind` (already part of the key), `status`, and the server-set metadata
//!    are removed: `uid`, `resourceVersion`, `generation`, `creationTimestamp`,
//!    `managedFields`, `selfLink`, and the annotations
//!    `kubectl.kubernetes.io/last-applied-configuration`, `deployment.kubernetes.io/revision`
//!    and `argocd.argoproj.io/tracking-id`;
//! 3. Secret values are replaced by their hashes (see `secret.rs`);
//! 4. `null` values and empty maps are removed, at every depth; empty lists are kept, since
//!    `rules: []` says something that an absent `rules` does not;
//! 5. Endpoints subsets are put in the order the API server would store them.
//!
//! The label `app.kubernetes.io/instance` is kept: Helm charts set it to the release name,
//! so it is often part of what strata renders. Argo CD also sets it when it tracks resources by
//! label; see `compare.rs` for how its three-way removal is treated.

use std::cmp::Ordering;

use serde_json::Value;

use crate::compare::drift::Options;
use crate::compare::drift::secret::hash_secret_values;
use crate::load::ignore_rule::remove_pointer;
use crate::object::ObjectId;

pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

const SERVER_METADATA: [&str; 6] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
];

const SERVER_ANNOTATIONS: [&str; 3] = [
    LAST_APPLIED,
    "deployment.kubernetes.io/revision",
    "argocd.argoproj.io/tracking-id",
];

/// How to normalize the objects of one comparison: which pointers to drop, and which
/// kind-specific steps apply.
pub(crate) struct Normalizer {
    pointers: Vec<String>,
    is_secret: bool,
    is_endpoints: bool,
}

impl Normalizer {
    /// `desired` and `live` decide together whether an aggregated ClusterRole's `rules` are
    /// dropped: either side having an `aggregationRule` is enough.
    pub(crate) fn new(object: &ObjectId, desired: &Value, live: &Value, options: &Options) -> Self {
        let mut pointers: Vec<String> = Vec::new();
        for rule in options.ignore.iter().filter(|rule| rule.applies_to(object)) {
            for pointer in &rule.json_pointers {
                pointers.push(pointer.clone());
                // Secret values may be written as `stringData`; ignoring one ignores both.
                if let Some(rest) = pointer.strip_prefix("/data")
                    && object.is("", "Secret")
                    && (rest.is_empty() || rest.starts_with('/'))
                {
                    pointers.push(format!("/stringData{rest}"));
                }
            }
        }
        let aggregated = |value: &Value| {
            value
                .get("aggregationRule")
                .is_some_and(|rule| !rule.is_null())
        };
        if options.ignore_aggregated_roles
            && object.is("rbac.authorization.k8s.io", "ClusterRole")
            && (aggregated(desired) || aggregated(live))
        {
            pointers.push("/rules".into());
        }
        Normalizer {
            pointers,
            is_secret: object.is("", "Secret"),
            is_endpoints: object.is("", "Endpoints"),
        }
    }

    pub(crate) fn normalize(&self, object: &Value) -> Value {
        let mut object = object.clone();
        for pointer in &self.pointers {
            remove_pointer(&mut object, pointer);
        }
        remove_server_fields(&mut object);
        if self.is_secret {
            hash_secret_values(&mut object);
        }
        remove_empty(&mut object);
        if self.is_endpoints {
            sort_endpoint_subsets(&mut object);
        }
        object
    }
}

/// The live object's `kubectl.kubernetes.io/last-applied-configuration`, parsed. An annotation
/// that is not a JSON object is treated as absent: the comparison is then two-way.
pub(crate) fn last_applied(live: &Value) -> Option<Value> {
    let text = live
        .get("metadata")?
        .get("annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

fn remove_server_fields(object: &mut Value) {
    let Value::Object(fields) = object else {
        return;
    };
    for field in ["apiVersion", "kind", "status"] {
        fields.shift_remove(field);
    }
    let Some(Value::Object(metadata)) = fields.get_mut("metadata") else {
        return;
    };
    for field in SERVER_METADATA {
        metadata.shift_remove(field);
    }
    if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
        for annotation in SERVER_ANNOTATIONS {
            annotations.shift_remove(annotation);
        }
    }
}

/// Removes `null`s and empty maps, innermost first, so `{a: {b: null}}` disappears whole.
/// List items are kept even when empty, so that positions do not shift.
fn remove_empty(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.values_mut().for_each(remove_empty);
            fields.retain(|_, field| !is_empty(field));
        }
        Value::Array(items) => items.iter_mut().for_each(remove_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

/// The API server stores Endpoints subsets repacked: addresses sorted by IP, ports sorted, and
/// `protocol` defaulted to TCP. Argo CD sorts both sides the same way before it compares, and so
/// do we; otherwise a reordered subset is reported as drift.
fn sort_endpoint_subsets(endpoints: &mut Value) {
    let Some(Value::Array(subsets)) = endpoints.get_mut("subsets") else {
        return;
    };
    for subset in subsets.iter_mut() {
        let Value::Object(subset) = subset else {
            continue;
        };
        for field in ["addresses", "notReadyAddresses"] {
            if let Some(Value::Array(addresses)) = subset.get_mut(field) {
                addresses.sort_by(|a, b| text_at(a, "ip").cmp(text_at(b, "ip")));
            }
        }
        if let Some(Value::Array(ports)) = subset.get_mut("ports") {
            for port in ports.iter_mut() {
                if let Value::Object(port) = port {
                    port.entry("protocol")
                        .or_insert_with(|| Value::String("TCP".into()));
                }
            }
            ports.sort_by(compare_ports);
        }
    }
    subsets.sort_by_key(subset_sort_key);
}

fn compare_ports(a: &Value, b: &Value) -> Ordering {
    text_at(a, "name")
        .cmp(text_at(b, "name"))
        .then_with(|| port_number(a).cmp(&port_number(b)))
        .then_with(|| text_at(a, "protocol").cmp(text_at(b, "protocol")))
}

fn port_number(port: &Value) -> Option<u64> {
    port.get("port").and_then(Value::as_u64)
}

/// Subsets are ordered by what identifies them, not by server-added fields such as
/// `nodeName`, so that both sides sort alike.
fn subset_sort_key(subset: &Value) -> Vec<String> {
    let mut key = Vec::new();
    for field in ["addresses", "notReadyAddresses"] {
        let ips = items(subset, field).map(|address| text_at(address, "ip").to_owned());
        key.push(ips.collect::<Vec<_>>().join(","));
    }
    let ports = items(subset, "ports").map(|port| {
        format!(
            "{}:{}",
            text_at(port, "name"),
            port_number(port).unwrap_or_default()
        )
    });
    key.push(ports.collect::<Vec<_>>().join(","));
    key
}

fn items<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
}

fn text_at<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Normalizer, last_applied};
    use crate::compare::drift::Options;
    use crate::object::ObjectId;

    fn normalize(object: serde_json::Value) -> serde_json::Value {
        let key = ObjectId::of(&object).expect("keyed");
        Normalizer::new(&key, &object, &object, &Options::default()).normalize(&object)
    }

    #[test]
    fn server_fields_and_empties_go() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "c", "namespace": "n", "uid": "u", "resourceVersion": "1",
                "generation": 2, "creationTimestamp": "t", "managedFields": [], "selfLink": "/x",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "deployment.kubernetes.io/revision": "3",
                    "argocd.argoproj.io/tracking-id": "app:/ConfigMap:n/c"
                },
                "labels": {"app.kubernetes.io/instance": "app"}
            },
            "data": {"a": "1", "b": null, "c": {}, "d": {"e": null}, "f": []},
            "status": {"phase": "x"}
        });
        assert_eq!(
            normalize(live),
            json!({
                "metadata": {"name": "c", "namespace": "n",
                             "labels": {"app.kubernetes.io/instance": "app"}},
                "data": {"a": "1", "f": []}
            })
        );
    }

    #[test]
    fn endpoint_subsets_sort_like_the_api_server() {
        let endpoints = |subsets| {
            json!({"apiVersion": "v1", "kind": "Endpoints",
                                         "metadata": {"name": "e"}, "subsets": subsets})
        };
        let a = endpoints(json!([
            {"addresses": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.1"}],
             "ports": [{"name": "b", "port": 2}, {"name": "a", "port": 1, "protocol": "UDP"}]},
            {"addresses": [{"ip": "10.0.0.0"}], "ports": [{"port": 9}]}
        ]));
        let b = endpoints(json!([
            {"addresses": [{"ip": "10.0.0.0"}], "ports": [{"port": 9, "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
             "ports": [{"name": "a", "port": 1, "protocol": "UDP"}, {"name": "b", "port": 2}]}
        ]));
        assert_eq!(normalize(a), normalize(b));
    }

    #[test]
    fn last_applied_must_be_a_json_object() {
        let with = |text: &str| {
            json!({"metadata": {"annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": text}}})
        };
        assert_eq!(last_applied(&with("{\"a\":1}\n")), Some(json!({"a": 1})));
        assert_eq!(last_applied(&with("not json")), None);
        assert_eq!(last_applied(&with("[1]")), None);
        assert_eq!(last_applied(&json!({"metadata": {}})), None);
    }
}
