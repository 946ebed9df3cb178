//! `strata validate`: everything a render checks, policies included, with nothing written.

use anyhow::Result;
use clap::ValueEnum;

use crate::compile::Selection;
use crate::diag::{self, Diagnostics, Failure, SourceTexts};
use crate::world::FsWorld;

use super::open::Context;
use super::report::{Exit, print_diagnostics, print_json};

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
        Ok(w) => match &context.trusted {
            Some(trusted) => w.trusting(trusted.clone()),
            None => w,
        },
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
    let exit = print_diagnostics(diags, texts);
    match format {
        ValidateFormat::Json => {
            print_json(&serde_json::json!({"valid": false, "diagnostics": diags.0}))?
        }
        ValidateFormat::Sarif => println!(
            "{}",
            crate::policy::render_diagnostics_sarif(diags, env!("CARGO_PKG_VERSION"))
        ),
        ValidateFormat::Human => {}
    }
    Ok(exit)
}
