//! strata compiles a layered platform repository into rendered Kubernetes manifests and the
//! Argo CD objects that deploy them.
//!
//! The pipeline, one stage a module, each with one typed entry point:
//!
//! 1. [`world`]: where the bytes come from — the working tree, a git commit, or memory.
//! 2. [`load`]: files → [`load::Source`]: settings, components, layers, clusters.
//! 3. [`merge`]: layers → one [`merge::Cluster`] each, every value with its [`merge::Origin`]s.
//! 4. [`validate`]: merged values → diagnostics against each component's values schema.
//! 5. [`render`]: values + templates (or command sources) → [`render::Manifest`]s.
//! 6. [`emit`]: manifests → an [`emit::OutputTree`] of paths and bytes, with Argo CD objects.
//!
//! [`compile`] runs them all. [`check`] and [`explain`] read their results. Errors from any
//! stage are [`diag::Diagnostic`]s that name a file and line.

// A `Diagnostic` is the error of most functions here and is built only on the failure path;
// boxing it would add noise to every signature for no measurable gain.
#![allow(clippy::result_large_err)]

pub mod cache;
pub mod check;
pub mod diag;
pub mod diff;
pub mod drift;
pub mod emit;
pub mod explain;
pub mod git;
pub mod load;
pub mod merge;
pub mod policy;
pub mod promote;
pub mod render;
pub mod validate;
pub mod world;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};

pub use diag::Failure;
use diag::{DiagResult, Diagnostic, Diagnostics};
use emit::OutputTree;
use load::Source;
use merge::Cluster;
use world::World;

/// Decodes Secret `data` as Kubernetes writes it: standard base64, padding optional. One
/// decoder for drift, diff and the policies, so they agree on what a Secret holds.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

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
    tree: OutputTree,
    records: BTreeMap<String, cache::FileRecord>,
    objects: usize,
    violations: Vec<policy::Violation>,
    warnings: Diagnostics,
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
    pub cache: Option<&'a cache::Cache>,
    /// The rendered objects of an unchanged cluster, as the last render saved them; needed only
    /// when the environment-leak rule must look at them again.
    pub objects: Option<&'a LoadObjects<'a>>,
    /// Told how many (cluster, component) pairs there are to render, and of each one done.
    pub progress: Option<&'a dyn Progress>,
}

/// Progress of a long render, for a progress line.
pub trait Progress: Sync {
    fn start(&self, total: usize);
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
    let source = load::load(world)?;
    timings.mark("load");
    let fail = |d: Diagnostics| Failure {
        diagnostics: d,
        texts: source.texts.clone(),
    };
    let all = merge::merge_all(&source).map_err(fail)?;
    let selected = select(&all, selection).map_err(fail)?;
    timings.mark("merge");

    // Which clusters changed since the cache was written.
    let settings_bytes = world.read("strata.yaml").unwrap_or_default();
    let component_hashes = cache::component_hashes(&source, world);
    let (leaves, leaves_hash) = {
        let leaves = validate::facts::leaves(&all);
        let hash = cache::leaves_hash(&leaves);
        (leaves, hash)
    };
    let usable = incremental
        .cache
        .filter(|c| c.renderer == incremental.renderer && !incremental.renderer.is_empty());
    let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &all {
        members
            .entry(c.environment.as_str())
            .or_default()
            .push(c.name.as_str());
    }
    let inputs: BTreeMap<&str, String> = selected
        .par_iter()
        .map(|&i| {
            let c = &all[i];
            let members = members.get(c.environment.as_str()).map_or(&[][..], |m| m);
            let input = cache::cluster_input(
                &incremental.renderer,
                settings_bytes,
                &component_hashes,
                c,
                members,
            );
            (c.name.as_str(), input)
        })
        .collect();
    let reused: BTreeSet<String> = selected
        .iter()
        .map(|&i| &all[i])
        .filter(|c| {
            usable
                .and_then(|u| u.clusters.get(&c.name))
                .is_some_and(|cc| Some(&cc.input) == inputs.get(c.name.as_str()))
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

    // Unchanged clusters are checked again when the leak rule's ownership may have changed.
    let leaves_changed = usable.is_none_or(|u| u.leaves != leaves_hash);
    let recheck: Vec<&Cluster> = selected
        .iter()
        .map(|&i| &all[i])
        .filter(|c| reused.contains(&c.name) && leaves_changed)
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
    let facts_for: Vec<&Cluster> = dirty.iter().chain(&recheck).copied().collect();
    // Leak ownership is built from every cluster: only when some cluster is to be checked.
    let (ownership, facts) = rayon::join(
        || {
            (!facts_for.is_empty())
                .then(|| policy::Ownership::build(&leaves, &source.settings.policies))
        },
        || validate::facts::cluster_facts(&source, &facts_for),
    );
    let ownership =
        ownership.unwrap_or_else(|| policy::Ownership::build(&[], &source.settings.policies));
    let facts = facts.map_err(fail)?;
    let checker = policy::Checker::new(&facts, ownership, &source.settings.policies);
    timings.mark("policy setup");

    // The pipeline, one changed cluster at a time on each thread.
    let renderer = render::Renderer::new(&source, world, incremental.progress);
    if let Some(p) = incremental.progress {
        p.start(dirty.iter().map(|c| c.enabled().count()).sum());
    }
    // Components render in parallel too when there are too few clusters to keep every thread busy.
    let parallel = dirty.len() < 2 * rayon::current_num_threads();
    let (render_busy, emit_busy, check_busy) = (Busy::default(), Busy::default(), Busy::default());
    let outputs: Vec<Result<ClusterOutput, Diagnostics>> = dirty
        .par_iter()
        .map(|cluster| {
            let mut diags = Diagnostics::new();
            let mut skip = BTreeSet::new();
            let rendered = render_busy.time(|| {
                for (name, values) in cluster.enabled() {
                    if let Some(component) = source.components.get(name) {
                        let found = validate::check_component(cluster, component, values);
                        if !found.is_empty() {
                            skip.insert(name.as_str());
                            diags.extend(found);
                        }
                    }
                }
                renderer.cluster(cluster, &skip, parallel)
            });
            let rendered = match rendered {
                Ok(r) if !diags.has_errors() => r,
                Ok(_) => return Err(diags),
                Err(d) => {
                    diags.extend(d);
                    return Err(diags);
                }
            };
            let emitted = emit_busy.time(|| emit::cluster(&source, cluster, rendered));
            let emitted = match emitted {
                Ok(e) => e,
                Err(d) => {
                    diags.extend(d);
                    return Err(diags);
                }
            };
            let violations = check_busy.time(|| checker.check(&emitted.objects));
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
                violations,
                warnings: diags,
            })
        })
        .collect();
    timings.mark("pipeline");
    timings.stages.push(("render (cpu)", render_busy.total()));
    timings.stages.push(("emit (cpu)", emit_busy.total()));
    timings.stages.push(("policies (cpu)", check_busy.total()));

    let mut diags = Diagnostics::new();
    let mut violations = Vec::new();
    let mut done: BTreeMap<&str, ClusterOutput> = BTreeMap::new();
    // One bulk build: appending each cluster's map to the whole would copy it every time.
    let mut files: Vec<(String, Vec<u8>)> = std::mem::take(&mut tree.files).into_iter().collect();
    for (cluster, output) in dirty.iter().zip(outputs) {
        match output {
            Ok(mut o) => {
                diags.extend(std::mem::take(&mut o.warnings));
                violations.append(&mut o.violations);
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
        .map(|objects| checker.check(objects))
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
        clusters: BTreeMap::new(),
    };
    let mut objects = 0;
    for c in selected.iter().map(|&i| &all[i]) {
        if let Some(o) = done.remove(c.name.as_str()) {
            objects += o.objects;
            next.clusters.insert(
                c.name.clone(),
                cache::CachedCluster {
                    input: inputs.get(c.name.as_str()).cloned().unwrap_or_default(),
                    environment: c.environment.clone(),
                    files: o.records,
                    objects: o.objects,
                    violations: cached(&o.violations),
                },
            );
        } else if let Some(cc) = usable.and_then(|u| u.clusters.get(&c.name)) {
            let mut cc = cc.clone();
            if let Some(found) = rechecked_of.get(c.name.as_str()) {
                cc.violations = cached(found);
            }
            objects += cc.objects;
            next.clusters.insert(c.name.clone(), cc);
        }
    }
    drop(checker);
    drop(facts);
    drop(leaves);
    Ok(Compiled {
        source,
        all,
        selected,
        tree,
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
