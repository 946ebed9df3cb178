//! `components/<name>/`: one component, its defaults, its schema and how it renders.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::yaml::Node;

use super::IgnoreRule;

/// The default time a command source may run.
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ComponentFile {
    pub(crate) name: String,
    pub(crate) version: String,
    /// For people; strata does not read it.
    #[serde(default, rename = "description")]
    pub(crate) _description: serde::de::IgnoredAny,
    pub(crate) namespace: String,
    pub(crate) roles: Vec<String>,
    #[serde(default)]
    pub(crate) sync_wave: i64,
    #[serde(default)]
    pub(crate) source: Option<SourceFile>,
    #[serde(default)]
    pub(crate) ignore_differences: Vec<IgnoreRule>,
}

/// `source:` of component.yaml: a command, or a Helm chart (the schema allows one of them).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceFile {
    #[serde(default)]
    pub(crate) command: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) helm: Option<HelmFile>,
    #[serde(default)]
    pub(crate) timeout: Option<String>,
}

/// `source.helm:` of component.yaml.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct HelmFile {
    pub(crate) chart: String,
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) digest: Option<String>,
    #[serde(default)]
    pub(crate) release_name: Option<String>,
    #[serde(default, rename = "includeCRDs")]
    pub(crate) include_crds: Option<bool>,
}

/// A vendored Helm chart, as `source.helm` names it and as it was checked at load.
#[derive(Clone, Debug)]
pub(crate) struct HelmChart {
    /// The chart's path relative to the component directory, `charts/dex`: a directory or a
    /// `.tgz` file of the component.
    pub(crate) chart: String,
    pub(crate) release_name: String,
    pub(crate) include_crds: bool,
    pub(crate) timeout: Duration,
}

/// How a component turns values into manifests.
#[derive(Clone, Debug)]
pub(crate) enum ComponentSource {
    /// The minijinja templates in `templates/`, by file name.
    Templates(BTreeMap<String, String>),
    /// A program run without a shell in the component's directory.
    Command {
        argv: Vec<String>,
        timeout: Duration,
    },
    /// A chart vendored in the component, rendered by the `helm` on `PATH`.
    Helm(HelmChart),
}

#[derive(Clone, Debug)]
pub(crate) struct Component {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) namespace: String,
    pub(crate) roles: Vec<String>,
    pub(crate) sync_wave: i64,
    /// `components/<name>`
    pub(crate) dir: String,
    /// How it turns values into manifests: `source:` of component.yaml.
    pub(crate) source: ComponentSource,
    /// `values.yaml`: the lowest layer.
    pub(crate) values: Node,
    /// `values.schema.json`, to find `x-strata-secret` fields and defaults, and to compile.
    pub(crate) schema_json: serde_json::Value,
    /// The schema compiled, once, when first needed ([`Component::validator`]).
    pub(crate) compiled: Arc<OnceLock<Result<jsonschema::Validator, String>>>,
    /// Templates and partials that `include`/`import` may load: this component's `templates/`
    /// and the shared `components/_lib/`, by the name a template uses for them.
    pub(crate) partials: Arc<BTreeMap<String, String>>,
    /// `ignoreDifferences`: fields live drift leaves alone.
    pub(crate) ignore_differences: Vec<IgnoreRule>,
    /// The CRDs of `crds/`: declared for the Kubernetes check, never rendered.
    pub(crate) crds: Vec<serde_json::Value>,
}

impl Component {
    pub(crate) fn values_file(&self) -> String {
        format!("{}/values.yaml", self.dir)
    }

    pub(crate) fn schema_file(&self) -> String {
        format!("{}/values.schema.json", self.dir)
    }

    /// `values.schema.json`, compiled on first use, so that a render compiles the schemas of
    /// the components it renders, not all of them: a compile costs as much as rendering a
    /// small component.
    pub(crate) fn validator(&self) -> Result<&jsonschema::Validator, Diagnostic> {
        self.compiled
            .get_or_init(|| {
                jsonschema::validator_for(&self.schema_json).map_err(|e| {
                    match e.instance_path().as_str() {
                        "" => e.to_string(),
                        at => format!("at {at}: {e}"),
                    }
                })
            })
            .as_ref()
            .map_err(|e| {
                let file = self.schema_file();
                Diagnostic::error(
                    Code::ValuesSchema,
                    format!("{file} is not a valid JSON Schema: {e}"),
                )
                .at(Span::new(&file, 1, 1))
                .hint("fix the schema; https://json-schema.org/understanding-json-schema describes the keywords")
            })
    }

    pub(crate) fn enabled_for_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// `30s`, `2m`, `500ms`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// Compiles the values schemas of `components`, in parallel: what did not compile, sorted.
pub(crate) fn schema_errors<'a>(components: impl Iterator<Item = &'a Component>) -> Diagnostics {
    use rayon::prelude::*;
    let components: Vec<&Component> = components.collect();
    let errors: Vec<Diagnostic> = components
        .par_iter()
        .filter_map(|c| c.validator().err())
        .collect();
    errors.into_iter().collect::<Diagnostics>().sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5h"), None);
        assert_eq!(parse_duration("s"), None);
    }
}
