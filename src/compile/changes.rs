//! What changed since the last render: the hash of each selected cluster's inputs, set against
//! the render cache. A cluster whose inputs the cache has seen is reused whole; a changed one
//! whose shared inputs are as they were renders only its changed components ([`Reuse`]).
//! Then the cache this render leaves behind.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::pipeline::{ClusterOutput, Reuse};
use super::{Options, Selection};
use crate::cache::{self, Cache, CachedCluster, Inputs};
use crate::diag::Diagnostics;
use crate::load::{self, Source};
use crate::merge::{self, Cluster};
use crate::object::RenderedObject;
use crate::packed::Packed;
use crate::policy::{self, OwnershipBuilder, SecretValue};
use crate::world::World;
use crate::{emit, validate};

/// What the passes before the pipeline take of one cluster while its values are merged.
pub(super) struct Prepared {
    /// The hash of each of its components ([`cache::component_inputs`]), when it is selected.
    components: Option<BTreeMap<String, String>>,
    /// Its `x-strata-secret` values, when it is selected.
    secrets: Vec<SecretValue>,
    /// The hash of its string leaves ([`cache::cluster_leaves_hash`]).
    leaves: [u8; 32],
}

/// Every cluster of `source` merged, and what the compile needs of its values taken as soon as
/// it is merged: the hash of each selected cluster's components, its secret values, and every
/// cluster's string leaves, hashed and counted into leak ownership. With `hollow`, each
/// cluster's values are then let go ([`Cluster::hollow`]): the pipeline merges a cluster again
/// when it renders it, so that the values of every cluster are never held at once.
pub(super) fn prepare(
    source: &Source,
    components: &BTreeMap<String, String>,
    selection: &Selection,
    hollow: bool,
) -> Result<(Vec<Cluster>, Vec<Prepared>, OwnershipBuilder), Diagnostics> {
    let config = &source.settings.policies;
    let builder = Mutex::new(OwnershipBuilder::default());
    let (all, prepared) = merge::merge_each(source, merge::Wrote::Skipped, |mut c| {
        let leaves = {
            let leaves = validate::facts::cluster_leaves(&c);
            builder
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(&leaves, config);
            cache::cluster_leaves_hash(&leaves)
        };
        let selected = selection.keeps(&c);
        let prepared = Prepared {
            components: selected.then(|| cache::component_inputs(components, &c)),
            secrets: match selected {
                true => validate::facts::secret_values(source, &c),
                false => Vec::new(),
            },
            leaves,
        };
        if hollow {
            c.hollow();
        }
        (c, prepared)
    })
    .map_err(|mut d| {
        d.extend(load::schema_errors(source.components.values()));
        d.sorted()
    })?;
    let layout_errors = emit::layout::check(&all);
    if layout_errors.has_errors() {
        return Err(layout_errors.sorted());
    }
    let builder = builder.into_inner().unwrap_or_else(PoisonError::into_inner);
    Ok((all, prepared, builder))
}

/// The selected clusters set against the cache of the last render.
pub(super) struct Changes<'a> {
    /// The cache of the last render, when this strata made it.
    pub(super) usable: Option<&'a Cache>,
    /// The hash of each component's files ([`cache::component_hashes`]).
    components: BTreeMap<String, String>,
    /// The inputs of each selected cluster, hashed.
    inputs: BTreeMap<&'a str, Inputs>,
    /// The `x-strata-secret` values of each selected cluster.
    pub(super) secret_values: BTreeMap<&'a str, Vec<SecretValue>>,
    /// Selected clusters whose inputs the cache has seen: not rendered again.
    pub(super) reused: BTreeSet<String>,
    /// Selected clusters to render.
    pub(super) dirty: Vec<&'a Cluster>,
    /// The hash of every string leaf of every cluster.
    pub(super) leaves: String,
    /// The environments with the names of their clusters.
    pub(super) members: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Changes<'a> {
    /// Hashes the inputs of the `selected` clusters of `all` from what [`prepare`] took of them
    /// and sets them against the cache that `options` gives. Beside the hashes, it compiles the
    /// values schemas that changed since the cache was made (reporting every error before
    /// anything renders).
    pub(super) fn find<'o: 'a>(
        world: &dyn World,
        source: &'a Source,
        all: &'a [Cluster],
        prepared: Vec<Prepared>,
        components: BTreeMap<String, String>,
        options: &Options<'o>,
    ) -> Result<Changes<'a>, Diagnostics> {
        use rayon::prelude::*;
        let settings = world.read("strata.yaml").unwrap_or_default();
        let usable: Option<&'a Cache> = options
            .cache
            .and_then(|load| load())
            .filter(|c| c.build == options.build && !options.build.is_empty());
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in all {
            members
                .entry(c.environment.as_str())
                .or_default()
                .push(c.name.as_str());
        }
        let leaves_hash = cache::leaves_hash(prepared.iter().map(|p| &p.leaves));
        let mut secret_values = BTreeMap::new();
        let mut selected = Vec::new();
        for (c, p) in all.iter().zip(prepared) {
            if let Some(per_component) = p.components {
                secret_values.insert(c.name.as_str(), p.secrets);
                selected.push((c, per_component));
            }
        }
        // The schemas that did not compile as they are now in the last render compile here.
        // The others compile when a changed cluster first checks its values against them.
        let (errors, inputs) = rayon::join(
            || {
                load::schema_errors(
                    source
                        .components
                        .iter()
                        .filter(|(name, _)| {
                            usable.and_then(|u| u.schemas.get(*name)) != components.get(*name)
                        })
                        .map(|(_, c)| c),
                )
            },
            || {
                selected
                    .into_par_iter()
                    .map(|(c, per_component)| {
                        let members = members.get(c.environment.as_str()).map_or(&[][..], |m| m);
                        let input = cache::cluster_inputs_with(
                            &options.build,
                            settings,
                            c,
                            members,
                            per_component,
                        );
                        (c, input)
                    })
                    .collect::<Vec<(&Cluster, Inputs)>>()
            },
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut reused = BTreeSet::new();
        let mut dirty = Vec::new();
        for (c, input) in &inputs {
            let seen = usable
                .and_then(|u| u.clusters.get(&c.name))
                .is_some_and(|cc| input.whole == cc.input);
            if seen {
                reused.insert(c.name.clone());
            } else {
                dirty.push(*c);
            }
        }
        let inputs = inputs
            .into_iter()
            .map(|(c, input)| (c.name.as_str(), input))
            .collect();
        Ok(Changes {
            usable,
            components,
            inputs,
            secret_values,
            reused,
            dirty,
            leaves: leaves_hash,
            members,
        })
    }

    /// What the last render of each changed cluster can stand for, in the order of
    /// [`Changes::dirty`]: its unchanged components, when the cluster's shared inputs and
    /// secrets (`secrets`, by cluster name) are as they were and leak ownership did not change.
    pub(super) fn reuse(
        &self,
        secrets: &BTreeMap<&str, String>,
        ownership_changed: bool,
    ) -> Vec<Option<Reuse<'a>>> {
        self.dirty
            .iter()
            .map(|c| {
                let record = self
                    .usable
                    .filter(|_| !ownership_changed)?
                    .clusters
                    .get(&c.name)?;
                let inputs = self.inputs.get(c.name.as_str())?;
                if record.shared != inputs.shared
                    || record.secrets != secrets.get(c.name.as_str()).cloned().unwrap_or_default()
                {
                    return None;
                }
                let enabled: BTreeSet<&str> = c.enabled().map(|(n, _)| n.as_str()).collect();
                let changed = enabled
                    .iter()
                    .copied()
                    .filter(|n| {
                        record.components.get(*n).map(|r| &r.input) != inputs.components.get(*n)
                    })
                    .collect();
                let removed = record
                    .components
                    .keys()
                    .map(String::as_str)
                    .filter(|n| !enabled.contains(n))
                    .collect();
                Some(Reuse {
                    record,
                    changed,
                    removed,
                })
            })
            .collect()
    }

    /// The cache this render leaves behind: a record for each selected cluster, from its
    /// pipeline output (`done`, taken by name) or, for a reused one, from the last render,
    /// with the violations of `rechecked` clusters renewed.
    pub(super) fn next_cache(
        &self,
        build: &str,
        ownership: String,
        selected: &[&Cluster],
        done: &mut BTreeMap<&str, ClusterOutput>,
        secrets: &BTreeMap<&str, String>,
        rechecked: &BTreeMap<&str, Vec<policy::Violation>>,
    ) -> (Cache, Gathered) {
        let mut next = Cache {
            build: build.to_string(),
            leaves: self.leaves.clone(),
            ownership,
            // Every schema compiled: now, or in an earlier render as it is now.
            schemas: self.components.clone(),
            clusters: BTreeMap::new(),
        };
        let mut gathered = Gathered::default();
        for c in selected {
            if let Some(o) = done.remove(c.name.as_str()) {
                gathered.objects += o.objects;
                gathered.owned.push(o.owned);
                gathered.kept_files += o.kept_files;
                gathered.written_files += o.written_files;
                gathered.components_rendered += o.rendered;
                gathered.kept_objects.extend(o.kept_objects);
                let inputs = self
                    .inputs
                    .get(c.name.as_str())
                    .cloned()
                    .unwrap_or_default();
                let mut components = o.components;
                for (name, component) in components.iter_mut() {
                    component.input = inputs.components.get(name).cloned().unwrap_or_default();
                }
                next.clusters.insert(
                    c.name.clone(),
                    Arc::new(CachedCluster {
                        input: inputs.whole,
                        shared: inputs.shared,
                        secrets: secrets.get(c.name.as_str()).cloned().unwrap_or_default(),
                        environment: c.environment.clone(),
                        files: o.records,
                        objects: o.objects,
                        violations: o.violations,
                        components,
                    }),
                );
            } else if let Some(cc) = self.usable.and_then(|u| u.clusters.get(&c.name)) {
                let mut cc = cc.clone();
                if let Some(found) = rechecked.get(c.name.as_str()) {
                    Arc::make_mut(&mut cc).violations = found.clone();
                }
                gathered.objects += cc.objects;
                next.clusters.insert(c.name.clone(), cc);
            }
        }
        (next, gathered)
    }
}

/// What the selected clusters made, summed over their pipeline outputs and cache records.
#[derive(Default)]
pub(super) struct Gathered {
    /// Kubernetes objects, reused clusters' included.
    pub(super) objects: usize,
    /// What a write of the tree may delete, as the pipeline found it.
    pub(super) owned: Vec<Packed>,
    /// Files of unchanged components of rendered clusters.
    pub(super) kept_files: usize,
    /// Files handed to [`Options::write`].
    pub(super) written_files: usize,
    /// (cluster, component) pairs rendered.
    pub(super) components_rendered: usize,
    /// The objects rendered, when the compile keeps them.
    pub(super) kept_objects: Vec<RenderedObject>,
}
