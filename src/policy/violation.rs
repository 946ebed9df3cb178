//! A rule broken by one field of one rendered object.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::config::Level;
use super::rule::rule;

/// A rule's id, one of the catalogue's: read back from the cache through [`known_rule`], so
/// serde does not take it for text borrowed from the input.
pub(crate) type RuleId = &'static str;

/// Serialized for the render cache, which keeps each cluster's violations so that a render
/// that skips the cluster reports them again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Violation {
    /// The rule's stable id, e.g. `no-privileged`.
    #[serde(deserialize_with = "known_rule")]
    pub(crate) rule: RuleId,
    pub(crate) level: Level,
    pub(crate) environment: String,
    pub(crate) cluster: String,
    pub(crate) component: String,
    /// The rendered file.
    pub(crate) file: String,
    /// `apps/Deployment ns/name`, `Secret ns/name`, `ClusterRole name`.
    pub(crate) resource: String,
    /// `spec.template.spec.containers[name=app].securityContext.privileged`.
    pub(crate) field: String,
    /// What is wrong, and where.
    pub(crate) message: String,
    /// What to do about it.
    pub(crate) hint: String,
    /// The layer file and line that set the offending value, when known.
    pub(crate) origin: Option<(String, u32)>,
    /// The reason given in `strata.dev/exempt`: the violation is recorded but does not fail.
    pub(crate) exemption: Option<String>,
}

impl Violation {
    /// Whether this violation fails `strata render` and `strata validate`.
    pub(crate) fn fails(&self) -> bool {
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

/// A rule id, as the catalogue spells it.
fn known_rule<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let id = String::deserialize(d)?;
    rule(&id)
        .map(|r| r.id)
        .ok_or_else(|| D::Error::custom(format!("unknown rule `{id}`")))
}

/// Violations as a cache stored them, less those of a rule this strata does not know (a cache
/// an older strata left).
pub(crate) fn known_violations<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<Violation>, D::Error> {
    let stored = Vec::<serde_json::Value>::deserialize(d)?;
    stored
        .into_iter()
        .filter(|v| {
            v.get("rule")
                .and_then(|r| r.as_str())
                .is_some_and(|id| rule(id).is_some())
        })
        .map(|v| serde_json::from_value(v).map_err(D::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_violation_reads_back_and_one_of_an_unknown_rule_is_dropped() {
        let v = Violation {
            rule: "no-privileged",
            level: Level::Deny,
            environment: "prod".into(),
            cluster: "prod-sto2-workload".into(),
            component: "web".into(),
            file: "prod/sto2/workload/web/deployment-web.yaml".into(),
            resource: "apps/Deployment web/web".into(),
            field: "spec.template.spec.containers[name=web].securityContext.privileged".into(),
            message: "privileged".into(),
            hint: "drop it".into(),
            origin: Some(("environments/prod/layer.yaml".into(), 3)),
            exemption: None,
        };
        let text = serde_json::to_string(&v).expect("json");
        assert!(
            text.starts_with(r#"{"rule":"no-privileged","level":"deny","environment""#),
            "{text}"
        );
        let gone = text.replace("no-privileged", "no-such-rule");
        #[derive(Deserialize)]
        struct Stored {
            #[serde(deserialize_with = "known_violations")]
            violations: Vec<Violation>,
        }
        let stored: Stored =
            serde_json::from_str(&format!(r#"{{"violations": [{text}, {gone}]}}"#)).expect("reads");
        assert_eq!(stored.violations, [v]);
    }
}
