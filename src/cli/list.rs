//! `strata list clusters`: the clusters, for CI matrices.

use anyhow::Result;
use clap::Subcommand;

use crate::merge;

use super::open::{self, Context};
use super::report::{Exit, Format, print_json};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[command(subcommand)]
    what: ListWhat,
}

#[derive(Subcommand, Debug)]
pub(super) enum ListWhat {
    /// The clusters, one a line, or as JSON for CI matrices.
    #[command(
        after_help = "Examples:\n  strata list clusters\n  strata list clusters --format json --shards 4   # each cluster with the shard that renders it"
    )]
    Clusters {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also give each cluster's shard of N, as `render --shard I/N` splits them.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        shards: Option<u32>,
    },
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let ListWhat::Clusters { format, shards } = args.what;
    let (_, clusters) = match open::merged(&context.root, merge::Wrote::Skipped) {
        Ok(merged) => merged,
        Err(exit) => return Ok(exit),
    };
    match format {
        Format::Json => {
            let list: Vec<_> = clusters
                .iter()
                .map(|c| {
                    let mut v = serde_json::json!({
                        "name": c.name,
                        "environment": c.environment,
                        "datacenter": c.datacenter,
                        "role": c.role,
                        "server": c.server,
                        "path": c.path(),
                        "file": c.file.path,
                    });
                    if let Some(n) = shards {
                        v["shard"] = serde_json::json!(crate::compile::shard_of(&c.name, n));
                    }
                    v
                })
                .collect();
            print_json(&list)?;
        }
        Format::Human => {
            for c in &clusters {
                println!(
                    "{:<28} {:<10} {:<10} {}",
                    c.name, c.environment, c.role, c.server
                );
            }
        }
    }
    Ok(Exit::Clean)
}
