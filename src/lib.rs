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

use std::collections::BTreeSet;

pub use diag::Failure;
use diag::{DiagResult, Diagnostic, Diagnostics};
use emit::OutputTree;
use load::Source;
use merge::Cluster;
use world::World;

/// Which clusters to compile.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub environment: Option<String>,
    pub cluster: Option<String>,
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

    let mut diags = Diagnostics::new();
    let mut skip = BTreeSet::new();
    for cluster in &selected {
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
    let rendered = match render::render_all(&source, &selected, world, &skip) {
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
    let (tree, emitted) = emit::emit(&source, &selected, &rendered, &all).map_err(fail)?;
    let objects = emitted.len();
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
    let facts = validate::facts::cluster_facts(&source, &selected).map_err(fail)?;
    let leaves = validate::facts::leaves(&all);
    let violations = policy::check(&emitted, &facts, &leaves, &source.settings.policies);
    for v in &violations {
        if v.exemption.is_none() {
            diags.push(violation_diagnostic(v));
        }
    }
    timings.mark("policies");
    if diags.has_errors() {
        return Err(fail(diags.sorted()));
    }
    Ok(Compiled {
        source,
        all,
        selected,
        tree,
        objects,
        warnings: diags.sorted(),
        violations,
        timings,
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
