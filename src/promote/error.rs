//! Why a promotion workflow stops: a git failure, a source that does not compile, a policy
//! it cannot read, history it does not have, or a refusal.

use git2::Repository;

use crate::diag::{Exit, Failure};
use crate::git::GitError;
use crate::git::source::SourceRepo;

#[derive(Debug, thiserror::Error)]
pub(crate) enum PromotionError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("the source at {rev} does not compile")]
    Render { rev: String, failure: Box<Failure> },
    #[error("{0}")]
    Policy(String),
    /// History the gates need is not in the clone: strata cannot judge, so it refuses.
    #[error("{0}")]
    MissingHistory(String),
    /// It ran and refused: a rollback without `--rollback`, a rewritten history.
    #[error("{0}")]
    Refused(String),
}

impl PromotionError {
    /// What it means for the exit code: a refusal is a finding (1); a source that does not
    /// compile, as its diagnostics say; anything else kept strata from running (2).
    pub(crate) fn exit(&self) -> Exit {
        match self {
            PromotionError::Render { failure, .. } => failure.diagnostics.exit(),
            PromotionError::Refused(_)
            | PromotionError::Git(crate::git::GitError::Submodule { .. }) => Exit::Found,
            PromotionError::Git(_)
            | PromotionError::Policy(_)
            | PromotionError::MissingHistory(_) => Exit::Failed,
        }
    }
}

/// Refuses to judge from a shallow clone: the author set, ancestry and landings all need the
/// whole history, and a shallow clone would show less of it, which only ever opens gates.
pub(crate) fn require_history(source: &SourceRepo, out: &Repository) -> Result<(), PromotionError> {
    let path = |r: &Repository| {
        r.workdir()
            .unwrap_or_else(|| r.path())
            .display()
            .to_string()
    };
    if source.repo.is_shallow() {
        let at = path(&source.repo);
        return Err(PromotionError::MissingHistory(format!(
            "the source repository {at} is a shallow clone: the gates need every promoted commit and its author, which it may not have\nhint: fetch the whole history with `git -C {at} fetch --unshallow` (GitHub Actions: actions/checkout with fetch-depth: 0; GitLab CI: GIT_DEPTH: 0)"
        )));
    }
    if out.is_shallow() {
        let at = path(out);
        return Err(PromotionError::MissingHistory(format!(
            "the output repository {at} is a shallow clone: the gates and the audit need the whole history of env/*, which it may not have\nhint: fetch it with `git -C {at} fetch --unshallow origin '+refs/heads/env/*:refs/heads/env/*' '+refs/notes/*:refs/notes/*'`"
        )));
    }
    Ok(())
}

impl From<git2::Error> for PromotionError {
    fn from(e: git2::Error) -> PromotionError {
        PromotionError::Git(GitError::Git(e))
    }
}

/// Refuses to move a branch that is checked out in the work tree of a non-bare output
/// repository: the branch would move under the work tree, which would then show strata's
/// commit as the reverse of an uncommitted change.
pub(crate) fn refuse_checked_out<'b>(
    out: &Repository,
    branches: impl IntoIterator<Item = &'b str>,
) -> Result<(), PromotionError> {
    if out.is_bare() {
        return Ok(());
    }
    let head = out
        .find_reference("HEAD")
        .map_err(crate::git::GitError::from)?;
    let Some(checked_out) = head
        .symbolic_target()
        .ok()
        .flatten()
        .and_then(|t| t.strip_prefix("refs/heads/"))
    else {
        return Ok(());
    };
    if !branches.into_iter().any(|b| b == checked_out) {
        return Ok(());
    }
    let at = out
        .workdir()
        .unwrap_or_else(|| out.path())
        .display()
        .to_string();
    let at = at.trim_end_matches('/');
    Err(PromotionError::Policy(format!(
        "{checked_out} is checked out in the work tree of the output repository {at}: strata would move the branch under the work tree; nothing was written\nhint: write to a bare clone of the output repository (git clone --bare), or leave the branch there (git -C {at} switch --detach)"
    )))
}
