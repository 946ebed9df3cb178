//! Violations as JSON, for scripts: `strata validate --format json`.

use serde_json::{Value, json};

use super::config::Level;
use super::violation::Violation;

/// `{"violations": [...], "summary": {"errors", "warnings", "exempted"}}`, pretty-printed.
/// Each violation has every field of [`Violation`]; `origin` is `{"file", "line"}` or null, and
/// `fails` says whether it fails the run.
pub fn render_json(violations: &[Violation]) -> String {
    let mut sorted: Vec<&Violation> = violations.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let items: Vec<Value> = sorted
        .iter()
        .map(|v| {
            json!({
                "rule": v.rule,
                "level": v.level,
                "fails": v.fails(),
                "environment": v.environment,
                "cluster": v.cluster,
                "component": v.component,
                "file": v.file,
                "resource": v.resource,
                "field": v.field,
                "message": v.message,
                "hint": v.hint,
                "origin": v.origin.as_ref().map(|(file, line)| json!({"file": file, "line": line})),
                "exemption": v.exemption,
            })
        })
        .collect();
    let summary = json!({
        "errors": sorted.iter().filter(|v| v.fails()).count(),
        "warnings": sorted.iter().filter(|v| v.exemption.is_none() && v.level == Level::Warn).count(),
        "exempted": sorted.iter().filter(|v| v.exemption.is_some()).count(),
    });
    let document = json!({"violations": items, "summary": summary});
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
