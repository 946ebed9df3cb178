//! `strata policy list`: the policy rules, their level per environment, what each checks.

use anyhow::Result;
use clap::Subcommand;

use super::open::{self, Context};
use super::report::{Exit, print_failure};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[command(subcommand)]
    what: PolicyWhat,
}

#[derive(Subcommand, Debug)]
pub(super) enum PolicyWhat {
    /// The rules, their level per environment, and what each checks.
    List,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let PolicyWhat::List = args.what;
    let world = match open::world(context) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let source = match crate::load::load(&world) {
        Ok(s) => s,
        Err(f) => return Ok(print_failure(&f)),
    };
    let envs: Vec<String> = source
        .clusters
        .iter()
        .map(|c| c.environment.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    print!(
        "{}",
        crate::policy::list_rules(&source.settings.policies, &envs)
    );
    Ok(Exit::Clean)
}
