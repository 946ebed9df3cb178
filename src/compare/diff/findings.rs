//! What a change does to the policy findings: the failing violations the head has and the base
//! has not (introduced), and the other way round (removed). A reviewer needs the diff most when
//! the change breaks a policy, so `strata diff` renders both sides past their policy errors and
//! shows these after the diff.

use serde::Serialize;

use crate::policy::Violation;

/// One failing finding, as `strata diff` shows it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Finding {
    pub(crate) environment: String,
    pub(crate) cluster: String,
    pub(crate) rule: String,
    pub(crate) resource: String,
    pub(crate) field: String,
    pub(crate) message: String,
    /// The rendered file.
    pub(crate) file: String,
    /// `file:line` of the layer or template that set the value, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) origin: Option<String>,
}

impl Finding {
    fn of(v: &Violation) -> Finding {
        Finding {
            environment: v.environment.clone(),
            cluster: v.cluster.clone(),
            rule: v.rule.to_string(),
            resource: v.resource.clone(),
            field: v.field.clone(),
            message: v.message.clone(),
            file: v.file.clone(),
            origin: v.origin.as_ref().map(|(f, l)| format!("{f}:{l}")),
        }
    }

    /// What identifies a finding on both sides: not its file or origin, which a change may move.
    fn key(&self) -> (&str, &str, &str, &str, &str, &str) {
        (
            &self.environment,
            &self.cluster,
            &self.rule,
            &self.resource,
            &self.field,
            &self.message,
        )
    }
}

/// The failing findings a change introduces and removes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Findings {
    /// Failing on the head, not on the base.
    pub(crate) introduced: Vec<Finding>,
    /// Failing on the base, not on the head.
    pub(crate) removed: Vec<Finding>,
}

impl Findings {
    /// Compares the violations of the base and the head; only failing ones count.
    pub(crate) fn between(base: &[Violation], head: &[Violation]) -> Findings {
        let failing = |vs: &[Violation]| -> Vec<Finding> {
            let mut all: Vec<Finding> = vs.iter().filter(|v| v.fails()).map(Finding::of).collect();
            all.sort();
            all.dedup();
            all
        };
        let (base, head) = (failing(base), failing(head));
        let only = |these: &[Finding], those: &[Finding]| -> Vec<Finding> {
            let keys: std::collections::BTreeSet<_> = those.iter().map(Finding::key).collect();
            these
                .iter()
                .filter(|f| !keys.contains(&f.key()))
                .cloned()
                .collect()
        };
        Findings {
            introduced: only(&head, &base),
            removed: only(&base, &head),
        }
    }

    /// The findings of `env` (all when `None`) and of the cluster named `cluster`.
    pub(crate) fn filtered(&self, env: Option<&str>, cluster: Option<&str>) -> Findings {
        let keep = |f: &&Finding| {
            env.is_none_or(|e| e == f.environment) && cluster.is_none_or(|c| c == f.cluster)
        };
        Findings {
            introduced: self.introduced.iter().filter(keep).cloned().collect(),
            removed: self.removed.iter().filter(keep).cloned().collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.introduced.is_empty() && self.removed.is_empty()
    }

    /// The text that follows the diff, for a terminal and for markdown alike: nothing when the
    /// change touches no finding.
    pub(crate) fn render_text(&self) -> String {
        let mut out = String::new();
        for (list, what) in [
            (&self.introduced, "this change introduces (head)"),
            (&self.removed, "this change removes (base)"),
        ] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("\npolicy findings {what}: {}\n", list.len()));
            for f in list {
                out.push_str(&format!(
                    "  error[{}] {}: {}\n    in {} (cluster {}), field {}{}\n",
                    f.rule,
                    f.resource,
                    f.message,
                    f.file,
                    f.cluster,
                    f.field,
                    f.origin
                        .as_deref()
                        .map(|o| format!(", set at {o}"))
                        .unwrap_or_default()
                ));
            }
        }
        out
    }
}
