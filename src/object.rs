//! One Kubernetes object: its identity ([`ObjectId`]), the object as strata rendered it
//! ([`RenderedObject`]), and what strata writes on every object it renders (its labels).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The label that marks an object as strata's; live drift finds orphans by it.
pub(crate) const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY`] on strata's objects.
pub(crate) const MANAGED_BY_STRATA: &str = "strata";
/// The label that names the component that rendered an object.
pub(crate) const COMPONENT_LABEL: &str = "strata.dev/component";
/// The label that names the cluster an Application deploys to.
pub(crate) const CLUSTER_LABEL: &str = "strata.dev/cluster";

/// The identity of an object: API group, kind, namespace and name.
///
/// The version is not part of it: `apps/v1beta1` and `apps/v1` name the same stored object, and
/// `kubectl get` returns whichever version the server prefers; a diff shows a version bump as a
/// change of the object, not a removal and an addition. Ordering is by group, kind, namespace,
/// then name, which is the order of every list in a report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) struct ObjectId {
    /// The API group: `apps`, `rbac.authorization.k8s.io`, or `""` for the core group (`v1`).
    pub(crate) group: String,
    pub(crate) kind: String,
    /// `None` for cluster-scoped objects (serialized as `null`).
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
}

impl ObjectId {
    /// The identity of `object`, or `None` when it has no `kind` or no `metadata.name`.
    ///
    /// A missing or empty `metadata.namespace` means cluster-scoped: desired objects are
    /// expected to carry their namespace already (emit fills in the component's).
    pub(crate) fn of(object: &Value) -> Option<ObjectId> {
        let id = ObjectId::read(object);
        (!id.kind.is_empty() && !id.name.is_empty()).then_some(id)
    }

    /// The identity of `object` as far as it has one: a missing kind or name is empty. For
    /// objects strata rendered itself, which always have both, and for rules that must look at
    /// any object without failing on one.
    pub(crate) fn read(object: &Value) -> ObjectId {
        let metadata = object.get("metadata");
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        ObjectId {
            group: group_of(api_version).to_owned(),
            kind: non_empty_str(object.get("kind")).unwrap_or("").to_owned(),
            namespace: non_empty_str(metadata.and_then(|m| m.get("namespace"))).map(str::to_owned),
            name: non_empty_str(metadata.and_then(|m| m.get("name")))
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// Whether it is a `kind` of the API `group` (`""` for the core group).
    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }

    /// The namespace, or `""` for a cluster-scoped object.
    pub(crate) fn namespace_or_empty(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// `apps/Deployment ingress-nginx/controller`; the core group shows as the bare kind
/// (`Service web/frontend`), a cluster-scoped object without a namespace (`ClusterRole
/// grafana`). How every message and report names an object.
impl fmt::Display for ObjectId {
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

/// Whether `object` is a core (`v1`) object of `kind`.
pub(crate) fn is_core(object: &Value, kind: &str) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some(kind)
}

/// One rendered Kubernetes object and where it is written.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct RenderedObject {
    pub(crate) environment: String,
    /// The cluster's name, e.g. `prod-sto2-workload`.
    pub(crate) cluster: String,
    pub(crate) component: String,
    /// The output path, e.g. `prod/sto2/workload/grafana/deployment-grafana.yaml`.
    pub(crate) file: String,
    pub(crate) object: Value,
}

/// Kinds that are not namespaced. strata leaves their `metadata.namespace` unset.
pub(crate) const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "ClusterSecretStore",
    "ClusterPolicy",
    "K8sRequiredLabels",
    "ConstraintTemplate",
];

pub(crate) fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ObjectId, is_core};

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
            let key = ObjectId::of(&object).expect("keyed");
            assert_eq!(key.to_string(), shown);
        }
        assert_eq!(ObjectId::of(&json!({"kind": "Service"})), None);
        assert_eq!(ObjectId::of(&json!("text")), None);
    }

    #[test]
    fn read_gives_what_there_is() {
        let id = ObjectId::read(&json!({"kind": "Service", "metadata": {"namespace": "a"}}));
        assert_eq!(
            (
                id.group.as_str(),
                id.kind.as_str(),
                id.namespace_or_empty(),
                id.name.as_str()
            ),
            ("", "Service", "a", "")
        );
        assert_eq!(ObjectId::read(&json!(3)).to_string(), " ");
    }

    #[test]
    fn core_objects_are_of_v1() {
        assert!(is_core(
            &json!({"apiVersion": "v1", "kind": "Secret"}),
            "Secret"
        ));
        assert!(!is_core(
            &json!({"apiVersion": "x.io/v1", "kind": "Secret"}),
            "Secret"
        ));
        assert!(!is_core(
            &json!({"apiVersion": "v1beta1", "kind": "Secret"}),
            "Secret"
        ));
    }
}
