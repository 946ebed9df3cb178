//! What a publish leaves for the next one, in the output repository's git directory: the render
//! cache of the source it published, and for each environment the branch it wrote, the tree the
//! branch then held and the sha256 of each file. The next publish renders only the clusters
//! whose inputs changed, as `strata render` does against its output directory, and takes the
//! files of the others from the branch by their ids without reading them: a publish that
//! changes one cluster writes that cluster's objects and the trees above them.
//!
//! The record is believed only as far as the repository bears it out: an environment whose
//! branch no longer holds the recorded tree (moved by hand, by git, or by a publish that failed
//! half-way) has its clusters rendered again, and a record whose files do not add up to what
//! the kept clusters made is dropped, and every cluster rendered. A publish of one environment
//! (`--env`) neither uses nor writes the record.
//!
//! The file is a JSON head (the cache, and each environment's branch, tree and number of files)
//! followed by each environment's [`Digests`] packed: a fleet's environment holds hundreds of
//! thousands of files, and a map of strings per file cost more to read and write than the rest
//! of a publish of one changed cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::cache::{Cache, CachedCluster};
use crate::compile::Compiled;
use crate::emit::layout::{self, Place};
use crate::git::GitError;
use crate::git::output::{self, METADATA_FILE};
use crate::git::pack::{self, Kept};
use crate::object::RenderedObject;

/// The record's file in the output repository's git directory.
const FILE: &str = "strata-publish";
/// The record as older strata wrote it, all JSON: removed when a record is saved.
const OLD_FILE: &str = "strata-publish.json";
/// The first bytes of the record, which say how the rest is laid out.
const MAGIC: &[u8] = b"strata publish record 2\n";

/// The head of the record.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Head<C> {
    cache: C,
    environments: BTreeMap<String, Branch>,
}

/// One environment as the last publish left its branch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Branch {
    branch: String,
    /// The id of the branch's tree without `hydrator.metadata` ([`pack::id_without`]).
    tree: String,
    /// How many files its [`Digests`] hold.
    files: usize,
}

/// One environment as this publish leaves its branch, for [`save`].
pub(crate) struct Written {
    pub(crate) branch: String,
    /// The id of the branch's tree without `hydrator.metadata`.
    pub(crate) tree: String,
    pub(crate) digests: Digests,
}

/// The sha256 of each file of an environment's tree, by path (relative to the environment), in
/// path order: what the tree's digest ([`output::digest_of`]) is made of. Packed in one buffer
/// as the record stores them: for each file the length of its path (4 bytes, little-endian),
/// the path, and the 32 bytes of its sha256.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Digests {
    bytes: Vec<u8>,
    len: usize,
}

impl Digests {
    fn push(&mut self, path: &str, sha256: &[u8]) {
        let len = u32::try_from(path.len()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(path.as_bytes());
        self.bytes.extend_from_slice(sha256);
        self.len += 1;
    }

    /// Each file's path and sha256, in path order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        Entries(&self.bytes)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The digest of the tree these are the files of ([`output::tree_digest`]).
    pub(crate) fn tree_digest(&self) -> String {
        output::digest_of(
            self.iter()
                .map(|(path, sha256)| (path, crate::digest::hex(sha256))),
        )
    }

    /// The digests of `files`, and of the files of `kept` (none of which is in `files`).
    pub(crate) fn of(files: &BTreeMap<String, Vec<u8>>, kept: &Digests) -> Digests {
        use rayon::prelude::*;
        let hashed: Vec<[u8; 32]> = files
            .par_iter()
            .map(|(_, bytes)| Sha256::digest(bytes).into())
            .collect();
        let mut out = Digests {
            bytes: Vec::with_capacity(kept.bytes.len() + files.len() * 100),
            len: 0,
        };
        let mut new = files.keys().zip(&hashed).peekable();
        for (path, sha256) in kept.iter() {
            while let Some((p, s)) = new.next_if(|(p, _)| p.as_str() < path) {
                out.push(p, s);
            }
            if new.peek().is_some_and(|(p, _)| p.as_str() == path) {
                continue;
            }
            out.push(path, sha256);
        }
        for (p, s) in new {
            out.push(p, s);
        }
        out
    }

    /// The first `count` entries of `bytes`, and what follows them; `None` unless each path is
    /// UTF-8 and sorts after the one before.
    fn parse(bytes: &[u8], count: usize) -> Option<(Digests, &[u8])> {
        let mut rest = bytes;
        let mut last: Option<&[u8]> = None;
        for _ in 0..count {
            let (len, after) = rest.split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
            let (path, after) = after.split_at_checked(len)?;
            let (_, after) = after.split_at_checked(32)?;
            std::str::from_utf8(path).ok()?;
            if last.is_some_and(|l| l >= path) {
                return None;
            }
            last = Some(path);
            rest = after;
        }
        let used = bytes.len() - rest.len();
        Some((
            Digests {
                bytes: bytes[..used].to_vec(),
                len: count,
            },
            rest,
        ))
    }
}

/// The entries of a [`Digests`] buffer.
struct Entries<'a>(&'a [u8]);

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let (path, rest) = rest.split_at_checked(u32::from_le_bytes(*len) as usize)?;
        let (sha256, rest) = rest.split_at_checked(32)?;
        self.0 = rest;
        // Every path was UTF-8 when it was pushed or parsed.
        Some((std::str::from_utf8(path).ok()?, sha256))
    }
}

/// One environment of the last publish whose branch still holds what it wrote.
struct Recorded {
    /// The tree of the branch (with its metadata), which holds the recorded files.
    tree: Oid,
    digests: Digests,
}

/// The last publish's record, as far as the branches bear it out.
pub(crate) struct Last {
    cache: Cache,
    environments: BTreeMap<String, Recorded>,
    /// Reads objects back when the environment-leak rule checks a kept cluster again.
    repo: Mutex<Repository>,
}

fn path(out: &Repository) -> PathBuf {
    out.path().join(FILE)
}

/// The record of the last publish into `out` by this strata (`build`), with what the branches
/// no longer hold left out; `None` when there is none to use.
pub(crate) fn last(out: &Repository, build: &str) -> Option<Last> {
    let bytes = std::fs::read(path(out)).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    let (json, mut rest) =
        rest.split_at_checked(usize::try_from(u64::from_le_bytes(*len)).ok()?)?;
    let head: Head<Cache> = serde_json::from_slice(json).ok()?;
    let mut cache = head.cache;
    if cache.build != build || build.is_empty() {
        return None;
    }
    let mut environments = BTreeMap::new();
    for (env, written) in head.environments {
        let (digests, after) = Digests::parse(rest, written.files)?;
        rest = after;
        let Ok(Some(tip)) = output::tip(out, &written.branch) else {
            continue;
        };
        let Ok(tree) = tip.tree() else {
            continue;
        };
        if pack::id_without(&tree, METADATA_FILE).is_ok_and(|id| id.to_string() == written.tree) {
            let tree = tree.id();
            environments.insert(env, Recorded { tree, digests });
        }
    }
    if !rest.is_empty() {
        return None;
    }
    cache
        .clusters
        .retain(|_, c| environments.contains_key(&c.environment));
    let repo = Repository::open(out.path()).ok()?;
    Some(Last {
        cache,
        environments,
        repo: Mutex::new(repo),
    })
}

impl Last {
    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The objects of a kept cluster, read back from its environment's branch.
    pub(crate) fn objects(&self, cluster: &str) -> Option<Vec<RenderedObject>> {
        let record = self.cache.clusters.get(cluster)?;
        let tree_id = self.environments.get(&record.environment)?.tree;
        let repo = self.repo.lock().ok()?;
        let tree = repo.find_tree(tree_id).ok()?;
        let prefix = layout::environment_dir(&record.environment);
        let mut objects = Vec::new();
        for file in record.files.paths() {
            let Some(Place::Object { component, .. }) = layout::place(&file) else {
                continue;
            };
            let entry = tree
                .get_path(std::path::Path::new(file.strip_prefix(&prefix)?))
                .ok()?;
            let blob = repo.find_blob(entry.id()).ok()?;
            let object: serde_json::Value = yaml_serde::from_slice(blob.content()).ok()?;
            objects.push(RenderedObject {
                environment: record.environment.clone(),
                cluster: cluster.to_string(),
                component: component.to_string(),
                file: file.clone(),
                object,
            });
        }
        Some(objects)
    }
}

/// What one environment's tree keeps from the last publish: the entries taken by id from its
/// branch, and the digests of the files they hold.
#[derive(Debug, Default)]
pub(crate) struct Keep {
    pub(crate) kept: BTreeMap<String, Kept>,
    pub(crate) digests: Digests,
}

/// What the tree of `env` keeps from `last` for the clusters `compiled` reused: every such
/// cluster's directory whole, by its id, and its Applications by theirs. Only the clusters
/// rendered again, and those gone, are looked at file by file. `None` when the record does not
/// hold up (a file the branch lacks, a digest too many or too few): the caller renders every
/// cluster then.
pub(crate) fn keep(
    out: &Repository,
    env: &str,
    compiled: &Compiled,
    last: Option<&Last>,
) -> Result<Option<Keep>, GitError> {
    let here: BTreeSet<&str> = compiled
        .all
        .iter()
        .filter(|c| c.environment == env)
        .map(|c| c.name.as_str())
        .collect();
    let kept_here: BTreeSet<&str> = compiled
        .reused
        .iter()
        .map(String::as_str)
        .filter(|name| here.contains(name))
        .collect();
    if kept_here.is_empty() {
        return Ok(Some(Keep::default()));
    }
    let Some((last, recorded)) = last.and_then(|l| Some((l, l.environments.get(env)?))) else {
        return Ok(None);
    };
    let tree = out.find_tree(recorded.tree)?;
    let prefix = layout::environment_dir(env);
    // Every cluster directory of the environment: a kept one is taken whole only when no
    // other cluster's directory is inside it.
    let dirs: BTreeSet<String> = last
        .cache
        .clusters
        .values()
        .chain(compiled.cache.clusters.values())
        .filter_map(|c| cluster_dir(c, env))
        .collect();
    let mut entries = Ids {
        out,
        tree: &tree,
        dirs: BTreeMap::new(),
    };
    let mut kept = BTreeMap::new();
    let mut files = 0;
    for name in &kept_here {
        let Some(record) = last.cache.clusters.get(*name) else {
            return Ok(None);
        };
        let whole = cluster_dir(record, env).filter(|d| !holds_another(&dirs, d));
        let inside = whole.as_ref().map(|d| format!("{d}/"));
        for file in record.files.paths() {
            let Some(rel) = file.strip_prefix(&prefix) else {
                continue;
            };
            files += 1;
            if inside.as_ref().is_some_and(|d| rel.starts_with(d.as_str())) {
                continue;
            }
            let Some(id) = entries.id_of(rel) else {
                return Ok(None);
            };
            kept.insert(rel.to_string(), Kept::File(id));
        }
        if let Some(dir) = whole {
            let Ok(entry) = tree.get_path(std::path::Path::new(&dir)) else {
                return Ok(None);
            };
            kept.insert(dir.to_string(), Kept::Dir(entry.id()));
        }
    }
    // The recorded digests, but for the files of the clusters rendered again or gone and those
    // rendered now: what is left must be the kept clusters' files, one for one.
    let dropped: BTreeSet<String> = last
        .cache
        .clusters
        .iter()
        .filter(|(name, c)| c.environment == env && !kept_here.contains(name.as_str()))
        .flat_map(|(_, c)| c.files.paths())
        .filter_map(|f| f.strip_prefix(&prefix).map(str::to_string))
        .collect();
    let mut rendered = compiled
        .tree
        .files
        .range(prefix.clone()..)
        .map(|(path, _)| path)
        .take_while(|path| path.starts_with(&prefix))
        .map(|path| &path[prefix.len()..])
        .peekable();
    let mut digests = Digests::default();
    for (path, sha256) in recorded.digests.iter() {
        while rendered.next_if(|r| *r < path).is_some() {}
        if rendered.peek() == Some(&path) || dropped.contains(path) {
            continue;
        }
        digests.push(path, sha256);
    }
    if digests.len() != files || collides(&kept, &compiled.tree.files, &prefix) {
        return Ok(None);
    }
    Ok(Some(Keep { kept, digests }))
}

/// The directory of a cluster within the branch of `env` (`sto2/workload`), from the last of
/// its files in a component's directory.
fn cluster_dir(cluster: &CachedCluster, env: &str) -> Option<String> {
    let mut last = None;
    cluster.files.for_each(|f, _| {
        if let Some(Place::Object {
            environment,
            cluster,
            ..
        }) = layout::place(f)
        {
            let here = (environment == env).then_some(cluster);
            if last.as_ref().map(Option::as_deref) != Some(here) {
                last = Some(here.map(str::to_string));
            }
        }
    });
    last.flatten()
}

/// Whether a directory kept whole holds a file rendered now or another kept entry: the tree
/// would then name it twice.
fn collides(
    kept: &BTreeMap<String, Kept>,
    rendered: &BTreeMap<String, Vec<u8>>,
    prefix: &str,
) -> bool {
    kept.iter().any(|(path, entry)| {
        let inside = format!("{path}/");
        let full = format!("{prefix}{inside}");
        matches!(entry, Kept::Dir(_))
            && (kept
                .range(inside.clone()..)
                .next()
                .is_some_and(|(p, _)| p.starts_with(&inside))
                || rendered
                    .range(full.clone()..)
                    .next()
                    .is_some_and(|(p, _)| p.starts_with(&full)))
    })
}

/// The ids of a tree's files, each directory read once: an environment's `argocd/apps` holds an
/// Application per cluster and component, and looking each up from the root would parse that
/// directory again every time.
struct Ids<'r> {
    out: &'r Repository,
    tree: &'r git2::Tree<'r>,
    dirs: BTreeMap<String, BTreeMap<Vec<u8>, Oid>>,
}

impl Ids<'_> {
    /// The id of the file at `path`, `None` when the tree has no file there.
    fn id_of(&mut self, path: &str) -> Option<Oid> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if !self.dirs.contains_key(dir) {
            let listed = if dir.is_empty() {
                self.tree.clone()
            } else {
                let entry = self.tree.get_path(std::path::Path::new(dir)).ok()?;
                self.out.find_tree(entry.id()).ok()?
            };
            let ids = listed
                .iter()
                .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
                .map(|e| (e.name_bytes().to_vec(), e.id()))
                .collect();
            self.dirs.insert(dir.to_string(), ids);
        }
        self.dirs.get(dir)?.get(name.as_bytes()).copied()
    }
}

/// Whether another cluster's directory is inside `dir`.
fn holds_another(dirs: &BTreeSet<String>, dir: &str) -> bool {
    let inside = format!("{dir}/");
    use std::ops::Bound;
    dirs.range::<str, _>((Bound::Included(inside.as_str()), Bound::Unbounded))
        .next()
        .is_some_and(|d| d.starts_with(&inside))
}

/// Saves what this publish left: `compiled`'s cache and each environment's `written` branch.
/// A failure to save costs the next publish its reuse, nothing else.
pub(crate) fn save(out: &Repository, compiled: &Compiled, written: BTreeMap<String, Written>) {
    let head = Head {
        cache: &compiled.cache,
        environments: written
            .iter()
            .map(|(env, w)| {
                let branch = Branch {
                    branch: w.branch.clone(),
                    tree: w.tree.clone(),
                    files: w.digests.len(),
                };
                (env.clone(), branch)
            })
            .collect(),
    };
    let head =
        |w: &mut dyn std::io::Write| serde_json::to_writer(w, &head).map_err(std::io::Error::other);
    if write(out, head, written.values().map(|w| &w.digests)).is_ok() {
        let _ = std::fs::remove_file(out.path().join(OLD_FILE));
    }
}

/// Writes the record: its head (JSON, which `head` writes) and `digests` (in the order of its
/// environments), whole or not at all. Streamed: the head of a large fleet is tens of MB.
fn write<'a>(
    out: &Repository,
    head: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    digests: impl Iterator<Item = &'a Digests>,
) -> std::io::Result<()> {
    use std::io::{Seek as _, SeekFrom};
    let to = path(out);
    let tmp = to.with_extension("tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    file.write_all(MAGIC)?;
    // The head's length, known once it is written.
    file.write_all(&[0; 8])?;
    let start = file.stream_position()?;
    head(&mut file)?;
    let len = file.stream_position()? - start;
    for d in digests {
        file.write_all(&d.bytes)?;
    }
    let mut file = file
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.seek(SeekFrom::Start(MAGIC.len() as u64))?;
    file.write_all(&len.to_le_bytes())?;
    drop(file);
    std::fs::rename(&tmp, &to)
}

/// Rewrites the record of `out` with each environment's digests (path, sha256) as `edit`
/// leaves them: how a test makes a record that does not hold up.
#[cfg(test)]
pub(crate) fn edit_digests(out: &Repository, edit: impl Fn(&str, &mut Vec<(String, Vec<u8>)>)) {
    let bytes = std::fs::read(path(out)).expect("a record");
    let rest = bytes.strip_prefix(MAGIC).expect("the record's first bytes");
    let (len, rest) = rest.split_first_chunk::<8>().expect("the head's length");
    let (json, mut rest) = rest.split_at(u64::from_le_bytes(*len) as usize);
    let mut head: Head<serde_json::Value> = serde_json::from_slice(json).expect("the head");
    let mut packed = Vec::new();
    for (env, branch) in &mut head.environments {
        let (digests, after) = Digests::parse(rest, branch.files).expect("the digests");
        rest = after;
        let mut entries: Vec<(String, Vec<u8>)> = digests
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_vec()))
            .collect();
        edit(env, &mut entries);
        let mut edited = Digests::default();
        for (p, s) in &entries {
            edited.push(p, s);
        }
        branch.files = edited.len();
        packed.push(edited);
    }
    let json =
        |w: &mut dyn std::io::Write| serde_json::to_writer(w, &head).map_err(std::io::Error::other);
    write(out, json, packed.iter()).expect("write the record");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        files
            .iter()
            .map(|(p, b)| ((*p).to_string(), b.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn the_digests_of_kept_and_new_files_are_the_tree_digest_of_all_of_them() {
        let all = digests(&[
            ("a/x.yaml", "1"),
            ("b/y.yaml", "2"),
            ("b/z.yaml", "3"),
            ("c.yaml", "4"),
        ]);
        let old = Digests::of(
            &digests(&[("a/x.yaml", "1"), ("b/z.yaml", "3"), ("c.yaml", "old")]),
            &Digests::default(),
        );
        let merged = Digests::of(&digests(&[("b/y.yaml", "2"), ("c.yaml", "4")]), &old);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged.tree_digest(), output::tree_digest(&all));
        assert_eq!(merged, Digests::of(&all, &Digests::default()));
        let (parsed, rest) = Digests::parse(&merged.bytes, 4).expect("parses");
        assert!(rest.is_empty());
        assert_eq!(parsed, merged);
    }

    #[test]
    fn digests_out_of_order_or_cut_short_do_not_parse() {
        let mut unsorted = Digests::default();
        unsorted.push("b", &[0; 32]);
        unsorted.push("a", &[0; 32]);
        assert!(Digests::parse(&unsorted.bytes, 2).is_none());
        let sorted = Digests::of(&digests(&[("a", "1"), ("b", "2")]), &Digests::default());
        assert!(Digests::parse(&sorted.bytes, 3).is_none());
        assert!(Digests::parse(&sorted.bytes[..sorted.bytes.len() - 1], 2).is_none());
    }
}
