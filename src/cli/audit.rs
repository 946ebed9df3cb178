//! `strata audit`: the evidence of every change to an environment.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::ValueEnum;
use jiff::Timestamp;

use crate::promote;

use super::open::{self, Context};
use super::report::{Exit, print_json, print_promotion_error};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    #[arg(long, value_name = "ENV")]
    env: String,
    /// Only changes since this date (YYYY-MM-DD) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: AuditFormat,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub(super) enum AuditFormat {
    #[default]
    Markdown,
    Json,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (repo, env, since) = (
        args.repo.as_path(),
        args.env.as_str(),
        args.since.as_deref(),
    );
    let format = args.format;
    let source = open::source_repo(&context.root, None)?;
    let out = open::output_repo(repo)?;
    let since = match since {
        None => None,
        Some(s) => Some(
            s.parse::<Timestamp>()
                .ok()
                .or_else(|| {
                    let d = s.parse::<jiff::civil::Date>().ok()?;
                    let z = d
                        .to_datetime(jiff::civil::Time::midnight())
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .ok()?;
                    Some(z.timestamp())
                })
                .with_context(|| {
                    format!("--since {s:?} is neither a date (2026-01-31) nor an RFC 3339 time")
                })?,
        ),
    };
    let entries = match promote::audit::audit(&source, &out, env, since) {
        Ok(e) => e,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    match format {
        AuditFormat::Json => print_json(&entries)?,
        AuditFormat::Markdown => print!("{}", promote::audit::audit_markdown(env, &entries)),
    }
    Ok(Exit::Clean)
}
