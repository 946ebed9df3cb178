//! What a publish leaves for the next one, in the output repository's git directory: the render
//! cache of the source it published, and for each environment the branch it wrote, the tree the
//! branch then held and the sha256 of each file. The next publish renders only the clusters
//! whose inputs changed, as `strata render` does against its output directory, and takes the
//! files of the others from the branch by their ids without reading them: a publish that
//! changes one cluster writes that cluster's objects and the trees above them.
//!
//! The record is believed only as far as the repository bears it out: an environment whose
//! branch no longer holds the recorded tree (moved by hand, by git, or by a publish that failed
//! half-way) has its clusters rendered again. A publish of one environment (`--env`) neither
//! uses nor writes the record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::compile::Compiled;
use crate::emit::layout::{self, Place};
use crate::git::GitError;
use crate::git::output::{self, METADATA_FILE};
use crate::git::pack::{self, Kept};
use crate::object::RenderedObject;

/// The record's file in the output repository's git directory.
const FILE: &str = "strata-publish.json";

/// What the last publish left.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) cache: Cache,
    pub(crate) environments: BTreeMap<String, Written>,
}

/// One environment as the last publish left its branch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Written {
    pub(crate) branch: String,
    /// The id of the branch's tree without `hydrator.metadata` ([`pack::id_without`]).
    pub(crate) tree: String,
    /// The sha256 of each file, by its path in the environment's tree.
    pub(crate) files: BTreeMap<String, String>,
}

/// The last publish's record, as far as the branches bear it out.
pub(crate) struct Last {
    record: Record,
    /// The tree of each environment's branch, which holds the recorded files.
    trees: BTreeMap<String, Oid>,
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
    let mut record: Record = serde_json::from_slice(&bytes).ok()?;
    if record.cache.build != build || build.is_empty() {
        return None;
    }
    let mut trees = BTreeMap::new();
    for (env, written) in &record.environments {
        let Ok(Some(tip)) = output::tip(out, &written.branch) else {
            continue;
        };
        let Ok(tree) = tip.tree() else {
            continue;
        };
        if pack::id_without(&tree, METADATA_FILE).is_ok_and(|id| id.to_string() == written.tree) {
            trees.insert(env.clone(), tree.id());
        }
    }
    record.environments.retain(|env, _| trees.contains_key(env));
    record
        .cache
        .clusters
        .retain(|_, c| trees.contains_key(&c.environment));
    let repo = Repository::open(out.path()).ok()?;
    Some(Last {
        record,
        trees,
        repo: Mutex::new(repo),
    })
}

impl Last {
    pub(crate) fn cache(&self) -> &Cache {
        &self.record.cache
    }

    /// The objects of a kept cluster, read back from its environment's branch.
    pub(crate) fn objects(&self, cluster: &str) -> Option<Vec<RenderedObject>> {
        let record = self.record.cache.clusters.get(cluster)?;
        let tree_id = *self.trees.get(&record.environment)?;
        let repo = self.repo.lock().ok()?;
        let tree = repo.find_tree(tree_id).ok()?;
        let prefix = layout::environment_dir(&record.environment);
        let mut objects = Vec::new();
        for file in record.files.keys() {
            let Some(Place::Object { component, .. }) = layout::place(file) else {
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

/// One environment's tree as this publish writes it: the files rendered now, the entries
/// kept from the branch, and the sha256 of every file.
pub(crate) struct Assembled {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) kept: BTreeMap<String, Kept>,
    pub(crate) sha256: BTreeMap<String, String>,
}

/// The tree of `env`: the files `compiled` rendered, and those of the clusters it kept from
/// `last` (every cluster's directory whole, by its id, and its Applications by theirs).
pub(crate) fn assemble(
    out: &Repository,
    env: &str,
    compiled: &Compiled,
    last: Option<&Last>,
) -> Result<Assembled, GitError> {
    use rayon::prelude::*;
    let files = compiled.tree.environment(env);
    let mut sha256: BTreeMap<String, String> = files
        .par_iter()
        .map(|(path, bytes)| (path.clone(), crate::digest::sha256_hex(bytes)))
        .collect();
    let mut kept = BTreeMap::new();
    let kept_here: Vec<&String> = compiled
        .reused
        .iter()
        .filter(|name| {
            compiled
                .all
                .iter()
                .any(|c| &c.name == *name && c.environment == env)
        })
        .collect();
    let (Some(last), false) = (last, kept_here.is_empty()) else {
        return Ok(Assembled {
            files,
            kept,
            sha256,
        });
    };
    let (Some(tree_id), Some(written)) = (last.trees.get(env), last.record.environments.get(env))
    else {
        return Err(GitError::Git(git2::Error::from_str(&format!(
            "the record of the last publish keeps clusters of {env} but not its branch"
        ))));
    };
    let tree = out.find_tree(*tree_id)?;
    let prefix = layout::environment_dir(env);
    // Every cluster directory of the environment: a kept one is taken whole only when no
    // other cluster's directory is inside it.
    let dirs: BTreeSet<String> = last
        .record
        .cache
        .clusters
        .values()
        .chain(compiled.cache.clusters.values())
        .flat_map(|c| c.files.keys())
        .filter_map(|f| match layout::place(f) {
            Some(Place::Object {
                environment,
                cluster,
                ..
            }) if environment == env => Some(cluster.to_string()),
            _ => None,
        })
        .collect();
    let mut entries = Entries {
        out,
        tree: &tree,
        dirs: BTreeMap::new(),
    };
    for name in kept_here {
        let Some(record) = last.record.cache.clusters.get(name) else {
            continue;
        };
        let mut whole: Option<&str> = None;
        for file in record.files.keys() {
            let Some(rel) = file.strip_prefix(&prefix) else {
                continue;
            };
            let sha = written.files.get(rel).cloned().ok_or_else(|| {
                GitError::Git(git2::Error::from_str(&format!(
                    "the record of the last publish has no digest of {file}"
                )))
            })?;
            sha256.insert(rel.to_string(), sha);
            match layout::place(file) {
                Some(Place::Object { cluster, .. }) if !holds_another(&dirs, cluster) => {
                    whole = Some(cluster);
                }
                _ => {
                    kept.insert(rel.to_string(), Kept::File(entries.id_of(rel)?));
                }
            }
        }
        if let Some(dir) = whole {
            let entry = tree.get_path(std::path::Path::new(dir))?;
            kept.insert(dir.to_string(), Kept::Dir(entry.id()));
        }
    }
    Ok(Assembled {
        files,
        kept,
        sha256,
    })
}

/// The ids of a tree's files, each directory read once: an environment's `argocd/apps` holds an
/// Application per cluster and component, and looking each up from the root would parse that
/// directory again every time.
struct Entries<'r> {
    out: &'r Repository,
    tree: &'r git2::Tree<'r>,
    dirs: BTreeMap<String, BTreeMap<Vec<u8>, Oid>>,
}

impl Entries<'_> {
    fn id_of(&mut self, path: &str) -> Result<Oid, GitError> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        if !self.dirs.contains_key(dir) {
            let listed = if dir.is_empty() {
                self.tree.clone()
            } else {
                let entry = self.tree.get_path(std::path::Path::new(dir))?;
                self.out.find_tree(entry.id())?
            };
            let ids = listed
                .iter()
                .map(|e| (e.name_bytes().to_vec(), e.id()))
                .collect();
            self.dirs.insert(dir.to_string(), ids);
        }
        self.dirs
            .get(dir)
            .and_then(|ids| ids.get(name.as_bytes()))
            .copied()
            .ok_or_else(|| {
                GitError::Git(git2::Error::from_str(&format!(
                    "{path} is not in the tree the last publish recorded"
                )))
            })
    }
}

/// Whether another cluster's directory is inside `dir`.
fn holds_another(dirs: &BTreeSet<String>, dir: &str) -> bool {
    let inside = format!("{dir}/");
    dirs.range(inside.clone()..)
        .next()
        .is_some_and(|d| d.starts_with(&inside))
}

/// Saves what this publish left: `compiled`'s cache and each environment's `written` branch.
/// A failure to save costs the next publish its reuse, nothing else.
pub(crate) fn save(out: &Repository, compiled: &Compiled, written: BTreeMap<String, Written>) {
    let record = Record {
        cache: compiled.cache.clone(),
        environments: written,
    };
    let Ok(json) = serde_json::to_vec(&record) else {
        return;
    };
    let to = path(out);
    let tmp = to.with_extension("tmp");
    if std::fs::write(&tmp, json).is_ok() {
        let _ = std::fs::rename(&tmp, &to);
    }
}
