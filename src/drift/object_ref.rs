//! `ObjectRef`: which Kubernetes object a report line is about.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The identity of an object: API group, kind, namespace and name.
///
/// The version is not part of it: `apps/v1beta1` and `apps/v1` name the same stored object, and
/// `kubectl get` returns whichever version the server prefers. Ordering is by group, kind,
/// namespace, then name, which is the order of every list in a report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// The API group: `apps`, `rbac.authorization.k8s.io`, or `""` for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects (serialized as `null`).
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The identity of `object`, or `None` when it has no `kind` or no `metadata.name`.
    ///
    /// A missing or empty `metadata.namespace` means cluster-scoped: desired objects are
    /// expected to carry their namespace already (see the module documentation).
    pub fn of(object: &Value) -> Option<ObjectRef> {
        let kind = non_empty_str(object.get("kind"))?;
        let metadata = object.get("metadata");
        let name = non_empty_str(metadata.and_then(|m| m.get("name")))?;
        let namespace = non_empty_str(metadata.and_then(|m| m.get("namespace")));
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some(ObjectRef {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }
}

/// `apps/v1` → `apps`; `v1` → `""` (the core group).
pub(crate) fn group_of(api_version: &str) -> &str {
    match api_version.split_once('/') {
        Some((group, _version)) => group,
        None => "",
    }
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `apps/Deployment ingress-nginx/controller`; the core group shows as the bare kind
/// (`Service web/frontend`), a cluster-scoped object without a namespace.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{} ", self.kind)?;
        if let Some(namespace) = &self.namespace {
            write!(f, "{namespace}/")?;
        }
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ObjectRef;

    #[test]
    fn identity_and_display() {
        let cases = [
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "shop"}}),
                "apps/Deployment shop/web",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Service",
                       "metadata": {"name": "web", "namespace": "shop"}}),
                "Service shop/web",
            ),
            (
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": "view", "namespace": ""}}),
                "rbac.authorization.k8s.io/ClusterRole view",
            ),
        ];
        for (object, shown) in cases {
            let key = ObjectRef::of(&object).expect("keyed");
            assert_eq!(key.to_string(), shown);
        }
        assert_eq!(ObjectRef::of(&json!({"kind": "Service"})), None);
        assert_eq!(ObjectRef::of(&json!("text")), None);
    }
}
