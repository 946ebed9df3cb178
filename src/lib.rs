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
    /// The clusters that were rendered.
    pub selected: Vec<Cluster>,
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
pub fn compile_with(
    world: &dyn World,
    selection: &Selection,
    incremental: &Incremental<'_>,
) -> Result<Compiled, Failure> {
    let mut timings = Timings::default();
    let source = load::load(world)?;
    timings.mark("load");
    let texts = source.texts.clone();
    let fail = |d: Diagnostics| Failure {
        diagnostics: d,
        texts: texts.clone(),
    };
    let all = merge::merge_all(&source).map_err(fail)?;
    let selected = select(&all, selection).map_err(fail)?;
    timings.mark("merge");

    // Which clusters changed since the cache was written.
    let settings_bytes = world.read("strata.yaml").unwrap_or_default();
    let component_hashes = cache::component_hashes(&source, world);
    let leaves = validate::facts::leaves(&all);
    let leaves_hash = cache::leaves_hash(&leaves);
    let usable = incremental
        .cache
        .filter(|c| c.renderer == incremental.renderer && !incremental.renderer.is_empty());
    let mut inputs = BTreeMap::new();
    for c in &selected {
        let members: Vec<&str> = all
            .iter()
            .filter(|o| o.environment == c.environment)
            .map(|o| o.name.as_str())
            .collect();
        inputs.insert(
            c.name.clone(),
            cache::cluster_input(
                &incremental.renderer,
                settings_bytes,
                &component_hashes,
                c,
                &members,
            ),
        );
    }
    let reused: BTreeSet<String> = selected
        .iter()
        .filter(|c| {
            usable
                .and_then(|u| u.clusters.get(&c.name))
                .is_some_and(|cc| Some(&cc.input) == inputs.get(&c.name))
        })
        .map(|c| c.name.clone())
        .collect();
    let dirty: Vec<Cluster> = selected
        .iter()
        .filter(|c| !reused.contains(&c.name))
        .cloned()
        .collect();
    timings.mark("hash");

    let mut diags = Diagnostics::new();
    let mut skip = BTreeSet::new();
    for cluster in &dirty {
        for (name, values) in cluster.enabled() {
            if let Some(component) = source.components.get(name) {
                let found = validate::check_component(cluster, component, values);
                if !found.is_empty() {
                    skip.insert((cluster.name.clone(), name.clone()));
                    diags.extend(found);
                }
            }
        }
    }
    timings.mark("values schemas");
    let rendered = match render::render_all(&source, &dirty, world, &skip, incremental.progress) {
        Ok(r) => Some(r),
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }
    let rendered = rendered.unwrap_or_default();
    timings.mark("render");
    let environments: BTreeSet<String> = selected.iter().map(|c| c.environment.clone()).collect();
    let (tree, emitted) =
        emit::emit(&source, &dirty, rendered, &all, &environments).map_err(fail)?;
    timings.mark("emit");

    // Policies run on the rendered objects; a violation at level deny fails the compile.
    let envs: Vec<String> = all
        .iter()
        .map(|c| c.environment.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
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
    let mut violations = Vec::new();
    let leaves_changed = usable.is_none_or(|u| u.leaves != leaves_hash);
    let recheck: Vec<&Cluster> = selected
        .iter()
        .filter(|c| reused.contains(&c.name) && leaves_changed)
        .collect();
    let mut checked_objects: Vec<policy::RenderedObject> = Vec::new();
    let mut recheck_clusters: Vec<Cluster> = Vec::new();
    for c in &recheck {
        match incremental.objects.and_then(|load| load(&c.name)) {
            Some(objects) => {
                checked_objects.extend(objects);
                recheck_clusters.push((*c).clone());
            }
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
    let mut facts_for: Vec<Cluster> = dirty.clone();
    facts_for.extend(recheck_clusters);
    let facts = validate::facts::cluster_facts(&source, &facts_for).map_err(fail)?;
    let rechecked: BTreeSet<&str> = recheck.iter().map(|c| c.name.as_str()).collect();
    let mut all_objects: Vec<&policy::RenderedObject> = emitted.iter().collect();
    all_objects.extend(checked_objects.iter());
    let to_check: Vec<policy::RenderedObject> = if checked_objects.is_empty() {
        Vec::new()
    } else {
        all_objects.iter().map(|o| (*o).clone()).collect()
    };
    let found = if to_check.is_empty() {
        policy::check(&emitted, &facts, &leaves, &source.settings.policies)
    } else {
        policy::check(&to_check, &facts, &leaves, &source.settings.policies)
    };
    violations.extend(found);
    for name in &reused {
        if rechecked.contains(name.as_str()) {
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
    let mut object_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &emitted {
        *object_counts.entry(o.cluster.as_str()).or_default() += 1;
    }
    let mut violations_of: BTreeMap<&str, Vec<cache::CachedViolation>> = BTreeMap::new();
    for v in &violations {
        violations_of
            .entry(v.cluster.as_str())
            .or_default()
            .push(cache::CachedViolation::of(v));
    }
    let mut next = cache::Cache {
        renderer: incremental.renderer.clone(),
        leaves: leaves_hash,
        clusters: BTreeMap::new(),
    };
    for c in &selected {
        if reused.contains(&c.name) {
            if let Some(cc) = usable.and_then(|u| u.clusters.get(&c.name)) {
                let mut cc = cc.clone();
                if rechecked.contains(c.name.as_str()) {
                    cc.violations = violations_of.remove(c.name.as_str()).unwrap_or_default();
                }
                next.clusters.insert(c.name.clone(), cc);
            }
            continue;
        }
        let prefix = format!("{}/{}/", c.environment, c.path());
        let apps = format!("{}/argocd/apps/{}-", c.environment, c.slug());
        // The cluster's directory is one range of the sorted tree; its Applications are looked
        // up by name. (A filter over the whole tree per cluster is quadratic at 1,000 clusters.)
        let mut files: BTreeMap<String, cache::FileRecord> = tree
            .files
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, b)| (p.clone(), cache::FileRecord::of(b)))
            .collect();
        for (n, _) in c.enabled() {
            let app = format!("{apps}{n}.yaml");
            if let Some(b) = tree.files.get(&app) {
                files.insert(app, cache::FileRecord::of(b));
            }
        }
        next.clusters.insert(
            c.name.clone(),
            cache::CachedCluster {
                input: inputs.get(&c.name).cloned().unwrap_or_default(),
                environment: c.environment.clone(),
                files,
                objects: object_counts.get(c.name.as_str()).copied().unwrap_or(0),
                violations: violations_of.remove(c.name.as_str()).unwrap_or_default(),
            },
        );
    }
    let objects = next
        .clusters
        .iter()
        .filter(|(n, _)| selected.iter().any(|c| &c.name == *n))
        .map(|(_, c)| c.objects)
        .sum();
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

fn select(all: &[Cluster], selection: &Selection) -> DiagResult<Vec<Cluster>> {
    let mut out: Vec<Cluster> = all.to_vec();
    if let Some(env) = &selection.environment {
        out.retain(|c| &c.environment == env);
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
        out.retain(|c| shard_of(&c.name, n) == i);
    }
    if let Some(name) = &selection.cluster {
        out.retain(|c| &c.name == name);
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
