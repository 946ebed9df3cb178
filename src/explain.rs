//! `strata explain CLUSTER COMPONENT[.path]`: a merged value and the layers that set it; and
//! `strata explain CLUSTER COMPONENT KIND/NAME [FIELD]`: a rendered object's field and the
//! patches of layers that set it.

use serde::Serialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::{PatchChange, Source};
use crate::merge::{Cluster, MValue, Merged, Origin};
use crate::world::World;

#[derive(Debug, Serialize)]
pub(crate) struct Explanation {
    pub(crate) cluster: String,
    /// `ingress-nginx.controller.replicas`, as asked.
    pub(crate) target: String,
    pub(crate) value: serde_json::Value,
    /// Every layer that set the value, in order; the last one wins.
    pub(crate) chain: Vec<Origin>,
}

/// Splits `a.b."c.d".0` into segments. Quotes allow keys with dots, such as annotations.
pub(crate) fn split_path(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Finds what `target` resolves to on `cluster`. `target` starts with a component name, or with
/// `global` or `cluster`.
pub(crate) fn explain(
    clusters: &[Cluster],
    cluster: &str,
    target: &str,
) -> Result<Explanation, Diagnostic> {
    let Some(c) = clusters.iter().find(|c| c.name == cluster) else {
        let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        return Err(
            Diagnostic::error(Code::Selection, format!("there is no cluster `{cluster}`"))
                .hint(format!("the clusters are: {}", names.join(", "))),
        );
    };
    let segments = split_path(target);
    let (head, path) = segments
        .split_first()
        .map_or(("", &[][..]), |(h, p)| (h.as_str(), p));
    let root: &Merged = match head {
        "global" => &c.global,
        "cluster" => &c.identity,
        name => match c.components.get(name) {
            None => {
                let names: Vec<&str> = c.components.keys().map(String::as_str).collect();
                return Err(Diagnostic::error(
                    Code::Selection,
                    format!("there is no component `{name}`"),
                )
                .hint(format!(
                    "the components are: {}; or ask for `global.…` or `cluster.…`",
                    names.join(", ")
                )));
            }
            Some(p) if !p.enabled => {
                let why = match p.origins.last() {
                    Some(o) => format!("it is disabled by {}:{}", o.file, o.line),
                    None => format!("its roles do not include `{}`", c.role),
                };
                return Err(Diagnostic::error(
                    Code::Disabled,
                    format!("component `{name}` does not run on cluster `{cluster}`: {why}"),
                )
                .hint(format!(
                    "enable it with `components: {{{name}: true}}` in a layer of this cluster"
                )));
            }
            Some(p) => match &p.values {
                Some(v) => v,
                None => {
                    return Err(Diagnostic::error(
                        Code::Disabled,
                        format!("component `{name}` has no values on `{cluster}`"),
                    ));
                }
            },
        },
    };
    let mut at = root;
    for (i, seg) in path.iter().enumerate() {
        let next = match &at.value {
            MValue::Map(m) => m.get(seg),
            MValue::List(l) => seg.parse::<usize>().ok().and_then(|n| l.get(n)),
            MValue::Scalar(_) => None,
        };
        match next {
            Some(n) => at = n,
            None => {
                let so_far = std::iter::once(head.to_string())
                    .chain(path[..i].iter().cloned())
                    .collect::<Vec<_>>()
                    .join(".");
                let hint = match &at.value {
                    MValue::Map(m) if !m.is_empty() => {
                        format!(
                            "`{so_far}` has: {}",
                            m.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }
                    MValue::List(l) => {
                        format!("`{so_far}` is a list of {} items; use an index", l.len())
                    }
                    _ => format!("`{so_far}` holds no keys"),
                };
                return Err(Diagnostic::error(
                    Code::NotSet,
                    format!("`{target}` is not set on cluster `{cluster}`"),
                )
                .hint(hint));
            }
        }
    }
    Ok(Explanation {
        cluster: cluster.to_string(),
        target: target.to_string(),
        value: at.to_json(),
        chain: at.origins.clone(),
    })
}

/// The human form:
///
/// ```text
/// prod-sto2-workload ingress-nginx.controller.replicas = 3
///
///   1. components/ingress-nginx/values.yaml:4:13           1
///   2. environments/prod/layer.yaml:12:17                  2
///   3. environments/prod/sto2/workload.cluster.yaml:9:19   3   ← wins
/// ```
pub(crate) fn render_human(e: &Explanation) -> String {
    let value = shown(&e.value);
    let mut out = format!("{} {} ={value}\n\n", e.cluster, e.target);
    if e.chain.is_empty() {
        out.push_str("  (no layer sets it)\n");
        return out;
    }
    out.push_str("set by, in order (the last one wins):\n");
    let places: Vec<String> = e
        .chain
        .iter()
        .map(|o| format!("{}:{}:{}", o.file, o.line, o.column))
        .collect();
    let width = places.iter().map(String::len).max().unwrap_or(0);
    for (i, (o, place)) in e.chain.iter().zip(&places).enumerate() {
        let mark = if i + 1 == e.chain.len() {
            "   ← wins"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {}. {place:width$}   {}{mark}\n",
            i + 1,
            o.wrote
        ));
    }
    out
}

/// A rendered object's field, where it was rendered and the patches that set it.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectExplanation {
    pub(crate) cluster: String,
    pub(crate) component: String,
    /// `Kind/name`, as asked.
    pub(crate) object: String,
    /// The field as asked (`spec.replicas`), empty for the whole object.
    pub(crate) field: String,
    /// The field's value after every patch, before strata adds its labels.
    pub(crate) value: serde_json::Value,
    /// The template or chart file that rendered the object.
    pub(crate) rendered_by: String,
    /// Every patch that set the field (or, with no field, changed the object), in order.
    pub(crate) patches: Vec<PatchOrigin>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PatchOrigin {
    pub(crate) file: String,
    pub(crate) line: u32,
    /// `patch` (strategic merge) or `jsonPatch`.
    pub(crate) kind: &'static str,
    /// The fields it set, as JSON pointers.
    pub(crate) fields: Vec<String>,
}

/// Renders `component` on `cluster` and explains `field` (dotted, as values are asked) of its
/// object `object` (`Kind/name`).
pub(crate) fn explain_object(
    source: &Source,
    world: &dyn World,
    clusters: &[Cluster],
    cluster: &str,
    component: &str,
    object: &str,
    field: Option<&str>,
) -> Result<ObjectExplanation, Diagnostics> {
    let Some(c) = clusters.iter().find(|c| c.name == cluster) else {
        let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        return Err(
            Diagnostic::error(Code::Selection, format!("there is no cluster `{cluster}`"))
                .hint(format!("the clusters are: {}", names.join(", ")))
                .into(),
        );
    };
    if !c.components.get(component).is_some_and(|p| p.enabled) {
        return Err(Diagnostic::error(
            Code::Disabled,
            format!("component `{component}` does not run on cluster `{cluster}`"),
        )
        .hint(format!("`strata explain {cluster} {component}` says why"))
        .into());
    }
    let Some((kind, name)) = object.split_once('/') else {
        return Err(Diagnostic::error(
            Code::Selection,
            format!("`{object}` does not name an object as KIND/NAME"),
        )
        .hint("name the object by its kind and name, e.g. Deployment/harbor-core")
        .into());
    };
    let skip: std::collections::BTreeSet<&str> = c
        .components
        .keys()
        .map(String::as_str)
        .filter(|n| *n != component)
        .collect();
    let rendered = crate::render::Renderer::new(source, world, None).cluster(c, &skip, false)?;
    let manifests = rendered
        .components
        .get(component)
        .map_or(&[][..], Vec::as_slice);
    let text = |m: &crate::render::Manifest, p: &str| {
        m.object
            .pointer(p)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let Some(m) = manifests.iter().find(|m| {
        text(m, "/kind").as_deref() == Some(kind)
            && text(m, "/metadata/name").as_deref() == Some(name)
    }) else {
        let names: Vec<String> = manifests
            .iter()
            .map(|m| {
                format!(
                    "{}/{}",
                    text(m, "/kind").unwrap_or_default(),
                    text(m, "/metadata/name").unwrap_or_default()
                )
            })
            .collect();
        return Err(Diagnostic::error(
            Code::NotSet,
            format!("component `{component}` renders no {object} on cluster `{cluster}`"),
        )
        .hint(format!("it renders: {}", names.join(", ")))
        .into());
    };
    let segments: Vec<String> = field.map(split_path).unwrap_or_default();
    let pointer: String = segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect();
    let Some(value) = m.object.pointer(&pointer) else {
        return Err(Diagnostic::error(
            Code::NotSet,
            format!(
                "{object} of `{component}` on cluster `{cluster}` has no field `{}`",
                field.unwrap_or_default()
            ),
        )
        .hint("name the field with dots from the object's root, e.g. spec.template.spec.containers.0.image; quote keys with dots: metadata.annotations.\"a.b/c\"")
        .into());
    };
    // A patch set the field when it set the field itself, something inside it, or something
    // holding it.
    let related = |p: &str| {
        p == pointer
            || p.starts_with(&format!("{pointer}/"))
            || pointer.starts_with(&format!("{p}/"))
    };
    let patches = m
        .patched
        .iter()
        .filter_map(|applied| {
            let fields: Vec<String> = applied
                .fields
                .iter()
                .filter(|f| related(f))
                .cloned()
                .collect();
            (!fields.is_empty()).then(|| PatchOrigin {
                file: applied.patch.file.to_string(),
                line: applied.patch.line,
                kind: match applied.patch.change {
                    PatchChange::Merge(_) => "patch",
                    PatchChange::Json(..) => "jsonPatch",
                },
                fields,
            })
        })
        .collect();
    Ok(ObjectExplanation {
        cluster: cluster.to_string(),
        component: component.to_string(),
        object: object.to_string(),
        field: field.unwrap_or_default().to_string(),
        value: value.clone(),
        rendered_by: m.origin.clone(),
        patches,
    })
}

/// The human form of an [`ObjectExplanation`]:
///
/// ```text
/// prod-sto2-management dex Ingress/dex metadata.annotations = {...}
///
/// rendered by components/dex/charts/dex/templates/ingress.yaml
/// set by these patches, in order (the last one wins):
///   1. environments/prod/sto2/layer.management.yaml:8   jsonPatch   /metadata/annotations/...
/// ```
pub(crate) fn render_object_human(e: &ObjectExplanation) -> String {
    let value = shown(&e.value);
    let field = if e.field.is_empty() {
        String::new()
    } else {
        format!(" {}", e.field)
    };
    let mut out = format!(
        "{} {} {}{field} ={value}\n\nrendered by {}\n",
        e.cluster, e.component, e.object, e.rendered_by
    );
    if e.patches.is_empty() {
        out.push_str("no patch of a layer sets it\n");
        return out;
    }
    out.push_str("set by these patches, in order (the last one wins):\n");
    let places: Vec<String> = e
        .patches
        .iter()
        .map(|p| format!("{}:{}", p.file, p.line))
        .collect();
    let width = places.iter().map(String::len).max().unwrap_or(0);
    for (i, (p, place)) in e.patches.iter().zip(&places).enumerate() {
        out.push_str(&format!(
            "  {}. {place:width$}   {:9}   {}\n",
            i + 1,
            p.kind,
            p.fields.join(", ")
        ));
    }
    out
}

/// A value after ` =`: a scalar on the same line, a map or list as indented YAML below it.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            let text = yaml_serde::to_string(value).unwrap_or_default();
            format!(
                "\n{}",
                text.lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        v => format!(" {v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_segments_keep_their_dots() {
        assert_eq!(split_path(r#"a.b."c.d/e".0"#), ["a", "b", "c.d/e", "0"]);
    }
}
