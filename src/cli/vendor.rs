//! `strata vendor`: a chart into its component, its version and digest into component.yaml.

use std::path::PathBuf;

use anyhow::Result;

use super::open::Context;
use super::report::{Exit, Format, print_diagnostics, print_json};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The component whose `source.helm` names the chart.
    component: String,
    /// A chart archive (`helm pull` makes one) to unpack into the component first.
    archive: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    match crate::vendor::vendor(&context.root, &args.component, args.archive.as_deref()) {
        Ok(v) => {
            match args.format {
                Format::Json => print_json(&v)?,
                Format::Human => {
                    if let Some(archive) = &args.archive {
                        println!("unpacked {} into {}", archive.display(), v.chart);
                    }
                    println!(
                        "recorded {} in components/{}/component.yaml: version {}, digest {}",
                        v.chart, v.component, v.version, v.digest
                    );
                }
            }
            Ok(Exit::Clean)
        }
        Err(d) => Ok(print_diagnostics(&d, &Default::default())),
    }
}
