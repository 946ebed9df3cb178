//! The digests of rendered trees in the output repository, as `Render-digest:` records them
//! ([`crate::git::output::tree_digest`]), worked out from git's object ids.
//!
//! An audit checks the digest of every promotion's tree, and consecutive promotions share
//! nearly all their files. A blob's bytes never change for its id, so the sha256 of each blob
//! is computed once however many trees hold it, and a tree seen before is not walked again:
//! a promotion costs the files that changed, not the whole fleet.

use std::collections::{BTreeMap, HashMap};

use git2::{Oid, Repository};
use sha2::{Digest as _, Sha256};

use crate::digest::{hex, sha256_hex};
use crate::git::GitError;
use crate::git::output::{METADATA_FILE, each_blob};

/// The digests worked out so far; lookups only, so the maps' order never reaches output.
#[derive(Debug, Default)]
pub(crate) struct TreeDigests {
    /// Blob id → sha256 hex of its bytes.
    blobs: HashMap<Oid, String>,
    /// Tree id → `sha256:<hex>` of the tree.
    trees: HashMap<Oid, String>,
}

impl TreeDigests {
    /// The digest of `tree`: the same as `tree_digest(&files_of(repo, tree))`.
    pub(crate) fn of(
        &mut self,
        repo: &Repository,
        tree: &git2::Tree<'_>,
    ) -> Result<String, GitError> {
        if let Some(digest) = self.trees.get(&tree.id()) {
            return Ok(digest.clone());
        }
        // The files as `files_of` reads them, in the same path order.
        let mut files = BTreeMap::new();
        each_blob(repo, tree, "", &mut |path, id| {
            files.insert(path, id);
            Ok(())
        })?;
        files.remove(METADATA_FILE);
        let mut h = Sha256::new();
        for (path, id) in &files {
            let file = match self.blobs.get(id) {
                Some(digest) => digest,
                None => {
                    let digest = sha256_hex(repo.find_blob(*id)?.content());
                    self.blobs.entry(*id).or_insert(digest)
                }
            };
            h.update(path.as_bytes());
            h.update([0]);
            h.update(file.as_bytes());
            h.update(b"\n");
        }
        let digest = format!("sha256:{}", hex(&h.finalize()));
        self.trees.insert(tree.id(), digest.clone());
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::output::{files_of, tree_digest, write_tree};

    #[test]
    fn a_digest_from_object_ids_is_the_digest_of_the_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let files = |pairs: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
            pairs
                .iter()
                .map(|(p, b)| (p.to_string(), b.as_bytes().to_vec()))
                .collect()
        };
        // Paths whose order differs between git's tree order and a plain sort would show a
        // wrong order: `a-b` sorts before `a/…`, `a0` after.
        let first = files(&[
            ("a/x.yaml", "one"),
            ("a-b.yaml", "two"),
            ("a0.yaml", "three"),
            ("hydrator.metadata", "{}"),
            ("z/y/deep.yaml", "one"),
        ]);
        let mut second = first.clone();
        second.insert("a/x.yaml".into(), b"changed".to_vec());
        let mut digests = TreeDigests::default();
        for files in [&first, &second, &first] {
            let tree = repo
                .find_tree(write_tree(&repo, files).expect("tree"))
                .expect("find");
            let expected = tree_digest(&files_of(&repo, &tree).expect("files"));
            assert_eq!(digests.of(&repo, &tree).expect("digest"), expected);
        }
        assert_eq!(digests.trees.len(), 2);
        assert_eq!(
            digests.blobs.len(),
            4,
            "each blob once: one, two, three, changed"
        );
    }
}
