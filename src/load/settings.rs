//! `strata.yaml`: the platform settings.

use std::collections::BTreeMap;

use serde::Deserialize;

pub const DEFAULT_OUTPUT_DIR: &str = "rendered";
pub const DEFAULT_ARGOCD_NAMESPACE: &str = "argocd";
pub const DEFAULT_ARGOCD_SERVER: &str = "https://kubernetes.default.svc";

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub platform: Option<String>,
    pub output: OutputSettings,
    #[serde(default)]
    pub argocd: ArgoSettings,
    #[serde(default)]
    pub sources: SourceSettings,
    #[serde(default)]
    pub promotion: Option<Promotion>,
    #[serde(default)]
    pub identities: BTreeMap<String, String>,
    #[serde(default)]
    pub policies: crate::policy::PolicyConfig,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputSettings {
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(rename = "repoURL")]
    pub repo_url: String,
}

impl OutputSettings {
    pub fn dir(&self) -> &str {
        self.dir.as_deref().unwrap_or(DEFAULT_OUTPUT_DIR)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgoSettings {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub environments: BTreeMap<String, ArgoEnvironment>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgoEnvironment {
    #[serde(default)]
    pub server: Option<String>,
}

impl ArgoSettings {
    pub fn namespace(&self) -> &str {
        self.namespace
            .as_deref()
            .unwrap_or(DEFAULT_ARGOCD_NAMESPACE)
    }

    /// Where the Argo CD of `environment` runs.
    pub fn server_for(&self, environment: &str) -> &str {
        self.environments
            .get(environment)
            .and_then(|e| e.server.as_deref())
            .or(self.server.as_deref())
            .unwrap_or(DEFAULT_ARGOCD_SERVER)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSettings {
    #[serde(default)]
    pub commands: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    #[serde(default)]
    pub order: Vec<String>,
    #[serde(default)]
    pub soak: Option<Soak>,
    #[serde(default)]
    pub approvals: Option<Approvals>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Soak {
    #[serde(default = "default_working_days")]
    pub working_days: u32,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub workdays: Option<Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn default_working_days() -> u32 {
    5
}

fn default_timezone() -> String {
    "UTC".to_string()
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approvals {
    #[serde(default = "default_distinct")]
    pub distinct: u32,
}

fn default_distinct() -> u32 {
    1
}
