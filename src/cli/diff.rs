//! `strata diff`: two renders, compared per resource.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;

use anyhow::{Context as _, Result};
use clap::ValueEnum;

use crate::compare::diff::sides::{self, How, Side};
use crate::compare::diff::{self, DiffOptions, Format};
use crate::git;
use crate::load::AllowList;
use crate::promote::gates::policy::in_force;
use crate::world::{FsWorld, World};

use super::open::{Context, trusted_commands_of};
use super::report::{Exit, print_diagnostics};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The base revision. Default: HEAD.
    #[arg(long, value_name = "REF")]
    base: Option<String>,
    /// The head revision. Default: the working tree.
    #[arg(long, value_name = "REF")]
    head: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: DiffFormat,
    /// The summary only.
    #[arg(long)]
    stat: bool,
    /// Only this environment.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Only this cluster (name or path).
    #[arg(long, value_name = "CLUSTER")]
    cluster: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    color: ColorChoice,
    /// Lines of context around each change.
    #[arg(long, value_name = "N", default_value_t = 3)]
    context: usize,
    /// Run the head's command sources as its own strata.yaml allows, even where the base's
    /// does not. By default the head runs only what both allow, so that a pull request cannot
    /// widen what strata runs in CI. For a local diff of your own change; never in CI.
    #[arg(long)]
    trust_head: bool,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub(super) enum DiffFormat {
    #[default]
    Human,
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub(super) enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The error of a side that does not render, printed: it leaves no diff to show.
fn print_failure(world: &dyn World, what: &str, f: &crate::diag::Failure) {
    eprintln!(
        "error: the {what} ({}) does not render, so there is no diff to show:",
        world.describe()
    );
    print_diagnostics(&f.diagnostics, &f.texts);
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let root = &context.root;
    let (repo, prefix) = git::discover(root).with_context(|| {
        format!("{} is not in a git repository\nhint: strata diff compares git revisions; use `strata render` outside git", root.display())
    })?;
    let base_rev = args.base.as_deref().unwrap_or("HEAD");
    let base_world = match git::world_at(&repo, &prefix, base_rev) {
        Ok(w) => w,
        Err(e @ git::GitError::Submodule { .. }) => {
            eprintln!("error: {e}");
            return Ok(Exit::Found);
        }
        Err(e) => {
            eprintln!(
                "error: {e}\nhint: --base takes any git revision: a branch, tag, sha, HEAD~3 or origin/main"
            );
            return Ok(Exit::Failed);
        }
    };
    // What the head may run: what --allow-from or else the base allows, unless told to trust it.
    let trusted = match (&context.trusted, args.trust_head) {
        (_, true) => None,
        (Some(t), false) => Some(t.clone()),
        (None, false) => Some(trusted_commands_of(&base_world, base_rev)),
    };
    let head_world: Box<dyn World> = match &args.head {
        Some(rev) => match git::world_at(&repo, &prefix, rev) {
            Ok(w) => match trusted {
                Some(t) => Box::new(w.trusting(t)),
                None => Box::new(w),
            },
            Err(e @ git::GitError::Submodule { .. }) => {
                eprintln!("error: {e}");
                return Ok(Exit::Found);
            }
            Err(e) => {
                eprintln!(
                    "error: {e}\nhint: --head takes any git revision; leave it out to use the working tree"
                );
                return Ok(Exit::Failed);
            }
        },
        None => match FsWorld::open(root) {
            Ok(w) => match trusted {
                Some(t) => Box::new(w.trusting(t)),
                None => Box::new(w),
            },
            Err(d) => return Ok(print_diagnostics(&d, &Default::default())),
        },
    };

    let (b, h) = sides::compile(&base_world, head_world.as_ref(), How::Narrowed);
    if let Err(f) = &b {
        print_failure(&base_world, "base", f);
    }
    if let Err(f) = &h {
        print_failure(head_world.as_ref(), "head", f);
    }
    let (Ok(base), Ok(head)) = (b, h) else {
        return Ok(Exit::Failed);
    };
    // A reviewer should know that the change asks for more than its own CI ran.
    if let (Some(trusted), Ok(settings)) = (
        head_world.trusted_commands(),
        crate::load::settings(head_world.as_ref()),
    ) {
        for entry in AllowList::widening(&settings.sources.commands, &trusted.entries) {
            eprintln!(
                "warning: the head's strata.yaml allows `{entry}` as a command source, which {} does not; no command source of the head ran it here, and none will in CI until the change to strata.yaml is merged on its own",
                trusted.from
            );
        }
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let options = DiffOptions {
        gated: gated(&base, &head),
        env: args.env,
        cluster: args.cluster,
        stat: args.stat,
        color: color && args.format == DiffFormat::Human,
        context: args.context,
    };
    let format = match args.format {
        DiffFormat::Human => Format::Human,
        DiffFormat::Json => Format::Json,
        DiffFormat::Markdown => Format::Markdown,
    };
    match diff::report(&base, &head, format, &options) {
        Ok((text, found)) => {
            print!("{text}");
            Ok(if found { Exit::Found } else { Exit::Clean })
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(Exit::Failed)
        }
    }
}

/// The environments either side gates. The base stands for what runs: a head that removes or
/// reorders `promotion:` still reaches the environments the base gates (the same rule as
/// publish and the gates).
fn gated(base: &Side, head: &Side) -> Vec<String> {
    base.tree
        .environments()
        .into_iter()
        .chain(head.tree.environments())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .filter(|e| in_force(e, base.promotion.as_ref(), head.promotion.as_ref(), false).gated)
        .collect()
}

/// `strata diff`'s report of `base` against `head` (`human`, `json` or `markdown`, three lines
/// of context, no filter, no color): with both sides compiled whole, or with the head compiled
/// against the base so that clusters equal on both sides are compiled once. For the tests that
/// prove the two byte-identical; `Err` holds why a side did not render or diff.
#[doc(hidden)]
pub fn diff_report(
    base: &dyn World,
    head: &dyn World,
    format: &str,
    narrowed: bool,
) -> std::result::Result<String, String> {
    let how = if narrowed { How::Narrowed } else { How::Whole };
    let format = match format {
        "json" => Format::Json,
        "markdown" => Format::Markdown,
        _ => Format::Human,
    };
    let (base, head) = sides::compile(base, head, how);
    let fail = |f: crate::diag::Failure| crate::diag::render(&f.diagnostics, &f.texts);
    let (base, head) = (base.map_err(fail)?, head.map_err(fail)?);
    let options = DiffOptions {
        gated: gated(&base, &head),
        ..DiffOptions::default()
    };
    diff::report(&base, &head, format, &options)
        .map(|(text, _)| text)
        .map_err(|e| e.to_string())
}
