//! `strata publish`: each environment's rendered tree, committed to its branch of the output
//! repository.

use std::path::PathBuf;

use anyhow::Result;

use crate::git::short;
use crate::promote;

use super::open::{self, Context};
use super::report::{Exit, Format, print_json, print_promotion_error};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// A local clone of the output repository.
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Committer identity, "Name <email>". Default: user.name/user.email of the output repository, else strata.
    #[arg(long, value_name = "IDENTITY")]
    committer: Option<String>,
    /// Move a branch to a drySha that does not contain the one it runs (an older commit, or
    /// another branch's), on purpose. Without it publish refuses. The reason is recorded in
    /// a `Rollback:` trailer, and `audit` shows it.
    #[arg(long, value_name = "REASON")]
    rollback: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (repo, env, who, rollback) = (
        args.repo.as_path(),
        args.env.as_deref(),
        args.committer.as_deref(),
        args.rollback.as_deref(),
    );
    let (now, format) = (context.now, args.format);
    let source = open::source_repo(&context.root, None)?;
    let out = open::output_repo(repo)?;
    // One publish at a time: the second starts from the branches as the first left them.
    let _lock = open::lock_output_repo(&out, "publish")?;
    let committer = open::committer(&out, who, now)?;
    let uncommitted = source.uncommitted();
    let published = match promote::publish::publish(&source, &out, env, &committer, rollback) {
        Ok(p) => p,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    if let (false, Some(p)) = (uncommitted.is_empty(), published.first()) {
        let shown: Vec<&str> = uncommitted.iter().take(5).map(String::as_str).collect();
        let more = uncommitted.len().saturating_sub(shown.len());
        eprintln!(
            "warning: published HEAD {}; {} uncommitted change(s) in the source are not in it: {}{}\nhint: commit them and publish again to publish them",
            short(&p.dry_sha),
            uncommitted.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    match format {
        Format::Json => print_json(&published)?,
        Format::Human => {
            for p in &published {
                match &p.commit {
                    Some(c) => println!(
                        "{}: committed {} ({} from {}){}",
                        p.branch,
                        short(c),
                        p.tree_digest,
                        short(&p.dry_sha),
                        p.rolled_back_from
                            .as_deref()
                            .map(|r| format!(", rolled back from {}", short(r)))
                            .unwrap_or_default()
                    ),
                    None => println!(
                        "{}: unchanged; noted drySha {} on refs/notes/hydrator.metadata",
                        p.branch,
                        short(&p.dry_sha)
                    ),
                }
            }
        }
    }
    Ok(Exit::Clean)
}
