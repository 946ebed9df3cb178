//! The JSON format, for bots. Its schema is versioned: see [`JsonReport`].

use serde::Serialize;

use crate::compare::diff::{Diff, DiffOptions, ResourceDiff, Status, Summary};

/// The version of the JSON schema. It changes only when a field is removed or changes meaning;
/// new fields may appear within a version.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The output of `strata diff --format json`.
///
/// ```json
/// {"headline": "⚠ this change reaches prod: 1 cluster, 1 resource",
///   "schema_version": 1,
///   "empty": false,
///   "filter": {"env": null, "cluster": null},
///   "summary": {
///     "clusters_touched": 1, "resources": 1, "added": 0, "changed": 1, "removed": 0,
///     "gated_reached": ["prod"],
///     "environments": [
///       {"environment": "prod", "gated": true, "clusters_touched": 1,
///        "resources": 1, "added": 0, "changed": 1, "removed": 0,
///        "clusters": [{"cluster": "sto2/workload", "cluster_name": "prod-sto2-workload",
///                      "resources": 1, "added": 0, "changed": 1, "removed": 0}]}
///     ]
///   },
///   "resources": [
///     {"environment": "prod", "cluster": "sto2/workload", "cluster_name": "prod-sto2-workload",
///      "component": "ingress-nginx", "group": "apps", "kind": "Deployment",
///      "namespace": "ingress-nginx", "name": "ingress-nginx-controller",
///      "status": "changed", "reaches": "sto2/workload",
///      "base_file": "prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml",
///      "head_file": "prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml",
///      "changed_paths": ["spec.replicas"],
///      "diff": "@@ -20,7 +20,7 @@\n ...\n-  replicas: 2\n+  replicas: 3\n ...\n"}
///   ]
/// }
/// ```
/// - The first line holds `headline`, so `head -1` gives the same headline in every format.
/// - `headline` is [`Summary::headline`]: `⚠ this change reaches <gated envs>: …` when a gated
///   environment is reached, `this change touches <envs> only: …`, or `no differences`.
/// - `empty` is true when no (selected) resource differs: the exit code is then 0.
/// - `summary`, its environments and clusters are counted after the `filter`. A cluster is
///   `argocd` for the Argo CD objects; `cluster_name` is `null` when no Application names it.
/// - `resources` is left out with `--stat`. It is ordered by environment, cluster, component,
///   group, kind, namespace, name. `group` is `""` for the core group, `namespace` is `null`
///   for objects without one, `status` is `added`, `changed` or `removed`, `reaches` is the
///   cluster path the resource deploys to (`null` for the AppProject and root Application),
///   `base_file`/`head_file` are `null` on the side that lacks the resource, `changed_paths`
///   is empty unless `changed`, and `diff` is a unified diff of the canonical YAML without a
///   file header, with the requested lines of context.
/// - Secret values appear only as `sha256:<first 12 hex digits>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct JsonReport<'a> {
    pub(crate) headline: String,
    pub(crate) schema_version: u32,
    pub(crate) empty: bool,
    pub(crate) filter: JsonFilter<'a>,
    pub(crate) summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resources: Option<Vec<JsonResource<'a>>>,
}

/// The `--env` and `--cluster` filters in effect, `null` when off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct JsonFilter<'a> {
    pub(crate) env: Option<&'a str>,
    pub(crate) cluster: Option<&'a str>,
}

/// One resource that differs. See [`JsonReport`] for the meaning of each field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct JsonResource<'a> {
    pub(crate) environment: &'a str,
    pub(crate) cluster: &'a str,
    pub(crate) cluster_name: Option<&'a str>,
    pub(crate) component: &'a str,
    pub(crate) group: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) name: &'a str,
    pub(crate) status: Status,
    pub(crate) reaches: Option<&'a str>,
    pub(crate) base_file: Option<&'a str>,
    pub(crate) head_file: Option<&'a str>,
    pub(crate) changed_paths: &'a [String],
    pub(crate) diff: String,
}

impl<'a> JsonResource<'a> {
    fn of(r: &'a ResourceDiff, context: usize) -> JsonResource<'a> {
        JsonResource {
            environment: &r.key.environment,
            cluster: &r.key.cluster,
            cluster_name: r.cluster_name.as_deref(),
            component: &r.key.component,
            group: &r.key.id.group,
            kind: &r.key.id.kind,
            namespace: r.key.id.namespace.as_deref(),
            name: &r.key.id.name,
            status: r.status,
            reaches: r.reaches.as_deref(),
            base_file: r.base_file.as_deref(),
            head_file: r.head_file.as_deref(),
            changed_paths: &r.changed_paths,
            diff: r.unified_with(context).into_owned(),
        }
    }
}

/// Prints a diff as JSON ([`JsonReport`]), pretty-printed except that the first line also
/// holds the headline. Ends with a newline.
pub(crate) fn render_json(d: &Diff, o: &DiffOptions) -> String {
    let summary = d.summary(o);
    let report = JsonReport {
        headline: summary.headline(),
        schema_version: SCHEMA_VERSION,
        empty: summary.environments.is_empty(),
        filter: JsonFilter {
            env: o.env.as_deref(),
            cluster: o.cluster.as_deref(),
        },
        summary,
        resources: (!o.stat).then(|| {
            d.selected(o)
                .map(|r| JsonResource::of(r, o.context))
                .collect()
        }),
    };
    // Serializing plain structs of strings and numbers cannot fail; should it ever, the output
    // is still valid JSON and names the problem.
    let text = serde_json::to_string_pretty(&report).unwrap_or_else(|e| {
        serde_json::json!({"schema_version": SCHEMA_VERSION, "error": e.to_string()}).to_string()
    });
    let mut text = match text.strip_prefix("{\n  ") {
        Some(rest) => format!("{{{rest}"),
        None => text,
    };
    text.push('\n');
    text
}
