//! `strata.yaml`: the platform settings.

use std::collections::BTreeMap;

use serde::Deserialize;

pub(crate) const DEFAULT_OUTPUT_DIR: &str = "rendered";
pub(crate) const DEFAULT_ARGOCD_NAMESPACE: &str = "argocd";
pub(crate) const DEFAULT_ARGOCD_SERVER: &str = "https://kubernetes.default.svc";

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Settings {
    #[serde(default)]
    pub(crate) platform: Option<String>,
    /// The Kubernetes version of clusters that do not set `cluster.kubernetesVersion`, as
    /// written (a string, or the number YAML made of an unquoted one).
    #[serde(default)]
    pub(crate) kubernetes_version: Option<serde_json::Value>,
    pub(crate) output: OutputSettings,
    #[serde(default)]
    pub(crate) argocd: ArgoSettings,
    #[serde(default)]
    pub(crate) sources: SourceSettings,
    #[serde(default)]
    pub(crate) promotion: Option<Promotion>,
    #[serde(default)]
    pub(crate) identities: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) policies: crate::policy::PolicyConfig,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OutputSettings {
    #[serde(default)]
    pub(crate) dir: Option<String>,
    #[serde(rename = "repoURL")]
    pub(crate) repo_url: String,
}

impl OutputSettings {
    pub(crate) fn dir(&self) -> &str {
        self.dir.as_deref().unwrap_or(DEFAULT_OUTPUT_DIR)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ArgoSettings {
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) server: Option<String>,
    #[serde(default)]
    pub(crate) environments: BTreeMap<String, ArgoEnvironment>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ArgoEnvironment {
    #[serde(default)]
    pub(crate) server: Option<String>,
}

impl ArgoSettings {
    pub(crate) fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .unwrap_or(DEFAULT_ARGOCD_NAMESPACE)
    }

    /// Where the Argo CD of `environment` runs.
    pub(crate) fn server_for(&self, environment: &str) -> &str {
        self.environments
            .get(environment)
            .and_then(|e| e.server.as_deref())
            .or(self.server.as_deref())
            .unwrap_or(DEFAULT_ARGOCD_SERVER)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SourceSettings {
    #[serde(default)]
    pub(crate) commands: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Promotion {
    #[serde(default)]
    pub(crate) order: Vec<String>,
    #[serde(default)]
    pub(crate) soak: Option<Soak>,
    #[serde(default)]
    pub(crate) approvals: Option<Approvals>,
    /// Maintenance windows per environment, in the soak's time zone.
    #[serde(default)]
    pub(crate) windows: BTreeMap<String, Window>,
    /// Date ranges in which no planned change reaches a windowed environment.
    #[serde(default)]
    pub(crate) freezes: Vec<Freeze>,
    /// What a major change may do.
    #[serde(default)]
    pub(crate) major_changes: Option<MajorChanges>,
    /// Which environments need proof that the previous one ran the change healthy.
    #[serde(default)]
    pub(crate) health: Option<Health>,
}

/// `{days: [wed], from: "07:00", to: "12:00"}`: open from `from` (included) to `to` (excluded).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Window {
    pub(crate) days: Vec<String>,
    pub(crate) from: String,
    pub(crate) to: String,
}

/// `{from: 2026-12-19, to: 2027-01-06, reason: Christmas}`: both dates included.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Freeze {
    pub(crate) from: String,
    pub(crate) to: String,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MajorChanges {
    /// Only in the first window of the calendar month.
    #[serde(default)]
    pub(crate) first_window_of_month: bool,
    /// At most this many planned major promotions per calendar month.
    #[serde(default)]
    pub(crate) per_month: Option<u32>,
    /// A change that declares `Customer-action:` needs `Announced:` this many days before.
    #[serde(default)]
    pub(crate) announce_days: Option<u32>,
    /// Per component: `major` (every version change is major), `minor` (never by its
    /// version) or `semver` (the default).
    #[serde(default)]
    pub(crate) classes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Health {
    /// Environments whose promotion needs `--argocd-status` of the previous environment.
    #[serde(default)]
    pub(crate) required: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Soak {
    #[serde(default = "default_working_days")]
    pub(crate) working_days: u32,
    #[serde(default = "default_timezone")]
    pub(crate) timezone: String,
    #[serde(default)]
    pub(crate) workdays: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) holidays: Vec<String>,
}

fn default_working_days() -> u32 {
    5
}

fn default_timezone() -> String {
    "UTC".to_string()
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Approvals {
    #[serde(default = "default_distinct")]
    pub(crate) distinct: u32,
}

fn default_distinct() -> u32 {
    1
}
