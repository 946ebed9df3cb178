//! The render cache: what the last render of each cluster was made from, and what it produced.
//!
//! A cluster whose inputs hash the same as last time is not rendered, emitted or checked again:
//! its files are already on disk and its policy findings are known. The input hash covers
//! everything a cluster's output depends on — strata itself (the renderer id), strata.yaml,
//! every file of every component it runs (and `components/_lib/`), its merged values, globals
//! and identity — so the cache cannot give stale output: any change to any of them is a miss.
//!
//! The environment-leak rule compares environments, so it depends on every cluster's values:
//! when any string value of any cluster changed, the cached objects of unchanged clusters are
//! checked again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::load::Source;
use crate::merge::Cluster;
use crate::policy::{Level, ResolvedLeaf, Violation};
use crate::world::World;

/// What one render left behind.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cache {
    /// Which strata made it; another strata invalidates everything.
    pub renderer: String,
    /// The hash of every string leaf of every cluster: what environment-leak ownership is built on.
    pub leaves: String,
    pub clusters: BTreeMap<String, CachedCluster>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CachedCluster {
    pub input: String,
    pub environment: String,
    /// The files the cluster produced (its directory and its Applications), by path.
    pub files: BTreeMap<String, FileRecord>,
    pub objects: usize,
    pub violations: Vec<CachedViolation>,
}

/// A file as written: its length and the sha256 of its bytes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    pub len: u64,
    pub sha256: String,
}

impl FileRecord {
    pub fn of(bytes: &[u8]) -> FileRecord {
        FileRecord {
            len: bytes.len() as u64,
            sha256: sha256(bytes),
        }
    }
}

/// A [`Violation`] in a form that survives a round trip through JSON.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CachedViolation {
    pub rule: String,
    pub level: Level,
    pub environment: String,
    pub cluster: String,
    pub component: String,
    pub file: String,
    pub resource: String,
    pub field: String,
    pub message: String,
    pub hint: String,
    pub origin: Option<(String, u32)>,
    pub exemption: Option<String>,
}

impl CachedViolation {
    pub fn of(v: &Violation) -> CachedViolation {
        CachedViolation {
            rule: v.rule.to_string(),
            level: v.level,
            environment: v.environment.clone(),
            cluster: v.cluster.clone(),
            component: v.component.clone(),
            file: v.file.clone(),
            resource: v.resource.clone(),
            field: v.field.clone(),
            message: v.message.clone(),
            hint: v.hint.clone(),
            origin: v.origin.clone(),
            exemption: v.exemption.clone(),
        }
    }

    /// Back to a violation; `None` for a rule this strata does not know (a stale cache).
    pub fn violation(&self) -> Option<Violation> {
        Some(Violation {
            rule: crate::policy::rule(&self.rule)?.id,
            level: self.level,
            environment: self.environment.clone(),
            cluster: self.cluster.clone(),
            component: self.component.clone(),
            file: self.file.clone(),
            resource: self.resource.clone(),
            field: self.field.clone(),
            message: self.message.clone(),
            hint: self.hint.clone(),
            origin: self.origin.clone(),
            exemption: self.exemption.clone(),
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The hash of every file of each component, and of `components/_lib/`.
pub fn component_hashes(source: &Source, world: &dyn World) -> BTreeMap<String, String> {
    let digest = |dir: &str| {
        let mut h = Sha256::new();
        for (path, bytes) in world.under(dir) {
            h.update(path.as_bytes());
            h.update([0]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        hex(&h.finalize())
    };
    let lib = digest("components/_lib");
    source
        .components
        .keys()
        .map(|name| {
            (
                name.clone(),
                format!("{}{lib}", digest(&format!("components/{name}"))),
            )
        })
        .collect()
}

/// Everything one cluster's output depends on, hashed.
pub fn cluster_input(
    renderer: &str,
    settings: &[u8],
    components: &BTreeMap<String, String>,
    cluster: &Cluster,
    environment_members: &[&str],
) -> String {
    let mut h = Sha256::new();
    let mut field = |label: &str, bytes: &[u8]| {
        h.update(label.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field("renderer", renderer.as_bytes());
    field("settings", settings);
    field("file", cluster.file.path.as_bytes());
    field(
        "identity",
        cluster.identity.to_json().to_string().as_bytes(),
    );
    field("global", cluster.global.to_json().to_string().as_bytes());
    field("members", environment_members.join(",").as_bytes());
    for (name, placement) in &cluster.components {
        field("component", name.as_bytes());
        field("enabled", &[u8::from(placement.enabled)]);
        if let (true, Some(values)) = (placement.enabled, &placement.values) {
            field(
                "source",
                components.get(name).map_or(&b""[..], |s| s.as_bytes()),
            );
            field("values", values.to_json().to_string().as_bytes());
            // Provenance reaches diagnostics, which name files and lines.
            field("origins", format!("{:?}", origins(values)).as_bytes());
        }
    }
    hex(&h.finalize())
}

fn origins(m: &crate::merge::Merged) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![m];
    while let Some(v) = stack.pop() {
        out.extend(v.origins.iter().map(|o| (o.file.to_string(), o.line)));
        match &v.value {
            crate::merge::MValue::Map(map) => stack.extend(map.values()),
            crate::merge::MValue::List(l) => stack.extend(l.iter()),
            crate::merge::MValue::Scalar(_) => {}
        }
    }
    out
}

/// The hash of every string leaf (value, path, and where it was set).
pub fn leaves_hash(leaves: &[ResolvedLeaf]) -> String {
    let mut h = Sha256::new();
    for l in leaves {
        for part in [&l.environment, &l.cluster, &l.path, &l.value, &l.set_in] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(l.line.to_le_bytes());
    }
    hex(&h.finalize())
}
