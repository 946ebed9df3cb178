//! The output repository: one branch per environment, each commit a rendered tree plus a root
//! `hydrator.metadata` that says which source commit it was rendered from.
//!
//! strata writes commits straight into the object database and moves branch refs; it never
//! touches the output repository's working tree or HEAD. Pushing is left to `git push`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::digest::{hex, sha256_hex};
use git2::{ObjectType, Oid, Repository, Signature, Time};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::GitError;

/// The file at the root of every rendered commit, as Argo CD's source hydrator writes it.
pub(crate) const METADATA_FILE: &str = "hydrator.metadata";
/// Where a no-op publish records the drySha, as Argo CD does.
pub(crate) const NOTES_REF: &str = "refs/notes/hydrator.metadata";

/// `hydrator.metadata`: compatible with Argo CD's source hydrator and GitOps Promoter, plus
/// strata's own fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metadata {
    pub(crate) dry_sha: String,
    #[serde(rename = "repoURL")]
    pub(crate) repo_url: String,
    pub(crate) author: String,
    pub(crate) date: String,
    pub(crate) subject: String,
    #[serde(default)]
    pub(crate) body: String,
    #[serde(default)]
    pub(crate) renderer: String,
    /// sha256 over the tree, this file excluded (see [`tree_digest`]).
    #[serde(default)]
    pub(crate) tree_digest: String,
    #[serde(default)]
    pub(crate) environment: String,
    /// The version of each component, by cluster name.
    #[serde(default)]
    pub(crate) components: BTreeMap<String, BTreeMap<String, String>>,
}

/// The digest of a rendered tree: sha256 over `<path>\0<sha256 of the file>\n` for every file in
/// path order, `hydrator.metadata` excluded. Written as `sha256:<hex>`.
pub(crate) fn tree_digest(files: &BTreeMap<String, Vec<u8>>) -> String {
    use rayon::prelude::*;
    let hashed: Vec<(&String, String)> = files
        .par_iter()
        .filter(|(path, _)| *path != METADATA_FILE)
        .map(|(path, bytes)| (path, sha256_hex(bytes)))
        .collect();
    digest_of(hashed.iter().map(|(p, d)| (p.as_str(), d.as_str())))
}

/// [`tree_digest`] from the sha256 (hex) of each file, in path order.
pub(crate) fn digest_of<'a, D: AsRef<str>>(files: impl Iterator<Item = (&'a str, D)>) -> String {
    let mut h = Sha256::new();
    for (path, digest) in files {
        if path == METADATA_FILE {
            continue;
        }
        h.update(path.as_bytes());
        h.update([0]);
        h.update(digest.as_ref().as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", hex(&h.finalize()))
}

pub(crate) fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::open(path).map_err(|_| GitError::NotARepository {
        path: path.to_path_buf(),
    })
}

/// The commit a branch points at, if the branch exists.
pub(crate) fn tip<'r>(
    repo: &'r Repository,
    branch: &str,
) -> Result<Option<git2::Commit<'r>>, GitError> {
    match repo.find_reference(&format!("refs/heads/{branch}")) {
        Ok(r) => Ok(Some(r.peel_to_commit()?)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every file of a tree, by path.
pub fn files_of(
    repo: &Repository,
    tree: &git2::Tree<'_>,
) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
    let mut out = BTreeMap::new();
    each_blob(repo, tree, "", &mut |path, id| {
        out.insert(path, repo.find_blob(id)?.content().to_vec());
        Ok(())
    })?;
    Ok(out)
}

/// Calls `each` with the path and id of every blob of a tree, in the tree's order: names that
/// are not UTF-8 and entries that are neither trees nor blobs are left out, as [`files_of`]
/// leaves them out.
pub(crate) fn each_blob(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    each: &mut dyn FnMut(String, Oid) -> Result<(), GitError>,
) -> Result<(), GitError> {
    for entry in tree.iter() {
        let Ok(name) = entry.name() else {
            continue;
        };
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(ObjectType::Tree) => each_blob(repo, &repo.find_tree(entry.id())?, &path, each)?,
            Some(ObjectType::Blob) => each(path, entry.id())?,
            _ => {}
        }
    }
    Ok(())
}

/// Every entry of a tree that publish never writes: strata writes regular files (`100644`) in
/// directories, so an executable bit, a symlink or a gitlink (a submodule) was put there by
/// hand. [`files_of`] cannot show them (it reads bytes), so the gates ask this as well.
pub(crate) fn unusual_entries(
    repo: &Repository,
    tree: &git2::Tree<'_>,
) -> Result<Vec<String>, GitError> {
    let mut out = Vec::new();
    unusual(repo, tree, "", &mut out)?;
    Ok(out)
}

fn unusual(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &str,
    out: &mut Vec<String>,
) -> Result<(), GitError> {
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.filemode() {
            0o100644 => {}
            0o040000 => unusual(repo, &repo.find_tree(entry.id())?, &path, out)?,
            0o100755 => out.push(format!("mode 100755 (executable): {path}")),
            0o120000 => out.push(format!("symlink (120000): {path}")),
            0o160000 => out.push(format!(
                "gitlink (160000, a submodule at {}): {path}",
                &entry.id().to_string()[..7]
            )),
            mode => out.push(format!("mode {mode:o}: {path}")),
        }
    }
    Ok(())
}

/// The metadata of a rendered commit, if it has one.
pub(crate) fn metadata_of(
    repo: &Repository,
    commit: &git2::Commit<'_>,
) -> Result<Option<Metadata>, GitError> {
    let tree = commit.tree()?;
    let Ok(entry) = tree.get_path(Path::new(METADATA_FILE)) else {
        return Ok(None);
    };
    let blob = repo.find_blob(entry.id())?;
    Ok(serde_json::from_slice(blob.content()).ok())
}

/// Writes `files` as a tree into the object database: only the objects it does not have yet,
/// many of them as one pack ([`super::pack`]).
pub fn write_tree(repo: &Repository, files: &BTreeMap<String, Vec<u8>>) -> Result<Oid, GitError> {
    super::pack::hash_tree(files)?.write(repo)
}

/// A signature at a fixed time, so commits are reproducible under `--now`.
pub(crate) fn signature(
    name: &str,
    email: &str,
    at: jiff::Timestamp,
) -> Result<Signature<'static>, GitError> {
    Ok(Signature::new(name, email, &Time::new(at.as_second(), 0))?)
}

/// Commits `tree` on `branch` with `parents`, moving the branch from wherever it is.
pub fn commit(
    repo: &Repository,
    branch: &str,
    tree: Oid,
    parents: &[Oid],
    message: &str,
    author: &Signature<'_>,
    committer: &Signature<'_>,
) -> Result<Oid, GitError> {
    let was = tip(repo, branch)?.map(|c| c.id());
    commit_onto(repo, branch, was, tree, parents, message, author, committer)
}

/// Commits `tree` on `branch` with `parents`, moving the branch from `was` (`None`: the branch
/// must not exist yet). The move is a compare-and-swap: when the branch no longer is at `was`,
/// it is left alone and the error says so, so that no caller reports a commit that no branch
/// holds.
#[allow(clippy::too_many_arguments)]
pub(crate) fn commit_onto(
    repo: &Repository,
    branch: &str,
    was: Option<Oid>,
    tree: Oid,
    parents: &[Oid],
    message: &str,
    author: &Signature<'_>,
    committer: &Signature<'_>,
) -> Result<Oid, GitError> {
    let tree = repo.find_tree(tree)?;
    let parents: Vec<git2::Commit<'_>> = parents
        .iter()
        .map(|p| repo.find_commit(*p))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let oid = repo.commit(None, author, committer, message, &tree, &refs)?;
    let name = format!("refs/heads/{branch}");
    let log = format!("strata: {}", message.lines().next().unwrap_or(""));
    let moved = match was {
        Some(was) => repo.reference_matching(&name, oid, true, was, &log),
        None => repo.reference(&name, oid, false, &log),
    };
    match moved {
        Ok(_) => Ok(oid),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::Modified
                    | git2::ErrorCode::Exists
                    | git2::ErrorCode::NotFound
                    | git2::ErrorCode::Locked
            ) =>
        {
            Err(GitError::BranchMoved {
                branch: branch.to_string(),
                commit: oid.to_string(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Records `note` on `commit` under [`NOTES_REF`], replacing an older note.
pub(crate) fn note(
    repo: &Repository,
    commit: Oid,
    note: &str,
    who: &Signature<'_>,
) -> Result<(), GitError> {
    repo.note(who, who, Some(NOTES_REF), commit, note, true)?;
    Ok(())
}

/// The text of the note on `commit`, if any.
pub(crate) fn note_of(repo: &Repository, commit: Oid) -> Option<String> {
    repo.find_note(Some(NOTES_REF), commit)
        .ok()
        .and_then(|n| n.message().ok().map(str::to_string))
}

/// A commit time as a timestamp.
pub(crate) fn time_of(commit: &git2::Commit<'_>) -> jiff::Timestamp {
    jiff::Timestamp::from_second(commit.time().seconds()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// `Name <email>` of a signature.
pub(crate) fn who(sig: &Signature<'_>) -> String {
    format!(
        "{} <{}>",
        sig.name().unwrap_or(""),
        sig.email().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_the_metadata_and_depends_on_every_byte() {
        let mut files = BTreeMap::new();
        files.insert("a/x.yaml".to_string(), b"1".to_vec());
        let d1 = tree_digest(&files);
        files.insert(METADATA_FILE.to_string(), b"{}".to_vec());
        assert_eq!(tree_digest(&files), d1);
        files.insert("a/x.yaml".to_string(), b"2".to_vec());
        assert_ne!(tree_digest(&files), d1);
        assert!(d1.starts_with("sha256:") && d1.len() == 7 + 64);
    }

    /// Issue 28: two publishes read `env/dev` at once; the second's move overwrote the first's
    /// commit, which both reported.
    #[test]
    fn a_branch_that_moved_since_it_was_read_is_left_where_the_other_writer_put_it() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig = signature("strata", "strata@example.com", jiff::Timestamp::UNIX_EPOCH).unwrap();
        let files =
            |text: &str| BTreeMap::from([("a/x.yaml".to_string(), text.as_bytes().to_vec())]);
        let first = write_tree(&repo, &files("1")).unwrap();
        let base = commit_onto(&repo, "env/dev", None, first, &[], "one", &sig, &sig).unwrap();
        // Both read env/dev at `base`; the other writer moves it first.
        let theirs = write_tree(&repo, &files("2")).unwrap();
        let other = commit_onto(
            &repo,
            "env/dev",
            Some(base),
            theirs,
            &[base],
            "two",
            &sig,
            &sig,
        )
        .unwrap();
        let ours = write_tree(&repo, &files("3")).unwrap();
        let e = commit_onto(
            &repo,
            "env/dev",
            Some(base),
            ours,
            &[base],
            "three",
            &sig,
            &sig,
        )
        .unwrap_err();
        assert!(
            matches!(&e, GitError::BranchMoved { branch, .. } if branch == "env/dev"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("env/dev moved while strata was committing to it"),
            "{e}"
        );
        assert_eq!(tip(&repo, "env/dev").unwrap().unwrap().id(), other);
        // A branch that appeared since it was read as missing is left too.
        let e = commit_onto(&repo, "env/dev", None, ours, &[], "four", &sig, &sig).unwrap_err();
        assert!(matches!(e, GitError::BranchMoved { .. }), "{e}");
        assert_eq!(tip(&repo, "env/dev").unwrap().unwrap().id(), other);
    }
}
