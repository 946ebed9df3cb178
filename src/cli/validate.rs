//! `strata validate`: everything a render checks, policies included, with nothing written.

use anyhow::Result;
use clap::ValueEnum;

use crate::compile::Selection;
use crate::diag::{self, Diagnostics, Failure, SourceTexts};
use crate::world::FsWorld;

use super::open::Context;
use super::report::{Exit, print_json, report};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_enum, default_value_t)]
    format: ValidateFormat,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub(super) enum ValidateFormat {
    #[default]
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let format = args.format;
    let world = match FsWorld::open(&context.root) {
        Ok(w) => w,
        Err(d) => return failed(format, &d, &SourceTexts::default()),
    };
    match crate::compile::compile(&world, &Selection::default()) {
        Ok(c) => {
            match format {
                ValidateFormat::Json => print_json(&serde_json::json!({
                    "valid": true,
                    "clusters": c.all.len(),
                    "components": c.source.components.len(),
                    "objects": c.objects,
                    "diagnostics": c.warnings.0,
                    "exempted": c.violations.iter().filter(|v| v.exemption.is_some()).map(|v| serde_json::json!({
                        "rule": v.rule, "file": v.file, "resource": v.resource, "reason": v.exemption,
                    })).collect::<Vec<_>>(),
                }))?,
                ValidateFormat::Sarif => println!(
                    "{}",
                    crate::policy::render_sarif(&c.violations, env!("CARGO_PKG_VERSION"))
                ),
                ValidateFormat::Human => {
                    if !c.warnings.is_empty() {
                        eprint!("{}", diag::render(&c.warnings, &c.source.texts));
                    }
                    let exempted = c
                        .violations
                        .iter()
                        .filter(|v| v.exemption.is_some())
                        .count();
                    println!(
                        "valid: {} clusters, {} components, {} objects{}",
                        c.all.len(),
                        c.source.components.len(),
                        c.objects,
                        if exempted > 0 {
                            format!(" ({exempted} exempted policy findings)")
                        } else {
                            String::new()
                        }
                    );
                }
            }
            Ok(Exit::Clean)
        }
        Err(Failure { diagnostics, texts }) => failed(format, &diagnostics, &texts),
    }
}

fn failed(format: ValidateFormat, diags: &Diagnostics, texts: &SourceTexts) -> Result<Exit> {
    let exit = report(diags, texts);
    match format {
        ValidateFormat::Json => {
            print_json(&serde_json::json!({"valid": false, "diagnostics": diags.0}))?
        }
        ValidateFormat::Sarif => println!("{}", diagnostics_sarif(diags)),
        ValidateFormat::Human => {}
    }
    Ok(exit)
}

/// Every diagnostic as a SARIF 2.1.0 result, so code scanning shows input errors too.
fn diagnostics_sarif(diags: &Diagnostics) -> String {
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut r = serde_json::json!({
                "ruleId": d.code,
                "level": if d.severity == diag::Severity::Error { "error" } else { "warning" },
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
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "strata", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/strata-dev/strata",
                "rules": rules.iter().map(|r| serde_json::json!({"id": r})).collect::<Vec<_>>()}},
            "results": results,
        }],
    }))
    .unwrap_or_default()
}
