//! `strata promote`: env/<ENV>-next merged into env/<ENV>, when every gate is open.

use std::path::PathBuf;

use anyhow::Result;

use crate::git::short;
use crate::promote;
use crate::promote::gates::gate::render_human;

use super::open::{self, Context};
use super::report::{Exit, Format, print_json, print_promotion_error};
use super::verify::{GateArgs, verified};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    #[arg(long, value_name = "ENV")]
    to: String,
    #[command(flatten)]
    pub(super) gates: GateArgs,
    #[arg(long, value_name = "IDENTITY")]
    committer: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (repo, env, gates) = (args.repo.as_path(), args.to.as_str(), &args.gates);
    let who = args.committer.as_deref();
    let (now, format) = (context.now, args.format);
    // One writer at a time: the gates are judged on the branches this promote moves.
    let _lock = open::lock_output_repo(&open::output_repo(repo)?, "promote")?;
    let (out, v) = match verified(context, repo, env, gates)? {
        Ok(verified) => verified,
        Err(exit) => return Ok(exit),
    };
    if !v.open() {
        match format {
            Format::Json => print_json(&serde_json::json!({"promoted": false, "verification": v}))?,
            Format::Human => {
                print!("{}", render_human(env, &v.gates));
                eprintln!("nothing was written: every gate must be open to promote");
            }
        }
        return Ok(Exit::Found);
    }
    let committer = open::committer(&out, who, now)?;
    let commit = match promote::promotion::promote(&out, &v, &committer) {
        Ok(c) => c,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    match format {
        Format::Json => {
            print_json(&serde_json::json!({"promoted": true, "commit": commit, "verification": v}))?
        }
        Format::Human => {
            print!("{}", render_human(env, &v.gates));
            println!("env/{env}: merged env/{env}-next as {}", short(&commit));
            println!("push it: git push origin env/{env} env/{env}-next");
        }
    }
    Ok(Exit::Clean)
}
