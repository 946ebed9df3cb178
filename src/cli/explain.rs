//! `strata explain`: a merged value and every layer that set it, in order.

use anyhow::Result;

use crate::{explain, load, merge};

use super::open::{self, Context};
use super::report::{Exit, Format, print_diagnostics, print_failure, print_json};

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
    let world = match open::world(&context.root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let source = match load::load(&world) {
        Ok(s) => s,
        Err(f) => return Ok(print_failure(&f)),
    };
    let clusters = match merge::merge_all(&source, merge::Wrote::Kept) {
        Ok(c) => c,
        Err(d) => return Ok(print_diagnostics(&d, &source.texts)),
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
