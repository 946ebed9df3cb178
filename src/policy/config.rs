//! `policies:` in strata.yaml.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::rule;

/// What a violation of a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// `strata render` refuses the output; `strata validate` exits 1.
    Deny,
    /// Reported; does not fail.
    Warn,
    /// Not checked.
    Off,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Deny => "deny",
            Level::Warn => "warn",
            Level::Off => "off",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `policies:` in strata.yaml.
///
/// ```yaml
/// policies:
///   rules:                 # per rule id: a level for all environments, or one per environment
///     image-pinned: warn
///     resource-requests: {non-prod: warn, prod: deny}
///   registries:            # per environment; strata renders `{{ global.baseDomain }}` per cluster
///     non-prod: [harbor.dev.welkin.example.com]
///     prod: ["harbor.{{ global.baseDomain }}"]
///   ownedPatterns:         # per environment: globs whose matches belong to that environment
///     prod: ["*.prod.welkin.example.com", "prod-*"]
///   allowShared: [example-cloud.com]   # never a leak
/// ```
///
/// Every rule defaults to `deny`. An environment without registries does not check
/// `allowed-registries`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PolicyConfig {
    #[serde(default)]
    pub(crate) rules: BTreeMap<String, RuleLevel>,
    /// Registry hosts or host/path prefixes per environment, possibly templated.
    #[serde(default)]
    pub(crate) registries: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub(crate) owned_patterns: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub(crate) allow_shared: Vec<String>,
}

/// The level of one rule: the same everywhere, or per environment (unlisted ones: `deny`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RuleLevel {
    All(Level),
    PerEnvironment(BTreeMap<String, Level>),
}

impl PolicyConfig {
    /// The level of `rule` in `environment`: what `policies.rules` says, else the rule's
    /// default ([`rule::default_level`]).
    pub(crate) fn level(&self, rule: &str, environment: &str) -> Level {
        match self.rules.get(rule) {
            None => rule::default_level(rule),
            Some(RuleLevel::All(level)) => *level,
            Some(RuleLevel::PerEnvironment(levels)) => levels
                .get(environment)
                .copied()
                .unwrap_or_else(|| rule::default_level(rule)),
        }
    }

    /// Whether `allowed-registries` is checked in `environment`: it is off without registries.
    pub(crate) fn has_registries(&self, environment: &str) -> bool {
        self.registries
            .get(environment)
            .is_some_and(|r| r.iter().any(|s| !s.trim().is_empty()))
    }

    /// Mistakes that serde cannot see: unknown rule ids, unknown environments, invalid globs.
    /// With no `environments`, environment names are not checked.
    pub(crate) fn validate(&self, environments: &[String]) -> Vec<ConfigError> {
        let known: BTreeSet<&str> = environments.iter().map(String::as_str).collect();
        let mut errors = Vec::new();
        let check_env = |field: String, env: &str, errors: &mut Vec<ConfigError>| {
            if !known.is_empty() && !known.contains(env) {
                errors.push(ConfigError::UnknownEnvironment {
                    field,
                    environment: env.to_string(),
                    known: environments.join(", "),
                });
            }
        };
        for (id, level) in &self.rules {
            if rule::rule(id).is_none() {
                errors.push(ConfigError::UnknownRule {
                    id: id.clone(),
                    known: rule::known_ids(),
                });
            }
            if let RuleLevel::PerEnvironment(levels) = level {
                for env in levels.keys() {
                    check_env(format!("rules.{id}"), env, &mut errors);
                }
            }
        }
        for env in self.registries.keys() {
            check_env("registries".into(), env, &mut errors);
        }
        for (env, patterns) in &self.owned_patterns {
            check_env("ownedPatterns".into(), env, &mut errors);
            for pattern in patterns {
                if let Err(e) = globset::Glob::new(pattern) {
                    errors.push(ConfigError::BadPattern {
                        environment: env.clone(),
                        pattern: pattern.clone(),
                        reason: e.kind().to_string(),
                    });
                }
            }
        }
        for shared in &self.allow_shared {
            if shared.trim().is_empty() {
                errors.push(ConfigError::EmptyShared);
            }
        }
        errors
    }
}

/// A mistake in `policies:`. Each message names the field; the caller adds strata.yaml's line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("policies.rules: there is no rule `{id}`; the rules are: {known}")]
    UnknownRule { id: String, known: String },
    #[error(
        "policies.{field}: there is no environment `{environment}`; the environments are: {known}"
    )]
    UnknownEnvironment {
        field: String,
        environment: String,
        known: String,
    },
    #[error("policies.ownedPatterns.{environment}: `{pattern}` is not a valid glob: {reason}")]
    BadPattern {
        environment: String,
        pattern: String,
        reason: String,
    },
    #[error("policies.allowShared: an empty string would allow every string; remove it")]
    EmptyShared,
}

impl<'de> Deserialize<'de> for RuleLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RuleLevelVisitor)
    }
}

struct RuleLevelVisitor;

const LEVELS: &[&str] = &["deny", "warn", "off"];

fn parse_level<E: de::Error>(text: &str) -> Result<Level, E> {
    match text {
        "deny" => Ok(Level::Deny),
        "warn" => Ok(Level::Warn),
        "off" => Ok(Level::Off),
        other => Err(E::unknown_variant(other, LEVELS)),
    }
}

impl<'de> Visitor<'de> for RuleLevelVisitor {
    type Value = RuleLevel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a level (deny, warn, off) or a map of environment to level")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<RuleLevel, E> {
        parse_level(text).map(RuleLevel::All)
    }

    /// YAML 1.1 readers turn an unquoted `off` into `false`.
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<RuleLevel, E> {
        if value {
            Err(E::invalid_value(de::Unexpected::Bool(true), &self))
        } else {
            Ok(RuleLevel::All(Level::Off))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RuleLevel, A::Error> {
        let mut levels = BTreeMap::new();
        while let Some(env) = map.next_key::<String>()? {
            let level = map.next_value::<LevelValue>()?;
            levels.insert(env, level.0);
        }
        Ok(RuleLevel::PerEnvironment(levels))
    }
}

/// A level inside a per-environment map, accepting `false` for `off` as above.
struct LevelValue(Level);

impl<'de> Deserialize<'de> for LevelValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(RuleLevelVisitor)? {
            RuleLevel::All(level) => Ok(LevelValue(level)),
            RuleLevel::PerEnvironment(_) => Err(de::Error::invalid_type(
                de::Unexpected::Map,
                &"a level: deny, warn or off",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: serde_json::Value) -> PolicyConfig {
        match serde_json::from_value(value) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn levels_per_rule_and_per_environment_default_to_deny() {
        let c = config(json!({"rules": {
            "image-pinned": "warn",
            "resource-requests": {"non-prod": "warn", "prod": "deny"},
            "no-privileged": false,
        }}));
        assert_eq!(c.level("image-pinned", "prod"), Level::Warn);
        assert_eq!(c.level("resource-requests", "non-prod"), Level::Warn);
        assert_eq!(c.level("resource-requests", "prod"), Level::Deny);
        assert_eq!(c.level("resource-requests", "staging"), Level::Deny);
        assert_eq!(c.level("no-privileged", "prod"), Level::Off);
        assert_eq!(c.level("network-policy", "prod"), Level::Deny);
    }

    #[test]
    fn registries_rule_is_off_without_registries() {
        let c = config(json!({"registries": {"prod": ["harbor.example.com"], "non-prod": []}}));
        assert!(c.has_registries("prod"));
        assert!(!c.has_registries("non-prod"));
        assert!(!c.has_registries("dev"));
    }

    #[test]
    fn unknown_fields_and_levels_are_rejected_with_the_choices() {
        let e = serde_json::from_value::<PolicyConfig>(json!({"rule": {}}));
        assert!(e.is_err_and(|e| e.to_string().contains("unknown field `rule`")));
        let e = serde_json::from_value::<PolicyConfig>(json!({"rules": {"image-pinned": "error"}}));
        assert!(e.is_err_and(|e| {
            e.to_string()
                .contains("expected one of `deny`, `warn`, `off`")
        }));
    }

    #[test]
    fn validate_names_unknown_rules_environments_and_bad_globs() {
        let c = config(json!({
            "rules": {"image-pined": "warn", "image-pinned": {"qa": "off"}},
            "ownedPatterns": {"prod": ["prod-[*"]},
        }));
        let errors: Vec<String> = c
            .validate(&["non-prod".into(), "prod".into()])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[1].starts_with("policies.rules.image-pinned: there is no environment `qa`"));
        assert!(errors[0].starts_with("policies.rules: there is no rule `image-pined`"));
        assert!(
            errors[2].starts_with("policies.ownedPatterns.prod: `prod-[*` is not a valid glob")
        );
    }
}
