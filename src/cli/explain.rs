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
    /// KIND/NAME of an object the component renders (e.g. Deployment/harbor-core): explain
    /// that object's FIELD and the patches of layers that set it.
    object: Option<String>,
    /// A field of the object, dotted from its root (spec.template.spec.tolerations); quote keys
    /// that contain dots. Default: the whole object.
    field: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (source, clusters) = match open::merged(&context.root, merge::Wrote::Kept) {
        Ok(merged) => merged,
        Err(exit) => return Ok(exit),
    };
    if let Some(object) = &args.object {
        let world = match open::world(context) {
            Ok(w) => w,
            Err(exit) => return Ok(exit),
        };
        let found = explain::explain_object(
            &source,
            &world,
            &clusters,
            &args.cluster,
            &args.target,
            object,
            args.field.as_deref(),
        );
        return match found {
            Ok(e) => {
                match args.format {
                    Format::Json => print_json(&e)?,
                    Format::Human => print!("{}", explain::render_object_human(&e)),
                }
                Ok(Exit::Clean)
            }
            Err(d) => Ok(print_diagnostics(&d, &source.texts)),
        };
    }
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
