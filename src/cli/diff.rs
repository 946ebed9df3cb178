//! `strata diff`: two renders, compared per resource.

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result};
use clap::ValueEnum;

use crate::compare::diff::{self, DiffOptions, Findings};
use crate::compile::{Options, Selection};
use crate::emit::OutputTree;
use crate::git;
use crate::load::{AllowList, Promotion};
use crate::policy::Violation;
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

/// One side of the diff: its tree, its promotion policy and its policy violations.
type Rendered = (OutputTree, Option<Promotion>, Vec<Violation>);

/// One side of the diff, rendered past its policy errors: a change that breaks a policy is the
/// one a reviewer most needs to see. A side without strata.yaml (a base from before the
/// platform existed) is empty: everything shows as added.
fn render_side(world: &dyn World, what: &str) -> std::result::Result<Rendered, Exit> {
    if world.read("strata.yaml").is_none() {
        return Ok((OutputTree::default(), None, Vec::new()));
    }
    let options = Options {
        past_policy: true,
        ..Options::default()
    };
    match crate::compile::compile_with(world, &Selection::default(), &options) {
        Ok(c) => Ok((c.tree, c.source.settings.promotion, c.violations)),
        Err(f) => {
            // A side that does not render leaves no diff to show: strata could not run.
            eprintln!(
                "error: the {what} ({}) does not render, so there is no diff to show:",
                world.describe()
            );
            print_diagnostics(&f.diagnostics, &f.texts);
            Err(Exit::Failed)
        }
    }
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

    // Both sides render at once; each also renders its clusters in parallel.
    let (b, h) = rayon::join(
        || render_side(&base_world, "base"),
        || render_side(head_world.as_ref(), "head"),
    );
    let (base_tree, base_policy, base_violations) = match b {
        Ok(t) => t,
        Err(exit) => return Ok(exit),
    };
    let (head_tree, head_policy, head_violations) = match h {
        Ok(t) => t,
        Err(exit) => return Ok(exit),
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
    // The base stands for what runs: a head that removes or reorders `promotion:` still
    // reaches the environments the base gates (the same rule as publish and the gates).
    let gated: Vec<String> = base_tree
        .environments()
        .into_iter()
        .chain(head_tree.environments())
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .filter(|e| in_force(e, base_policy.as_ref(), head_policy.as_ref(), false).gated)
        .collect();
    let d = match diff::diff(&base_tree, &head_tree) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Exit::Failed);
        }
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let options = DiffOptions {
        gated,
        env: args.env,
        cluster: args.cluster,
        stat: args.stat,
        color: color && args.format == DiffFormat::Human,
        context: args.context,
    };
    let findings = Findings::between(&base_violations, &head_violations)
        .filtered(options.env.as_deref(), options.cluster.as_deref());
    let mut text = match args.format {
        DiffFormat::Human => diff::render_human(&d, &options),
        DiffFormat::Json => diff::render_json(&d, &options),
        DiffFormat::Markdown => diff::render_markdown(&d, &options),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if !findings.is_empty() {
        match args.format {
            DiffFormat::Json => text = with_findings(&text, &findings),
            DiffFormat::Human | DiffFormat::Markdown => text.push_str(&findings.render_text()),
        }
    }
    print!("{text}");
    Ok(if d.filtered(&options).is_empty() && findings.is_empty() {
        Exit::Clean
    } else {
        Exit::Found
    })
}

/// The JSON report with the policy findings the change touches under `policy`.
fn with_findings(json: &str, findings: &Findings) -> String {
    let Ok(mut report) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    if let (Some(object), Ok(policy)) = (report.as_object_mut(), serde_json::to_value(findings)) {
        object.insert("policy".into(), policy);
    }
    let text = serde_json::to_string_pretty(&report).unwrap_or_else(|_| json.to_string());
    // The report's own style: the first key on the line of the brace.
    let mut text = match text.strip_prefix("{\n  ") {
        Some(rest) => format!("{{{rest}"),
        None => text,
    };
    text.push('\n');
    text
}
