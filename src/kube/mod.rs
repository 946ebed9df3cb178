//! What the API server will see: rendered objects checked against the Kubernetes API of their
//! cluster's version, and YAML scalars read as Kubernetes reads them.
//!
//! - [`Validator`] checks one object: built-in kinds against the embedded schemas of the
//!   cluster's [`KubeVersion`] (src/kube/schemas.json.gz, see README.md beside this file),
//!   custom resources against the `openAPIV3Schema` of their CRD in [`Crds`], and every
//!   `apiVersion` against what that version serves, removed and deprecated APIs included.
//! - [`scalar`] says what a YAML scalar means to `sigs.k8s.io/yaml`, and how to write a value
//!   so that it keeps that meaning.
//!
//! Each [`Finding`] has a [`Rule`] with a stable id, the field path and what was expected; the
//! findings of one object come sorted.

mod builtin;
mod compile;
mod crd;
mod deprecation;
mod enums;
mod finding;
mod quantity;
mod schema;
mod version;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use crate::yaml::scalar;
pub use crd::{Crd, Crds, Scope};
pub use finding::{Finding, Level, Rule};
pub use version::{BadVersion, KubeVersion, NEWEST, OLDEST};

use builtin::BuiltIn;

/// A `kubernetesVersion` strata has no schemas for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strata has no Kubernetes schemas for version {version}: it knows {OLDEST} to {NEWEST}")]
pub struct UnsupportedVersion {
    pub version: KubeVersion,
}

/// Checks objects for one cluster: its Kubernetes version and the CRDs known for it.
pub struct Validator<'a> {
    version: KubeVersion,
    builtin: &'static BuiltIn,
    crds: &'a Crds,
}

/// `group` and `version` of an `apiVersion`: `apps/v1` → `("apps", "v1")`, `v1` → `("", "v1")`.
fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

impl<'a> Validator<'a> {
    /// The validator of `version`; the schemas of a version are compiled once per process.
    pub fn new(version: KubeVersion, crds: &'a Crds) -> Result<Validator<'a>, UnsupportedVersion> {
        let builtin = BuiltIn::of(version).ok_or(UnsupportedVersion { version })?;
        Ok(Validator {
            version,
            builtin,
            crds,
        })
    }

    pub fn version(&self) -> KubeVersion {
        self.version
    }

    /// Everything the API server of this version would refuse or warn about in `object`,
    /// sorted by field path.
    pub fn check(&self, object: &Value) -> Vec<Finding> {
        let mut out = Vec::new();
        self.check_into(object, &mut out);
        out.sort();
        out
    }

    fn check_into(&self, object: &Value, out: &mut Vec<Finding>) {
        if !object.is_object() {
            out.push(
                Finding::new(Rule::Schema, "", "a Kubernetes object must be a map")
                    .expected("a map with apiVersion, kind and metadata"),
            );
            return;
        }
        let text = |k: &str| {
            object
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
            for field in ["apiVersion", "kind"] {
                if text(field).is_none() {
                    out.push(
                        Finding::new(
                            Rule::Schema,
                            field,
                            format!("the required field `{field}` is missing or not a string"),
                        )
                        .expected("a string")
                        .hint("every object names its apiVersion and kind, e.g. apiVersion: apps/v1, kind: Deployment"),
                    );
                }
            }
            return;
        };
        let (group, version) = split_api_version(api_version);
        let builtin = self
            .builtin
            .by_api
            .get(api_version)
            .and_then(|k| k.get(kind));
        if let Some(&(root, last)) = builtin {
            self.builtin.schema.check(root, object, "", out);
            if let Some(f) = self.deprecated(api_version, group, kind, last) {
                out.push(f);
            }
        } else if let Some(crd) = self.crds.get(group, kind) {
            self.custom(crd, api_version, version, object, out);
        } else {
            out.push(self.not_served(api_version, group, version, kind));
        }
    }

    /// A custom resource against its CRD.
    fn custom(
        &self,
        crd: &Crd,
        api_version: &str,
        version: &str,
        object: &Value,
        out: &mut Vec<Finding>,
    ) {
        let served = crd.served().join(", ");
        let Some(v) = crd.version(version).filter(|v| v.served) else {
            let what = if crd.version(version).is_some() {
                "is not served"
            } else {
                "does not exist"
            };
            out.push(
                Finding::new(
                    Rule::UnservedVersion,
                    "apiVersion",
                    format!(
                        "version {version} of the {} CRD ({}) {what}: the API server refuses {api_version} {}",
                        crd.kind, crd.group, crd.kind
                    ),
                )
                .expected(format!("a served version: {served}"))
                .hint(match crd.preferred() {
                    Some(v) => format!("write apiVersion: {}/{v}", crd.group),
                    None => format!("the {} CRD serves no version: fix the CRD", crd.kind),
                }),
            );
            return;
        };
        if v.deprecated {
            let warning = v
                .warning
                .clone()
                .unwrap_or_else(|| format!("{api_version} {} is deprecated by its CRD", crd.kind));
            out.push(
                Finding::new(Rule::DeprecatedApi, "apiVersion", warning).hint(
                    match crd.preferred().filter(|p| *p != version) {
                        Some(v) => format!("write apiVersion: {}/{v}", crd.group),
                        None => "the CRD serves no version that is not deprecated".to_string(),
                    },
                ),
            );
        }
        if let Some((schema, root)) = &v.schema {
            schema.check(*root, object, "", out);
        }
        if let (Some(meta), Some(value)) = (self.builtin.object_meta, object.get("metadata")) {
            self.builtin.schema.check(meta, value, "metadata", out);
        }
    }

    /// A deprecation warning for a built-in API this version still serves; `last` is the
    /// last minor version whose schemas serve it.
    fn deprecated(&self, api_version: &str, group: &str, kind: &str, last: u32) -> Option<Finding> {
        let minor = self.version.minor();
        let (since, removed) = match deprecation::find(api_version, kind) {
            Some(d) if d.deprecated <= minor && minor < d.removed => {
                (Some(d.deprecated), d.removed)
            }
            _ if last < NEWEST.minor() => (None, last + 1),
            _ => return None,
        };
        let since = since
            .map(|s| format!("deprecated since 1.{s} and "))
            .unwrap_or_default();
        Some(
            Finding::new(
                Rule::DeprecatedApi,
                "apiVersion",
                format!(
                    "{api_version} {kind} is {since}no longer served from Kubernetes 1.{removed}"
                ),
            )
            .hint(self.replacement(api_version, group, kind)),
        )
    }

    /// What to write instead of `api_version` for `kind`, at this version.
    fn replacement(&self, api_version: &str, group: &str, kind: &str) -> String {
        let served_now = self.served_now(group, kind, api_version);
        if let Some(d) = deprecation::find(api_version, kind) {
            let (g, v) = split_api_version(d.replacement);
            let gvk = (g.to_string(), v.to_string(), kind.to_string());
            if self.builtin.kinds.contains_key(&gvk)
                || !d.replacement.contains('/') && d.replacement.contains(' ')
            {
                return format!("use {}", d.replacement);
            }
            // The replacement is not served yet: another old version would only move the
            // problem, so name the one that lasts.
            if d.replacement.contains('/') {
                return format!(
                    "{} replaces it, but Kubernetes {} does not serve it yet: move to it after upgrading, before 1.{}",
                    d.replacement, self.version, d.removed
                );
            }
        }
        match served_now.as_slice() {
            [] => format!(
                "Kubernetes {} serves no other version of {kind}",
                self.version
            ),
            [one] => format!("use apiVersion: {one}"),
            many => format!("use one of: {}", many.join(", ")),
        }
    }

    /// The other `apiVersion`s of a built-in kind that this version serves, GA first.
    fn served_now(&self, group: &str, kind: &str, except: &str) -> Vec<String> {
        let spans = builtin::served().and_then(|s| s.get(&(group.to_string(), kind.to_string())));
        let mut out: Vec<(bool, bool, std::cmp::Reverse<u32>, String)> = self
            .builtin
            .kinds
            .keys()
            .filter(|(g, _, k)| g == group && k == kind)
            .map(|(g, v, _)| {
                let api = if g.is_empty() {
                    v.clone()
                } else {
                    format!("{g}/{v}")
                };
                let last = spans.and_then(|s| s.get(v)).map_or(0, |s| s.1);
                (
                    v.contains("alpha"),
                    v.contains("beta"),
                    std::cmp::Reverse(last),
                    api,
                )
            })
            .filter(|(_, _, _, a)| a != except)
            .collect();
        // GA first, then the version served longest.
        out.sort();
        out.into_iter().map(|(_, _, _, a)| a).collect()
    }

    /// Why an `apiVersion`/kind that has no schema at this version is refused.
    fn not_served(&self, api_version: &str, group: &str, version: &str, kind: &str) -> Finding {
        let minor = self.version.minor();
        let at = self.version;
        if let Some(d) = deprecation::find(api_version, kind).filter(|d| d.removed <= minor) {
            return Finding::new(
                Rule::RemovedApi,
                "apiVersion",
                format!(
                    "{api_version} {kind} is not served by Kubernetes {at}: it was removed in 1.{}",
                    d.removed
                ),
            )
            .expected(self.expected_versions(group, kind, api_version))
            .hint(self.replacement(api_version, group, kind));
        }
        let served = builtin::served();
        let spans = served.and_then(|s| s.get(&(group.to_string(), kind.to_string())));
        if let Some(&(first, last)) = spans.and_then(|s| s.get(version)) {
            let (rule, message) = if last < minor {
                (
                    Rule::RemovedApi,
                    format!(
                        "{api_version} {kind} is not served by Kubernetes {at}: it was removed in 1.{}",
                        last + 1
                    ),
                )
            } else {
                (
                    Rule::UnservedVersion,
                    format!(
                        "{api_version} {kind} is not served by Kubernetes {at}: it is served from 1.{first}"
                    ),
                )
            };
            let hint = if rule == Rule::UnservedVersion
                && self.served_now(group, kind, api_version).is_empty()
            {
                format!(
                    "raise the cluster's kubernetesVersion to 1.{first} or later, or drop this object"
                )
            } else {
                self.replacement(api_version, group, kind)
            };
            return Finding::new(rule, "apiVersion", message)
                .expected(self.expected_versions(group, kind, api_version))
                .hint(hint);
        }
        if spans.is_some() {
            return Finding::new(
                Rule::UnservedVersion,
                "apiVersion",
                format!("Kubernetes has no {api_version} {kind}"),
            )
            .expected(self.expected_versions(group, kind, api_version))
            .hint(self.replacement(api_version, group, kind));
        }
        let group_kinds: Vec<&str> = served
            .into_iter()
            .flat_map(|s| s.keys())
            .filter(|(g, _)| g == group)
            .map(|(_, k)| k.as_str())
            .collect();
        if !group_kinds.is_empty() {
            let near = group_kinds
                .iter()
                .find(|k| k.eq_ignore_ascii_case(kind) || schema_close(k, kind));
            let hint = match near {
                Some(k) => format!("did you mean kind: {k}?"),
                None => format!(
                    "the group {} has the kinds: {}",
                    if group.is_empty() { "core (v1)" } else { group },
                    group_kinds.join(", ")
                ),
            };
            return Finding::new(
                Rule::UnknownKind,
                "kind",
                format!("Kubernetes {at} has no kind {kind} in {api_version}"),
            )
            .hint(hint);
        }
        Finding::new(
            Rule::UnknownKind,
            "kind",
            format!(
                "no CRD for {api_version} {kind} is known for this cluster, so its fields cannot be checked"
            ),
        )
        .hint(format!(
            "render the CRD of {kind} ({group}) for the same cluster, or declare it; if its operator installs it, set the level of unknown-kind for this environment"
        ))
    }

    fn expected_versions(&self, group: &str, kind: &str, api_version: &str) -> String {
        let now = self.served_now(group, kind, api_version);
        if now.is_empty() {
            format!("Kubernetes {} serves no version of {kind}", self.version)
        } else {
            format!(
                "a version Kubernetes {} serves: {}",
                self.version,
                now.join(", ")
            )
        }
    }
}

fn schema_close(a: &str, b: &str) -> bool {
    schema::close(a, b)
}
