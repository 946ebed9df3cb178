//! The compile: a platform's source in, its output tree out, through the stages in order.
//!
//! [`compile`] loads the source, merges each cluster's layers, decides from the render cache
//! which clusters changed, builds what the policies need from every cluster, then sends each
//! changed cluster through the rest of the pipeline on its own (validate, render, emit, check),
//! in parallel, and gathers the results with the cache to save for the next render. A render
//! streams: each cluster's files go to the writer as soon as the cluster is checked
//! ([`Options::write`]), and only its cache record stays.

mod changes;
mod incremental;
mod kubernetes;
mod owned;
mod pipeline;
mod policies;
mod selection;
mod timings;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostics, Failure};
use crate::emit::{self, OutputTree};
use crate::load::{self, Source};
use crate::merge::Cluster;
use crate::object::RenderedObject;
use crate::output::Threads;
use crate::progress::Progress;
use crate::world::World;
use crate::{cache, policy};

use changes::Changes;
pub(crate) use incremental::compile_with_store;
use pipeline::{ClusterOutput, Pipeline};
use policies::{Leaks, Recheck};
pub use selection::{Selection, shard_of};
pub(crate) use timings::Timings;

/// A compiled platform.
#[derive(Debug)]
pub struct Compiled {
    pub source: Source,
    /// Every cluster of the platform. With [`Options::write`], without its component values
    /// ([`Cluster::hollow`]): the pipeline merged each cluster again to render it.
    pub all: Vec<Cluster>,
    /// The indexes in `all` of the clusters that were rendered; see [`Compiled::selected`].
    selected: Vec<usize>,
    /// The files rendered; with [`Options::write`], only each environment's Argo CD objects.
    pub tree: OutputTree,
    /// The number of Kubernetes objects rendered (Argo CD objects not counted).
    pub(crate) objects: usize,
    /// The objects rendered, when [`Options::keep_objects`] asked for them: every selected
    /// cluster's, but for those the cache let the compile skip and the components it kept.
    pub(crate) rendered: Vec<RenderedObject>,
    /// Findings that do not stop the render.
    pub warnings: Diagnostics,
    /// Every policy violation, failing or not, exempted ones included.
    pub(crate) violations: Vec<policy::Violation>,
    /// How long each stage took.
    pub(crate) timings: Timings,
    /// Clusters skipped because the cache had seen their inputs: their files are not in `tree`.
    pub(crate) reused: BTreeSet<String>,
    /// The cache to save for the next render.
    pub(crate) cache: cache::Cache,
    /// The paths a write of `tree` may delete in, when `tree` no longer holds a file there:
    /// directories (ending in `/`; `""` for all) and files. The rule is in `compile/owned.rs`.
    pub(crate) owned: Vec<String>,
    /// Files of unchanged components of rendered clusters: on disk, not in `tree`.
    pub(crate) kept_files: usize,
    /// Files of rendered clusters handed to [`Options::write`]: not in `tree`.
    pub(crate) written_files: usize,
    /// How many (cluster, component) pairs were rendered.
    pub(crate) components_rendered: usize,
}

impl Compiled {
    /// The clusters that were rendered.
    pub(crate) fn selected(&self) -> Vec<&Cluster> {
        self.selected.iter().map(|&i| &self.all[i]).collect()
    }
}

/// Loads, merges, validates, renders and emits the platform in `world`.
///
/// On failure the diagnostics of every stage that could run are returned together, with the
/// source texts to quote; callers print them with [`crate::diag::render`].
pub fn compile(world: &dyn World, selection: &Selection) -> Result<Compiled, Failure> {
    compile_with(world, selection, &Options::default())
}

/// Loads the saved objects of a cluster by name.
pub(crate) type LoadObjects<'a> = dyn Fn(&str) -> Option<Vec<RenderedObject>> + Sync + 'a;

/// Gives the cache of the last render, if there is a usable one.
pub(crate) type LoadCache<'a> = dyn Fn() -> Option<&'a cache::Cache> + Sync + 'a;

/// How to compile: what an incremental compile may reuse from the last render, what to keep,
/// whom to tell of the progress.
#[derive(Default)]
pub(crate) struct Options<'a> {
    /// Identifies this strata build ([`cache::build_id`]): a cache made by another build is
    /// not used.
    pub(crate) build: String,
    /// The cache of the last render. It is asked for once the source is loaded, merged and
    /// hashed, so that reading it can overlap those stages.
    pub(crate) cache: Option<&'a LoadCache<'a>>,
    /// The rendered objects of an unchanged cluster, as the last render saved them; needed only
    /// when the environment-leak rule must look at them again.
    pub(crate) cached_objects: Option<&'a LoadObjects<'a>>,
    /// Told how many (cluster, component) pairs there are to render, and of each one done.
    pub(crate) progress: Option<&'a dyn Progress>,
    /// Source files that a past render read as they are now and rendered without a word: the
    /// load does not check them against strata's own schemas again ([`load::load_vouched`]).
    pub(crate) vouched: Option<&'a (dyn Fn(&str) -> bool + Sync + 'a)>,
    /// Keep the rendered objects in [`Compiled::rendered`].
    pub(crate) keep_objects: bool,
    /// Policy violations that fail do not stop the compile: they are only in
    /// [`Compiled::violations`]. `strata diff` shows the diff of a change that breaks a policy.
    pub(crate) past_policy: bool,
    /// Takes each rendered cluster's files as soon as the cluster is checked, instead of
    /// [`Compiled::tree`]: `strata render` writes them and lets them go, so that its memory
    /// does not grow with the fleet. A compile that then fails has handed over some clusters.
    pub(crate) write: Option<&'a WriteCluster<'a>>,
}

/// Takes one rendered cluster's files ([`Options::write`]), and says which threads may write
/// them: all of them when there are too few clusters to keep every thread busy.
pub(crate) type WriteCluster<'a> = dyn Fn(OutputTree, Threads) + Sync + 'a;

/// Like [`compile`], skipping the clusters whose inputs the cache has seen. Skipped clusters
/// are listed in [`Compiled::reused`]; their files are not in the tree.
///
/// Each changed cluster goes through the rest of the pipeline on its own, in parallel with the
/// others: its values are checked, its components rendered, its files emitted and its objects
/// checked by the policies, and then only its files are kept. What the policies need from every
/// cluster (leak ownership, each cluster's facts) is built once before.
pub(crate) fn compile_with(
    world: &dyn World,
    selection: &Selection,
    options: &Options<'_>,
) -> Result<Compiled, Failure> {
    let mut timings = Timings::default();
    let source = match options.vouched {
        Some(vouched) => load::load_vouched(world, vouched)?,
        None => load::load(world)?,
    };
    timings.mark("load");
    let fail = |d: Diagnostics| Failure {
        diagnostics: d,
        texts: source.texts.clone(),
    };
    // A compile that streams its files lets each cluster's values go once they are hashed,
    // and merges the cluster again where it renders it: only then does its memory not grow
    // with the fleet. One that keeps its tree keeps them.
    let hollow = options.write.is_some();
    let components = cache::component_hashes(&source, world);
    let (all, prepared, ownership) =
        changes::prepare(&source, &components, selection, hollow).map_err(fail)?;
    let selected_ids = selection.select(&all).map_err(fail)?;
    let selected: Vec<&Cluster> = selected_ids.iter().map(|&i| &all[i]).collect();
    timings.mark("merge");

    let changes =
        Changes::find(world, &source, &all, prepared, components, options).map_err(fail)?;
    let ownership = ownership.finish(&source.settings.policies);
    timings.mark("hash");

    let config_errors = policies::config_errors(&source, &changes);
    if !config_errors.is_empty() {
        return Err(fail(config_errors));
    }
    let environments: BTreeSet<String> = selected.iter().map(|c| c.environment.clone()).collect();
    let mut tree = emit::environments(&source, &all, &environments).map_err(fail)?;
    let leaks = Leaks::new(&changes, ownership);
    let recheck = Recheck::new(
        &selected,
        &changes,
        &leaks,
        options,
        hollow.then_some(&source),
    );
    let facts = policies::facts(&source, &changes, &recheck).map_err(fail)?;
    let (ownership_hash, ownership_changed) = (leaks.hash.clone(), leaks.changed);
    let checker = policies::checker(&source, &facts, leaks, &changes, &recheck);
    timings.mark("policy setup");

    // A changed cluster whose shared inputs, secrets and leak ownership are as they were
    // renders only its changed components.
    let secrets = policies::secrets(&facts);
    let reuse = changes.reuse(&secrets, ownership_changed);
    if let Some(p) = options.progress {
        let total = changes
            .dirty
            .iter()
            .zip(&reuse)
            .map(|(c, r)| r.as_ref().map_or(c.enabled().count(), |r| r.changed.len()))
            .sum();
        p.start("rendering", "(cluster, component) pairs", total);
    }
    let pipeline = Pipeline::new(
        &source,
        world,
        checker,
        changes.dirty.len(),
        options,
        hollow,
    );
    let outputs = pipeline.run(&changes.dirty, &reuse);
    timings.mark("pipeline");
    timings.cpu("merge (cpu)", &pipeline.merge);
    timings.cpu("render (cpu)", &pipeline.render);
    timings.cpu("emit (cpu)", &pipeline.emit);
    timings.cpu("policies (cpu)", &pipeline.check);
    timings.cpu("kubernetes (cpu)", &pipeline.kube);

    let (mut done, found, mut diags) = gather(&changes.dirty, outputs, &mut tree);
    diags.extend(source.warnings.clone());
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }
    let rechecked = recheck.check(&pipeline.checker).map_err(fail)?;
    let violations = policies::violations(found, &rechecked, &changes);
    diags.extend(
        violations
            .iter()
            .filter(|v| v.exemption.is_none() && !(options.past_policy && v.fails()))
            .map(policies::diagnostic)
            .collect(),
    );
    timings.mark("policies");
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }

    let (cache, gathered) = changes.next_cache(
        &options.build,
        ownership_hash,
        &selected,
        &mut done,
        &secrets,
        &rechecked,
    );
    let owned = owned::Owned {
        selection,
        source: &source,
        all: &all,
        selected: &selected,
        previous: options.cache.and_then(|load| load()),
        next: &cache,
    }
    .paths(gathered.owned);
    let reused = changes.reused.clone();
    // What borrows the source ends before the source moves into the result.
    drop(pipeline);
    drop(secrets);
    drop(rechecked);
    drop(recheck);
    drop(changes);
    drop(selected);
    drop(facts);
    Ok(Compiled {
        source,
        all,
        selected: selected_ids,
        tree,
        owned,
        kept_files: gathered.kept_files,
        written_files: gathered.written_files,
        components_rendered: gathered.components_rendered,
        objects: gathered.objects,
        rendered: gathered.kept_objects,
        warnings: diags.sorted(),
        violations,
        timings,
        reused,
        cache,
    })
}

/// The pipeline's outputs of `clusters` gathered: their files into `tree`, each output by
/// cluster name, their violations, and their warnings and errors.
fn gather<'c>(
    clusters: &[&'c Cluster],
    outputs: Vec<Result<ClusterOutput, Diagnostics>>,
    tree: &mut OutputTree,
) -> (
    BTreeMap<&'c str, ClusterOutput>,
    Vec<policy::Violation>,
    Diagnostics,
) {
    let mut diags = Diagnostics::new();
    let mut violations = Vec::new();
    let mut done = BTreeMap::new();
    // One bulk build: appending each cluster's map to the whole would copy it every time.
    let mut files: Vec<(String, Vec<u8>)> = std::mem::take(&mut tree.files).into_iter().collect();
    for (cluster, output) in clusters.iter().zip(outputs) {
        match output {
            Ok(mut o) => {
                diags.extend(std::mem::take(&mut o.warnings));
                // Copied, not taken: the cluster's cache record keeps them, so that a render
                // that skips the cluster reports them again.
                violations.extend(o.violations.iter().cloned());
                files.extend(std::mem::take(&mut o.tree.files));
                done.insert(cluster.name.as_str(), o);
            }
            Err(d) => diags.extend(d),
        }
    }
    tree.files = files.into_iter().collect();
    (done, violations, diags)
}
