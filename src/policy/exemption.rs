//! Exemptions: `strata.dev/exempt: <rule>=<reason>[,<rule>=<reason>]` on a resource.
//!
//! An exempted violation is still reported, with its reason, so the exemption shows up in every
//! review and audit; it just does not fail the run. A reason is required: an entry without one,
//! or for a rule that does not exist, is itself a violation (`exemption-reason`) and exempts
//! nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use super::finding::Finding;
use super::resource::{get, key_segment};
use super::rule::{self, EXEMPTION_REASON};

pub(crate) const ANNOTATION: &str = "strata.dev/exempt";

/// The valid exemptions of one resource: rule id → reason.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Exemptions {
    reasons: BTreeMap<String, String>,
}

impl Exemptions {
    /// The exemptions in `object`'s annotation, and a finding for every invalid entry.
    pub(crate) fn of(object: &Value) -> (Exemptions, Vec<Finding>) {
        let mut exemptions = Exemptions::default();
        let mut problems = Vec::new();
        let Some(annotation) = get(object, &["metadata", "annotations", ANNOTATION]) else {
            return (exemptions, problems);
        };
        let field = format!("metadata.annotations{}", key_segment(ANNOTATION));
        let Some(text) = annotation.as_str() else {
            problems.push(Finding::new(
                EXEMPTION_REASON,
                field,
                format!("the annotation `{ANNOTATION}` is not a string, so it exempts nothing"),
            ));
            return (exemptions, problems);
        };
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, reason) = match entry.split_once('=') {
                Some((id, reason)) => (id.trim(), reason.trim()),
                None => (entry, ""),
            };
            if id == EXEMPTION_REASON {
                problems.push(Finding::new(
                    EXEMPTION_REASON,
                    field.clone(),
                    format!("`{EXEMPTION_REASON}` cannot be exempted"),
                ));
            } else if rule::rule(id).is_none() {
                problems.push(
                    Finding::new(
                        EXEMPTION_REASON,
                        field.clone(),
                        format!(
                            "the exemption names `{id}`, which is not a rule, so it exempts nothing"
                        ),
                    )
                    .hint(format!("the rules are: {}", rule::known_ids())),
                );
            } else if reason.is_empty() {
                problems.push(
                    Finding::new(
                        EXEMPTION_REASON,
                        field.clone(),
                        format!("the exemption from `{id}` gives no reason, so it exempts nothing"),
                    )
                    .hint(format!(
                        "say why the resource may break the rule: `{ANNOTATION}: {id}=<reason>`"
                    )),
                );
            } else {
                exemptions
                    .reasons
                    .insert(id.to_string(), reason.to_string());
            }
        }
        (exemptions, problems)
    }

    /// The reason `rule` is exempted, if it is.
    pub(crate) fn reason(&self, rule: &str) -> Option<&str> {
        self.reasons.get(rule).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(annotation: Value) -> Value {
        json!({"metadata": {"annotations": {"strata.dev/exempt": annotation}}})
    }

    #[test]
    fn entries_with_reasons_exempt() {
        let (e, problems) = Exemptions::of(&with(json!(
            "no-privileged=CNI needs it, network-policy = kube-system has none"
        )));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(e.reason("no-privileged"), Some("CNI needs it"));
        assert_eq!(e.reason("network-policy"), Some("kube-system has none"));
        assert_eq!(e.reason("image-pinned"), None);
    }

    #[test]
    fn entries_without_reason_or_rule_are_violations_and_exempt_nothing() {
        let (e, problems) = Exemptions::of(&with(json!("no-privileged, image-pinned= ,nope=x")));
        assert_eq!(e, Exemptions::default());
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "the exemption from `no-privileged` gives no reason, so it exempts nothing",
                "the exemption from `image-pinned` gives no reason, so it exempts nothing",
                "the exemption names `nope`, which is not a rule, so it exempts nothing",
            ]
        );
        assert!(problems.iter().all(|p| p.rule == "exemption-reason"
            && p.field == "metadata.annotations[\"strata.dev/exempt\"]"));
    }
}
