//! APIs that Kubernetes removed, or deprecated and will remove, with what replaces them.
//!
//! Our own table, written from the Kubernetes deprecated API migration guide
//! (https://kubernetes.io/docs/reference/using-api/deprecation-guide/). It covers removals
//! before the oldest version strata has schemas for, which the schemas cannot know about, and
//! names the replacement, which they do not say. Versions it does not list are still checked:
//! an API that the embedded schemas serve at one version and not at a later one is reported
//! from the schemas themselves (see `super::builtin`).

/// One API that is gone, or going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deprecation {
    /// `group/version` as written in `apiVersion`: `policy/v1beta1`.
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    /// The minor version of Kubernetes that deprecated it.
    pub(crate) deprecated: u32,
    /// The first minor version that no longer serves it.
    pub(crate) removed: u32,
    /// The `apiVersion` to use instead, or what to do when there is none.
    pub(crate) replacement: &'static str,
}

const fn d(
    api_version: &'static str,
    kind: &'static str,
    deprecated: u32,
    removed: u32,
    replacement: &'static str,
) -> Deprecation {
    Deprecation {
        api_version,
        kind,
        deprecated,
        removed,
        replacement,
    }
}

const APPS_V1: &str = "apps/v1";
const NETWORKING_V1: &str = "networking.k8s.io/v1";

pub(crate) const DEPRECATIONS: &[Deprecation] = &[
    // Removed in 1.16.
    d("extensions/v1beta1", "NetworkPolicy", 9, 16, NETWORKING_V1),
    d(
        "extensions/v1beta1",
        "PodSecurityPolicy",
        11,
        16,
        "policy/v1beta1 (itself removed in 1.25: use Pod Security Admission)",
    ),
    d("extensions/v1beta1", "DaemonSet", 9, 16, APPS_V1),
    d("extensions/v1beta1", "Deployment", 9, 16, APPS_V1),
    d("extensions/v1beta1", "ReplicaSet", 9, 16, APPS_V1),
    d("apps/v1beta1", "Deployment", 9, 16, APPS_V1),
    d("apps/v1beta1", "StatefulSet", 9, 16, APPS_V1),
    d("apps/v1beta1", "ControllerRevision", 9, 16, APPS_V1),
    d("apps/v1beta2", "DaemonSet", 9, 16, APPS_V1),
    d("apps/v1beta2", "Deployment", 9, 16, APPS_V1),
    d("apps/v1beta2", "StatefulSet", 9, 16, APPS_V1),
    d("apps/v1beta2", "ReplicaSet", 9, 16, APPS_V1),
    d("apps/v1beta2", "ControllerRevision", 9, 16, APPS_V1),
    // Removed in 1.22.
    d(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        16,
        22,
        "admissionregistration.k8s.io/v1",
    ),
    d(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        16,
        22,
        "admissionregistration.k8s.io/v1",
    ),
    d(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        16,
        22,
        "apiextensions.k8s.io/v1",
    ),
    d(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        19,
        22,
        "apiregistration.k8s.io/v1",
    ),
    d(
        "authentication.k8s.io/v1beta1",
        "TokenReview",
        19,
        22,
        "authentication.k8s.io/v1",
    ),
    d(
        "authorization.k8s.io/v1beta1",
        "SubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    d(
        "authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    d(
        "authorization.k8s.io/v1beta1",
        "SelfSubjectAccessReview",
        19,
        22,
        "authorization.k8s.io/v1",
    ),
    d(
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        19,
        22,
        "certificates.k8s.io/v1",
    ),
    d(
        "coordination.k8s.io/v1beta1",
        "Lease",
        19,
        22,
        "coordination.k8s.io/v1",
    ),
    d("extensions/v1beta1", "Ingress", 14, 22, NETWORKING_V1),
    d(
        "networking.k8s.io/v1beta1",
        "Ingress",
        19,
        22,
        NETWORKING_V1,
    ),
    d(
        "networking.k8s.io/v1beta1",
        "IngressClass",
        19,
        22,
        NETWORKING_V1,
    ),
    d(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    d(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    d(
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    d(
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        17,
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    d(
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        14,
        22,
        "scheduling.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "CSINode",
        17,
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "StorageClass",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        19,
        22,
        "storage.k8s.io/v1",
    ),
    // Removed in 1.25.
    d("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
    d(
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        21,
        25,
        "discovery.k8s.io/v1",
    ),
    d("events.k8s.io/v1beta1", "Event", 22, 25, "events.k8s.io/v1"),
    d(
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        22,
        25,
        "autoscaling/v2",
    ),
    d("policy/v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1"),
    d(
        "policy/v1beta1",
        "PodSecurityPolicy",
        21,
        25,
        "nothing: PodSecurityPolicy is gone; use Pod Security Admission (namespace labels pod-security.kubernetes.io/*)",
    ),
    d(
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        22,
        25,
        "node.k8s.io/v1",
    ),
    // Removed in 1.26.
    d(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        23,
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    d(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        23,
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    d(
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        23,
        26,
        "autoscaling/v2",
    ),
    // Removed in 1.27.
    d(
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        24,
        27,
        "storage.k8s.io/v1",
    ),
    // Removed in 1.29.
    d(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema",
        26,
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    d(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        26,
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // Removed in 1.32.
    d(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema",
        29,
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    d(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        29,
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// The entry for `apiVersion` and `kind`, if the API is deprecated or removed.
pub(crate) fn find(api_version: &str, kind: &str) -> Option<&'static Deprecation> {
    DEPRECATIONS
        .iter()
        .find(|d| d.api_version == api_version && d.kind == kind)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_entry_is_deprecated_before_it_is_removed_and_listed_once() {
        for (i, d) in super::DEPRECATIONS.iter().enumerate() {
            assert!(d.deprecated < d.removed, "{d:?}");
            assert!(
                !super::DEPRECATIONS[..i]
                    .iter()
                    .any(|e| e.api_version == d.api_version && e.kind == d.kind),
                "{d:?} twice"
            );
        }
    }
}
