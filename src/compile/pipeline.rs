//! The stages after the merge, for one changed cluster at a time: its values are checked
//! against the schemas, its components rendered, its files emitted and its objects checked by
//! the policies. With a [`Reuse`], only the cluster's changed components go through, and the
//! last render's record stands for the others.

use std::collections::{BTreeMap, BTreeSet};

use super::Options;
use super::kubernetes;
use super::timings::CpuTime;
use crate::diag::Diagnostics;
use crate::emit::layout::FileOwner;
use crate::emit::{self, OutputTree};
use crate::load::Source;
use crate::merge::{self, Cluster};
use crate::object::{ObjectId, RenderedObject};
use crate::output::Threads;
use crate::packed::Packed;
use crate::policy;
use crate::progress::Progress;
use crate::world::World;
use crate::{cache, kube, render, validate};

/// What the pipeline made of one cluster.
pub(super) struct ClusterOutput {
    /// The files it wrote: all of the cluster's, or its changed components'.
    pub(super) tree: OutputTree,
    /// Every file of the cluster, kept ones included.
    pub(super) records: cache::Files,
    pub(super) components: BTreeMap<String, cache::CachedComponent>,
    pub(super) objects: usize,
    /// Every violation of the cluster, kept ones included.
    pub(super) violations: Vec<policy::Violation>,
    pub(super) warnings: Diagnostics,
    /// What a write of `tree` may delete: the cluster's paths, or its changed components'.
    /// Needed only at the end, and only by a render over a cache: front-coded until then.
    pub(super) owned: Packed,
    /// The files of components kept from the last render.
    pub(super) kept_files: usize,
    /// The files handed to [`Options::write`] instead of kept in `tree`.
    pub(super) written_files: usize,
    /// How many of its components were rendered.
    pub(super) rendered: usize,
    /// Its objects, when the compile keeps them ([`super::Options::keep_objects`]).
    pub(super) kept_objects: Vec<RenderedObject>,
}

/// What the last render of a changed cluster can stand for: its unchanged components.
pub(super) struct Reuse<'a> {
    pub(super) record: &'a cache::CachedCluster,
    /// Components to render again: changed, or new to the cluster.
    pub(super) changed: BTreeSet<&'a str>,
    /// Components of the record that the cluster no longer enables.
    pub(super) removed: Vec<&'a str>,
}

/// Files each violation under the cache record of its component.
fn record_violations(
    components: &mut BTreeMap<String, cache::CachedComponent>,
    violations: &[policy::Violation],
) {
    for v in violations {
        if let Some(c) = components.get_mut(&v.component) {
            c.violations.push(v.clone());
        }
    }
}

/// The stages after the merge, for one cluster at a time.
pub(super) struct Pipeline<'a> {
    source: &'a Source,
    renderer: render::Renderer<'a>,
    pub(super) checker: policy::Checker<'a>,
    /// Render a cluster's components in parallel too (when there are few clusters).
    parallel: bool,
    /// Keep each cluster's objects in its output.
    keep_objects: bool,
    /// Takes each cluster's files, once it is checked.
    write: Option<&'a super::WriteCluster<'a>>,
    /// The clusters come without their values ([`Cluster::hollow`]): merge each again.
    merge_again: bool,
    pub(super) merge: CpuTime,
    pub(super) render: CpuTime,
    pub(super) emit: CpuTime,
    pub(super) check: CpuTime,
    pub(super) kube: CpuTime,
}

impl<'a> Pipeline<'a> {
    /// The pipeline for `clusters` clusters of `source`, whose objects `checker` checks.
    pub(super) fn new<'o: 'a>(
        source: &'a Source,
        world: &'a dyn World,
        checker: policy::Checker<'a>,
        clusters: usize,
        options: &Options<'o>,
        merge_again: bool,
    ) -> Pipeline<'a> {
        let progress: Option<&'a dyn Progress> = options.progress;
        Pipeline {
            source,
            renderer: render::Renderer::new(source, world, progress),
            checker,
            // Components render in parallel too when there are too few clusters to keep every
            // thread busy.
            parallel: clusters < 2 * rayon::current_num_threads(),
            keep_objects: options.keep_objects,
            write: options.write,
            merge_again,
            merge: CpuTime::default(),
            render: CpuTime::default(),
            emit: CpuTime::default(),
            check: CpuTime::default(),
            kube: CpuTime::default(),
        }
    }

    /// Sends each cluster through the pipeline, one cluster at a time on each thread, each
    /// with what the cache lets it reuse.
    pub(super) fn run(
        &self,
        clusters: &[&Cluster],
        reuse: &[Option<Reuse<'_>>],
    ) -> Vec<Result<ClusterOutput, Diagnostics>> {
        use rayon::prelude::*;
        clusters
            .par_iter()
            .zip(reuse)
            .map(|(cluster, reuse)| {
                let full = match self.merge_again {
                    true => Some(self.merge.time(|| {
                        merge::merge_again(self.source, cluster, merge::Wrote::Skipped)
                    })?),
                    false => None,
                };
                let mut out = self.cluster(full.as_ref().unwrap_or(cluster), reuse.as_ref())?;
                if let Some(write) = self.write {
                    let tree = std::mem::take(&mut out.tree);
                    out.written_files = tree.files.len();
                    // With a cluster for every thread, each thread writes the files of the
                    // cluster it rendered, in directories of that cluster's own.
                    let threads = match self.parallel {
                        true => Threads::All,
                        false => Threads::This,
                    };
                    write(tree, threads);
                }
                Ok(out)
            })
            .collect()
    }

    /// Renders `cluster`: only its changed components when `reuse` allows, else all of them.
    fn cluster(
        &self,
        cluster: &Cluster,
        reuse: Option<&Reuse<'_>>,
    ) -> Result<ClusterOutput, Diagnostics> {
        if let Some(reuse) = reuse
            && let Some(out) = self.partial(cluster, reuse)?
        {
            return Ok(out);
        }
        let version = kubernetes::version(self.source, cluster).map_err(Diagnostics::from)?;
        let (emitted, warnings) = self.build(cluster, None)?;
        let mut violations = self.check.time(|| {
            let leaves = validate::facts::cluster_leaves(cluster);
            self.checker.check(&emitted.objects, &leaves)
        });
        self.kubernetes(cluster, version, &emitted, &mut violations);
        let mut components = self.components(cluster, &emitted);
        record_violations(&mut components, &violations);
        let records = cache::Files::of(
            emitted
                .tree
                .files
                .iter()
                .map(|(p, b)| (p.as_str(), b.len() as u64)),
        );
        Ok(ClusterOutput {
            objects: emitted.objects.len(),
            tree: emitted.tree,
            records,
            components,
            violations,
            warnings,
            owned: emit::owned_prefixes(self.source, [cluster])
                .iter()
                .map(|p| (p.as_str(), 0))
                .collect(),
            kept_files: 0,
            written_files: 0,
            rendered: cluster.enabled().count(),
            kept_objects: self.kept(emitted.objects),
        })
    }

    /// Validates, renders and emits the enabled components of `cluster`, or those in `only`.
    fn build(
        &self,
        cluster: &Cluster,
        only: Option<&BTreeSet<&str>>,
    ) -> Result<(emit::EmittedCluster, Diagnostics), Diagnostics> {
        let mut diags = Diagnostics::new();
        let rendered = self.render.time(|| {
            let mut skip = BTreeSet::new();
            for (name, values) in cluster.enabled() {
                if only.is_some_and(|only| !only.contains(name.as_str())) {
                    skip.insert(name.as_str());
                } else if let Some(component) = self.source.components.get(name) {
                    let found = validate::check_component(cluster, component, values);
                    if !found.is_empty() {
                        skip.insert(name.as_str());
                        diags.extend(found);
                    }
                }
            }
            self.renderer.cluster(cluster, &skip, self.parallel)
        });
        let rendered = match rendered {
            Ok(r) if !diags.has_errors() => r,
            Ok(_) => return Err(diags),
            Err(d) => {
                diags.extend(d);
                return Err(diags);
            }
        };
        match self
            .emit
            .time(|| emit::cluster(self.source, cluster, rendered))
        {
            Ok(e) => Ok((e, diags)),
            Err(d) => {
                diags.extend(d);
                Err(diags)
            }
        }
    }

    /// Adds the findings of the Kubernetes check of `emitted` to `violations`, in their order.
    fn kubernetes(
        &self,
        cluster: &Cluster,
        version: kube::KubeVersion,
        emitted: &emit::EmittedCluster,
        violations: &mut Vec<policy::Violation>,
    ) {
        let found = self
            .kube
            .time(|| kubernetes::check(self.source, cluster, version, emitted, &self.checker));
        if !found.is_empty() {
            violations.extend(found);
            violations.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    }

    /// The cache records of the components `emitted` holds.
    fn components(
        &self,
        cluster: &Cluster,
        emitted: &emit::EmittedCluster,
    ) -> BTreeMap<String, cache::CachedComponent> {
        let mut out: BTreeMap<String, cache::CachedComponent> = BTreeMap::new();
        // A component that renders no object still has its Application.
        let owner = FileOwner::of(cluster, self.source.components.keys());
        for path in emitted.tree.files.keys() {
            if let Some(c) = owner.component(path) {
                out.entry(c.to_string()).or_default();
            }
        }
        let mut keys: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for o in &emitted.objects {
            let key = ObjectId::read(&o.object);
            let entry = out.entry(o.component.clone()).or_default();
            keys.entry(&o.component).or_default().push(format!(
                "{}/{}/{}/{}",
                key.group,
                key.kind,
                key.namespace_or_empty(),
                key.name
            ));
            entry.objects += 1;
            entry.crds |= key.kind == "CustomResourceDefinition";
        }
        for (name, keys) in keys {
            if let Some(c) = out.get_mut(name) {
                c.keys = cache::Keys::of(keys.iter().map(String::as_str));
            }
        }
        for (name, c) in out.iter_mut() {
            c.crds |= self
                .source
                .components
                .get(name)
                .is_some_and(|c| !c.crds.is_empty());
        }
        // A component's objects are emitted together.
        for objects in emitted.objects.chunk_by(|a, b| a.component == b.component) {
            if let Some(c) = out.get_mut(&objects[0].component) {
                c.network_policies
                    .extend(policy::network_policy_selectors(objects));
            }
        }
        out
    }

    /// Renders only the changed components of `cluster`; `None` when the change reaches the
    /// kept ones (an object two components now render, a NetworkPolicy added or removed), and
    /// the whole cluster must be rendered again.
    fn partial(
        &self,
        cluster: &Cluster,
        reuse: &Reuse<'_>,
    ) -> Result<Option<ClusterOutput>, Diagnostics> {
        let record = reuse.record;
        let kept: Vec<(&String, &cache::CachedComponent)> = record
            .components
            .iter()
            .filter(|(n, _)| {
                !reuse.changed.contains(n.as_str()) && !reuse.removed.contains(&n.as_str())
            })
            .collect();
        // CRDs decide the scope and schema of every component's objects.
        if record.components.values().any(|c| c.crds) {
            return Ok(None);
        }
        // A kept leak finding's hint may name a value of the changed components.
        if kept
            .iter()
            .flat_map(|(_, c)| &c.violations)
            .any(|v| v.rule == policy::ENVIRONMENT_LEAK)
        {
            return Ok(None);
        }
        let version = kubernetes::version(self.source, cluster).map_err(Diagnostics::from)?;
        let (emitted, warnings) = self.build(cluster, Some(&reuse.changed))?;
        let fresh = self.components(cluster, &emitted);
        if fresh.values().any(|c| c.crds) {
            return Ok(None);
        }
        let mut kept_keys: BTreeSet<String> = BTreeSet::new();
        for (_, c) in &kept {
            c.keys.for_each(|k| {
                kept_keys.insert(k.to_string());
            });
        }
        let mut taken = false;
        for c in fresh.values() {
            c.keys.for_each(|k| taken |= kept_keys.contains(k));
        }
        if taken {
            return Ok(None);
        }
        let selectors = |cs: &mut dyn Iterator<Item = &cache::CachedComponent>| {
            let mut v: Vec<String> = cs
                .flat_map(|c| &c.network_policies)
                .map(|(ns, sel)| format!("{ns} {sel}"))
                .collect();
            v.sort();
            v
        };
        let before = selectors(
            &mut reuse
                .changed
                .iter()
                .chain(&reuse.removed)
                .filter_map(|n| record.components.get(*n)),
        );
        if before != selectors(&mut fresh.values()) {
            return Ok(None);
        }

        let extra: Vec<(String, serde_json::Value)> = kept
            .iter()
            .flat_map(|(_, c)| c.network_policies.iter().cloned())
            .collect();
        let mut violations = self.check.time(|| {
            let leaves = validate::facts::cluster_leaves(cluster);
            self.checker.check_with(
                &emitted.objects,
                Some((&cluster.environment, &cluster.name, &extra)),
                &leaves,
            )
        });
        self.kubernetes(cluster, version, &emitted, &mut violations);
        let mut components = fresh;
        record_violations(&mut components, &violations);
        let mut records: BTreeMap<String, u64> = emitted
            .tree
            .files
            .iter()
            .map(|(p, b)| (p.clone(), b.len() as u64))
            .collect();
        let mut objects = emitted.objects.len();
        let owner = FileOwner::of(cluster, self.source.components.keys());
        let kept_names: BTreeSet<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        let mut kept_files = 0;
        record.files.for_each(|path, len| {
            if owner
                .component(path)
                .is_some_and(|c| kept_names.contains(c))
            {
                records.insert(path.to_string(), len);
                kept_files += 1;
            }
        });
        let records = cache::Files::of(records.iter().map(|(p, len)| (p.as_str(), *len)));
        for (name, c) in &kept {
            objects += c.objects;
            violations.extend(c.violations.iter().cloned());
            components.insert((*name).clone(), (*c).clone());
        }
        let owned: Vec<String> = reuse
            .changed
            .iter()
            .chain(&reuse.removed)
            .flat_map(|n| {
                let path = cluster.path();
                [
                    emit::layout::component_dir(&cluster.environment, &path, n),
                    emit::layout::application_path(&cluster.environment, &path, n),
                ]
            })
            .collect();
        let owned = owned.iter().map(|p| (p.as_str(), 0)).collect();
        Ok(Some(ClusterOutput {
            tree: emitted.tree,
            records,
            components,
            objects,
            violations,
            warnings,
            owned,
            kept_files,
            written_files: 0,
            rendered: reuse.changed.len(),
            kept_objects: self.kept(emitted.objects),
        }))
    }

    /// `objects`, when the compile keeps them.
    fn kept(&self, objects: Vec<RenderedObject>) -> Vec<RenderedObject> {
        if self.keep_objects {
            objects
        } else {
            Vec::new()
        }
    }
}
