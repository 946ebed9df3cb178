//! The render cache: what the last render of each cluster was made from, and what it produced.
//!
//! A cluster whose inputs hash the same as last time is not rendered, emitted or checked again:
//! its files are already on disk and its policy findings are known. The input hash covers
//! everything a cluster's output depends on — strata itself (its build id), strata.yaml,
//! every file of every component it runs (and `components/_lib/`), its merged values, globals
//! and identity — so the cache cannot give stale output: any change to any of them is a miss.
//!
//! The environment-leak rule compares environments, so it depends on every cluster's values:
//! when any string value of any cluster changed, the cached objects of unchanged clusters are
//! checked again.

pub(crate) mod store;

use std::collections::BTreeMap;

use crate::digest::hex;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::load::Source;
use crate::merge::Cluster;
use crate::packed::{Cursor, Packed};
use crate::policy::{ResolvedLeaf, Violation};
use crate::world::World;

/// Identifies this build of strata and the `helm` that renders charts: strata's version and the
/// size and modification time of its own executable, so a rebuilt or replaced strata never
/// trusts a cache an older one wrote (hashing the executable itself would cost more than a small
/// render); and the `helm` on `PATH` ([`helm_file`]) with `helm_version`, what it says its
/// version is ([`crate::render::helm::version_for`]), so that another helm, whose output may
/// differ (Helm 4.2 keeps a trailing newline that 4.1 trims), renders every chart again.
pub(crate) fn build_id(helm_version: Option<&str>) -> String {
    let Some(strata) = std::env::current_exe().ok().and_then(|p| stamp(&p)) else {
        return String::new();
    };
    let helm = helm_file().map(|file| format!(" helm {file}"));
    let version = helm_version.map(|v| format!(" helm version {v}"));
    format!(
        "strata {} {strata}{}{}",
        env!("CARGO_PKG_VERSION"),
        helm.unwrap_or_default(),
        version.unwrap_or_default()
    )
}

/// The `helm` on `PATH` as a file: its path with links resolved, its size and modification
/// time, and where the system has them its inode and change time. A helm replaced in place,
/// even by a file of the same size and modification time (a wrapper script rewritten, a
/// package manager that keeps times), is another file by this.
pub(crate) fn helm_file() -> Option<String> {
    let path = helm_on_path()?;
    let real = std::fs::canonicalize(&path).unwrap_or(path);
    let m = std::fs::metadata(&real).ok()?;
    let inode = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            format!(" {}:{} {}.{}", m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
        }
        #[cfg(not(unix))]
        {
            String::new()
        }
    };
    Some(format!("{} {}{inode}", real.display(), stamp(&real)?))
}

/// The size and modification time of a file.
fn stamp(path: &std::path::Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Some(format!("{} {mtime}", m.len()))
}

fn helm_on_path() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
}

/// What one render left behind.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Cache {
    /// Which strata made it ([`build_id`]); another strata invalidates everything.
    #[serde(rename = "renderer")]
    pub(crate) build: String,
    /// The hash of every string leaf of every cluster: what environment-leak ownership is built on.
    pub(crate) leaves: String,
    /// The hash of what each environment owns ([`crate::policy::Ownership::fingerprint`]).
    pub(crate) ownership: String,
    /// The hash of each component ([`component_hashes`]) whose `values.schema.json` compiled:
    /// a render compiles a schema again only when its component changed.
    #[serde(default)]
    pub(crate) schemas: BTreeMap<String, String>,
    /// Shared, so that the next cache takes an unchanged cluster's record without a copy.
    pub(crate) clusters: BTreeMap<String, std::sync::Arc<CachedCluster>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CachedCluster {
    /// The hash of all of the cluster's inputs ([`Inputs::whole`]).
    pub(crate) input: String,
    /// The hash of the inputs every component of the cluster sees ([`Inputs::shared`]).
    pub(crate) shared: String,
    /// The hash of the cluster's `x-strata-secret` values, which every object is checked against.
    pub(crate) secrets: String,
    pub(crate) environment: String,
    /// The files the cluster produced (its directory and its Applications), by path. Which
    /// component each belongs to follows from its path ([`crate::emit::layout::FileOwner`]).
    pub(crate) files: Files,
    pub(crate) objects: usize,
    /// Every policy finding in the cluster's objects: a render that skips the cluster reports
    /// its warnings again.
    #[serde(deserialize_with = "crate::policy::known_violations")]
    pub(crate) violations: Vec<Violation>,
    /// What each enabled component was made from and made, so that a change to one component
    /// re-renders that component only.
    pub(crate) components: BTreeMap<String, CachedComponent>,
}

/// One component of one cluster, as the last render made it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CachedComponent {
    /// The hash of the component's own inputs ([`Inputs::components`]).
    pub(crate) input: String,
    /// The identity of each object (`group/Kind/namespace/name`): another component of the
    /// cluster may not render one of them.
    pub(crate) keys: Keys,
    /// The namespace and `podSelector` of each NetworkPolicy: they cover the pods of every
    /// component of the cluster.
    pub(crate) network_policies: Vec<(String, serde_json::Value)>,
    pub(crate) objects: usize,
    #[serde(deserialize_with = "crate::policy::known_violations")]
    pub(crate) violations: Vec<Violation>,
    /// Whether it renders or declares CRDs: they decide the scope and schema of other
    /// components' objects, so a change next to it renders the whole cluster again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) crds: bool,
}

/// The files of a cluster by path, each with its length, which a cheap look at the disk
/// compares. The cache lists every output file of the fleet, and a render keeps the list until
/// its end, so the paths are front-coded ([`Packed`]). Written as a map of path to length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Files(Packed);

impl Files {
    /// The files of `sorted`, paths in order, each once.
    pub(crate) fn of<'a>(sorted: impl IntoIterator<Item = (&'a str, u64)>) -> Files {
        Files(sorted.into_iter().collect())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Reads the files in path order: each path and its length.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        self.0.cursor()
    }

    pub(crate) fn packed(&self) -> &Packed {
        &self.0
    }

    /// Calls `f` with each path and its length, in order.
    pub(crate) fn for_each(&self, f: impl FnMut(&str, u64)) {
        self.0.for_each(f);
    }

    /// The paths, in order.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.0.strings()
    }
}

impl Serialize for Files {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.len()))?;
        let mut cursor = self.cursor();
        while let Some((path, len)) = cursor.next() {
            map.serialize_entry(path, &len)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Files {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Files, D::Error> {
        // Sorted, each path once, whatever order the index gave them in.
        let files = BTreeMap::<String, u64>::deserialize(deserializer)?;
        Ok(Files::of(
            files.iter().map(|(path, len)| (path.as_str(), *len)),
        ))
    }
}

/// The identities of a component's objects, in the order it rendered them: front-coded
/// ([`Packed`]), as [`Files`]. Written as a list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Keys(Packed);

impl Keys {
    pub(crate) fn of<'a>(keys: impl IntoIterator<Item = &'a str>) -> Keys {
        Keys(keys.into_iter().map(|k| (k, 0)).collect())
    }

    /// Calls `f` with each identity, in order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str)) {
        self.0.for_each(|k, _| f(k));
    }
}

impl Serialize for Keys {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut cursor = self.0.cursor();
        while let Some((key, _)) = cursor.next() {
            seq.serialize_element(key)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        let keys = Vec::<String>::deserialize(deserializer)?;
        Ok(Keys::of(keys.iter().map(String::as_str)))
    }
}

/// The whole source as one hash: this strata (`build`), then the hash of every file's path,
/// length and bytes. Equal digests mean an equal render, which lets a render with no change
/// stop before it parses anything. A file's own hash tells a render that the file is as a past
/// render saw it.
pub(crate) fn source_digest(build: &str, world: &dyn World) -> SourceDigest {
    use rayon::prelude::*;
    // In parallel: on one thread it is a visible part of a small change.
    let hashed: Vec<(&String, String)> = world
        .files()
        .par_iter()
        .map(|(path, bytes)| {
            let mut h = Sha256::new();
            h.update(path.as_bytes());
            h.update([0]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
            (path, hex(&h.finalize()))
        })
        .collect();
    // In the map's order already: the build from sorted pairs is linear.
    let files: BTreeMap<String, String> = hashed
        .into_iter()
        .map(|(path, digest)| (path.clone(), digest))
        .collect();
    let mut h = Sha256::new();
    h.update(build.as_bytes());
    h.update([0]);
    for digest in files.values() {
        h.update(digest.as_bytes());
    }
    SourceDigest {
        whole: hex(&h.finalize()),
        files,
    }
}

/// [`source_digest`]: of the whole source, and of each file (its path and its bytes).
#[derive(Clone, Debug, Default)]
pub(crate) struct SourceDigest {
    pub(crate) whole: String,
    pub(crate) files: BTreeMap<String, String>,
}

/// The hash of every file of each component, and of `components/_lib/`.
pub(crate) fn component_hashes(source: &Source, world: &dyn World) -> BTreeMap<String, String> {
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

/// Everything one cluster's output depends on, hashed: as a whole, and split into what every
/// component sees and what each component adds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Inputs {
    pub(crate) whole: String,
    /// strata itself (its build id), strata.yaml, the cluster file, identity, globals and the
    /// clusters of its environment.
    pub(crate) shared: String,
    /// Per component: whether it is enabled, its files (and `components/_lib/`, and a vendored
    /// chart), its merged values and where each was set, and the patches of its objects.
    pub(crate) components: BTreeMap<String, String>,
}

fn field(h: &mut Gather, label: &str, bytes: &[u8]) {
    h.update(label.as_bytes());
    h.update([0]);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The hash of each component of `cluster` ([`Inputs::components`]): what needs its merged
/// component values, which may be let go once this is taken.
pub(crate) fn component_inputs(
    components: &BTreeMap<String, String>,
    cluster: &Cluster,
) -> BTreeMap<String, String> {
    let mut per_component = BTreeMap::new();
    for (name, placement) in &cluster.components {
        let mut h = Gather::default();
        field(&mut h, "component", name.as_bytes());
        field(&mut h, "enabled", &[u8::from(placement.enabled)]);
        if let (true, Some(values)) = (placement.enabled, &placement.values) {
            field(
                &mut h,
                "source",
                components.get(name).map_or(&b""[..], |s| s.as_bytes()),
            );
            field(&mut h, "values", b"");
            merged(&mut h, values);
            for patch in &placement.patches {
                field(&mut h, "patch", patch.file.as_bytes());
                field(&mut h, "line", &patch.line.to_le_bytes());
                field(&mut h, "written", patch.written.to_string().as_bytes());
            }
        }
        per_component.insert(name.clone(), hex(&h.finalize()));
    }
    per_component
}

/// The inputs of `cluster`, with the hash of each of its components ([`component_inputs`]):
/// the rest needs only its identity and globals.
pub(crate) fn cluster_inputs_with(
    build: &str,
    settings: &[u8],
    cluster: &Cluster,
    environment_members: &[&str],
    per_component: BTreeMap<String, String>,
) -> Inputs {
    let mut h = Gather::default();
    field(&mut h, "renderer", build.as_bytes());
    field(&mut h, "settings", settings);
    field(&mut h, "file", cluster.file.path.as_bytes());
    field(&mut h, "identity", b"");
    merged(&mut h, &cluster.identity);
    field(&mut h, "global", b"");
    merged(&mut h, &cluster.global);
    field(&mut h, "members", environment_members.join(",").as_bytes());
    let shared = hex(&h.finalize());

    let mut whole = Gather::default();
    field(&mut whole, "shared", shared.as_bytes());
    for (name, input) in &per_component {
        field(&mut whole, name, input.as_bytes());
    }
    Inputs {
        whole: hex(&whole.finalize()),
        shared,
        components: per_component,
    }
}

/// The hash of a cluster's `x-strata-secret` values.
pub(crate) fn secrets_hash(facts: &crate::policy::ClusterFacts) -> String {
    let mut h = Sha256::new();
    for s in &facts.secret_values {
        for part in [&s.path, &s.value, &s.set_in] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(s.line.to_le_bytes());
    }
    hex(&h.finalize())
}

/// Bytes gathered to be hashed at once: feeding SHA-256 a few bytes at a time, as a merged
/// value's keys and scalars come, costs more than the hashing.
#[derive(Default)]
struct Gather(Vec<u8>);

impl Gather {
    fn update(&mut self, bytes: impl AsRef<[u8]>) {
        self.0.extend_from_slice(bytes.as_ref());
    }

    fn finalize(self) -> [u8; 32] {
        Sha256::digest(&self.0).into()
    }
}

/// Feeds a merged value to `h`: every key, item and scalar, and the file and line of every
/// origin (provenance reaches diagnostics, which name files and lines). Each part is tagged
/// and length-prefixed, so that two different values never feed the same bytes.
fn merged(h: &mut Gather, m: &crate::merge::Merged) {
    use crate::merge::MValue;
    use crate::yaml::Scalar;
    let text = |h: &mut Gather, tag: u8, s: &[u8]| {
        h.update([tag]);
        h.update((s.len() as u64).to_le_bytes());
        h.update(s);
    };
    h.update((m.origins.len() as u64).to_le_bytes());
    for o in &m.origins {
        text(h, b'o', o.file.as_bytes());
        h.update(o.line.to_le_bytes());
    }
    match &m.value {
        MValue::Scalar(Scalar::Null) => h.update([b'~']),
        MValue::Scalar(Scalar::Bool(b)) => h.update([b'b', u8::from(*b)]),
        MValue::Scalar(Scalar::Int(i)) => {
            h.update([b'i']);
            h.update(i.to_le_bytes());
        }
        MValue::Scalar(Scalar::Uint(u)) => {
            h.update([b'u']);
            h.update(u.to_le_bytes());
        }
        MValue::Scalar(Scalar::Float(f)) => {
            h.update([b'f']);
            h.update(f.to_bits().to_le_bytes());
        }
        MValue::Scalar(Scalar::Str(s)) => text(h, b's', s.as_bytes()),
        MValue::List(items) => {
            h.update([b'[']);
            h.update((items.len() as u64).to_le_bytes());
            for item in items {
                merged(h, item);
            }
        }
        MValue::Map(map) => {
            h.update([b'{']);
            h.update((map.len() as u64).to_le_bytes());
            for (k, v) in map {
                text(h, b'k', k.as_bytes());
                merged(h, v);
            }
        }
    }
}

/// The hash of every string leaf (value, path, and where it was set).
pub(crate) fn leaves_hash<'a>(clusters: impl IntoIterator<Item = &'a [u8; 32]>) -> String {
    // Each cluster's leaves are hashed on their own ([`cluster_leaves_hash`]); the whole hash is
    // that of the clusters' hashes in order.
    let mut h = Sha256::new();
    for c in clusters {
        h.update(c);
    }
    hex(&h.finalize())
}

/// The hash of one cluster's string leaves, for [`leaves_hash`]. The parts are gathered first
/// and hashed at once ([`Gather`]).
pub(crate) fn cluster_leaves_hash(leaves: &[ResolvedLeaf<'_>]) -> [u8; 32] {
    let mut h = Gather::default();
    for l in leaves {
        for part in [l.environment, l.cluster, &l.path, l.value, l.set_in] {
            h.update(part);
            h.update([0]);
        }
        h.update(l.line.to_le_bytes());
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clusters_files_and_keys_are_written_as_a_map_and_a_list_and_read_back_sorted() {
        let component = CachedComponent {
            keys: Keys::of([
                "apps/Deployment/app/web",
                "apps/Deployment/app/worker",
                "/Service/app/web",
            ]),
            objects: 3,
            ..CachedComponent::default()
        };
        let cluster = CachedCluster {
            files: Files::of([
                ("prod/argocd/apps/c1-app.yaml", 300),
                ("prod/dc1/c1/app/deployment-web.yaml", 1200),
                ("prod/dc1/c1/app/deployment-worker.yaml", 1250),
            ]),
            components: BTreeMap::from([("app".to_string(), component)]),
            ..CachedCluster::default()
        };
        let json = serde_json::to_value(&cluster).unwrap();
        assert_eq!(
            json["files"],
            serde_json::json!({
                "prod/argocd/apps/c1-app.yaml": 300,
                "prod/dc1/c1/app/deployment-web.yaml": 1200,
                "prod/dc1/c1/app/deployment-worker.yaml": 1250,
            })
        );
        assert_eq!(
            json["components"]["app"]["keys"],
            serde_json::json!([
                "apps/Deployment/app/web",
                "apps/Deployment/app/worker",
                "/Service/app/web",
            ])
        );
        assert_eq!(
            serde_json::from_value::<CachedCluster>(json).unwrap(),
            cluster
        );
        // An index written in another order, or by hand, reads back in path order.
        let files: Files = serde_json::from_str(r#"{"b/x.yaml": 2, "a/y.yaml": 1}"#).unwrap();
        let mut read = Vec::new();
        files.for_each(|path, len| read.push((path.to_string(), len)));
        assert_eq!(
            read,
            [("a/y.yaml".to_string(), 1), ("b/x.yaml".to_string(), 2)]
        );
    }
}
