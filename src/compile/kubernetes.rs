//! The Kubernetes API check as a stage of one cluster's pipeline: every object the cluster
//! renders, whatever rendered it (templates, a command, a chart), against the API of the
//! cluster's Kubernetes version and the CRDs of its render ([`crate::kube`]).
//!
//! Its findings become violations of the catalogue's rules (`schema`, `removed-api`,
//! `deprecated-api`, `unknown-kind`, `unserved-version`), so that they have levels per
//! environment, exemptions, JSON and SARIF like the policies. Each points at the layer
//! file:line that set the offending value when one did, else at the template line that wrote
//! the field.

use serde_json::Value;

use crate::diag::{Code, Diagnostic, Span};
use crate::emit::EmittedCluster;
use crate::kube::{self, KubeVersion, Validator};
use crate::load::{ComponentSource, Source};
use crate::merge::{Cluster, MValue, Merged};
use crate::object::RenderedObject;
use crate::policy::{self, External, Violation};

/// The Kubernetes version `cluster` is checked against: `cluster.kubernetesVersion`, else
/// `kubernetesVersion` in strata.yaml, else the newest version strata knows.
pub(super) fn version(source: &Source, cluster: &Cluster) -> Result<KubeVersion, Diagnostic> {
    let (value, span, setting) = match cluster.identity.get("kubernetesVersion") {
        Some(m) if !m.to_json().is_null() => (
            m.to_json(),
            m.last_origin().map(|o| o.span()),
            "cluster.kubernetesVersion",
        ),
        _ => match &source.settings.kubernetes_version {
            Some(v) if !v.is_null() => (
                v.clone(),
                Some(Span::new("strata.yaml", settings_line(source), 1)),
                "kubernetesVersion in strata.yaml",
            ),
            _ => return Ok(kube::NEWEST),
        },
    };
    let fail = |message: String, hint: String| {
        Diagnostic::error(Code::KubernetesVersion, message)
            .at_opt(span.clone())
            .note(format!("cluster: {}", cluster.name))
            .hint(hint)
    };
    let supported = format!(
        "strata has the API of Kubernetes {} to {}",
        kube::OLDEST,
        kube::NEWEST
    );
    let text = match &value {
        Value::String(s) => s.clone(),
        other => {
            return Err(fail(
                format!("{setting} is the number {other}, not a version"),
                format!(
                    "quote it, as in \"1.31\": unquoted, YAML reads 1.30 as the number 1.3; {supported}"
                ),
            ));
        }
    };
    let version = KubeVersion::parse(&text).map_err(|_| {
        fail(
            format!("{setting} {text:?} is not a Kubernetes version"),
            format!("write the minor version, as in \"1.31\" (v1.31.4 and 1.31.4-eks-1 work too); {supported}"),
        )
    })?;
    if !version.is_supported() {
        return Err(fail(
            format!("strata has no schemas for Kubernetes {version} ({setting})"),
            supported,
        ));
    }
    Ok(version)
}

/// The line of `kubernetesVersion:` in strata.yaml.
fn settings_line(source: &Source) -> u32 {
    source
        .texts
        .0
        .get("strata.yaml")
        .and_then(|t| t.lines().position(|l| l.starts_with("kubernetesVersion:")))
        .map_or(1, |i| i as u32 + 1)
}

/// Every finding of the check in the objects of `emitted`, as violations at their levels.
pub(super) fn check(
    source: &Source,
    cluster: &Cluster,
    version: KubeVersion,
    emitted: &EmittedCluster,
    checker: &policy::Checker<'_>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let Ok(validator) = Validator::new(version, &emitted.crds) else {
        // `version` was checked to be supported.
        return out;
    };
    for (object, (rendered_by, document)) in emitted.objects.iter().zip(&emitted.rendered_by) {
        let findings = validator.check(&object.object);
        if findings.is_empty() {
            continue;
        }
        let externals = findings
            .into_iter()
            .map(|f| {
                let origin = origin(source, cluster, object, (rendered_by, *document), &f.path);
                let message = match &f.expected {
                    Some(e) if !f.message.contains(e.as_str()) => {
                        format!("{}: {}; expected {e}", show_path(&f.path), f.message)
                    }
                    _ => format!("{}: {}", show_path(&f.path), f.message),
                };
                External {
                    rule: f.rule.id(),
                    field: f.path,
                    message: format!("{message} (Kubernetes {version})"),
                    hint: f.hint,
                    origin,
                }
            })
            .collect();
        checker.external(object, externals, &mut out);
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

fn show_path(path: &str) -> &str {
    if path.is_empty() { "the object" } else { path }
}

/// One step of a field path as the check writes it.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `spec.containers[0].ports`, `metadata.labels["app.kubernetes.io/name"]` → its steps.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            if after.starts_with('"') {
                // A quoted key: JSON string syntax up to the closing `"]`.
                let mut de = serde_json::Deserializer::from_str(after).into_iter::<String>();
                match de.next() {
                    Some(Ok(key)) => {
                        let used = de.byte_offset();
                        out.push(Step::Key(key));
                        rest = after[used..].strip_prefix(']').unwrap_or("");
                    }
                    _ => break,
                }
            } else {
                let end = after.find(']').unwrap_or(after.len());
                match after[..end].parse() {
                    Ok(i) => out.push(Step::Index(i)),
                    Err(_) => break,
                }
                rest = after.get(end + 1..).unwrap_or("");
            }
        } else {
            let rest_key = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_key.find(['.', '[']).unwrap_or(rest_key.len());
            out.push(Step::Key(rest_key[..end].to_string()));
            rest = &rest_key[end..];
        }
    }
    out
}

/// Where the value at `path` of `object` came from: the layer line that set it, else the
/// template line that wrote its key; `None` when neither is known (a command's output).
fn origin(
    source: &Source,
    cluster: &Cluster,
    object: &RenderedObject,
    (rendered_by, document): (&str, usize),
    path: &str,
) -> Option<(String, u32)> {
    let steps = steps(path);
    let value = steps.iter().try_fold(&object.object, |v, s| match s {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(i),
    });
    let key = steps.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(k.as_str()),
        Step::Index(_) => None,
    });
    if let (Some(value), Some(values)) = (
        value,
        cluster
            .components
            .get(&object.component)
            .and_then(|p| p.values.as_ref()),
    ) && let Some(found) = layer_origin(values, key, value)
    {
        return Some(found);
    }
    let component = source.components.get(&object.component)?;
    let ComponentSource::Templates(templates) = &component.source else {
        return None;
    };
    let name = rendered_by.strip_prefix(&format!("{}/templates/", component.dir))?;
    let text = templates.get(name)?;
    Some((
        rendered_by.to_string(),
        template_line(text, document, &steps),
    ))
}

/// The layer line that set `value` (under the key `key`) in a component's merged values, when
/// exactly one line could have: the same key with the same value, or else the same string of
/// some length anywhere.
fn layer_origin(values: &Merged, key: Option<&str>, value: &Value) -> Option<(String, u32)> {
    let mut keyed = Vec::new();
    let mut anywhere = Vec::new();
    walk(values, None, &mut |k, m| {
        if !m.origins.is_empty() && m.to_json() == *value {
            if k.is_some() && k == key {
                keyed.push(m);
            } else if value.as_str().is_some_and(|s| s.len() >= 3)
                && matches!(m.value, MValue::Scalar(_))
            {
                anywhere.push(m);
            }
        }
    });
    let found = if keyed.is_empty() { anywhere } else { keyed };
    let mut lines: Vec<(String, u32)> = found
        .iter()
        .filter_map(|m| m.last_origin())
        .map(|o| (o.file.to_string(), o.line))
        .collect();
    lines.dedup();
    match lines.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn walk<'m>(m: &'m Merged, key: Option<&'m str>, f: &mut dyn FnMut(Option<&str>, &'m Merged)) {
    f(key, m);
    match &m.value {
        MValue::Map(map) => map.iter().for_each(|(k, v)| walk(v, Some(k), f)),
        MValue::List(list) => list.iter().for_each(|v| walk(v, key, f)),
        MValue::Scalar(_) => {}
    }
}

/// The template line that writes the field at `steps` of the `document`th document: each key
/// of the path found in turn, from where the one before it was found; the last one found
/// wins. Documents are counted by the template's own `---` lines, which is right unless a
/// loop writes them.
fn template_line(text: &str, document: usize, steps: &[Step]) -> u32 {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_end() == "---")
        .map(|(i, _)| i + 1)
        .nth(document.saturating_sub(2))
        .filter(|_| document > 1)
        .unwrap_or(0);
    let mut found = at as u32 + 1;
    for step in steps {
        let Step::Key(key) = step else { continue };
        let needles = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        if let Some(i) = (at..lines.len()).find(|&i| {
            let line = lines[i].trim_start().trim_start_matches("- ");
            needles.iter().any(|n| {
                line.starts_with(n.as_str())
                    || line.contains(&format!("{{{n}"))
                    || line.contains(&format!(", {n}"))
            })
        }) {
            at = i;
            found = i as u32 + 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_back_into_steps() {
        assert_eq!(
            steps("spec.containers[0].ports"),
            [
                Step::Key("spec".into()),
                Step::Key("containers".into()),
                Step::Index(0),
                Step::Key("ports".into())
            ]
        );
        assert_eq!(
            steps(r#"metadata.labels["app.kubernetes.io/name"]"#),
            [
                Step::Key("metadata".into()),
                Step::Key("labels".into()),
                Step::Key("app.kubernetes.io/name".into())
            ]
        );
        assert_eq!(steps(""), []);
    }

    #[test]
    fn the_template_line_follows_the_path() {
        let text = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          ports:\n            - containerPort: \"80\"\n";
        let line = template_line(
            text,
            1,
            &steps("spec.template.spec.containers[0].ports[0].containerPort"),
        );
        assert_eq!(line, 8);
        assert_eq!(template_line(text, 1, &steps("spec.replica")), 2);
        let two = format!("{text}---\nkind: Service\nspec:\n  ports: []\n");
        assert_eq!(template_line(&two, 2, &steps("spec.ports")), 12);
        assert_eq!(template_line(&two, 2, &steps("apiVersion")), 10);
    }
}
