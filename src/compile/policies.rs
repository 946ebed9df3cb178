//! The policies' part of a compile: what they need from every cluster, built once before the
//! pipeline (leak ownership, each cluster's facts, the unchanged clusters to check again), and
//! the violations of every selected cluster gathered after it, as diagnostics.

use std::collections::{BTreeMap, BTreeSet};

use super::changes::Changes;
use super::{LoadObjects, Options};
use crate::cache;
use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::load::Source;
use crate::merge::{self, Cluster};
use crate::policy::{Checker, ClusterFacts, Ownership, Violation};
use crate::validate;

/// What is wrong with the policy settings, whatever the clusters render.
pub(super) fn config_errors(source: &Source, changes: &Changes<'_>) -> Diagnostics {
    let envs: Vec<String> = changes.members.keys().map(|e| e.to_string()).collect();
    source
        .settings
        .policies
        .validate(&envs)
        .into_iter()
        .map(|e| {
            Diagnostic::error(Code::PolicyConfig, e.to_string()).at(Span::new("strata.yaml", 1, 1))
        })
        .collect()
}

/// Leak ownership for this render, and whether it changed since the last one.
pub(super) struct Leaks<'a> {
    /// `None` when no cluster is to be checked and the leaves are as they were.
    ownership: Option<Ownership<'a>>,
    /// What the cache records of it ([`Ownership::fingerprint`]).
    pub(super) hash: String,
    /// Unchanged clusters are checked again only when what each environment owns changed,
    /// not on every change of a string value.
    pub(super) changed: bool,
}

impl<'a> Leaks<'a> {
    /// Decides, from `changes`, whether `ownership` is needed and whether it changed.
    pub(super) fn new(changes: &Changes<'_>, ownership: Ownership<'a>) -> Leaks<'a> {
        let usable = changes.usable;
        let leaves_changed = usable.is_none_or(|u| u.leaves != changes.leaves);
        let ownership = (leaves_changed || !changes.dirty.is_empty()).then_some(ownership);
        let hash = match (&ownership, usable) {
            (Some(o), _) => o.fingerprint(),
            (None, Some(u)) => u.ownership.clone(),
            (None, None) => String::new(),
        };
        let changed = usable.is_none_or(|u| u.ownership != hash);
        Leaks {
            ownership,
            hash,
            changed,
        }
    }
}

/// Unchanged clusters whose objects are checked again, because leak ownership changed: their
/// objects come from the last render ([`Options::cached_objects`]), one cluster at a time, each
/// let go once checked.
pub(super) struct Recheck<'a, 'o> {
    pub(super) clusters: Vec<&'a Cluster>,
    objects: Option<&'o LoadObjects<'o>>,
    /// The source to merge each cluster again from, when the clusters' values were let go:
    /// a leak finding's hint names the cluster's own values.
    merge_again: Option<&'a Source>,
}

impl<'a, 'o> Recheck<'a, 'o> {
    /// The reused clusters among `selected`, when `leaks` changed.
    pub(super) fn new(
        selected: &[&'a Cluster],
        changes: &Changes<'_>,
        leaks: &Leaks<'_>,
        options: &Options<'o>,
        merge_again: Option<&'a Source>,
    ) -> Recheck<'a, 'o> {
        let clusters: Vec<&Cluster> = selected
            .iter()
            .copied()
            .filter(|c| changes.reused.contains(&c.name) && leaks.changed)
            .collect();
        Recheck {
            clusters,
            objects: options.cached_objects,
            merge_again,
        }
    }

    /// The violations of each cluster, by name, checked by `checker`.
    pub(super) fn check(
        &self,
        checker: &Checker<'_>,
    ) -> Result<BTreeMap<&'a str, Vec<Violation>>, Diagnostics> {
        use rayon::prelude::*;
        let found: Vec<Result<Option<Vec<Violation>>, Diagnostics>> = self
            .clusters
            .par_iter()
            .map(|c| {
                let Some(objects) = self.objects.and_then(|load| load(&c.name)) else {
                    return Ok(None);
                };
                let full = match self.merge_again {
                    Some(source) => Some(merge::merge_again(source, c, merge::Wrote::Skipped)?),
                    None => None,
                };
                let leaves = validate::facts::cluster_leaves(full.as_ref().unwrap_or(c));
                Ok(Some(checker.check(&objects, &leaves)))
            })
            .collect();
        let mut out = BTreeMap::new();
        for (c, found) in self.clusters.iter().zip(found) {
            match found? {
                Some(found) => {
                    out.insert(c.name.as_str(), found);
                }
                None => {
                    return Err(Diagnostic::error(
                        Code::Cache,
                        format!("the render cache has no objects for cluster `{}`", c.name),
                    )
                    .hint("delete the output directory's .strata-cache and render again")
                    .into());
                }
            }
        }
        Ok(out)
    }
}

/// The facts the policies need of the clusters to render and to check again.
pub(super) fn facts(
    source: &Source,
    changes: &Changes<'_>,
    recheck: &Recheck<'_, '_>,
) -> Result<Vec<ClusterFacts>, Diagnostics> {
    let secrets = |c: &Cluster| {
        changes
            .secret_values
            .get(c.name.as_str())
            .cloned()
            .unwrap_or_default()
    };
    let mut facts = validate::facts::cluster_facts(source, &changes.dirty, secrets)?;
    facts.extend(validate::facts::cluster_facts(
        source,
        &recheck.clusters,
        secrets,
    )?);
    Ok(facts)
}

/// The hash of each cluster's `x-strata-secret` values, by cluster name.
pub(super) fn secrets(facts: &[ClusterFacts]) -> BTreeMap<&str, String> {
    facts
        .iter()
        .map(|f| (f.cluster.as_str(), cache::secrets_hash(f)))
        .collect()
}

/// The checker of this render's objects: with leak ownership when some cluster is to be
/// checked, without when none is.
pub(super) fn checker<'a>(
    source: &'a Source,
    facts: &'a [ClusterFacts],
    leaks: Leaks<'a>,
    changes: &Changes<'_>,
    recheck: &Recheck<'_, '_>,
) -> Checker<'a> {
    let ownership = match leaks.ownership {
        Some(o) if !(changes.dirty.is_empty() && recheck.clusters.is_empty()) => o,
        _ => Ownership::build(&[], &source.settings.policies),
    };
    Checker::new(facts, ownership, &source.settings.policies)
}

/// Every violation of the selected clusters, sorted: `found` by the pipeline, `rechecked`
/// clusters', and the cached ones of the other reused clusters.
pub(super) fn violations(
    found: Vec<Violation>,
    rechecked: &BTreeMap<&str, Vec<Violation>>,
    changes: &Changes<'_>,
) -> Vec<Violation> {
    let mut violations = found;
    for found in rechecked.values() {
        violations.extend(found.iter().cloned());
    }
    let rechecked_names: BTreeSet<&str> = rechecked.keys().copied().collect();
    for name in &changes.reused {
        if rechecked_names.contains(name.as_str()) {
            continue;
        }
        if let Some(cc) = changes.usable.and_then(|u| u.clusters.get(name)) {
            violations.extend(cc.violations.iter().cloned());
        }
    }
    violations.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    violations
}

/// A policy violation as a diagnostic: at the layer line that set the value when known.
pub(super) fn diagnostic(v: &Violation) -> Diagnostic {
    let d = if v.fails() {
        Diagnostic::error(Code::Rule(v.rule), format!("{}: {}", v.resource, v.message))
    } else {
        Diagnostic::warning(Code::Rule(v.rule), format!("{}: {}", v.resource, v.message))
    };
    let d = match &v.origin {
        Some((file, line)) => d.at(Span::new(file.clone(), *line, 1)),
        None => d,
    };
    d.note(format!(
        "in {} (cluster {}, component {})",
        v.file, v.cluster, v.component
    ))
    .note(format!("field: {}", v.field))
    .hint(v.hint.clone())
}
