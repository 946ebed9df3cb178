//! `DriftReport`: the result of `strata drift`, as JSON and as text for a person.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::compare::drift::compare::{DriftKind, FieldDrift};
use crate::object::ObjectId;

/// What differs between the rendered objects of a cluster and the cluster itself.
///
/// Serialized (`--format json`) as:
/// ```json
/// {
///   "summary": {"in_sync": 40, "changed": 1, "missing": 1, "orphans": 1},
///   "changed": [
///     {"group": "apps", "kind": "Deployment", "namespace": "shop", "name": "web",
///      "fields": [
///        {"path": "spec.replicas", "kind": "changed", "desired": 3, "live": 5},
///        {"path": "metadata.labels.tier", "kind": "missing_in_live", "desired": "web", "live": null},
///        {"path": "spec.template.spec.containers[name=debug]", "kind": "removed_still_live",
///         "desired": null, "live": {"name": "debug", "image": "busybox"}}
///      ]}
///   ],
///   "missing": [{"group": "", "kind": "ConfigMap", "namespace": "shop", "name": "web-config"}],
///   "orphans": [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "namespace": null, "name": "old"}]
/// }
/// ```
/// - `group` is `""` for the core group; `namespace` is `null` for cluster-scoped objects.
/// - field `kind` is one of `changed`, `missing_in_live`, `removed_still_live`, `extra_in_live`
///   (see [`DriftKind`]); `desired`/`live` are `null` when that side does not have the field
///   (normalized objects hold no `null` values, so `null` always means absent).
/// - Secret values appear only as `sha256:<first 12 hex digits>`.
/// - Every list is sorted by (group, kind, namespace, name); the fields of an object are in
///   path order, map keys sorted and list items in desired order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    pub(crate) summary: Summary,
    /// Objects that exist on both sides and differ.
    pub(crate) changed: Vec<ObjectDrift>,
    /// Desired objects that the cluster does not have.
    pub(crate) missing: Vec<ObjectId>,
    /// Live objects labelled `app.kubernetes.io/managed-by: strata` that are no longer desired.
    pub(crate) orphans: Vec<ObjectId>,
}

/// Counts of each list, plus the desired objects that are in sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    pub(crate) in_sync: usize,
    pub(crate) changed: usize,
    pub(crate) missing: usize,
    pub(crate) orphans: usize,
}

/// One drifted object and its drifted fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ObjectDrift {
    #[serde(flatten)]
    pub(crate) object: ObjectId,
    pub(crate) fields: Vec<FieldDrift>,
}

impl DriftReport {
    /// Nothing changed, missing or orphaned: exit code 0.
    pub(crate) fn is_in_sync(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.orphans.is_empty()
    }
}

/// Longest value shown on a line; JSON output has the full value.
const MAX_SHOWN: usize = 100;
/// Paths up to this width are aligned in a column.
const MAX_ALIGN: usize = 60;

/// The report for a terminal:
/// ```text
/// Drift (rendered → live):
/// ~ apps/StatefulSet search/elasticsearch-data
///     metadata.labels.chart    "elasticsearch-1.7.1" → "elasticsearch-1.7.0"
///     metadata.labels.foo      "bar" → (not in cluster)
///     metadata.labels.release  (deleted from rendered) → "search"
/// - ConfigMap search/es-config: missing from the cluster
/// ! rbac.authorization.k8s.io/ClusterRole old-role: orphan (labelled managed-by=strata, no longer rendered)
///
/// 1 object drifted, 1 missing, 1 orphan
/// ```
/// or, when there is nothing to report, `in sync: 42 objects`.
pub fn render_human(report: &DriftReport) -> String {
    let mut text = String::new();
    if report.is_in_sync() {
        let _ = writeln!(
            text,
            "in sync: {}",
            count(report.summary.in_sync, "object", "objects")
        );
        return text;
    }
    if !report.changed.is_empty() {
        text.push_str("Drift (rendered → live):\n");
    }
    for drift in &report.changed {
        let _ = writeln!(text, "~ {}", drift.object);
        let width = drift
            .fields
            .iter()
            .map(|field| field.path.chars().count())
            .filter(|width| *width <= MAX_ALIGN)
            .max()
            .unwrap_or(0);
        for field in &drift.fields {
            let (desired, live) = match field.kind {
                DriftKind::Changed => (shown(&field.desired), shown(&field.live)),
                DriftKind::MissingInLive => (shown(&field.desired), "(not in cluster)".into()),
                DriftKind::RemovedStillLive => {
                    ("(deleted from rendered)".into(), shown(&field.live))
                }
                DriftKind::ExtraInLive => ("(not rendered)".into(), shown(&field.live)),
            };
            let path = if field.path.is_empty() {
                "(whole object)"
            } else {
                &field.path
            };
            let _ = writeln!(text, "    {path:<width$}  {desired} → {live}");
        }
    }
    for object in &report.missing {
        let _ = writeln!(text, "- {object}: missing from the cluster");
    }
    for object in &report.orphans {
        let _ = writeln!(
            text,
            "! {object}: orphan (labelled managed-by=strata, no longer rendered)"
        );
    }
    let summary = report.summary;
    let _ = writeln!(
        text,
        "\n{} drifted, {} missing, {}",
        count(summary.changed, "object", "objects"),
        summary.missing,
        count(summary.orphans, "orphan", "orphans"),
    );
    text
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Compact JSON, so `80` and `"80"` stay apart, cut to [`MAX_SHOWN`] characters.
fn shown(value: &Option<Value>) -> String {
    let Some(value) = value else {
        return "(absent)".into();
    };
    let text = value.to_string();
    if text.chars().count() <= MAX_SHOWN {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_SHOWN - 1).collect();
    cut.push('…');
    cut
}
