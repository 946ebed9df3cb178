//! `strata diff`: what a change does to the rendered output, per resource.
//!
//! Two [`OutputTree`]s go in, a [`Diff`] comes out, and three renderers print it:
//! [`render_human`] for a terminal, [`render_json`] for bots, [`render_markdown`] for a pull
//! request comment.
//!
//! The pipeline:
//! 1. Every file of both trees is parsed into one object and keyed by a [`ResourceKey`]:
//!    environment, cluster path and component (from the file's place in the tree), then group,
//!    kind, namespace and name (from the object). The file name is not part of the key, so
//!    moving an object to another file is not a change, and the comparison works on canonical
//!    values, so reordering keys is not one either.
//! 2. Secret values are replaced by short hashes *before* anything else sees them
//!    (`secret.rs`): no value of a Secret's `data` or `stringData` can reach any output.
//! 3. Each resource present on both sides and not equal is `changed`, with the field paths
//!    that differ (`field_path.rs`) and a unified diff of its canonical YAML, as strata writes
//!    it ([`crate::yaml::canonical`], [`crate::yaml::to_yaml`]).
//! 4. The renderers filter by environment and cluster, count the blast radius ([`Summary`]) and
//!    open with one headline that says whether a gated environment is reached.
//!
//! The tree layout is `<environment>/<cluster path>/<component>/<file>.yaml`, where the
//! cluster path has one or more segments, plus `<environment>/argocd/...` for the Argo CD
//! objects. Everything under `argocd/` is grouped as the pseudo-cluster `argocd` with the
//! component `argocd`; an Application there still counts towards the cluster it deploys to
//! (from its `spec.source.path`) in the blast radius and in `--cluster` filters.
//!
//! Files whose names do not end in `.yaml` or `.yml` are not Kubernetes objects and are skipped.

mod diff_error;
mod field_path;
mod findings;
mod human;
mod json;
mod markdown;
mod report;
mod resource_key;
mod secret;
pub(crate) mod sides;
mod summary;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;

use crate::emit::OutputTree;

pub(crate) use diff_error::{DiffError, Side};
pub(crate) use findings::Findings;
pub(crate) use human::render_human;
pub(crate) use json::render_json;
pub(crate) use markdown::render_markdown;
pub(crate) use report::{Format, report};
pub(crate) use resource_key::ResourceKey;
pub(crate) use summary::{Counts, Summary};

/// The pseudo-cluster (and component) that holds an environment's Argo CD objects.
pub(crate) const ARGOCD: &str = crate::emit::layout::ARGOCD;

/// Lines of context around each change, as `diff -u` and git print them.
pub(crate) const DEFAULT_CONTEXT: usize = 3;

/// How to present a [`Diff`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DiffOptions {
    /// The protected environments, e.g. `["prod"]`. A change that reaches one says so first.
    pub(crate) gated: Vec<String>,
    /// Show only this environment.
    pub(crate) env: Option<String>,
    /// Show only this cluster: a cluster path (`sto2/workload`), a cluster name
    /// (`prod-sto2-workload`, from the `strata.dev/cluster` label of its Applications), or
    /// `argocd` for the Argo CD objects.
    pub(crate) cluster: Option<String>,
    /// Print the summary only.
    pub(crate) stat: bool,
    /// ANSI colors in the human format.
    pub(crate) color: bool,
    /// Lines of context in unified diffs.
    pub(crate) context: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            gated: Vec::new(),
            env: None,
            cluster: None,
            stat: false,
            color: false,
            context: DEFAULT_CONTEXT,
        }
    }
}

/// What happened to a resource between base and head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Changed,
    Removed,
}

impl Status {
    /// `+`, `~` or `-`, as the header of a resource shows it.
    pub(crate) fn sign(self) -> char {
        match self {
            Status::Added => '+',
            Status::Changed => '~',
            Status::Removed => '-',
        }
    }
}

/// One resource that differs between base and head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResourceDiff {
    pub(crate) key: ResourceKey,
    pub(crate) status: Status,
    /// The cluster's name (`prod-sto2-workload`) when an Application names it: for an
    /// Application its own `strata.dev/cluster` label, for other resources the label of the
    /// Applications that deploy their cluster path.
    pub(crate) cluster_name: Option<String>,
    /// The cluster path this resource reaches: its own cluster path, or for an Application
    /// the cluster path it deploys. `None` for the AppProject and the root Application.
    pub(crate) reaches: Option<String>,
    /// The file in each tree, relative to the output directory.
    pub(crate) base_file: Option<String>,
    pub(crate) head_file: Option<String>,
    /// The fields that differ, in document order: `spec.replicas`,
    /// `spec.template.spec.containers[name=app].image`, `metadata.labels["app.kubernetes.io/version"]`.
    /// Empty for added and removed resources.
    pub(crate) changed_paths: Vec<String>,
    /// Canonical YAML of each side, Secret values already hashed. `None` on the missing side.
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    /// The unified diff of `before` and `after` with [`DEFAULT_CONTEXT`] lines of context and
    /// no file header. An added resource is all `+` lines, a removed one all `-` lines.
    pub(crate) unified: String,
}

impl ResourceDiff {
    /// The unified diff with `context` lines of context.
    pub(crate) fn unified_with(&self, context: usize) -> Cow<'_, str> {
        if context == DEFAULT_CONTEXT {
            Cow::Borrowed(&self.unified)
        } else {
            Cow::Owned(unified(
                self.before.as_deref().unwrap_or(""),
                self.after.as_deref().unwrap_or(""),
                context,
            ))
        }
    }

    /// Whether `--env` and `--cluster` select this resource.
    fn selected(&self, options: &DiffOptions) -> bool {
        let env_ok = options
            .env
            .as_ref()
            .is_none_or(|env| *env == self.key.environment);
        let cluster_ok = options.cluster.as_ref().is_none_or(|cluster| {
            *cluster == self.key.cluster
                || self.reaches.as_ref() == Some(cluster)
                || self.cluster_name.as_ref() == Some(cluster)
        });
        env_ok && cluster_ok
    }
}

/// Every resource that differs, ordered by [`ResourceKey`]: environment, cluster path,
/// component, group, kind, namespace, name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub(crate) resources: Vec<ResourceDiff>,
}

impl Diff {
    /// No resource differs: `strata diff` exits 0.
    pub(crate) fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The resources that `options.env` and `options.cluster` select.
    pub(crate) fn filtered(&self, options: &DiffOptions) -> Diff {
        Diff {
            resources: self
                .resources
                .iter()
                .filter(|r| r.selected(options))
                .cloned()
                .collect(),
        }
    }

    /// The blast radius of the resources that `options` selects.
    pub(crate) fn summary(&self, options: &DiffOptions) -> Summary {
        Summary::of(self.selected(options), &options.gated)
    }

    fn selected<'a>(
        &'a self,
        options: &'a DiffOptions,
    ) -> impl Iterator<Item = &'a ResourceDiff> + Clone + 'a {
        self.resources.iter().filter(|r| r.selected(options))
    }
}

/// Compares two rendered trees resource by resource.
///
/// Fails on the first file that is not one Kubernetes object in the output layout, naming the
/// tree and the file.
pub(crate) fn diff(base_tree: &OutputTree, head_tree: &OutputTree) -> Result<Diff, DiffError> {
    let base = parse_tree(base_tree, Side::Base, None)?;
    let head = parse_tree(head_tree, Side::Head, Some((base_tree, &base)))?;
    let names = cluster_names(&base, &head);

    let mut resources = Vec::new();
    let mut keys: Vec<&ResourceKey> = base.keys().chain(head.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (old, new) = (base.get(key), head.get(key));
        let status = match (old, new) {
            (Some(old), Some(new)) if old.value == new.value => continue,
            (Some(_), Some(_)) => Status::Changed,
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (None, None) => continue,
        };
        let changed_paths = match (old, new) {
            (Some(old), Some(new)) => field_path::changed_paths(&old.value, &new.value),
            _ => Vec::new(),
        };
        let before = old.map(Parsed::yaml);
        let after = new.map(Parsed::yaml);
        let unified = unified(
            before.as_deref().unwrap_or(""),
            after.as_deref().unwrap_or(""),
            DEFAULT_CONTEXT,
        );
        let target = new.or(old).and_then(|p| p.target.clone());
        let reaches = if key.cluster == ARGOCD {
            target.as_ref().map(|t| t.path.clone())
        } else {
            Some(key.cluster.clone())
        };
        let cluster_name = match &target {
            Some(target) => Some(target.name.clone()),
            None if key.cluster == ARGOCD => None,
            None => names
                .get(&(key.environment.clone(), key.cluster.clone()))
                .cloned(),
        };
        resources.push(ResourceDiff {
            key: key.clone(),
            status,
            cluster_name,
            reaches,
            base_file: old.map(|p| p.file.clone()),
            head_file: new.map(|p| p.file.clone()),
            changed_paths,
            before,
            after,
            unified,
        });
    }
    Ok(Diff { resources })
}

/// The unified diff of two texts, without a file header.
fn unified(before: &str, after: &str, context: usize) -> String {
    // `similar` doubles the radius; a million lines is more context than any object has.
    const MAX_CONTEXT: usize = 1 << 20;
    TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(context.min(MAX_CONTEXT))
        .to_string()
}

/// One parsed file.
#[derive(Clone)]
struct Parsed {
    file: String,
    /// Canonical, Secret values hashed.
    value: Value,
    /// For an Application: the cluster it deploys.
    target: Option<Target>,
}

impl Parsed {
    /// The YAML strata writes of the value, printed only for the resources that differ: the
    /// lines of a diff are the lines of the files.
    fn yaml(&self) -> String {
        crate::yaml::to_yaml_canonical(&self.value)
    }
}

/// The cluster an Application deploys: the Applications of clusters carry the cluster's name
/// in a label, and their `spec.source.path` is `<cluster path>/<component>`. The root
/// Application has no such label.
#[derive(Clone)]
struct Target {
    path: String,
    name: String,
}

/// Parses every YAML file of `tree`. A file with the same bytes at the same path in
/// `previous` (the base tree, when parsing the head) is taken from there: most files of a
/// change are untouched, and parsing is most of the cost.
fn parse_tree(
    tree: &OutputTree,
    side: Side,
    previous: Option<(&OutputTree, &BTreeMap<ResourceKey, Parsed>)>,
) -> Result<BTreeMap<ResourceKey, Parsed>, DiffError> {
    let by_file: BTreeMap<&str, (&ResourceKey, &Parsed)> = previous
        .map(|(_, parsed)| {
            parsed
                .iter()
                .map(|(key, p)| (p.file.as_str(), (key, p)))
                .collect()
        })
        .unwrap_or_default();
    let mut out: BTreeMap<ResourceKey, Parsed> = BTreeMap::new();
    for (file, bytes) in &tree.files {
        if !(file.ends_with(".yaml") || file.ends_with(".yml")) {
            continue;
        }
        let unchanged = previous
            .filter(|(tree, _)| tree.files.get(file) == Some(bytes))
            .and_then(|_| by_file.get(file.as_str()));
        let (key, parsed) = match unchanged {
            Some((key, parsed)) => ((*key).clone(), (*parsed).clone()),
            None => parse_file(file, bytes, side)?,
        };
        if let Some(first) = out.get(&key) {
            return Err(DiffError::Duplicate {
                side,
                resource: key.to_string(),
                first: first.file.clone(),
                second: file.clone(),
            });
        }
        out.insert(key, parsed);
    }
    Ok(out)
}

fn parse_file(file: &str, bytes: &[u8], side: Side) -> Result<(ResourceKey, Parsed), DiffError> {
    let fail = |message: String| DiffError::File {
        side,
        file: file.to_owned(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| fail("not UTF-8".into()))?;
    let mut value: Value =
        yaml_serde::from_str(text).map_err(|e| fail(format!("not valid YAML: {e}")))?;
    let key = ResourceKey::of(file, &value).map_err(fail)?;
    if key.is_secret() {
        secret::hash_values(&mut value);
    }
    let value = crate::yaml::canonical(&value);
    let target = (key.cluster == ARGOCD && key.is("argoproj.io", "Application"))
        .then(|| application_target(&value))
        .flatten();
    let parsed = Parsed {
        file: file.to_owned(),
        value,
        target,
    };
    Ok((key, parsed))
}

fn application_target(app: &Value) -> Option<Target> {
    let name = app
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(crate::object::CLUSTER_LABEL))
        .and_then(Value::as_str)?;
    let path = app.pointer("/spec/source/path").and_then(Value::as_str)?;
    let cluster_path = crate::emit::layout::cluster_of_application_source(path)?;
    Some(Target {
        path: cluster_path.to_owned(),
        name: name.to_owned(),
    })
}

/// (environment, cluster path) → cluster name, from the Applications of both trees; head wins.
fn cluster_names(
    base: &BTreeMap<ResourceKey, Parsed>,
    head: &BTreeMap<ResourceKey, Parsed>,
) -> BTreeMap<(String, String), String> {
    let mut names = BTreeMap::new();
    for (key, parsed) in base.iter().chain(head.iter()) {
        if let Some(target) = &parsed.target {
            names.insert(
                (key.environment.clone(), target.path.clone()),
                target.name.clone(),
            );
        }
    }
    names
}

/// `1 cluster`, `2 clusters`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The cluster as a heading shows it: `sto2/workload (prod-sto2-workload)`.
struct ClusterLabel<'a> {
    path: &'a str,
    name: Option<&'a str>,
}

impl fmt::Display for ClusterLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path)?;
        if let Some(name) = self.name {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// The resources of one cluster of one environment, in key order, as every renderer groups them.
struct ClusterGroup<'a> {
    environment: &'a str,
    cluster: &'a str,
    cluster_name: Option<&'a str>,
    resources: Vec<&'a ResourceDiff>,
}

impl ClusterGroup<'_> {
    fn label(&self) -> ClusterLabel<'_> {
        ClusterLabel {
            path: self.cluster,
            name: self.cluster_name,
        }
    }
}

/// Groups resources (already in key order) by environment and cluster.
fn group_by_cluster<'a>(
    resources: impl Iterator<Item = &'a ResourceDiff>,
) -> Vec<ClusterGroup<'a>> {
    let mut groups: Vec<ClusterGroup<'a>> = Vec::new();
    for r in resources {
        match groups.last_mut() {
            Some(g) if g.environment == r.key.environment && g.cluster == r.key.cluster => {
                g.resources.push(r);
            }
            _ => groups.push(ClusterGroup {
                environment: &r.key.environment,
                cluster: &r.key.cluster,
                cluster_name: (r.key.cluster != ARGOCD)
                    .then_some(r.cluster_name.as_deref())
                    .flatten(),
                resources: vec![r],
            }),
        }
    }
    groups
}

/// The line under the headline when a filter is on, e.g. ``showing only environment `prod` ``.
fn filter_note(options: &DiffOptions) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(env) = &options.env {
        parts.push(format!("environment `{}`", shorten(env, 100)));
    }
    if let Some(cluster) = &options.cluster {
        parts.push(format!("cluster `{}`", shorten(cluster, 100)));
    }
    (!parts.is_empty()).then(|| format!("showing only {}", parts.join(", ")))
}

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}
