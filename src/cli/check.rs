//! `strata check`: render drift. With `--against DIR`, a rendered directory against a fresh
//! render; with `--repo PATH`, every env/* branch of the output repository against a render of
//! the drySha it records, and the published branches against the source's HEAD.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::compare::check;
use crate::compile::Selection;
use crate::promote;
use crate::{emit, output};

use super::open::{self, Context};
use super::report::{Exit, Format, print_json, print_promotion_error};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// A rendered directory to compare, e.g. golden/ or a checkout of one environment's output.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "repo",
        conflicts_with = "repo"
    )]
    against: Option<PathBuf>,
    /// A local clone of the output repository.
    #[arg(long, value_name = "PATH")]
    repo: Option<PathBuf>,
    /// Only this environment: with --against, DIR holds that environment's tree (a
    /// checkout of env/<ENV>; found from its hydrator.metadata when not given); with
    /// --repo, only that environment's branches.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    match (&args.against, &args.repo) {
        (Some(against), _) => against_dir(context, against, args.env.as_deref(), args.format),
        (None, Some(repo)) => against_repo(context, repo, args.env.as_deref(), args.format),
        (None, None) => anyhow::bail!("give --against DIR or --repo PATH"),
    }
}

fn against_dir(
    context: &Context,
    against: &Path,
    env: Option<&str>,
    format: Format,
) -> Result<Exit> {
    if !against.is_dir() {
        anyhow::bail!(
            "{} is not a directory\nhint: --against names a rendered directory, e.g. golden/ or a checkout of the output repository",
            against.display()
        );
    }
    let world = match open::world(context) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    // The directory is read while the source compiles: both take seconds on a large fleet.
    let (compiled, read) = std::thread::scope(|s| {
        let reading = s.spawn(|| output::read_tree(against));
        let compiled = open::compile(&world, &Selection::default());
        (compiled, reading.join())
    });
    let compiled = match compiled {
        Ok(c) => c,
        Err(exit) => return Ok(exit),
    };
    let mut actual = read
        .unwrap_or_else(|_| Err(std::io::Error::other("the reading thread panicked")))
        .with_context(|| format!("cannot read {}", against.display()))?;
    // A checkout of one environment's branch holds that environment's tree and its
    // hydrator.metadata, which names the environment.
    let metadata = actual.files.remove("hydrator.metadata");
    let env = env.map(str::to_string).or_else(|| {
        let m: crate::git::output::Metadata = serde_json::from_slice(metadata.as_deref()?).ok()?;
        Some(m.environment).filter(|e| !e.is_empty())
    });
    let expected = match &env {
        Some(e) => emit::OutputTree {
            files: compiled.tree.environment(e),
        },
        None => compiled.tree,
    };
    let drift = check::compare(&expected, &actual);
    match format {
        Format::Json => print_json(&drift)?,
        Format::Human => print!(
            "{}",
            check::render_human(&drift, &against.display().to_string())
        ),
    }
    Ok(if drift.is_clean() {
        Exit::Clean
    } else {
        Exit::Found
    })
}

fn against_repo(context: &Context, repo: &Path, env: Option<&str>, format: Format) -> Result<Exit> {
    let source = open::source_repo(&context.root, None)?;
    let out = open::output_repo(repo)?;
    let checks = match promote::check_repo::check_repo(&source, &out, env) {
        Ok(c) => c,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    if checks.is_empty() {
        anyhow::bail!(
            "{} has no env/* branches{}\nhint: run `strata publish --repo {}` first",
            repo.display(),
            env.map(|e| format!(" for {e}")).unwrap_or_default(),
            repo.display()
        );
    }
    match format {
        Format::Json => print_json(&checks)?,
        Format::Human => print!("{}", promote::check_repo::check_repo_human(&checks)),
    }
    Ok(if checks.iter().all(|c| c.is_clean()) {
        Exit::Clean
    } else {
        Exit::Found
    })
}
