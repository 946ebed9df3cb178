//! What the check of one object found.

use std::fmt;

/// The rules of the Kubernetes check, each with a stable id for levels, JSON and SARIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A field the API server refuses: unknown, of the wrong type, missing, not in its enum.
    Schema,
    /// An `apiVersion` the cluster's Kubernetes no longer serves.
    RemovedApi,
    /// An `apiVersion` the cluster still serves but a later Kubernetes removes.
    DeprecatedApi,
    /// A kind whose schema strata does not know: no built-in kind, no CRD in the render.
    UnknownKind,
    /// A known kind at an `apiVersion` the cluster does not serve (yet), or a CRD version
    /// that is not served.
    UnservedVersion,
}

/// How bad a finding is unless the platform sets another level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Warning,
    Error,
}

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::Schema => "schema",
            Rule::RemovedApi => "removed-api",
            Rule::DeprecatedApi => "deprecated-api",
            Rule::UnknownKind => "unknown-kind",
            Rule::UnservedVersion => "unserved-version",
        }
    }

    /// The level of the rule where the platform does not set one.
    pub fn default_level(self) -> Level {
        match self {
            Rule::DeprecatedApi | Rule::UnknownKind => Level::Warning,
            Rule::Schema | Rule::RemovedApi | Rule::UnservedVersion => Level::Error,
        }
    }
}

/// One thing wrong with one object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The field, as `spec.template.spec.containers[0].ports[0].containerPort`; empty for the
    /// object as a whole.
    pub path: String,
    pub rule: Rule,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What the schema wants there: `integer (int32)`, `one of: Always, IfNotPresent, Never`.
    pub expected: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Finding {
    pub(crate) fn new(rule: Rule, path: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            path: path.into(),
            message: message.into(),
            expected: None,
            hint: None,
        }
    }

    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Finding {
        self.expected = Some(expected.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// One line per part, as the snapshots show it.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.rule.default_level() {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{level}[{}]", self.rule.id())?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}
