//! The pending change of an environment: `diff` of `env/<e>` against `env/<e>-next`, the
//! trees a promotion would merge.
//!
//! A proposal changes a few files of a tree that may hold a fleet's. Git names every file and
//! directory by the hash of its content, so the two trees are walked side by side and a
//! directory with the same id on both sides is skipped unread: only the files whose blobs
//! differ are read and handed to `diff`, with the Applications of the clusters they are in
//! (`diff` names a cluster after the Application that deploys it). A file that is the same on
//! both sides gives no entry in a diff, so the entries are those of the whole trees.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree};

use super::model::{ClusterChanges, ResourceChange};
use crate::emit::{OutputTree, layout};
use crate::git::output::{self, METADATA_FILE};

/// `diff` of `env/<e>` against `env/<e>-next`, one entry per cluster path in `diff`'s order;
/// or why it could not be compared.
pub(super) fn pending_change(
    out: &Repository,
    env: &str,
    branch: &str,
) -> Result<Vec<ClusterChanges>, String> {
    let why = |e: String| format!("the pending change of {branch} could not be compared: {e}");
    let (base, head) = changed_trees(out, env, branch, &format!("{branch}-next")).map_err(why)?;
    let diff = crate::compare::diff::diff(&base, &head).map_err(|e| why(e.to_string()))?;
    let mut changes: Vec<ClusterChanges> = Vec::new();
    for r in diff.resources {
        let kind = if r.key.id.group.is_empty() {
            r.key.id.kind.clone()
        } else {
            format!("{}/{}", r.key.id.group, r.key.id.kind)
        };
        let resource = ResourceChange {
            status: r.status,
            component: r.key.component.clone(),
            kind,
            namespace: r.key.id.namespace.clone(),
            name: r.key.id.name.clone(),
            changed_paths: r.changed_paths.clone(),
            unified: r.unified.clone(),
        };
        match changes.last_mut() {
            Some(c) if c.cluster == r.key.cluster => c.resources.push(resource),
            _ => changes.push(ClusterChanges {
                cluster: r.key.cluster.clone(),
                cluster_name: r.cluster_name.clone(),
                resources: vec![resource],
            }),
        }
    }
    Ok(changes)
}

/// The files of `base` and `head` (branches; a missing one is empty) that differ between
/// them, and the Applications of each cluster they are in, as output trees under the
/// environment's directory. `hydrator.metadata` is left out.
fn changed_trees(
    out: &Repository,
    env: &str,
    base: &str,
    head: &str,
) -> Result<(OutputTree, OutputTree), String> {
    let tree = |branch: &str| -> Result<Option<Tree<'_>>, String> {
        match output::tip(out, branch).map_err(|e| e.to_string())? {
            Some(c) => c.tree().map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    };
    let (base_tree, head_tree) = (tree(base)?, tree(head)?);
    let prefix = layout::environment_dir(env);
    let mut sides = Sides::default();
    walk(
        out,
        base_tree.as_ref(),
        head_tree.as_ref(),
        prefix.trim_end_matches('/'),
        &mut sides,
    )
    .map_err(|e| e.to_string())?;
    sides.base.remove(&format!("{prefix}{METADATA_FILE}"));
    sides.head.remove(&format!("{prefix}{METADATA_FILE}"));

    // The Applications of every cluster with a changed file, from both trees.
    let clusters: BTreeSet<String> = sides
        .base
        .keys()
        .chain(sides.head.keys())
        .filter_map(|path| match layout::place(path) {
            Some(layout::Place::Object { cluster, .. }) => Some(cluster.to_string()),
            _ => None,
        })
        .collect();
    for (side, tree) in [(&mut sides.base, &base_tree), (&mut sides.head, &head_tree)] {
        let Some(tree) = tree else {
            continue;
        };
        let mut dirs = Dirs::new(out, tree);
        for cluster in &clusters {
            let Some(dir) = dirs.get(cluster) else {
                continue;
            };
            for component in dir.iter().filter_map(|e| e.name().map(str::to_string).ok()) {
                let path = layout::application_path(env, cluster, &component);
                let Some(in_branch) = path.strip_prefix(&prefix) else {
                    continue;
                };
                if side.contains_key(&path) {
                    continue;
                }
                let (parent, name) = in_branch.rsplit_once('/').unwrap_or(("", in_branch));
                if let Some(parent) = dirs.get(parent)
                    && let Some(entry) = parent.get_name(name)
                    && let Ok(blob) = out.find_blob(entry.id())
                {
                    side.insert(path, blob.content().to_vec());
                }
            }
        }
    }
    Ok((
        OutputTree { files: sides.base },
        OutputTree { files: sides.head },
    ))
}

/// The directories of one tree by their path, each read once. `Tree::get_path` reads every
/// directory on the way from the root anew, and `argocd/apps` lists the Applications of the
/// whole environment: looked up for each Application of each changed cluster, it would be read
/// as many times.
struct Dirs<'r> {
    out: &'r Repository,
    root: Tree<'r>,
    read: BTreeMap<String, Option<Tree<'r>>>,
}

impl<'r> Dirs<'r> {
    fn new(out: &'r Repository, root: &Tree<'r>) -> Dirs<'r> {
        Dirs {
            out,
            root: root.clone(),
            read: BTreeMap::new(),
        }
    }

    /// The directory at `path` (`""` is the root), if there is one.
    fn get(&mut self, path: &str) -> Option<Tree<'r>> {
        if path.is_empty() {
            return Some(self.root.clone());
        }
        if let Some(dir) = self.read.get(path) {
            return dir.clone();
        }
        let dir = self
            .root
            .get_path(Path::new(path))
            .ok()
            .and_then(|e| self.out.find_tree(e.id()).ok());
        self.read.insert(path.to_string(), dir.clone());
        dir
    }
}

/// The files read from each side.
#[derive(Default)]
struct Sides {
    base: BTreeMap<String, Vec<u8>>,
    head: BTreeMap<String, Vec<u8>>,
}

/// One entry of a tree: a directory or a file, by id. Names that are not UTF-8 and entries
/// that are neither are left out, as [`output::files_of`] leaves them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Dir(Oid),
    File(Oid),
}

fn entries(tree: Option<&Tree<'_>>) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for e in tree.into_iter().flat_map(|t| t.iter()) {
        let Ok(name) = e.name() else {
            continue;
        };
        let entry = match e.kind() {
            Some(ObjectType::Tree) => Entry::Dir(e.id()),
            Some(ObjectType::Blob) => Entry::File(e.id()),
            _ => continue,
        };
        out.insert(name.to_string(), entry);
    }
    out
}

/// Reads into `sides` every file under `prefix` whose blob differs between `base` and `head`
/// (a file on one side only included), skipping what has the same id on both.
fn walk(
    out: &Repository,
    base: Option<&Tree<'_>>,
    head: Option<&Tree<'_>>,
    prefix: &str,
    sides: &mut Sides,
) -> Result<(), git2::Error> {
    if let (Some(b), Some(h)) = (base, head)
        && b.id() == h.id()
    {
        return Ok(());
    }
    let (old, new) = (entries(base), entries(head));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let (b, h) = (old.get(name).copied(), new.get(name).copied());
        if b == h {
            continue;
        }
        let path = format!("{prefix}/{name}");
        let dir = |e: Option<Entry>| -> Result<Option<Tree<'_>>, git2::Error> {
            match e {
                Some(Entry::Dir(id)) => out.find_tree(id).map(Some),
                _ => Ok(None),
            }
        };
        let (b_dir, h_dir) = (dir(b)?, dir(h)?);
        if b_dir.is_some() || h_dir.is_some() {
            walk(out, b_dir.as_ref(), h_dir.as_ref(), &path, sides)?;
        }
        if let Some(Entry::File(id)) = b {
            sides
                .base
                .insert(path.clone(), out.find_blob(id)?.content().to_vec());
        }
        if let Some(Entry::File(id)) = h {
            sides
                .head
                .insert(path, out.find_blob(id)?.content().to_vec());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::output::write_tree;

    fn app(cluster: &str, path: &str, component: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  labels:\n    strata.dev/cluster: {cluster}\n  name: {cluster}-{component}\n  namespace: argocd\nspec:\n  source:\n    path: {path}/{component}\n"
        )
    }

    fn config_map(name: &str, value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: kured\ndata:\n  key: {value}\n"
        )
    }

    fn branch(repo: &Repository, name: &str, files: &BTreeMap<String, String>) {
        let bytes = files
            .iter()
            .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
            .collect();
        let tree = repo
            .find_tree(write_tree(repo, &bytes).expect("tree"))
            .expect("find");
        let who = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0)).expect("sig");
        repo.commit(
            Some(&format!("refs/heads/{name}")),
            &who,
            &who,
            name,
            &tree,
            &[],
        )
        .expect("commit");
    }

    /// The whole tree of a branch as `diff` reads it.
    fn whole(repo: &Repository, env: &str, name: &str) -> OutputTree {
        let tip = output::tip(repo, name).expect("read").expect("tip");
        let files = output::files_of(repo, &tip.tree().expect("tree")).expect("files");
        OutputTree {
            files: files
                .into_iter()
                .filter(|(p, _)| p != METADATA_FILE)
                .map(|(p, b)| (format!("{env}/{p}"), b))
                .collect(),
        }
    }

    #[test]
    fn the_changed_files_give_the_diff_of_the_whole_trees() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let mut base: BTreeMap<String, String> = BTreeMap::new();
        base.insert(METADATA_FILE.into(), "{\"drySha\": \"a\"}".into());
        for (cluster, path) in [
            ("prod-sto2-workload", "sto2/workload"),
            ("prod-osl2-workload", "osl2/workload"),
        ] {
            for component in ["kured", "dex"] {
                base.insert(
                    format!("{path}/{component}/configmap-{component}.yaml"),
                    config_map(component, "1"),
                );
                base.insert(
                    format!("argocd/apps/{}-{component}.yaml", path.replace('/', "-")),
                    app(cluster, path, component),
                );
            }
        }
        let mut head = base.clone();
        head.insert(METADATA_FILE.into(), "{\"drySha\": \"b\"}".into());
        // Changed, moved to another file, removed with its Application, and added.
        head.insert(
            "sto2/workload/kured/configmap-kured.yaml".into(),
            config_map("kured", "2"),
        );
        let moved = head
            .remove("osl2/workload/kured/configmap-kured.yaml")
            .expect("there");
        head.insert("osl2/workload/kured/renamed.yaml".into(), moved);
        head.remove("osl2/workload/dex/configmap-dex.yaml");
        head.remove("argocd/apps/osl2-workload-dex.yaml");
        head.insert(
            "sto2/workload/kured/configmap-extra.yaml".into(),
            config_map("extra", "1"),
        );
        branch(&repo, "env/prod", &base);
        branch(&repo, "env/prod-next", &head);

        let (b, h) = changed_trees(&repo, "prod", "env/prod", "env/prod-next").expect("read");
        let read: Vec<&String> = b.files.keys().chain(h.files.keys()).collect();
        assert!(
            !read
                .iter()
                .any(|p| p.starts_with("prod/sto2/workload/dex/")),
            "an unchanged directory was read: {read:?}"
        );
        let ours = crate::compare::diff::diff(&b, &h).expect("diff");
        let theirs = crate::compare::diff::diff(
            &whole(&repo, "prod", "env/prod"),
            &whole(&repo, "prod", "env/prod-next"),
        )
        .expect("diff");
        assert_eq!(ours, theirs);
        let names: Vec<(&str, Option<&str>)> = ours
            .resources
            .iter()
            .map(|r| (r.key.cluster.as_str(), r.cluster_name.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("argocd", Some("prod-osl2-workload")),
                ("osl2/workload", Some("prod-osl2-workload")),
                ("sto2/workload", Some("prod-sto2-workload")),
                ("sto2/workload", Some("prod-sto2-workload")),
            ]
        );
    }
}
