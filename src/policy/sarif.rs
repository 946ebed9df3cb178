//! Violations, and diagnostics, as SARIF 2.1.0, for GitHub code scanning and other SARIF
//! viewers: all of strata's SARIF is here.
//!
//! Every rule of the catalogue is listed under `tool.driver.rules`, so that a rule that stops
//! failing closes its alerts. Levels map `deny` → `error`, `warn` → `warning`; an exempted
//! violation is a `note` with an `inSource` suppression that carries the reason. Each result has
//! a `partialFingerprints` entry over rule, cluster, resource and field, so an alert keeps its
//! identity when the rendered file changes around it.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::config::Level;
use super::rule::RULES;
use super::violation::Violation;
use crate::diag::{Diagnostics, Severity};

pub(crate) const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(crate) fn render_sarif(violations: &[Violation], tool_version: &str) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.checks},
                "fullDescription": {"text": r.checks},
                "help": {
                    "text": format!("{}. To fix: {}.", r.checks, r.hint),
                    "markdown": format!("**{}**: {}.\n\nTo fix: {}.", r.id, r.checks, r.hint),
                },
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "compliance"]},
            })
        })
        .collect();
    let mut sorted: Vec<&Violation> = violations.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let results: Vec<Value> = sorted.iter().map(|v| result(v)).collect();
    let document = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "strata",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn result(v: &Violation) -> Value {
    let level = match (&v.exemption, v.level) {
        (Some(_), _) | (None, Level::Off) => "note",
        (None, Level::Deny) => "error",
        (None, Level::Warn) => "warning",
    };
    let mut text = format!(
        "{} — {} in {} on cluster {} ({}), field `{}`.",
        v.message, v.resource, v.file, v.cluster, v.environment, v.field
    );
    if let Some((file, line)) = &v.origin {
        text.push_str(&format!(" Set at {file}:{line}."));
    }
    text.push_str(&format!(" Hint: {}", v.hint));
    let mut result = json!({
        "ruleId": v.rule,
        "level": level,
        "message": {"text": text},
        // Code scanning shows results on files of the scanned (source) repository: the layer
        // that set the value when known, else the component that rendered the object.
        "locations": [{
            "physicalLocation": match &v.origin {
                Some((file, line)) => json!({"artifactLocation": {"uri": file}, "region": {"startLine": (*line).max(1)}}),
                None => json!({
                    "artifactLocation": {"uri": format!("components/{}/component.yaml", v.component)},
                    "region": {"startLine": 1},
                }),
            },
        }],
        "partialFingerprints": {"strataViolation/v1": fingerprint(v)},
        "properties": {
            "environment": v.environment,
            "cluster": v.cluster,
            "component": v.component,
            "resource": v.resource,
            "field": v.field,
        },
    });
    if let Some(index) = RULES.iter().position(|r| r.id == v.rule) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(reason) = &v.exemption {
        result["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
    }
    if let Some((file, line)) = &v.origin {
        result["relatedLocations"] = json!([{
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": file},
                "region": {"startLine": (*line).max(1)},
            },
            "message": {"text": "set here"},
        }]);
    }
    result
}

fn fingerprint(v: &Violation) -> String {
    let mut h = Sha256::new();
    for part in [v.rule, &v.cluster, &v.resource, &v.field, &v.message] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    crate::digest::hex(&h.finalize())
}
/// Every diagnostic as a SARIF 2.1.0 result, so code scanning shows input errors too.
pub(crate) fn render_diagnostics_sarif(diags: &Diagnostics, tool_version: &str) -> String {
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut r = serde_json::json!({
                "ruleId": d.code,
                "level": if d.severity == Severity::Error { "error" } else { "warning" },
                "message": {"text": match &d.hint { Some(h) => format!("{} (hint: {h})", d.message), None => d.message.clone() }},
            });
            // Code scanning needs a location on every result; strata.yaml stands in for
            // findings without a source line (the notes name the rendered file).
            let (file, line, column) = match &d.span {
                Some(span) => (span.file.clone(), span.line, span.column),
                None => ("strata.yaml".to_string(), 1, 1),
            };
            r["locations"] = serde_json::json!([{"physicalLocation": {
                "artifactLocation": {"uri": file},
                "region": {"startLine": line.max(1), "startColumn": column.max(1)},
            }}]);
            let text = r["message"]["text"].as_str().map(str::to_string);
            if let Some(text) = text.filter(|_| !d.notes.is_empty()) {
                r["message"]["text"] = serde_json::json!(format!("{text} ({})", d.notes.join("; ")));
            }
            r
        })
        .collect();
    let rules: std::collections::BTreeSet<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "strata", "version": tool_version, "informationUri": "https://github.com/strata-dev/strata",
                "rules": rules.iter().map(|r| serde_json::json!({"id": r})).collect::<Vec<_>>()}},
            "results": results,
        }],
    }))
    .unwrap_or_default()
}
