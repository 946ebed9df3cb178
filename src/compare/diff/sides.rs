//! The two renders a diff compares, compiled so that the cost follows the change.
//!
//! The base is compiled whole. The head is compiled against the base's render cache, as an
//! incremental render is against the last one: a cluster whose inputs hash the same on both
//! sides ([`crate::compile`]'s input hashes) renders the same files, so the head does not render
//! it again and the base's files of it are left out of the comparison; so are the files of a
//! changed cluster's components whose own inputs are equal. Its policy findings are
//! the base's, and when environment-leak ownership differs between the sides its objects (read
//! back from the base's tree) are checked again against the head's, so that a leak the change
//! introduces in an untouched cluster is still found.
//!
//! The head reuses nothing when its command sources run under another allow-list than the
//! base's (`--allow-from` another revision's): the same inputs could then render differently.

use crate::cache::{self, Cache};
use crate::compile::{self, Compiled, Options, Selection};
use crate::diag::Failure;
use crate::emit::OutputTree;
use crate::emit::layout::{self, Place};
use crate::load::Promotion;
use crate::object::RenderedObject;
use crate::policy::Violation;
use crate::world::World;

/// One side of the diff: its tree, its promotion policy and its policy violations.
#[derive(Debug, Default)]
pub(crate) struct Side {
    pub(crate) tree: OutputTree,
    pub(crate) promotion: Option<Promotion>,
    pub(crate) violations: Vec<Violation>,
}

/// How to compile the two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// Both sides whole, at once: what the narrowed compile must match, kept for the tests
    /// that prove it does.
    Whole,
    /// The head against the base's cache: clusters equal on both sides are compiled once and
    /// left out of both trees.
    Narrowed,
}

/// Compiles both sides past their policy errors (a change that breaks a policy is the one a
/// reviewer most needs to see). A side without strata.yaml (a base from before the platform
/// existed) is empty: everything shows as added. The trees hold every file that may differ;
/// with [`How::Narrowed`] the files of clusters equal on both sides are in neither.
pub(crate) fn compile(
    base: &dyn World,
    head: &dyn World,
    how: How,
) -> (Result<Side, Failure>, Result<Side, Failure>) {
    match how {
        How::Whole => rayon::join(
            || side(base, &whole()).map(|c| c.into()),
            || side(head, &whole()).map(|c| c.into()),
        ),
        How::Narrowed => narrowed(base, head),
    }
}

fn whole() -> Options<'static> {
    Options {
        past_policy: true,
        ..Options::default()
    }
}

/// Compiles `world` with `options`, or gives an empty compile when it has no strata.yaml.
fn side(world: &dyn World, options: &Options<'_>) -> Result<Option<Compiled>, Failure> {
    if world.read("strata.yaml").is_none() {
        return Ok(None);
    }
    compile::compile_with(world, &Selection::default(), options).map(Some)
}

impl From<Option<Compiled>> for Side {
    fn from(compiled: Option<Compiled>) -> Side {
        match compiled {
            Some(c) => Side {
                tree: c.tree,
                promotion: c.source.settings.promotion,
                violations: c.violations,
            },
            None => Side::default(),
        }
    }
}

fn narrowed(base: &dyn World, head: &dyn World) -> (Result<Side, Failure>, Result<Side, Failure>) {
    // Any name that both sides share: the input hashes of the two sides only meet each other,
    // in this run, rendered by the same helm.
    let options = Options {
        build: format!("strata diff {}", cache::build_id(None)),
        ..whole()
    };
    let base_compiled = match side(base, &options) {
        Ok(Some(c)) if same_commands(&c, base, head) => c,
        // A side that does not render is reported with the other side's errors, as whole.
        other => {
            let head = side(head, &whole()).map(Side::from);
            return (other.map(Side::from), head);
        }
    };
    let last: &Cache = &base_compiled.cache;
    let base_tree = &base_compiled.tree;
    let load_cache = || Some(last);
    let objects = |cluster: &str| objects_of(base_tree, last, cluster);
    let head_options = Options {
        cache: Some(&load_cache),
        cached_objects: Some(&objects),
        ..options
    };
    let head_compiled = side(head, &head_options);
    // The files the head took from the base, of whole clusters and of the unchanged
    // components of changed ones: recorded in its cache, not in its tree, equal on both sides.
    let equal: Vec<String> = match &head_compiled {
        Ok(Some(c)) => c
            .cache
            .clusters
            .values()
            .flat_map(|record| record.files.paths())
            .filter(|file| !c.tree.files.contains_key(file))
            .collect(),
        _ => Vec::new(),
    };
    let mut base_side = Side::from(Some(base_compiled));
    for file in &equal {
        base_side.tree.files.remove(file);
    }
    (Ok(base_side), head_compiled.map(Side::from))
}

/// Whether the command sources of a cluster run under the same allow-list on both sides when
/// the cluster's inputs (strata.yaml among them) are equal: the base runs what its own
/// strata.yaml allows, and the head no more than the base allows, or what its own allows.
fn same_commands(base_compiled: &Compiled, base: &dyn World, head: &dyn World) -> bool {
    base.trusted_commands().is_none()
        && head
            .trusted_commands()
            .is_none_or(|trusted| trusted.entries == base_compiled.source.settings.sources.commands)
}

/// The objects of `cluster` in `tree`, read back from the files the base's `cache` records, as
/// the environment-leak rule checks them again.
fn objects_of(tree: &OutputTree, cache: &Cache, cluster: &str) -> Option<Vec<RenderedObject>> {
    let record = cache.clusters.get(cluster)?;
    let mut objects = Vec::new();
    for path in record.files.paths() {
        let Some(Place::Object { component, .. }) = layout::place(&path) else {
            continue;
        };
        let object: serde_json::Value = yaml_serde::from_slice(tree.files.get(&path)?).ok()?;
        objects.push(RenderedObject {
            environment: record.environment.clone(),
            cluster: cluster.to_string(),
            component: component.to_string(),
            file: path.clone(),
            object,
        });
    }
    Some(objects)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::testing;

    fn dirs(side: &Side) -> BTreeSet<String> {
        side.tree
            .files
            .keys()
            .map(|f| f.rsplit_once('/').map_or("", |(dir, _)| dir).to_string())
            .collect()
    }

    #[test]
    fn a_cluster_equal_on_both_sides_is_compiled_once_and_left_out_of_both_trees() {
        let base = testing::platform();
        let head = testing::platform().with(
            "environments/prod/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 4}\n",
        );
        let (b, h) = compile(&base, &head, How::Narrowed);
        let (b, h) = (b.expect("base"), h.expect("head"));
        let expected = [
            "dev/argocd",
            "prod/argocd",
            "prod/argocd/apps",
            "prod/sto2/workload/web",
        ];
        assert_eq!(dirs(&b), BTreeSet::from(expected.map(String::from)));
        assert_eq!(dirs(&h), dirs(&b));

        let (b, _) = compile(&base, &head, How::Whole);
        assert!(dirs(&b.expect("base")).contains("dev/sto2/workload/web"));
    }

    #[test]
    fn a_head_held_to_another_allow_list_reuses_nothing() {
        let base = testing::platform();
        let head = testing::platform().trusting(crate::world::TrustedCommands {
            entries: vec!["helm template".into()],
            from: "strata.yaml at main".into(),
        });
        let (b, h) = compile(&base, &head, How::Narrowed);
        let (b, h) = (b.expect("base"), h.expect("head"));
        assert!(dirs(&b).contains("dev/sto2/workload/web"));
        assert_eq!(b.tree, h.tree);
    }
}
