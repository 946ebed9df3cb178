//! Layers under `environments/`: `layer.yaml`, `layer.<role>.yaml` and `<name>.cluster.yaml`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::yaml::{Node, Pos};

/// One layer file, checked against `schema/layer.schema.json`.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    /// The path relative to the source root, e.g. `environments/prod/layer.yaml`.
    pub(crate) path: String,
    /// `cluster:`, the identity fields this layer sets.
    pub(crate) cluster: Option<Node>,
    /// `components:`, name → enabled, with the position of each entry.
    pub(crate) components: Vec<(String, bool, Pos)>,
    /// `values:`, by component name (or `global`).
    pub(crate) values: Vec<(String, Pos, Node)>,
    /// `patches:`, by component name, in the order the file lists them.
    pub(crate) patches: Vec<(String, Arc<Patch>)>,
}

/// One patch of a layer: which rendered objects it changes, and how.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Patch {
    /// The layer file, and the line and column of the patch's entry.
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) target: PatchTarget,
    pub(crate) change: PatchChange,
    /// The entry as written, for the cache key.
    pub(crate) written: serde_json::Value,
}

/// `target:` of a patch; every field given must match.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct PatchTarget {
    pub(crate) group: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) kind: String,
    pub(crate) name: Option<String>,
    pub(crate) namespace: Option<String>,
    /// `labelSelector: "a=b,c=d"`: labels the object must carry with these values.
    pub(crate) labels: BTreeMap<String, String>,
}

/// How a patch changes its targets.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PatchChange {
    /// `patch:`, merged as kubectl's strategic merge does.
    Merge(serde_json::Value),
    /// `jsonPatch:`, RFC 6902, with the line of each operation.
    Json(json_patch::Patch, Vec<u32>),
}

impl PatchTarget {
    /// `Kind/name` (with the other fields given), as a person reads it.
    pub(crate) fn describe(&self) -> String {
        let mut s = self.kind.clone();
        if let Some(n) = &self.name {
            s.push('/');
            s.push_str(n);
        }
        let mut extra = Vec::new();
        if let Some(g) = &self.group {
            extra.push(format!("group {g:?}"));
        }
        if let Some(v) = &self.version {
            extra.push(format!("version {v}"));
        }
        if let Some(n) = &self.namespace {
            extra.push(format!("namespace {n}"));
        }
        if !self.labels.is_empty() {
            let l: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            extra.push(format!("labels {}", l.join(",")));
        }
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }
}

/// A leaf: `environments/<environment>/.../<name>.cluster.yaml`.
#[derive(Clone, Debug)]
pub(crate) struct ClusterFile {
    /// `environments/prod/sto2/workload.cluster.yaml`
    pub(crate) path: String,
    pub(crate) environment: String,
    /// The directories between the environment and the file: `["sto2"]`.
    pub(crate) dirs: Vec<String>,
    /// `workload`
    pub(crate) stem: String,
    /// `cluster.role` of the cluster file itself; role layers are chosen by it.
    pub(crate) role: String,
}

impl ClusterFile {
    /// The path under the environment: `sto2/workload`. The output directory of the cluster.
    pub(crate) fn cluster_path(&self) -> String {
        let mut parts = self.dirs.clone();
        parts.push(self.stem.clone());
        parts.join("/")
    }

    /// The default cluster name: the path under environments/ joined by '-'.
    pub(crate) fn default_name(&self) -> String {
        let mut parts = vec![self.environment.clone()];
        parts.extend(self.dirs.iter().cloned());
        parts.push(self.stem.clone());
        parts.join("-")
    }

    pub(crate) fn datacenter(&self) -> Option<&str> {
        self.dirs.first().map(String::as_str)
    }

    /// The layer files that apply to this cluster, in order, later winning (DESIGN.md's 8 steps,
    /// for any depth of directories).
    pub(crate) fn layer_chain(&self) -> Vec<String> {
        let mut dirs = vec!["environments".to_string()];
        let mut d = format!("environments/{}", self.environment);
        dirs.push(d.clone());
        for part in &self.dirs {
            d = format!("{d}/{part}");
            dirs.push(d.clone());
        }
        let mut chain = Vec::new();
        for dir in dirs {
            chain.push(format!("{dir}/layer.yaml"));
            chain.push(format!("{dir}/layer.{}.yaml", self.role));
        }
        chain.push(self.path.clone());
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_order_is_the_documented_one() {
        let c = ClusterFile {
            path: "environments/prod/sto2/workload.cluster.yaml".into(),
            environment: "prod".into(),
            dirs: vec!["sto2".into()],
            stem: "workload".into(),
            role: "workload".into(),
        };
        assert_eq!(
            c.layer_chain(),
            [
                "environments/layer.yaml",
                "environments/layer.workload.yaml",
                "environments/prod/layer.yaml",
                "environments/prod/layer.workload.yaml",
                "environments/prod/sto2/layer.yaml",
                "environments/prod/sto2/layer.workload.yaml",
                "environments/prod/sto2/workload.cluster.yaml",
            ]
        );
        assert_eq!(c.default_name(), "prod-sto2-workload");
        assert_eq!(c.cluster_path(), "sto2/workload");
        assert_eq!(c.datacenter(), Some("sto2"));
    }
}
