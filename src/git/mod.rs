//! git plumbing, behind three doors: a [`World`](crate::world::World) read straight from a
//! commit's tree (no checkout, no clone, the working tree untouched), the source repository
//! ([`source`]: ancestry, commits, what is uncommitted), and the output repository's trees,
//! branches, metadata and notes ([`output`]). What the promotion workflows make of them is
//! `crate::promote`'s.

pub mod output;
pub(crate) mod pack;
pub(crate) mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, Tree};

use crate::world::{MAX_FILE_BYTES, MemWorld, SOURCE_ROOTS};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path} is not inside a git repository")]
    NotARepository { path: PathBuf },
    #[error("`{rev}` is not a revision of {repo}: {reason}")]
    BadRevision {
        rev: String,
        repo: PathBuf,
        reason: String,
    },
    #[error("{path} in {rev} is a symlink to {target}, outside the source repository")]
    Symlink {
        path: String,
        rev: String,
        target: String,
    },
    #[error(
        "{path} in {rev} is {len} bytes, over the limit of {MAX_FILE_BYTES} bytes for a source file"
    )]
    TooLarge {
        path: String,
        rev: String,
        len: usize,
    },
    /// A branch moved between the moment strata read it and the moment it would have moved it:
    /// another process wrote to the output repository.
    #[error(
        "{branch} moved while strata was committing to it: another process (a second publish or promote, or git) wrote to the output repository; strata's commit {commit} is on no branch, and {branch} is as the other process left it\nhint: run the command again: it starts from what {branch} holds now"
    )]
    BranchMoved { branch: String, commit: String },
    #[error("{}", crate::diag::plain(diagnostic).trim_end().trim_start_matches("error[submodule]: "))]
    Submodule {
        diagnostic: Box<crate::diag::Diagnostic>,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// The repository that holds `path`, and `path` relative to its work tree.
pub(crate) fn discover(path: &Path) -> Result<(Repository, PathBuf), GitError> {
    let repo = Repository::discover(path).map_err(|_| GitError::NotARepository {
        path: path.to_path_buf(),
    })?;
    let workdir = repo.workdir().map(Path::to_path_buf).unwrap_or_default();
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let prefix = abs
        .strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok((repo, prefix))
}

/// A commit resolved from any revision git understands: `HEAD`, `main`, `v1.2`, `HEAD~3`, a sha.
pub(crate) fn resolve<'r>(repo: &'r Repository, rev: &str) -> Result<git2::Commit<'r>, GitError> {
    let bad = |reason: String| GitError::BadRevision {
        rev: rev.to_string(),
        repo: repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf(),
        reason,
    };
    let object = repo
        .revparse_single(rev)
        .map_err(|e| bad(e.message().to_string()))?;
    object
        .peel_to_commit()
        .map_err(|e| bad(e.message().to_string()))
}

/// The source at a commit, as a world. `prefix` is where strata.yaml lives inside the repository.
/// A commit where the prefix does not exist gives an empty world.
pub(crate) fn world_at(repo: &Repository, prefix: &Path, rev: &str) -> Result<MemWorld, GitError> {
    read_at(repo, prefix, rev, &SOURCE_ROOTS)
}

/// [`world_at`] with strata.yaml alone: what reading the settings needs.
pub(crate) fn settings_world_at(
    repo: &Repository,
    prefix: &Path,
    rev: &str,
) -> Result<MemWorld, GitError> {
    read_at(repo, prefix, rev, &[])
}

/// strata.yaml and the directories `roots` at a commit, as a world.
fn read_at(
    repo: &Repository,
    prefix: &Path,
    rev: &str,
    roots: &[&str],
) -> Result<MemWorld, GitError> {
    let commit = resolve(repo, rev)?;
    let short = commit.id().to_string()[..7].to_string();
    let mut world = MemWorld::new(format!("commit {short} ({rev})"));
    let root_tree = commit.tree()?;
    let prefix_str = prefix.to_string_lossy().replace('\\', "/");
    let tree = if prefix_str.is_empty() {
        Some(root_tree.clone())
    } else {
        match root_tree.get_path(prefix) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        }
    };
    let Some(tree) = tree else {
        return Ok(world);
    };
    let mut files = Files::default();
    if let Ok(entry) = tree.get_path(Path::new("strata.yaml")) {
        read_entry(repo, &tree, "strata.yaml", &entry, &short, &mut files)?;
    }
    for top in roots {
        let Ok(entry) = tree.get_path(Path::new(top)) else {
            continue;
        };
        if entry.kind() != Some(ObjectType::Tree) {
            continue;
        }
        let sub = repo.find_tree(entry.id())?;
        walk(repo, &tree, &sub, top, &short, &mut files)?;
    }
    world.files = files.bytes;
    world.links = files.links;
    Ok(world)
}

/// The files of a commit as read: their bytes, and the targets of those read through a link.
#[derive(Default)]
struct Files {
    bytes: BTreeMap<String, Vec<u8>>,
    links: BTreeMap<String, String>,
}

fn walk(
    repo: &Repository,
    root: &Tree<'_>,
    tree: &Tree<'_>,
    dir: &str,
    rev: &str,
    files: &mut Files,
) -> Result<(), GitError> {
    for entry in tree.iter() {
        let Ok(name) = entry.name() else {
            continue;
        };
        let path = format!("{dir}/{name}");
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id())?;
                walk(repo, root, &sub, &path, rev, files)?;
            }
            Some(ObjectType::Blob) => read_entry(repo, root, &path, &entry, rev, files)?,
            // A gitlink: the one rule of `crate::world::submodule`.
            Some(ObjectType::Commit) => {
                return Err(GitError::Submodule {
                    diagnostic: Box::new(crate::world::submodule(&path, &format!("commit {rev}"))),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn read_entry(
    repo: &Repository,
    root: &Tree<'_>,
    path: &str,
    entry: &git2::TreeEntry<'_>,
    rev: &str,
    files: &mut Files,
) -> Result<(), GitError> {
    let blob = repo.find_blob(entry.id())?;
    if entry.filemode() == 0o120000 {
        // A symlink: follow it only to a file inside the source root.
        let target = String::from_utf8_lossy(blob.content()).to_string();
        let resolved = normalize(&format!("{}/{target}", parent(path)));
        let outside = || GitError::Symlink {
            path: path.to_string(),
            rev: rev.to_string(),
            target: target.clone(),
        };
        let resolved = resolved.ok_or_else(outside)?;
        let entry = root.get_path(Path::new(&resolved)).map_err(|_| outside())?;
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == 0o120000 {
            return Err(outside());
        }
        let blob = repo.find_blob(entry.id())?;
        files.links.insert(path.to_string(), resolved);
        return store(path, blob.content(), rev, &mut files.bytes);
    }
    store(path, blob.content(), rev, &mut files.bytes)
}

fn store(
    path: &str,
    bytes: &[u8],
    rev: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), GitError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(GitError::TooLarge {
            path: path.to_string(),
            rev: rev.to_string(),
            len: bytes.len(),
        });
    }
    files.insert(path.to_string(), bytes.to_vec());
    Ok(())
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Resolves `.` and `..`; `None` when the path climbs above the root or is absolute.
fn normalize(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// The first 7 hex digits of a commit, as people quote one.
pub(crate) fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_to_climb_out() {
        assert_eq!(normalize("a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("a/../../etc/passwd"), None);
        assert_eq!(normalize("/etc/hostname"), None);
    }
}
