//! The rule catalogue: every rule's stable id, what it checks and what to do about a violation.
//!
//! The ids are part of strata's interface: users write them in `policies.rules` and in
//! `strata.dev/exempt` annotations, and CI matches on them. Never rename one.

pub(crate) const NO_PRIVILEGED: &str = "no-privileged";
pub(crate) const RUN_AS_NON_ROOT: &str = "run-as-non-root";
pub(crate) const NO_PRIVILEGE_ESCALATION: &str = "no-privilege-escalation";
pub(crate) const NO_HOST_NAMESPACES: &str = "no-host-namespaces";
pub(crate) const VOLUME_TYPES: &str = "volume-types";
pub(crate) const ALLOWED_REGISTRIES: &str = "allowed-registries";
pub(crate) const IMAGE_PINNED: &str = "image-pinned";
pub(crate) const RESOURCE_REQUESTS: &str = "resource-requests";
pub(crate) const NETWORK_POLICY: &str = "network-policy";
pub(crate) const NO_PLAINTEXT_SECRETS: &str = "no-plaintext-secrets";
pub(crate) const SECRET_VALUE_LEAK: &str = "secret-value-leak";
pub(crate) const ENVIRONMENT_LEAK: &str = "environment-leak";
pub(crate) const EXEMPTION_REASON: &str = "exemption-reason";
// The Kubernetes API check (src/kube): what the API server of the cluster's version would
// refuse or warn about. Their ids are `kube::Rule::id()`.
pub(crate) const SCHEMA: &str = "schema";
pub(crate) const REMOVED_API: &str = "removed-api";
pub(crate) const DEPRECATED_API: &str = "deprecated-api";
pub(crate) const UNKNOWN_KIND: &str = "unknown-kind";
pub(crate) const UNSERVED_VERSION: &str = "unserved-version";

/// One policy rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) id: &'static str,
    /// What the rule checks, in one line: the `policy list` column and the SARIF description.
    pub(crate) checks: &'static str,
    /// What to do about a violation, when the finding has no more specific hint.
    pub(crate) hint: &'static str,
}

/// Every rule, in the order `strata policy list` shows them.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: NO_PRIVILEGED,
        checks: "containers do not run privileged",
        hint: "remove `securityContext.privileged: true`; grant only the capability the container \
               needs (`securityContext.capabilities.add`) if it needs one",
    },
    Rule {
        id: RUN_AS_NON_ROOT,
        checks: "containers do not run as root: `runAsNonRoot: true` or a `runAsUser` above 0, \
                 on the container or its pod",
        hint: "set `securityContext.runAsNonRoot: true` on the pod or the container, and a \
               `runAsUser` above 0 if the image's default user is root",
    },
    Rule {
        id: NO_PRIVILEGE_ESCALATION,
        checks: "containers set `allowPrivilegeEscalation: false` explicitly",
        hint: "set `securityContext.allowPrivilegeEscalation: false` on the container",
    },
    Rule {
        id: NO_HOST_NAMESPACES,
        checks: "pods do not share the host's IPC, PID or network namespace",
        hint: "remove `hostIPC`, `hostPID` and `hostNetwork` from the pod spec; expose ports \
               through a Service instead of the host network",
    },
    Rule {
        id: VOLUME_TYPES,
        checks: "volumes are only configMap, emptyDir, projected, secret, downwardAPI or \
                 persistentVolumeClaim",
        hint: "replace the volume with an allowed type: a persistentVolumeClaim for storage, a \
               configMap or secret for files",
    },
    Rule {
        id: ALLOWED_REGISTRIES,
        checks: "images come from the environment's registries (`policies.registries`)",
        hint: "mirror the image into the environment's registry and reference it there",
    },
    Rule {
        id: IMAGE_PINNED,
        checks: "images are pinned to a tag other than `latest`, or to a digest",
        hint: "pin the image to a version tag (`:1.4.2`) or a digest (`@sha256:...`)",
    },
    Rule {
        id: RESOURCE_REQUESTS,
        checks: "containers request CPU and memory",
        hint: "set `resources.requests.cpu` and `resources.requests.memory` on the container",
    },
    Rule {
        id: NETWORK_POLICY,
        checks: "every pod is selected by a NetworkPolicy in its namespace on its cluster",
        hint: "add a NetworkPolicy to the namespace whose podSelector matches the pod's labels; \
               `podSelector: {}` selects every pod of the namespace",
    },
    Rule {
        id: NO_PLAINTEXT_SECRETS,
        checks: "Secrets with data are SOPS-encrypted; ExternalSecret and SealedSecret pass",
        hint: "encrypt the file with SOPS, or render an ExternalSecret or a SealedSecret instead \
               of a Secret",
    },
    Rule {
        id: SECRET_VALUE_LEAK,
        checks: "values marked `x-strata-secret` never appear in clear in the cluster's output",
        hint: "do not template the value into the object: reference a SOPS-encrypted Secret or \
               an ExternalSecret that holds it",
    },
    Rule {
        id: ENVIRONMENT_LEAK,
        checks: "no string owned by one environment appears in another environment's output",
        hint: "use this environment's own value here; if the string is shared on purpose, add \
               it to `policies.allowShared`",
    },
    Rule {
        id: EXEMPTION_REASON,
        checks: "every `strata.dev/exempt` entry names a rule and gives a reason",
        hint: "write the annotation as `strata.dev/exempt: <rule>=<reason>[,<rule>=<reason>]`",
    },
    Rule {
        id: SCHEMA,
        checks: "objects match the OpenAPI schema of their cluster's Kubernetes version, or \
                 their CRD's: known fields, types, required fields, enums, quantities",
        hint: "fix the field as the message says; `kubectl explain <kind>.<field>` shows the schema",
    },
    Rule {
        id: REMOVED_API,
        checks: "no apiVersion that the cluster's Kubernetes version no longer serves",
        hint: "move the object to the apiVersion the message names",
    },
    Rule {
        id: DEPRECATED_API,
        checks: "no apiVersion that a later Kubernetes version removes (default: warn)",
        hint: "move the object to the apiVersion the message names before upgrading",
    },
    Rule {
        id: UNKNOWN_KIND,
        checks: "every kind is built in or has its CRD in the cluster's render or a \
                 component's crds/ (default: warn)",
        hint: "render the CRD for this cluster, or declare it in the component's crds/ directory",
    },
    Rule {
        id: UNSERVED_VERSION,
        checks: "a known kind is written at a version the cluster serves",
        hint: "write the apiVersion the message names",
    },
];

/// The level of a rule that `policies.rules` does not set: `deny`, but `warn` for the two
/// Kubernetes rules that report what still works today.
pub(crate) fn default_level(id: &str) -> super::Level {
    match id {
        DEPRECATED_API | UNKNOWN_KIND => super::Level::Warn,
        _ => super::Level::Deny,
    }
}

/// The rule with this id.
pub(crate) fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The ids of all rules, comma-separated: for "unknown rule" messages.
pub(crate) fn known_ids() -> String {
    RULES.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for r in RULES {
            assert!(
                r.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.id
            );
            assert!(!r.checks.is_empty() && !r.hint.is_empty(), "{}", r.id);
        }
    }
}
