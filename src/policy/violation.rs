//! A rule broken by one field of one rendered object.

use super::config::Level;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule's stable id, e.g. `no-privileged`.
    pub rule: &'static str,
    pub level: Level,
    pub environment: String,
    pub cluster: String,
    pub component: String,
    /// The rendered file.
    pub file: String,
    /// `apps/Deployment ns/name`, `Secret ns/name`, `ClusterRole name`.
    pub resource: String,
    /// `spec.template.spec.containers[name=app].securityContext.privileged`.
    pub field: String,
    /// What is wrong, and where.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The layer file and line that set the offending value, when known.
    pub origin: Option<(String, u32)>,
    /// The reason given in `strata.dev/exempt`: the violation is recorded but does not fail.
    pub exemption: Option<String>,
}

impl Violation {
    /// Whether this violation fails `strata render` and `strata validate`.
    pub fn fails(&self) -> bool {
        self.level == Level::Deny && self.exemption.is_none()
    }

    pub(crate) fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.file,
            self.rule,
            &self.field,
            &self.resource,
            &self.cluster,
            &self.message,
        )
    }
}

/// Whether any violation fails the run.
pub fn any_fails(violations: &[Violation]) -> bool {
    violations.iter().any(Violation::fails)
}
