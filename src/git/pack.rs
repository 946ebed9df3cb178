//! Rendered trees as git objects: hashed in parallel, and written as one pack.
//!
//! A rendered environment is hundreds of thousands of small files. Written one loose object at
//! a time (a zlib stream, a file and a rename each), they cost far more than the render. Here
//! every blob and tree id is computed first, on every core, without touching the repository;
//! the objects the repository does not have yet are then compressed on every core and handed
//! to libgit2's pack indexer as one pack, which writes the `.pack` and its `.idx` as
//! `git index-pack` would. An unchanged file or directory has the id it had, so a publish
//! that changed one cluster writes only that cluster's objects.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;
use sha1::{Digest as _, Sha1};

use super::GitError;

/// Below this many new objects, loose objects cost less than a pack and its index, and do
/// not leave the repository a pack per small publish (git's `transfer.unpackLimit`).
const LOOSE_LIMIT: usize = 100;

/// A tree and every object under it, hashed; nothing is written yet.
pub(crate) struct HashedTree<'a> {
    /// The id of the root tree.
    pub(crate) root: Oid,
    /// Each directory's id, by path (`""` for the root, `a/b` for a directory).
    pub(crate) dirs: BTreeMap<String, Oid>,
    /// Every blob (its bytes borrowed) and tree (its encoded entries), in the order a reader
    /// meets them.
    objects: Vec<(Oid, ObjectType, Bytes<'a>)>,
    /// The root's entries, in git's order, so that a file can be added at the root.
    root_entries: Vec<Entry>,
}

/// An entry of a tree: the name it sorts by (a directory's ends in `/`), its mode, its id.
type Entry = (String, &'static str, Oid);

enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Bytes<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Owned(b) => b,
        }
    }
}

/// A directory being built: its files' ids, its subdirectories, and the entries taken whole
/// from a tree already in the repository.
#[derive(Default)]
struct Dir<'a> {
    files: BTreeMap<&'a str, Oid>,
    dirs: BTreeMap<&'a str, Dir<'a>>,
    kept: BTreeMap<&'a str, Kept>,
}

/// An entry of a tree already in the repository, kept by its id: a file or a whole directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    File(Oid),
    Dir(Oid),
}

/// The git id of a blob of `bytes`.
pub(crate) fn blob_id(bytes: &[u8]) -> Result<Oid, GitError> {
    Ok(Oid::hash_object(ObjectType::Blob, bytes)?)
}

/// Hashes `files` (path → bytes, the paths `/`-separated and relative to the root) as git
/// trees of regular files (`100644`), as [`crate::git::output::write_tree`] writes them.
pub(crate) fn hash_tree<'a>(
    files: &'a BTreeMap<String, Vec<u8>>,
) -> Result<HashedTree<'a>, GitError> {
    hash_tree_keeping(files, &BTreeMap::new())
}

/// [`hash_tree`] of `files` and of the `kept` entries (path → the id of a file or directory
/// already in the repository, none of whose paths is in `files`), which are neither read nor
/// written again.
pub(crate) fn hash_tree_keeping<'a>(
    files: &'a BTreeMap<String, Vec<u8>>,
    kept: &BTreeMap<String, Kept>,
) -> Result<HashedTree<'a>, GitError> {
    let blobs: Vec<Oid> = files
        .par_iter()
        .map(|(_, bytes)| blob_id(bytes))
        .collect::<Result<_, _>>()?;
    let mut root = Dir::default();
    let mut objects = Vec::with_capacity(files.len() + files.len() / 4);
    for ((path, bytes), oid) in files.iter().zip(blobs) {
        let (parents, name) = match path.rsplit_once('/') {
            Some((parents, name)) => (Some(parents), name),
            None => (None, path.as_str()),
        };
        let mut dir = &mut root;
        for part in parents.into_iter().flat_map(|p| p.split('/')) {
            dir = dir.dirs.entry(part).or_default();
        }
        dir.files.insert(name, oid);
        objects.push((oid, ObjectType::Blob, Bytes::Borrowed(bytes.as_slice())));
    }
    for (path, entry) in kept {
        let (parents, name) = match path.rsplit_once('/') {
            Some((parents, name)) => (Some(parents), name),
            None => (None, path.as_str()),
        };
        let mut dir = &mut root;
        for part in parents.into_iter().flat_map(|p| p.split('/')) {
            dir = dir.dirs.entry(part).or_default();
        }
        dir.kept.insert(name, *entry);
    }
    let mut dirs = BTreeMap::new();
    let (root, root_entries) = hash_dir(&root, String::new(), &mut objects, &mut dirs)?;
    Ok(HashedTree {
        root,
        dirs,
        objects,
        root_entries,
    })
}

/// Encodes `dir` as a git tree, after its subdirectories, and returns its id and entries.
fn hash_dir<'a>(
    dir: &Dir<'_>,
    path: String,
    objects: &mut Vec<(Oid, ObjectType, Bytes<'a>)>,
    ids: &mut BTreeMap<String, Oid>,
) -> Result<(Oid, Vec<Entry>), GitError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (name, oid) in &dir.files {
        entries.push(((*name).to_string(), "100644", *oid));
    }
    for (name, kept) in &dir.kept {
        entries.push(match kept {
            Kept::File(oid) => ((*name).to_string(), "100644", *oid),
            Kept::Dir(oid) => (format!("{name}/"), "40000", *oid),
        });
    }
    for (name, sub) in &dir.dirs {
        let sub_path = if path.is_empty() {
            (*name).to_string()
        } else {
            format!("{path}/{name}")
        };
        let (oid, _) = hash_dir(sub, sub_path, objects, ids)?;
        // git orders a directory as if its name ended in `/`.
        entries.push((format!("{name}/"), "40000", oid));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes = encode(&entries);
    let oid = Oid::hash_object(ObjectType::Tree, &bytes)?;
    objects.push((oid, ObjectType::Tree, Bytes::Owned(bytes)));
    ids.insert(path, oid);
    Ok((oid, entries))
}

/// A tree object's bytes: `<mode> <name>\0<id>` for each entry, in git's order.
fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(entries.len() * 48);
    for (name, mode, oid) in entries {
        bytes.extend_from_slice(mode.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(name.strip_suffix('/').unwrap_or(name).as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(oid.as_bytes());
    }
    bytes
}

/// The id `tree` would have without its root entry `name`: how a rendered commit's tree
/// compares with a render, which lacks its `hydrator.metadata`.
pub(crate) fn id_without(tree: &git2::Tree<'_>, name: &str) -> Result<Oid, GitError> {
    let mut bytes = Vec::new();
    for entry in tree.iter() {
        if entry.name_bytes() == name.as_bytes() {
            continue;
        }
        bytes.extend_from_slice(format!("{:o}", entry.filemode()).as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(entry.name_bytes());
        bytes.push(0);
        bytes.extend_from_slice(entry.id().as_bytes());
    }
    Ok(Oid::hash_object(ObjectType::Tree, &bytes)?)
}

impl<'a> HashedTree<'a> {
    /// The tree with one more file at its root, `name` (a name no file or directory of the
    /// root has): only the root tree is encoded again.
    pub(crate) fn with_root_file(mut self, name: &str, bytes: &'a [u8]) -> Result<Self, GitError> {
        let oid = blob_id(bytes)?;
        let old = self.root;
        if let Some(at) = self
            .objects
            .iter()
            .rposition(|(o, kind, _)| *o == old && *kind == ObjectType::Tree)
        {
            self.objects.remove(at);
        }
        self.objects
            .push((oid, ObjectType::Blob, Bytes::Borrowed(bytes)));
        self.root_entries.push((name.to_string(), "100644", oid));
        self.root_entries.sort_by(|a, b| a.0.cmp(&b.0));
        let encoded = encode(&self.root_entries);
        self.root = Oid::hash_object(ObjectType::Tree, &encoded)?;
        self.objects
            .push((self.root, ObjectType::Tree, Bytes::Owned(encoded)));
        self.dirs.insert(String::new(), self.root);
        Ok(self)
    }

    /// Writes every object of the tree that `repo` does not have yet, and returns the root's id.
    pub(crate) fn write(&self, repo: &Repository) -> Result<Oid, GitError> {
        let odb = repo.odb()?;
        let mut seen = BTreeSet::new();
        let missing: Vec<&(Oid, ObjectType, Bytes<'_>)> = self
            .objects
            .iter()
            .filter(|(oid, ..)| seen.insert(*oid) && !odb.exists(*oid))
            .collect();
        if missing.len() < LOOSE_LIMIT {
            for (oid, kind, bytes) in &missing {
                let written = odb.write(*kind, bytes.as_slice())?;
                debug_assert_eq!(written, *oid);
            }
            return Ok(self.root);
        }
        let entries: Vec<Vec<u8>> = missing
            .par_iter()
            .map(|(_, kind, bytes)| pack_entry(*kind, bytes.as_slice()))
            .collect::<Result<_, _>>()?;
        let mut hash = Sha1::new();
        let mut writer = odb.packwriter()?;
        let mut put = |bytes: &[u8]| -> Result<(), GitError> {
            hash.update(bytes);
            writer.write_all(bytes).map_err(pack_error)
        };
        let mut header = b"PACK\0\0\0\x02".to_vec();
        header.extend_from_slice(
            &u32::try_from(entries.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        put(&header)?;
        for entry in &entries {
            put(entry)?;
        }
        let trailer = hash.finalize();
        writer.write_all(&trailer).map_err(pack_error)?;
        writer.commit()?;
        Ok(self.root)
    }
}

/// One object of a pack: its type and size, then its bytes deflated.
fn pack_entry(kind: ObjectType, bytes: &[u8]) -> Result<Vec<u8>, GitError> {
    let code: u8 = match kind {
        ObjectType::Commit => 1,
        ObjectType::Tree => 2,
        ObjectType::Blob => 3,
        _ => 4,
    };
    let mut size = bytes.len();
    let mut out = Vec::with_capacity(bytes.len() / 3 + 16);
    let mut first = (code << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(first | 0x80);
        first = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(first);
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::fast());
    z.write_all(bytes).map_err(pack_error)?;
    z.finish().map_err(pack_error)
}

fn pack_error(e: std::io::Error) -> GitError {
    GitError::Git(git2::Error::from_str(&format!(
        "cannot write a pack into the output repository: {e}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::FileMode;

    /// `n` clusters of a few files, with names that sort differently as files and as
    /// directories (`a-b`, `a.yaml`, `a/`, `a0`).
    fn files(n: usize, version: &str) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for i in 0..n {
            for name in ["a-b", "a.yaml", "a/x.yaml", "a0", "web/deployment-web.yaml"] {
                files.insert(
                    format!("prod/c{i}/{name}"),
                    format!("kind: X\ncluster: c{i}\nname: {name}\nversion: {version}\n")
                        .into_bytes(),
                );
            }
        }
        files.insert("hydrator.metadata".into(), b"{}\n".to_vec());
        files
    }

    /// The tree as libgit2's tree builder writes it, one loose object at a time.
    fn built(repo: &Repository, files: &BTreeMap<String, Vec<u8>>) -> Oid {
        #[derive(Default)]
        struct D {
            files: BTreeMap<String, Oid>,
            dirs: BTreeMap<String, D>,
        }
        let mut root = D::default();
        for (path, bytes) in files {
            let mut parts: Vec<&str> = path.split('/').collect();
            let name = parts.pop().unwrap();
            let mut dir = &mut root;
            for p in parts {
                dir = dir.dirs.entry(p.to_string()).or_default();
            }
            dir.files
                .insert(name.to_string(), repo.blob(bytes).unwrap());
        }
        fn build(repo: &Repository, dir: &D) -> Oid {
            let mut b = repo.treebuilder(None).unwrap();
            for (name, oid) in &dir.files {
                b.insert(name, *oid, FileMode::Blob.into()).unwrap();
            }
            for (name, sub) in &dir.dirs {
                b.insert(name, build(repo, sub), FileMode::Tree.into())
                    .unwrap();
            }
            b.write().unwrap()
        }
        build(repo, &root)
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    #[test]
    fn the_ids_are_the_ones_libgit2s_tree_builder_gives() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let files = files(3, "1");
        let hashed = hash_tree(&files).unwrap();
        assert_eq!(hashed.root, built(&repo, &files));
        assert_eq!(
            hashed.dirs["prod/c1"],
            repo.find_tree(hashed.root)
                .unwrap()
                .get_path(std::path::Path::new("prod/c1"))
                .unwrap()
                .id()
        );
    }

    #[test]
    fn a_large_tree_is_written_as_one_pack_that_git_fsck_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let files = files(100, "1");
        let root = write_tree_of(&repo, &files);
        assert_eq!(
            git(dir.path(), &["count-objects", "-v"]).lines().next(),
            Some("count: 0")
        );
        git(dir.path(), &["fsck", "--strict", "--no-dangling"]);
        let listed = git(dir.path(), &["ls-tree", "-r", &root.to_string()]);
        assert_eq!(listed.lines().count(), files.len());
        let back = crate::git::output::files_of(&repo, &repo.find_tree(root).unwrap()).unwrap();
        assert_eq!(back, files);

        // One cluster changed: only its objects and the trees above it are new, written loose.
        let mut changed = files.clone();
        changed.insert("prod/c7/a0".into(), b"changed\n".to_vec());
        let again = write_tree_of(&repo, &changed);
        let loose = git(dir.path(), &["count-objects", "-v"]);
        assert_eq!(loose.lines().next(), Some("count: 4"), "{loose}");
        git(dir.path(), &["fsck", "--strict", "--no-dangling"]);
        let back = crate::git::output::files_of(&repo, &repo.find_tree(again).unwrap()).unwrap();
        assert_eq!(back, changed);
    }

    fn write_tree_of(repo: &Repository, files: &BTreeMap<String, Vec<u8>>) -> Oid {
        let root = hash_tree(files).unwrap().write(repo).unwrap();
        // A tree whose objects are all there: nothing is written, the id is the same.
        assert_eq!(hash_tree(files).unwrap().write(repo).unwrap(), root);
        root
    }
}
