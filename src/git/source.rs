//! The source repository: the git repository that holds strata.yaml, read through libgit2.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::GitError;

/// The source repository: where strata.yaml lives inside it.
pub(crate) struct SourceRepo {
    pub(crate) repo: Repository,
    pub(crate) prefix: PathBuf,
}

impl SourceRepo {
    pub(crate) fn open(root: &Path) -> Result<SourceRepo, GitError> {
        let (repo, prefix) = super::discover(root)?;
        Ok(SourceRepo { repo, prefix })
    }

    pub(crate) fn url(&self) -> String {
        self.repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
            .unwrap_or_else(|| {
                self.repo
                    .workdir()
                    .unwrap_or_else(|| self.repo.path())
                    .display()
                    .to_string()
            })
    }

    /// `descendant` is `ancestor` or has it in its history.
    pub(crate) fn contains(&self, descendant: &str, ancestor: &str) -> bool {
        let (Ok(d), Ok(a)) = (Oid::from_str(descendant), Oid::from_str(ancestor)) else {
            return false;
        };
        d == a || self.repo.graph_descendant_of(d, a).unwrap_or(false)
    }

    /// The commits in `head` that are not in `base` (all of `head` when `base` is `None`).
    pub(crate) fn range(
        &self,
        head: &str,
        base: Option<&str>,
    ) -> Result<Vec<git2::Commit<'_>>, GitError> {
        let mut walk = self.repo.revwalk()?;
        walk.push(Oid::from_str(head)?)?;
        let base = base
            .and_then(|b| Oid::from_str(b).ok())
            .filter(|b| self.repo.find_commit(*b).is_ok());
        if let Some(b) = base {
            walk.hide(b)?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
        let mut out = Vec::new();
        for oid in walk {
            out.push(self.repo.find_commit(oid?)?);
        }
        Ok(out)
    }
}

/// How a new drySha stands to the one an environment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ancestry {
    /// The same commit, or one that contains it: the environment moves forward.
    Forward,
    /// An ancestor of what runs: the environment would move back.
    Older,
    /// Neither contains the other: what runs would be lost.
    Diverged,
    /// What runs is not in the source repository.
    Unknown,
}

impl SourceRepo {
    /// How `new` stands to `running`.
    pub(crate) fn ancestry(&self, new: &str, running: &str) -> Ancestry {
        let (Ok(n), Ok(r)) = (Oid::from_str(new), Oid::from_str(running)) else {
            return Ancestry::Unknown;
        };
        if self.repo.find_commit(r).is_err() || self.repo.find_commit(n).is_err() {
            return Ancestry::Unknown;
        }
        if self.contains(new, running) {
            Ancestry::Forward
        } else if self.repo.graph_descendant_of(r, n).unwrap_or(false) {
            Ancestry::Older
        } else {
            Ancestry::Diverged
        }
    }

    pub(crate) fn path(&self) -> String {
        self.repo
            .workdir()
            .unwrap_or_else(|| self.repo.path())
            .display()
            .to_string()
    }

    /// The files under strata's root that differ from `HEAD`: what publish leaves out.
    pub(crate) fn uncommitted(&self) -> Vec<String> {
        let mut options = git2::StatusOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        let prefix = self.prefix.to_string_lossy().replace('\\', "/");
        let Ok(statuses) = self.repo.statuses(Some(&mut options)) else {
            return Vec::new();
        };
        statuses
            .iter()
            .filter(|e| !e.status().is_ignored())
            .filter_map(|e| e.path().ok().map(str::to_string))
            .filter(|p| prefix.is_empty() || p.starts_with(&format!("{prefix}/")))
            .collect()
    }
}
