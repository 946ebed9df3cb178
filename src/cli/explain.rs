//! `strata explain`: a merged value and every layer that set it, in order.

use anyhow::Result;

use crate::{explain, merge};

use super::open::{self, Context};
use super::report::{Exit, Format, print_diagnostics, print_json};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The cluster name, e.g. prod-sto2-workload (see `strata list clusters`).
    cluster: String,
    /// COMPONENT[.path], `global[.path]` or `cluster[.path]`. Quote keys that contain dots.
    target: String,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (source, clusters) = match open::merged(&context.root, merge::Wrote::Kept) {
        Ok(merged) => merged,
        Err(exit) => return Ok(exit),
    };
    match explain::explain(&clusters, &args.cluster, &args.target) {
        Ok(e) => {
            match args.format {
                Format::Json => print_json(&e)?,
                Format::Human => print!("{}", explain::render_human(&e)),
            }
            Ok(Exit::Clean)
        }
        Err(d) => Ok(print_diagnostics(&d.into(), &source.texts)),
    }
}
