//! `strata status`: component versions per environment and cluster, what waits for
//! promotion, soak progress, and what is wrong with the history of the env/* branches.

use std::path::PathBuf;

use anyhow::Result;

use crate::promote;

use super::open::{self, Context};
use super::report::{Exit, Format, print_json, print_promotion_error};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (repo, now, format) = (args.repo.as_path(), context.now, args.format);
    let source = open::source_repo(&context.root, None)?;
    let out = open::output_repo(repo)?;
    let s = match promote::status::status(&source, &out, now) {
        Ok(s) => s,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    match format {
        Format::Json => print_json(&s)?,
        Format::Human => print!("{}", promote::status::status_human(&s)),
    }
    Ok(if s.has_problems() {
        Exit::Found
    } else {
        Exit::Clean
    })
}
