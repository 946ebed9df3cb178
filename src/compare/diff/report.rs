//! `strata diff`'s report: the diff of two compiled sides and the policy findings the change
//! touches, in one format.

use super::sides::Side;
use super::{DiffError, DiffOptions, Findings, render_human, render_json, render_markdown};

/// The formats of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Human,
    Json,
    Markdown,
}

/// The report of `base` against `head` in `format`, and whether it found anything (a resource
/// that differs or a policy finding the change touches, among those `options` selects).
pub(crate) fn report(
    base: &Side,
    head: &Side,
    format: Format,
    options: &DiffOptions,
) -> Result<(String, bool), DiffError> {
    let d = super::diff(&base.tree, &head.tree)?;
    let findings = Findings::between(&base.violations, &head.violations)
        .filtered(options.env.as_deref(), options.cluster.as_deref());
    let mut text = match format {
        Format::Human => render_human(&d, options),
        Format::Json => render_json(&d, options),
        Format::Markdown => render_markdown(&d, options),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if !findings.is_empty() {
        match format {
            Format::Json => text = with_findings(&text, &findings),
            Format::Human | Format::Markdown => text.push_str(&findings.render_text()),
        }
    }
    let found = !(d.filtered(options).is_empty() && findings.is_empty());
    Ok((text, found))
}

/// The JSON report with the policy findings the change touches under `policy`.
fn with_findings(json: &str, findings: &Findings) -> String {
    let Ok(mut report) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    if let (Some(object), Ok(policy)) = (report.as_object_mut(), serde_json::to_value(findings)) {
        object.insert("policy".into(), policy);
    }
    let text = serde_json::to_string_pretty(&report).unwrap_or_else(|_| json.to_string());
    // The report's own style: the first key on the line of the brace.
    let mut text = match text.strip_prefix("{\n  ") {
        Some(rest) => format!("{{{rest}"),
        None => text,
    };
    text.push('\n');
    text
}
