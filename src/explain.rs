//! `strata explain CLUSTER COMPONENT[.path]`: a merged value and the layers that set it.

use serde::Serialize;

use crate::diag::{Code, Diagnostic};
use crate::merge::{Cluster, MValue, Merged, Origin};

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
    let value = match &e.value {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            let text = yaml_serde::to_string(&e.value).unwrap_or_default();
            format!(
                "\n{}",
                text.lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        v => format!(" {v}"),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_segments_keep_their_dots() {
        assert_eq!(split_path(r#"a.b."c.d/e".0"#), ["a", "b", "c.d/e", "0"]);
    }
}
