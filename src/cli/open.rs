//! Opening what a command works on: the source repository root, its files, the source and
//! output git repositories. When one cannot be opened, what to say and the exit code.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use jiff::Timestamp;

use crate::compile::{Compiled, Selection};
use crate::git::output;
use crate::git::source::SourceRepo;
use crate::load::{self, Source};
use crate::lock::{DirLock, Holder};
use crate::merge::{self, Cluster};
use crate::promote::gates::identity::Identity;
use crate::promote::publish::Committer;
use crate::world::{FsWorld, TrustedCommands, World, find_root};

use super::report::{Exit, print_compile, print_diagnostics, print_failure};

/// What every command that reads the source is given besides its own arguments.
pub(crate) struct Context {
    /// The source repository root, which holds strata.yaml.
    pub(crate) root: PathBuf,
    /// `--now`, or the clock.
    pub(crate) now: Timestamp,
    /// `--allow-from`: the allow-list the working tree's strata.yaml may not widen.
    pub(crate) trusted: Option<TrustedCommands>,
}

/// The directory that holds strata.yaml: `--root` (or `--source`), else found upward from
/// the current directory.
pub(super) fn root(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(dir) => {
            if !dir.join("strata.yaml").is_file() {
                anyhow::bail!(
                    "{} has no strata.yaml\nhint: --root names the directory that holds strata.yaml",
                    dir.display()
                );
            }
            Ok(dir.to_path_buf())
        }
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            find_root(&cwd).with_context(|| {
                format!(
                    "no strata.yaml in {} or any parent directory\nhint: run strata inside a source repository, or pass --root DIR",
                    cwd.display()
                )
            })
        }
    }
}

/// The files of the source repository, as they are on disk, trusting `--allow-from` if given.
pub(super) fn world(context: &Context) -> std::result::Result<FsWorld, Exit> {
    let world =
        FsWorld::open(&context.root).map_err(|d| print_diagnostics(&d, &Default::default()))?;
    Ok(match &context.trusted {
        Some(trusted) => world.trusting(trusted.clone()),
        None => world,
    })
}

/// The `sources.commands` of strata.yaml at `rev` of the git repository that holds `root`. A
/// revision without strata.yaml allows nothing.
pub(super) fn trusted_commands(root: &Path, rev: &str) -> Result<TrustedCommands> {
    let (repo, prefix) = crate::git::discover(root).with_context(|| {
        format!("{} is not in a git repository\nhint: --allow-from names a git revision whose strata.yaml is trusted, e.g. origin/main", root.display())
    })?;
    let world = crate::git::world_at(&repo, &prefix, rev)
        .with_context(|| format!("--allow-from {rev}: no such revision\nhint: name a branch, tag or commit, e.g. origin/main"))?;
    Ok(trusted_commands_of(&world, rev))
}

/// The `sources.commands` of the strata.yaml of `world`, the revision `rev`; none when it has
/// no strata.yaml or one that does not load.
pub(super) fn trusted_commands_of(world: &dyn World, rev: &str) -> TrustedCommands {
    match load::settings(world) {
        Ok(settings) => TrustedCommands {
            entries: settings.sources.commands,
            from: format!("strata.yaml at {rev}"),
        },
        Err(_) => TrustedCommands {
            entries: Vec::new(),
            from: format!("{rev}, which has no valid strata.yaml,"),
        },
    }
}

/// Compiles `selection` of the source in `world`, printing warnings and timings, or the
/// diagnostics when it fails.
pub(super) fn compile(
    world: &FsWorld,
    selection: &Selection,
) -> std::result::Result<Compiled, Exit> {
    print_compile(crate::compile::compile(world, selection))
}

/// The source at `root` loaded and every cluster's layers merged, keeping what each layer
/// wrote when `wrote` says so; the diagnostics printed and the exit code when that fails.
pub(super) fn merged(
    root: &Path,
    wrote: merge::Wrote,
) -> std::result::Result<(Source, Vec<Cluster>), Exit> {
    // Merging runs no command, so nothing here needs --allow-from.
    let world = FsWorld::open(root).map_err(|d| print_diagnostics(&d, &Default::default()))?;
    let source = load::load(&world).map_err(|f| print_failure(&f))?;
    match merge::merge_all(&source, wrote) {
        Ok(clusters) => Ok((source, clusters)),
        Err(d) => Err(print_diagnostics(&d, &source.texts)),
    }
}

/// The git repository that holds the source at `root`, or at `given`.
pub(super) fn source_repo(root: &Path, given: Option<&Path>) -> Result<SourceRepo> {
    let path = given.unwrap_or(root);
    SourceRepo::open(path).with_context(|| format!("{} is not in a git repository\nhint: publish and promotion read the source from git; commit it first", path.display()))
}

/// The local clone of the output repository at `path`.
pub(super) fn output_repo(path: &Path) -> Result<git2::Repository> {
    output::open(path).with_context(|| {
        format!("{} is not a git repository\nhint: --repo is a local clone of the output repository (git init or git clone it first)", path.display())
    })
}

/// Takes strata's lock on `dir` for `what` a command does there (`render into`, `publish to`),
/// creating the directory when `create`. A second strata waits for the first, and says so on
/// stderr after a second.
pub(super) fn lock(dir: &Path, create: bool, what: &str) -> Result<DirLock> {
    let waiting = |h: Holder| {
        let who = match h.pid {
            Some(pid) => format!("another strata (pid {pid})"),
            None => "another strata".to_string(),
        };
        eprintln!(
            "waiting: {who} is working in {}; this {what} goes on when it ends\n  = hint: if it is stuck, stop it{}",
            dir.display(),
            h.pid.map(|p| format!(" (kill {p})")).unwrap_or_default()
        );
    };
    crate::lock::lock(dir, create, &waiting)
        .with_context(|| format!("cannot lock {} for this {what}", dir.display()))
}

/// Takes strata's lock on the output repository `out` (its git directory) for a command that
/// moves its branches.
pub(super) fn lock_output_repo(out: &git2::Repository, what: &str) -> Result<DirLock> {
    lock(out.path(), false, what)
}

/// Who commits to the output repository: `given` ("Name <email>"), else its user.name and
/// user.email, else strata.
pub(super) fn committer(
    out: &git2::Repository,
    given: Option<&str>,
    at: Timestamp,
) -> Result<Committer> {
    if let Some(g) = given {
        let id = Identity::parse(g)
            .with_context(|| format!("--committer {g:?} is not \"Name <email>\""))?;
        return Ok(Committer {
            name: id.name,
            email: id.email,
            at,
        });
    }
    let cfg = out.config().ok();
    let get = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
    Ok(Committer {
        name: get("user.name").unwrap_or_else(|| "strata".into()),
        email: get("user.email").unwrap_or_else(|| "strata@localhost".into()),
        at,
    })
}
