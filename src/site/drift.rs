//! Reading a report of `strata drift --format json` for the site's checks page.
//!
//! The report does not name its cluster (the command was told it), so the caller does.

use serde_json::Value;

use super::model::{ClusterDrift, DriftedField, DriftedObject};

/// The drift of `cluster` from the JSON `text`, or what is wrong with it.
pub fn read(cluster: &str, text: &str) -> Result<ClusterDrift, String> {
    let report: Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON ({e}); give the output of `strata drift --format json`"))?;
    let in_sync = report
        .pointer("/summary/in_sync")
        .and_then(Value::as_u64)
        .ok_or("no `summary.in_sync`: it is not a report of `strata drift --format json`")?;
    let list = |key: &str| -> Result<&Vec<Value>, String> {
        report.get(key).and_then(Value::as_array).ok_or_else(|| {
            format!("no list `{key}`: it is not a report of `strata drift --format json`")
        })
    };
    let changed = list("changed")?
        .iter()
        .map(|o| {
            let fields = o
                .get("fields")
                .and_then(Value::as_array)
                .map(|fields| {
                    fields
                        .iter()
                        .map(|f| DriftedField {
                            path: text_of(f.get("path")),
                            kind: text_of(f.get("kind")),
                            desired: shown(f.get("desired")),
                            live: shown(f.get("live")),
                        })
                        .collect()
                })
                .unwrap_or_default();
            DriftedObject {
                object: object(o),
                fields,
            }
        })
        .collect();
    Ok(ClusterDrift {
        cluster: cluster.to_string(),
        in_sync: usize::try_from(in_sync).unwrap_or(usize::MAX),
        changed,
        missing: list("missing")?.iter().map(object).collect(),
        orphans: list("orphans")?.iter().map(object).collect(),
    })
}

fn text_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A value as `drift` shows it; `None` where that side does not have the field.
fn shown(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::to_string(v).unwrap_or_default()),
    }
}

/// `apps/Deployment ns/name`, `ConfigMap ns/name`, `ClusterRole name`.
fn object(o: &Value) -> String {
    let (group, kind) = (text_of(o.get("group")), text_of(o.get("kind")));
    let kind = if group.is_empty() {
        kind
    } else {
        format!("{group}/{kind}")
    };
    let name = text_of(o.get("name"));
    match o.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}
