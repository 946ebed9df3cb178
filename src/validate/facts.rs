//! What the policies need from the merged values: each cluster's rendered registry list and
//! `x-strata-secret` values, and every string leaf with the layer that set it.

use minijinja::Environment;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::load::Source;
use crate::merge::{Cluster, MValue, Merged};
use crate::policy::{ClusterFacts, ResolvedLeaf, SecretValue};
use crate::yaml::Scalar;

/// Facts of the given clusters. Registry templates (`harbor.{{ global.baseDomain }}`) render
/// with the cluster's `global` and `cluster`.
/// `secrets` gives each cluster's `x-strata-secret` values ([`secret_values`]): the registries
/// need only the cluster's identity and globals, which a cluster whose component values were
/// let go still has.
pub(crate) fn cluster_facts(
    source: &Source,
    clusters: &[&Cluster],
    secrets: impl Fn(&Cluster) -> Vec<SecretValue>,
) -> Result<Vec<ClusterFacts>, Diagnostics> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    for c in clusters {
        let mut registries = Vec::new();
        for template in source
            .settings
            .policies
            .registries
            .get(&c.environment)
            .into_iter()
            .flatten()
        {
            let ctx = minijinja::context! {
                global => minijinja::Value::from(minijinja::value::Serde(&c.global)),
                cluster => minijinja::Value::from(minijinja::value::Serde(&c.identity)),
            };
            match env.render_str(template, ctx) {
                Ok(r) => registries.push(r),
                Err(e) => diags.push(
                    Diagnostic::error(Code::PolicyConfig, format!("policies.registries.{}: `{template}` does not render for cluster `{}`: {e}", c.environment, c.name))
                        .at(Span::new("strata.yaml", 1, 1))
                        .hint("registry templates see `global` and `cluster`, e.g. harbor.{{ global.baseDomain }}"),
                ),
            }
        }
        out.push(ClusterFacts {
            environment: c.environment.clone(),
            cluster: c.name.clone(),
            registries,
            secret_values: secrets(c),
        });
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// Every value of `cluster` that its component's schema marks `"x-strata-secret": true`.
pub(crate) fn secret_values(source: &Source, cluster: &Cluster) -> Vec<SecretValue> {
    let mut out = Vec::new();
    for (name, values) in cluster.enabled() {
        if let Some(component) = source.components.get(name) {
            secrets(&component.schema_json, values, name, &mut out);
        }
    }
    out
}

/// Walks a schema and the values together, collecting values under `"x-strata-secret": true`.
fn secrets(schema: &serde_json::Value, value: &Merged, path: &str, out: &mut Vec<SecretValue>) {
    if schema
        .get("x-strata-secret")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        let mut leaves = Vec::new();
        string_leaves(value, &mut path.to_string(), &mut leaves);
        for (p, v, origin) in leaves {
            out.push(SecretValue {
                value: v.to_string(),
                set_in: origin.map(|o| o.file.to_string()).unwrap_or_default(),
                line: origin.map_or(0, |o| o.line),
                path: p,
            });
        }
        return;
    }
    match &value.value {
        MValue::Map(m) => {
            for (k, v) in m {
                let sub = schema
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    secrets(sub, v, &format!("{path}.{k}"), out);
                }
            }
        }
        MValue::List(l) => {
            if let Some(items) = schema.get("items") {
                for (i, v) in l.iter().enumerate() {
                    secrets(items, v, &format!("{path}.{i}"), out);
                }
            }
        }
        MValue::Scalar(_) => {}
    }
}

fn string_leaves<'a>(
    value: &'a Merged,
    path: &mut String,
    out: &mut Vec<(String, &'a str, Option<&'a crate::merge::Origin>)>,
) {
    match &value.value {
        MValue::Scalar(Scalar::Str(s)) => out.push((path.clone(), s, value.last_origin())),
        MValue::Scalar(_) => {}
        MValue::Map(m) => {
            for (k, v) in m {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                string_leaves(v, path, out);
                path.truncate(len);
            }
        }
        MValue::List(l) => {
            for (i, v) in l.iter().enumerate() {
                use std::fmt::Write as _;
                let len = path.len();
                let _ = write!(path, ".{i}");
                string_leaves(v, path, out);
                path.truncate(len);
            }
        }
    }
}

/// Every string leaf of one cluster's enabled component values and globals.
pub(crate) fn cluster_leaves(c: &Cluster) -> Vec<ResolvedLeaf<'_>> {
    let mut found = Vec::new();
    string_leaves(&c.global, &mut "global".to_string(), &mut found);
    for (name, values) in c.enabled() {
        string_leaves(values, &mut name.clone(), &mut found);
    }
    found
        .into_iter()
        .map(|(path, value, origin)| ResolvedLeaf {
            environment: &c.environment,
            cluster: &c.name,
            path,
            value,
            set_in: origin.map_or("", |o| &o.file),
            line: origin.map_or(0, |o| o.line),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_leaves_are_named_by_their_dotted_path_and_keep_their_origin() {
        let node = crate::yaml::parse_one("a:\n  b: x\n  n: 3\nl:\n  - y\n  - c: z\n").unwrap();
        let file: std::sync::Arc<str> = "environments/layer.yaml".into();
        let merged = crate::merge::merge(None, &node, &file, crate::merge::Wrote::Kept).unwrap();
        let mut found = Vec::new();
        let mut path = "svc".to_string();
        string_leaves(&merged, &mut path, &mut found);
        let got: Vec<(&str, &str, &str, u32)> = found
            .iter()
            .map(|(p, v, o)| {
                let o = o.expect("every leaf here was set by the layer");
                (p.as_str(), *v, &*o.file, o.line)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("svc.a.b", "x", "environments/layer.yaml", 2),
                ("svc.l.0", "y", "environments/layer.yaml", 5),
                ("svc.l.1.c", "z", "environments/layer.yaml", 6),
            ]
        );
        // The path buffer is back to where it started.
        assert_eq!(path, "svc");
    }
}
