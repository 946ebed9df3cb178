//! NetworkPolicy coverage: every pod must be selected by a NetworkPolicy of its namespace on its
//! own cluster. A policy in another cluster, even of the same environment, does not count.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::finding::Finding;
use super::resource::str_at;
use super::rule::NETWORK_POLICY;
use super::workload::PodTemplate;
use crate::object::{ObjectId, RenderedObject};

/// The pod selectors of every NetworkPolicy, by (environment, cluster, namespace).
#[derive(Debug, Default)]
pub(crate) struct NetworkPolicies<'a> {
    selectors: BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a Value>>,
}

static SELECT_ALL: Value = Value::Null;

impl<'a> NetworkPolicies<'a> {
    pub(crate) fn index(objects: &'a [RenderedObject]) -> NetworkPolicies<'a> {
        let mut selectors: BTreeMap<_, Vec<&Value>> = BTreeMap::new();
        for o in objects {
            if !ObjectId::read(&o.object).is("networking.k8s.io", "NetworkPolicy") {
                continue;
            }
            // The API server defaults a missing podSelector to `{}`: every pod.
            let selector = o
                .object
                .get("spec")
                .and_then(|s| s.get("podSelector"))
                .unwrap_or(&SELECT_ALL);
            selectors
                .entry((
                    o.environment.as_str(),
                    o.cluster.as_str(),
                    str_at(&o.object, &["metadata", "namespace"]),
                ))
                .or_default()
                .push(selector);
        }
        NetworkPolicies { selectors }
    }

    /// Adds NetworkPolicies that are not among the objects: `(namespace, podSelector)` of
    /// cluster `cluster` in `environment`.
    pub(crate) fn add(
        &mut self,
        environment: &'a str,
        cluster: &'a str,
        extra: &'a [(String, Value)],
    ) {
        for (namespace, selector) in extra {
            self.selectors
                .entry((environment, cluster, namespace.as_str()))
                .or_default()
                .push(selector);
        }
    }

    /// The `(namespace, podSelector)` of each NetworkPolicy among `objects`, in order.
    pub(crate) fn of(objects: &[RenderedObject]) -> Vec<(String, Value)> {
        objects
            .iter()
            .filter_map(|o| {
                let r = ObjectId::read(&o.object);
                (r.group == "networking.k8s.io" && r.kind == "NetworkPolicy").then(|| {
                    let selector = o
                        .object
                        .get("spec")
                        .and_then(|s| s.get("podSelector"))
                        .unwrap_or(&SELECT_ALL);
                    (r.namespace_or_empty().to_string(), selector.clone())
                })
            })
            .collect()
    }

    /// A finding when no NetworkPolicy selects the pods of `pod`.
    pub(crate) fn check(
        &self,
        object: &RenderedObject,
        resource: &ObjectId,
        pod: &PodTemplate,
    ) -> Option<Finding> {
        let empty = Map::new();
        let labels = pod.labels.unwrap_or(&empty);
        let key = (
            object.environment.as_str(),
            object.cluster.as_str(),
            resource.namespace_or_empty(),
        );
        let covered = self
            .selectors
            .get(&key)
            .is_some_and(|s| s.iter().any(|selector| selects(selector, labels)));
        if covered {
            return None;
        }
        let shown: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        let shown = if shown.is_empty() {
            "no labels".to_string()
        } else {
            format!("labels {}", shown.join(", "))
        };
        let namespace = match resource.namespace_or_empty() {
            "" => "(none)",
            namespace => namespace,
        };
        Some(
            Finding::new(
                NETWORK_POLICY,
                pod.labels_path,
                format!(
                    "no NetworkPolicy in namespace `{namespace}` on cluster {} selects these pods ({shown})",
                    object.cluster
                ),
            )
            .hint(format!(
                "add a NetworkPolicy to namespace `{namespace}` whose podSelector matches these \
                 labels; `podSelector: {{}}` selects every pod of the namespace"
            )),
        )
    }
}

/// Whether a label selector selects `labels`, with Kubernetes' semantics. `null` and `{}` select
/// everything; a selector that is not an object, or has an unknown operator, selects nothing.
pub(crate) fn selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    let selector = match selector {
        Value::Null => return true,
        Value::Object(s) => s,
        _ => return false,
    };
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    if let Some(match_labels) = selector.get("matchLabels") {
        let Some(match_labels) = match_labels.as_object() else {
            return match_labels.is_null();
        };
        if !match_labels
            .iter()
            .all(|(k, v)| v.as_str().is_some() && label(k) == v.as_str())
        {
            return false;
        }
    }
    let Some(expressions) = selector.get("matchExpressions") else {
        return true;
    };
    if expressions.is_null() {
        return true;
    }
    let Some(expressions) = expressions.as_array() else {
        return false;
    };
    expressions.iter().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let in_values = label(key).is_some_and(|v| values.contains(&v));
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => in_values,
            Some("NotIn") => !in_values,
            Some("Exists") => label(key).is_some(),
            Some("DoesNotExist") => label(key).is_none(),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn selectors_follow_kubernetes() {
        let web = labels(json!({"app": "web", "tier": "front"}));
        let cases = [
            (json!({}), true),
            (json!(null), true),
            (json!({"matchLabels": {"app": "web"}}), true),
            (json!({"matchLabels": {"app": "db"}}), false),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}),
                false,
            ),
            (
                json!({"matchLabels": {"app": "web"},
                       "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}),
                false,
            ),
            (json!("app=web"), false),
        ];
        for (selector, expected) in cases {
            assert_eq!(selects(&selector, &web), expected, "{selector}");
        }
    }
}
