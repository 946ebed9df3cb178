//! The compile: a platform's source in, its output tree out, through the stages in order.
//!
//! [`compile`] loads the source, merges each cluster's layers, decides from the render cache
//! which clusters changed, builds what the policies need from every cluster, then sends each
//! changed cluster through the rest of the pipeline on its own (validate, render, emit, check),
//! in parallel, and gathers the results with the cache to save for the next render.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{self, DiagResult, Diagnostic, Diagnostics, Failure};
use crate::emit::{self, OutputTree};
use crate::load::{self, Source};
use crate::merge::{self, Cluster};
use crate::world::World;
use crate::{cache, policy, render, validate};

/// Which clusters to compile.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub environment: Option<String>,
    pub cluster: Option<String>,
    /// `(i, n)`: only the clusters of shard `i` of `n` (1-based), see [`shard_of`].
    pub shard: Option<(u32, u32)>,
}

impl Selection {
    /// Whether this selects less than the whole platform.
    pub fn is_partial(&self) -> bool {
        self.environment.is_some() || self.cluster.is_some() || self.shard.is_some()
    }
}

/// The shard (1-based, of `n`) a cluster belongs to: from a hash of its name, so a cluster keeps
/// its shard when others are added or removed, and every machine agrees.
pub fn shard_of(cluster: &str, n: u32) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(cluster.as_bytes());
    let head = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    (head % u64::from(n.max(1))) as u32 + 1
}

/// A compiled platform.
#[derive(Debug)]
pub struct Compiled {
    pub source: Source,
    /// Every cluster of the platform.
    pub all: Vec<Cluster>,
    /// The indexes in `all` of the clusters that were rendered; see [`Compiled::selected`].
    selected: Vec<usize>,
    pub tree: OutputTree,
    /// The number of Kubernetes objects rendered (Argo CD objects not counted).
    pub objects: usize,
    /// Findings that do not stop the render.
    pub warnings: Diagnostics,
    /// Every policy violation, failing or not, exempted ones included.
    pub violations: Vec<policy::Violation>,
    /// How long each stage took.
    pub timings: Timings,
    /// Clusters skipped because the cache had seen their inputs: their files are not in `tree`.
    pub reused: BTreeSet<String>,
    /// The cache to save for the next render.
    pub cache: cache::Cache,
    /// The paths of the rendered clusters that a write of `tree` may delete when `tree` no
    /// longer holds them: a cluster's directory and Applications, or only its changed
    /// components'.
    pub owned: Vec<String>,
    /// Files of unchanged components of rendered clusters: on disk, not in `tree`.
    pub kept_files: usize,
    /// How many (cluster, component) pairs were rendered.
    pub components_rendered: usize,
}

impl Compiled {
    /// The clusters that were rendered.
    pub fn selected(&self) -> Vec<&Cluster> {
        self.selected.iter().map(|&i| &self.all[i]).collect()
    }
}

/// Wall time per pipeline stage, for `--timings`.
#[derive(Debug)]
pub struct Timings {
    last: std::time::Instant,
    pub stages: Vec<(&'static str, std::time::Duration)>,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            last: std::time::Instant::now(),
            stages: Vec::new(),
        }
    }
}

impl Timings {
    pub fn mark(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.stages.push((stage, now - self.last));
        self.last = now;
    }
}

/// Time spent in a stage that runs on many threads at once, summed over the threads.
#[derive(Default)]
struct Busy(std::sync::atomic::AtomicU64);

impl Busy {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        out
    }

    fn total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// What the pipeline made of one cluster.
struct ClusterOutput {
    /// The files it wrote: all of the cluster's, or its changed components'.
    tree: OutputTree,
    /// Every file of the cluster, kept ones included.
    records: BTreeMap<String, cache::FileRecord>,
    components: BTreeMap<String, cache::CachedComponent>,
    objects: usize,
    /// Every violation of the cluster, kept ones included.
    violations: Vec<policy::Violation>,
    warnings: Diagnostics,
    /// What a write of `tree` may delete: the cluster's paths, or its changed components'.
    owned: Vec<String>,
    /// The files of components kept from the last render.
    kept_files: usize,
    /// How many of its components were rendered.
    rendered: usize,
}

use crate::emit::layout::FileOwner;

/// What the last render of a changed cluster can stand for: its unchanged components.
struct Reuse<'a> {
    record: &'a cache::CachedCluster,
    /// Components to render again: changed, or new to the cluster.
    changed: BTreeSet<&'a str>,
    /// Components of the record that the cluster no longer enables.
    removed: Vec<&'a str>,
}

/// Files each violation under the cache record of its component.
fn record_violations(
    components: &mut BTreeMap<String, cache::CachedComponent>,
    violations: &[policy::Violation],
) {
    for v in violations {
        if let Some(c) = components.get_mut(&v.component) {
            c.violations.push(cache::CachedViolation::of(v));
        }
    }
}

/// The stages after the merge, for one cluster at a time.
struct Pipeline<'a> {
    source: &'a Source,
    renderer: render::Renderer<'a>,
    checker: policy::Checker<'a>,
    /// Render a cluster's components in parallel too (when there are few clusters).
    parallel: bool,
    render: Busy,
    emit: Busy,
    check: Busy,
}

impl Pipeline<'_> {
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
        let (emitted, warnings) = self.build(cluster, None)?;
        let violations = self.check.time(|| self.checker.check(&emitted.objects));
        let mut components = self.components(cluster, &emitted);
        record_violations(&mut components, &violations);
        let records = emitted
            .tree
            .files
            .iter()
            .map(|(p, b)| (p.clone(), cache::FileRecord::of(b)))
            .collect();
        Ok(ClusterOutput {
            objects: emitted.objects.len(),
            tree: emitted.tree,
            records,
            components,
            violations,
            warnings,
            owned: emit::owned_prefixes(self.source, [cluster]),
            kept_files: 0,
            rendered: cluster.enabled().count(),
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
        for o in &emitted.objects {
            let key = emit::ObjectKey::of(&o.object);
            let entry = out.entry(o.component.clone()).or_default();
            entry.keys.push(format!(
                "{}/{}/{}/{}",
                key.group, key.kind, key.namespace, key.name
            ));
            entry.objects += 1;
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
        // A kept leak finding's hint may name a value of the changed components.
        if kept
            .iter()
            .flat_map(|(_, c)| &c.violations)
            .any(|v| v.rule == policy::ENVIRONMENT_LEAK)
        {
            return Ok(None);
        }
        let (emitted, warnings) = self.build(cluster, Some(&reuse.changed))?;
        let fresh = self.components(cluster, &emitted);
        let kept_keys: BTreeSet<&str> = kept
            .iter()
            .flat_map(|(_, c)| c.keys.iter().map(String::as_str))
            .collect();
        if fresh
            .values()
            .flat_map(|c| &c.keys)
            .any(|k| kept_keys.contains(k.as_str()))
        {
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
            self.checker.check_with(
                &emitted.objects,
                Some((&cluster.environment, &cluster.name, &extra)),
            )
        });
        let mut components = fresh;
        record_violations(&mut components, &violations);
        let mut records: BTreeMap<String, cache::FileRecord> = emitted
            .tree
            .files
            .iter()
            .map(|(p, b)| (p.clone(), cache::FileRecord::of(b)))
            .collect();
        let mut objects = emitted.objects.len();
        let owner = FileOwner::of(cluster, self.source.components.keys());
        let kept_names: BTreeSet<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        let mut kept_files = 0;
        for (path, r) in &record.files {
            if owner
                .component(path)
                .is_some_and(|c| kept_names.contains(c))
            {
                records.insert(path.clone(), r.clone());
                kept_files += 1;
            }
        }
        for (name, c) in &kept {
            objects += c.objects;
            violations.extend(
                c.violations
                    .iter()
                    .filter_map(cache::CachedViolation::violation),
            );
            components.insert((*name).clone(), (*c).clone());
        }
        let owned = reuse
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
        Ok(Some(ClusterOutput {
            tree: emitted.tree,
            records,
            components,
            objects,
            violations,
            warnings,
            owned,
            kept_files,
            rendered: reuse.changed.len(),
        }))
    }
}

/// Loads, merges, validates, renders and emits the platform in `world`.
///
/// On failure the diagnostics of every stage that could run are returned together, with the
/// source texts to quote; callers print them with [`diag::render`].
pub fn compile(world: &dyn World, selection: &Selection) -> Result<Compiled, Failure> {
    compile_with(world, selection, &Incremental::default())
}

/// Loads the saved objects of a cluster by name.
pub type LoadObjects<'a> = dyn Fn(&str) -> Option<Vec<policy::RenderedObject>> + Sync + 'a;

/// What an incremental compile may reuse from the last render.
#[derive(Default)]
pub struct Incremental<'a> {
    /// Identifies this strata build: a cache made by another build is not used.
    pub renderer: String,
    /// The cache of the last render. It is asked for once the source is loaded, merged and
    /// hashed, so that reading it can overlap those stages.
    pub cache: Option<&'a LoadCache<'a>>,
    /// The rendered objects of an unchanged cluster, as the last render saved them; needed only
    /// when the environment-leak rule must look at them again.
    pub objects: Option<&'a LoadObjects<'a>>,
    /// Told how many (cluster, component) pairs there are to render, and of each one done.
    pub progress: Option<&'a dyn Progress>,
    /// Source files that a past render read as they are now and rendered without a word: the
    /// load does not check them against strata's own schemas again ([`load::load_vouched`]).
    pub vouched: Option<&'a (dyn Fn(&str) -> bool + Sync + 'a)>,
}

/// Gives the cache of the last render, if there is a usable one.
pub type LoadCache<'a> = dyn Fn() -> Option<&'a cache::Cache> + Sync + 'a;

/// Progress of a long render, for a progress line. A render goes through phases, each
/// counting its own things: rendering (cluster, component) pairs, then writing files.
pub trait Progress: Sync {
    /// A phase begins: `total` things to count, e.g. `("rendering", "(cluster, component)
    /// pairs", 160)`.
    fn start(&self, doing: &'static str, things: &'static str, total: usize);
    /// One more thing of the phase is done.
    fn advance(&self);
}

/// Like [`compile`], skipping the clusters whose inputs the cache has seen. Skipped clusters
/// are listed in [`Compiled::reused`]; their files are not in the tree.
///
/// Each changed cluster goes through the rest of the pipeline on its own, in parallel with the
/// others: its values are checked, its components rendered, its files emitted and its objects
/// checked by the policies, and then only its files are kept. What the policies need from every
/// cluster (leak ownership, each cluster's facts) is built once before.
pub fn compile_with(
    world: &dyn World,
    selection: &Selection,
    incremental: &Incremental<'_>,
) -> Result<Compiled, Failure> {
    use rayon::prelude::*;

    let mut timings = Timings::default();
    let source = match incremental.vouched {
        Some(vouched) => load::load_vouched(world, vouched)?,
        None => load::load(world)?,
    };
    timings.mark("load");
    let fail = |d: Diagnostics| Failure {
        diagnostics: d,
        texts: source.texts.clone(),
    };
    // A merge error ends the render; the schemas are compiled first so that it reports theirs
    // in the same run.
    let all = merge::merge_all(&source, merge::Wrote::Skipped).map_err(|mut d| {
        d.extend(load::schema_errors(source.components.values()));
        fail(d.sorted())
    })?;
    let layout_errors = emit::layout::check(&all);
    if layout_errors.has_errors() {
        return Err(fail(layout_errors.sorted()));
    }
    let selected = select(&all, selection).map_err(fail)?;
    timings.mark("merge");

    // Which clusters changed since the cache was written.
    let settings_bytes = world.read("strata.yaml").unwrap_or_default();
    let component_hashes = cache::component_hashes(&source, world);
    // Every cluster's string leaves, with their hash: made beside the cluster hashes below, and
    // kept here for the leak ownership that borrows them.
    let leaves_of_all: std::sync::OnceLock<(Vec<policy::ResolvedLeaf>, String)> =
        std::sync::OnceLock::new();
    let usable = incremental
        .cache
        .and_then(|load| load())
        .filter(|c| c.renderer == incremental.renderer && !incremental.renderer.is_empty());
    let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &all {
        members
            .entry(c.environment.as_str())
            .or_default()
            .push(c.name.as_str());
    }
    // Leak ownership is built from every cluster's leaves beside the schema check and the
    // hashes of the clusters, which decide whether it is needed (when some cluster is to be
    // checked or the leaves changed): nearly every render that gets here needs it. Built
    // after them, it held up a one-value change at 8 clusters: 13.0 ms then, 12.1 ms now.
    let ((ownership, leaves_hash), hashed) = rayon::join(
        || {
            let (leaves, hash) = leaves_of_all.get_or_init(|| {
                let by_cluster = validate::facts::leaves(&all);
                let hash = cache::leaves_hash(&by_cluster);
                (by_cluster.into_iter().flatten().collect(), hash)
            });
            (
                policy::Ownership::build(leaves, &source.settings.policies),
                hash.clone(),
            )
        },
        || {
            // The schemas that did not compile as they are now in the last render compile
            // here, and report every error before anything renders. The others compile when
            // a changed cluster first checks its values against them.
            let errors = load::schema_errors(
                source
                    .components
                    .iter()
                    .filter(|(name, _)| {
                        usable.and_then(|u| u.schemas.get(*name)) != component_hashes.get(*name)
                    })
                    .map(|(_, c)| c),
            );
            if !errors.is_empty() {
                return Err(errors);
            }
            Ok(selected
                .par_iter()
                .map(|&i| {
                    let c = &all[i];
                    let members = members.get(c.environment.as_str()).map_or(&[][..], |m| m);
                    let input = cache::cluster_inputs(
                        &incremental.renderer,
                        settings_bytes,
                        &component_hashes,
                        c,
                        members,
                    );
                    (c.name.as_str(), input)
                })
                .collect::<BTreeMap<&str, cache::Inputs>>())
        },
    );
    let inputs = hashed.map_err(fail)?;
    let reused: BTreeSet<String> = selected
        .iter()
        .map(|&i| &all[i])
        .filter(|c| {
            usable
                .and_then(|u| u.clusters.get(&c.name))
                .is_some_and(|cc| {
                    inputs
                        .get(c.name.as_str())
                        .is_some_and(|i| i.whole == cc.input)
                })
        })
        .map(|c| c.name.clone())
        .collect();
    let dirty: Vec<&Cluster> = selected
        .iter()
        .map(|&i| &all[i])
        .filter(|c| !reused.contains(&c.name))
        .collect();
    timings.mark("hash");

    // What is wrong whatever the clusters render: the policy settings, the environments' Argo
    // CD objects.
    let envs: Vec<String> = members.keys().map(|e| e.to_string()).collect();
    let config_errors: Diagnostics = source
        .settings
        .policies
        .validate(&envs)
        .into_iter()
        .map(|e| {
            Diagnostic::error("policy-config", e.to_string()).at(diag::Span::new(
                "strata.yaml",
                1,
                1,
            ))
        })
        .collect();
    if !config_errors.is_empty() {
        return Err(fail(config_errors));
    }
    let environments: BTreeSet<String> = selected
        .iter()
        .map(|&i| all[i].environment.clone())
        .collect();
    let mut tree = emit::environments(&source, &all, &environments).map_err(fail)?;

    // Unchanged clusters are checked again only when what each environment owns changed, not
    // on every change of a string value.
    let leaves_changed = usable.is_none_or(|u| u.leaves != leaves_hash);
    let ownership = (leaves_changed || !dirty.is_empty()).then_some(ownership);
    let dirty_facts = validate::facts::cluster_facts(&source, &dirty);
    let ownership_hash = match (&ownership, usable) {
        (Some(o), _) => o.fingerprint(),
        (None, Some(u)) => u.ownership.clone(),
        (None, None) => String::new(),
    };
    let ownership_changed = usable.is_none_or(|u| u.ownership != ownership_hash);
    let recheck: Vec<&Cluster> = selected
        .iter()
        .map(|&i| &all[i])
        .filter(|c| reused.contains(&c.name) && ownership_changed)
        .collect();
    let mut recheck_objects: Vec<Vec<policy::RenderedObject>> = Vec::new();
    for c in &recheck {
        match incremental.objects.and_then(|load| load(&c.name)) {
            Some(objects) => recheck_objects.push(objects),
            None => {
                return Err(fail(
                    Diagnostic::error(
                        "cache",
                        format!("the render cache has no objects for cluster `{}`", c.name),
                    )
                    .hint("delete the output directory's .strata-cache and render again")
                    .into(),
                ));
            }
        }
    }
    let mut facts = dirty_facts.map_err(fail)?;
    facts.extend(validate::facts::cluster_facts(&source, &recheck).map_err(fail)?);
    let ownership = match ownership {
        Some(o) if !(dirty.is_empty() && recheck.is_empty()) => o,
        _ => policy::Ownership::build(&[], &source.settings.policies),
    };
    let checker = policy::Checker::new(&facts, ownership, &source.settings.policies);
    timings.mark("policy setup");

    // A changed cluster whose shared inputs, secrets and leak ownership are as they were
    // renders only its changed components.
    let facts_of: BTreeMap<&str, &policy::ClusterFacts> =
        facts.iter().map(|f| (f.cluster.as_str(), f)).collect();
    let secrets_of = |c: &Cluster| {
        facts_of
            .get(c.name.as_str())
            .map(|f| cache::secrets_hash(f))
            .unwrap_or_default()
    };
    let reuse: Vec<Option<Reuse>> = dirty
        .iter()
        .map(|c| {
            let record = usable
                .filter(|_| !ownership_changed)?
                .clusters
                .get(&c.name)?;
            let inputs = inputs.get(c.name.as_str())?;
            if record.shared != inputs.shared || record.secrets != secrets_of(c) {
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
        .collect();

    // The pipeline, one changed cluster at a time on each thread.
    if let Some(p) = incremental.progress {
        let total = dirty
            .iter()
            .zip(&reuse)
            .map(|(c, r)| r.as_ref().map_or(c.enabled().count(), |r| r.changed.len()))
            .sum();
        p.start("rendering", "(cluster, component) pairs", total);
    }
    let pipeline = Pipeline {
        source: &source,
        renderer: render::Renderer::new(&source, world, incremental.progress),
        checker,
        // Components render in parallel too when there are too few clusters to keep every
        // thread busy.
        parallel: dirty.len() < 2 * rayon::current_num_threads(),
        render: Busy::default(),
        emit: Busy::default(),
        check: Busy::default(),
    };
    let outputs: Vec<Result<ClusterOutput, Diagnostics>> = dirty
        .par_iter()
        .zip(&reuse)
        .map(|(cluster, reuse)| pipeline.cluster(cluster, reuse.as_ref()))
        .collect();
    timings.mark("pipeline");
    timings
        .stages
        .push(("render (cpu)", pipeline.render.total()));
    timings.stages.push(("emit (cpu)", pipeline.emit.total()));
    timings
        .stages
        .push(("policies (cpu)", pipeline.check.total()));

    let mut diags = Diagnostics::new();
    let mut violations = Vec::new();
    let mut done: BTreeMap<&str, ClusterOutput> = BTreeMap::new();
    // One bulk build: appending each cluster's map to the whole would copy it every time.
    let mut files: Vec<(String, Vec<u8>)> = std::mem::take(&mut tree.files).into_iter().collect();
    for (cluster, output) in dirty.iter().zip(outputs) {
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
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }
    let rechecked: Vec<Vec<policy::Violation>> = recheck_objects
        .par_iter()
        .map(|objects| pipeline.checker.check(objects))
        .collect();
    let rechecked_names: BTreeSet<&str> = recheck.iter().map(|c| c.name.as_str()).collect();
    let mut rechecked_of: BTreeMap<&str, Vec<policy::Violation>> = BTreeMap::new();
    for (c, found) in recheck.iter().zip(rechecked) {
        violations.extend(found.iter().cloned());
        rechecked_of.insert(c.name.as_str(), found);
    }
    for name in &reused {
        if rechecked_names.contains(name.as_str()) {
            continue;
        }
        if let Some(cc) = usable.and_then(|u| u.clusters.get(name)) {
            violations.extend(
                cc.violations
                    .iter()
                    .filter_map(cache::CachedViolation::violation),
            );
        }
    }
    violations.sort_by(|a, b| {
        (
            &a.file,
            a.rule,
            &a.field,
            &a.resource,
            &a.cluster,
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.rule,
                &b.field,
                &b.resource,
                &b.cluster,
                &b.message,
            ))
    });
    for v in &violations {
        if v.exemption.is_none() {
            diags.push(violation_diagnostic(v));
        }
    }
    timings.mark("policies");
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }

    // The cache this render leaves behind.
    let cached = |v: &[policy::Violation]| v.iter().map(cache::CachedViolation::of).collect();
    let mut next = cache::Cache {
        renderer: incremental.renderer.clone(),
        leaves: leaves_hash,
        ownership: ownership_hash,
        // Every schema compiled: now, or in an earlier render as it is now.
        schemas: component_hashes,
        clusters: BTreeMap::new(),
    };
    let mut objects = 0;
    let mut owned = Vec::new();
    let mut kept_files = 0;
    let mut components_rendered = 0;
    for c in selected.iter().map(|&i| &all[i]) {
        if let Some(o) = done.remove(c.name.as_str()) {
            objects += o.objects;
            owned.extend(o.owned);
            kept_files += o.kept_files;
            components_rendered += o.rendered;
            let inputs = inputs.get(c.name.as_str()).cloned().unwrap_or_default();
            let mut components = o.components;
            for (name, component) in components.iter_mut() {
                component.input = inputs.components.get(name).cloned().unwrap_or_default();
            }
            next.clusters.insert(
                c.name.clone(),
                std::sync::Arc::new(cache::CachedCluster {
                    input: inputs.whole,
                    shared: inputs.shared,
                    secrets: secrets_of(c),
                    environment: c.environment.clone(),
                    files: o.records,
                    objects: o.objects,
                    violations: cached(&o.violations),
                    components,
                }),
            );
        } else if let Some(cc) = usable.and_then(|u| u.clusters.get(&c.name)) {
            let mut cc = cc.clone();
            if let Some(found) = rechecked_of.get(c.name.as_str()) {
                std::sync::Arc::make_mut(&mut cc).violations = cached(found);
            }
            objects += cc.objects;
            next.clusters.insert(c.name.clone(), cc);
        }
    }
    drop(pipeline);
    drop(facts_of);
    drop(facts);
    drop(leaves_of_all);
    Ok(Compiled {
        source,
        all,
        selected,
        tree,
        owned,
        kept_files,
        components_rendered,
        objects,
        warnings: diags.sorted(),
        violations,
        timings,
        reused,
        cache: next,
    })
}

/// A policy violation as a diagnostic: at the layer line that set the value when known.
fn violation_diagnostic(v: &policy::Violation) -> Diagnostic {
    let d = if v.fails() {
        Diagnostic::error(v.rule, format!("{}: {}", v.resource, v.message))
    } else {
        Diagnostic::warning(v.rule, format!("{}: {}", v.resource, v.message))
    };
    let d = match &v.origin {
        Some((file, line)) => d.at(diag::Span::new(file.clone(), *line, 1)),
        None => d,
    };
    d.note(format!(
        "in {} (cluster {}, component {})",
        v.file, v.cluster, v.component
    ))
    .note(format!("field: {}", v.field))
    .hint(v.hint.clone())
}

fn select(all: &[Cluster], selection: &Selection) -> DiagResult<Vec<usize>> {
    let mut out: Vec<usize> = (0..all.len()).collect();
    if let Some(env) = &selection.environment {
        out.retain(|&i| &all[i].environment == env);
        if out.is_empty() {
            let known: BTreeSet<&str> = all.iter().map(|c| c.environment.as_str()).collect();
            return Err(
                Diagnostic::error("selection", format!("there is no environment `{env}`"))
                    .hint(format!(
                        "the environments are: {}",
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    ))
                    .into(),
            );
        }
    }
    if let Some((i, n)) = selection.shard {
        out.retain(|&c| shard_of(&all[c].name, n) == i);
    }
    if let Some(name) = &selection.cluster {
        out.retain(|&i| &all[i].name == name);
        if out.is_empty() {
            let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
            return Err(
                Diagnostic::error("selection", format!("there is no cluster `{name}`"))
                    .hint(format!("the clusters are: {}", known.join(", ")))
                    .into(),
            );
        }
    }
    Ok(out)
}
