//! Cross-environment leaks (`environment-leak`): nothing that belongs to one environment may
//! appear in the rendered output of another.
//!
//! ## How strata decides
//!
//! **1. Which strings an environment owns.** strata looks at every string value of every
//! cluster's merged values (component values and `global`), with the layer file that set it
//! last. A value `V` set at path `P` for a cluster of environment `E` is **owned by `E`** when
//! all of these hold:
//!
//! - it was set by `E`'s own layers: the file is under `environments/E/`;
//! - some cluster of another environment resolves `P` to a different value, or does not have
//!   `P` at all (a value only `E` configures is as much `E`'s as one that differs);
//! - no cluster of another environment resolves `P` to `V`: that is one setting both
//!   environments write in their own layers (the same S3 endpoint in each datacenter layer);
//! - it is significant (see 3);
//! - it is not shared: no cluster, of any environment, gets `V` from a layer outside the
//!   environment directories (`components/*/values.yaml`, `environments/layer*.yaml`). What a
//!   shared layer sets is shared by design;
//! - it is not allowed by `policies.allowShared` (see 4).
//!
//! A value that two environments both set to the same thing at the same path, in every cluster,
//! is therefore owned by neither: strata cannot tell a deliberate copy from a shared setting.
//! `policies.ownedPatterns` covers that case: list the environment's domains there.
//!
//! **2. What counts as a leak.** An owned string is a leak wherever it appears in a string of
//! another environment's rendered output, however it got there (a template, a copy-paste into
//! that environment's own layers, a command source): as the whole value, or inside a longer one
//! (`https://grafana.prod.example.com/api` contains the prod domain `grafana.prod.example.com`).
//! Inside a longer value it must stand at word boundaries: the character before it is not an
//! ASCII letter, digit, `-` or `_`, and the character after it is not a letter or digit
//! (`prod-bucket` is found in `s3://prod-bucket/x` and `prod-bucket-logs`, not in
//! `myprod-bucket2` or `non-prod-bucket`). Matching is case-sensitive. Of overlapping matches, only the longest is
//! reported. A Secret's `data` values are searched after base64 decoding too. Only values are
//! searched, not map keys.
//!
//! `policies.ownedPatterns.E` adds globs (`*` matches any characters): a string of another
//! environment's output is a leak when the whole string, or one of its words, matches. Words
//! are the runs of letters, digits, `.`, `-` and `_`, so `*.prod.example.com` matches the host
//! inside `https://grafana.prod.example.com/api`.
//!
//! **3. What is never owned.** Strings shorter than 6 characters; numbers, quantities and
//! durations (`2048Mi`, `100Gi`, `30d`, `1h30m`); version numbers (`1.27.3`, `v2.11.0-rc.1`);
//! strings without a letter unless they hold an IPv4 address or range (`10.20.0.0/16` is owned,
//! `01:00:00` and `0 3 * * *` are not); IANA time zone names (`Europe/Oslo`: datacenters of
//! different environments share them); the names of the environments; and a built-in list of
//! common words, compared case-insensitively ([`STOP_WORDS`]: `true`, `false`, `enabled`,
//! `default`, `Always`, `IfNotPresent`, `ClusterIP`, ...).
//!
//! **4. `policies.allowShared`.** A string that equals an `allowShared` entry, is part of one,
//! or contains one, is never a leak: `allowShared: [example-cloud.com]` allows
//! `s3.sto2.example-cloud.com` in every environment.
//!
//! The report names the rendered file, the field, the owned string, and the layer file:line that
//! set it in the owning environment (the first one, in path order, when several did). When the
//! leaking environment's own layers set the string too, the hint names that file:line: that is
//! where to fix it. A string that is also an `x-strata-secret` value is shown as its
//! `sha256:` fingerprint, and values inside a Secret's data are never quoted.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobMatcher};

use super::config::PolicyConfig;
use super::finding::Finding;
use super::input::ResolvedLeaf;
use super::rule::ENVIRONMENT_LEAK;
use super::secret::fingerprint;
use super::text::{Text, Texts};

/// The hash tables of [`Ownership::build`], which only count and look up: no output depends on
/// their order. They hash with foldhash (fixed seed), not the standard SipHash, which costs a
/// small change a visible part of its policy setup.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

/// Shorter strings are never owned.
pub(crate) const MIN_OWNED_LEN: usize = 6;

/// Words that mean the same in every environment. Compared case-insensitively.
pub(crate) const STOP_WORDS: &[&str] = &[
    // booleans and switches
    "true",
    "false",
    "enabled",
    "disabled",
    "enable",
    "disable",
    "always",
    "never",
    "default",
    "none",
    "null",
    "unset",
    "required",
    "optional",
    "preferred",
    "allowed",
    "denied",
    // Kubernetes enums
    "IfNotPresent",
    "OnFailure",
    "ClusterIP",
    "NodePort",
    "LoadBalancer",
    "ExternalName",
    "RollingUpdate",
    "Recreate",
    "OrderedReady",
    "Parallel",
    "Forbid",
    "Replace",
    "Retain",
    "Delete",
    "Recycle",
    "ReadWriteOnce",
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOncePod",
    "Filesystem",
    "Ingress",
    "Egress",
    "Prefix",
    "ImplementationSpecific",
    "Cluster",
    "Local",
    "RuntimeDefault",
    "Unconfined",
    "Localhost",
    "NoSchedule",
    "NoExecute",
    "PreferNoSchedule",
    "Equal",
    "Exists",
    "DoesNotExist",
    "Opaque",
    "kubernetes.io/tls",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/service-account-token",
    // protocols and log levels
    "http",
    "https",
    "grpc",
    "metrics",
    "health",
    "healthz",
    "readyz",
    "livez",
    "info",
    "debug",
    "warning",
    "error",
    "notice",
    "critical",
    "fatal",
    "trace",
    "verbose",
    // environment-agnostic words
    "production",
    "staging",
    "development",
    "testing",
    "nonprod",
    "non-prod",
    "monitoring",
    "logging",
    "security",
    "platform",
    "kubernetes",
    "cluster",
    "management",
    "workload",
    "system",
    "service",
    "server",
    "client",
    "master",
    "primary",
    "secondary",
    "replica",
    "standard",
    "latest",
    "stable",
    "example",
    "localhost",
    "admin",
    "administrator",
    "public",
    "private",
    "internal",
    "external",
    "ingress-nginx",
    "cert-manager",
];

/// The owner of one owned string in one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Owner {
    environment: String,
    set_in: String,
    line: u32,
    path: String,
}

#[derive(Debug)]
struct Owned {
    value: String,
    /// One per environment that owns the value, ordered by environment.
    owners: Vec<Owner>,
}

/// What each environment owns: the strings the environment-leak rule looks for elsewhere. It
/// owns what it reports (each owned value and where it was set) and keeps no cluster's leaves:
/// a check is given the leaves of the cluster it checks, for its hints.
#[derive(Debug)]
pub(crate) struct Ownership<'a> {
    owned: Vec<Owned>,
    /// Owned strings by their leading run of ASCII letters and digits.
    by_key: BTreeMap<Box<[u8]>, Vec<usize>>,
    /// Owned strings that start with another character: searched everywhere.
    unkeyed: Vec<usize>,
    patterns: Vec<(String, Vec<(String, GlobMatcher)>)>,
    allow_shared: &'a [String],
    secrets: BTreeSet<&'a str>,
}

/// Strings numbered in the order they are first seen.
#[derive(Default)]
struct Interned(indexmap::IndexSet<Box<str>, foldhash::fast::FixedState>);

impl Interned {
    fn id(&mut self, s: &str) -> u32 {
        match self.0.get_index_of(s) {
            Some(i) => i as u32,
            None => self.0.insert_full(s.into()).0 as u32,
        }
    }

    fn get(&self, id: u32) -> &str {
        self.0.get_index(id as usize).map_or("", |s| s)
    }
}

/// Leak ownership built one cluster at a time ([`OwnershipBuilder::add`]), in any order: it
/// keeps counts and the candidate owners, never a cluster's leaves, so that what it holds
/// grows with the distinct strings of the platform, not with every leaf of every cluster.
#[derive(Default)]
pub(crate) struct OwnershipBuilder {
    paths: Interned,
    values: Interned,
    environments: Interned,
    files: Interned,
    /// Per environment: how many of its clusters have a leaf.
    clusters_in: HashMap<u32, usize>,
    /// Per (path, environment): how many clusters resolve the path.
    has: HashMap<(u32, u32), usize>,
    /// Per (path, value, environment): how many clusters resolve the path to the value.
    with_value: HashMap<(u32, u32, u32), usize>,
    /// Values that some layer outside a cluster's own environment sets.
    shared: HashSet<u32>,
    /// Per (value, environment, path) set in the environment's own layers and not allowed
    /// shared: the first (normalized file, line) that sets it.
    candidates: HashMap<(u32, u32, u32), (u32, u32)>,
}

impl OwnershipBuilder {
    /// Counts the string leaves of one cluster (all of one environment and cluster).
    pub(crate) fn add(&mut self, leaves: &[ResolvedLeaf<'_>], config: &PolicyConfig) {
        let Some(first) = leaves.first() else {
            return;
        };
        let env = self.environments.id(first.environment);
        *self.clusters_in.entry(env).or_default() += 1;
        // A path resolves to one value in a cluster: that of its last leaf.
        let mut resolved: HashMap<&str, &str> = HashMap::default();
        for leaf in leaves {
            resolved.insert(leaf.path.as_str(), leaf.value);
        }
        for (path, value) in resolved {
            let (path, value) = (self.paths.id(path), self.values.id(value));
            *self.has.entry((path, env)).or_default() += 1;
            *self.with_value.entry((path, value, env)).or_default() += 1;
        }
        for leaf in leaves {
            if !under_environment(leaf.set_in, leaf.environment) {
                let value = self.values.id(leaf.value);
                self.shared.insert(value);
                continue;
            }
            if !significant_alone(leaf.value) || allowed(leaf.value, &config.allow_shared) {
                continue;
            }
            let value = self.values.id(leaf.value);
            let path = self.paths.id(&leaf.path);
            let file = self.files.id(&normalize(leaf.set_in));
            let files = &self.files;
            self.candidates
                .entry((value, env, path))
                .and_modify(|at| {
                    if (files.get(file), leaf.line) < (files.get(at.0), at.1) {
                        *at = (file, leaf.line);
                    }
                })
                .or_insert((file, leaf.line));
        }
    }

    /// What each environment owns, from every cluster added. Reports show no
    /// `x-strata-secret` value once [`Ownership::hide`] has been told them.
    pub(crate) fn finish<'a>(self, config: &'a PolicyConfig) -> Ownership<'a> {
        let environments: BTreeSet<&str> = self.environments.0.iter().map(|e| &**e).collect();
        // Per candidate one look per environment instead of one per cluster (quadratic at
        // scale).
        let clusters_in: BTreeMap<&str, (u32, usize)> = self
            .clusters_in
            .iter()
            .map(|(e, n)| (self.environments.get(*e), (*e, *n)))
            .collect();
        let mut owners: BTreeMap<&str, BTreeMap<&str, Owner>> = BTreeMap::new();
        for (&(value_id, env_id, path_id), &(file, line)) in &self.candidates {
            let value = self.values.get(value_id);
            if self.shared.contains(&value_id) || !significant(value, &environments) {
                continue;
            }
            // Owned: some cluster of another environment resolves the path to a different value
            // or not at all, and none resolves it to the same value (that would be one setting
            // that both environments happen to write in their own layers).
            let environment = self.environments.get(env_id);
            let mut differs = false;
            let mut same = false;
            for (env, (other, total)) in &clusters_in {
                if *env == environment {
                    continue;
                }
                let having = self.has.get(&(path_id, *other)).copied().unwrap_or(0);
                let alike = self
                    .with_value
                    .get(&(path_id, value_id, *other))
                    .copied()
                    .unwrap_or(0);
                same |= alike > 0;
                differs |= alike < *total || having > alike;
            }
            if !differs || same {
                continue;
            }
            let owner = Owner {
                environment: environment.to_string(),
                set_in: self.files.get(file).to_string(),
                line,
                path: self.paths.get(path_id).to_string(),
            };
            let slot = owners.entry(value).or_default();
            match slot.get(environment) {
                Some(o)
                    if (&o.set_in, o.line, &o.path) <= (&owner.set_in, owner.line, &owner.path) => {
                }
                _ => {
                    slot.insert(environment, owner);
                }
            }
        }
        let mut owned = Vec::new();
        let mut by_key: BTreeMap<Box<[u8]>, Vec<usize>> = BTreeMap::new();
        let mut unkeyed = Vec::new();
        for (value, per_env) in owners {
            let index = owned.len();
            let key = leading_run(value.as_bytes());
            if key.is_empty() {
                unkeyed.push(index);
            } else {
                by_key.entry(key.into()).or_default().push(index);
            }
            owned.push(Owned {
                value: value.to_string(),
                owners: per_env.into_values().collect(),
            });
        }
        let patterns = config
            .owned_patterns
            .iter()
            .map(|(env, globs)| {
                let matchers = globs
                    .iter()
                    // Invalid globs are reported by `PolicyConfig::validate`.
                    .filter_map(|g| Glob::new(g).ok().map(|m| (g.clone(), m.compile_matcher())))
                    .collect();
                (env.clone(), matchers)
            })
            .collect();
        Ownership {
            owned,
            by_key,
            unkeyed,
            patterns,
            allow_shared: &config.allow_shared,
            secrets: BTreeSet::new(),
        }
    }
}

fn normalize(file: &str) -> String {
    let file = file.replace('\\', "/");
    file.strip_prefix("./").unwrap_or(&file).to_string()
}

/// Whether `set_in`, normalized, is under `environments/<environment>/`. Called twice per
/// string leaf of the platform, so it compares in place instead of building both paths.
fn under_environment(set_in: &str, environment: &str) -> bool {
    let slash = |b: u8| if b == b'\\' { b'/' } else { b };
    let bytes = set_in.as_bytes();
    let start = match bytes {
        [b'.', sep, ..] if slash(*sep) == b'/' => 2,
        _ => 0,
    };
    let mut rest = bytes[start..].iter().map(|b| slash(*b));
    ["environments/", environment, "/"]
        .into_iter()
        .flat_map(str::bytes)
        .all(|b| rest.next() == Some(b))
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn leading_run(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|b| !alnum(*b)).unwrap_or(bytes.len());
    &bytes[..end]
}

/// Whether a string is specific enough to be owned (rule 3 above).
pub(crate) fn significant(value: &str, environments: &BTreeSet<&str>) -> bool {
    significant_alone(value)
        && !environments
            .iter()
            .any(|e| e.eq_ignore_ascii_case(value.trim()))
}

/// Rule 3 above but for the names of the environments, which are known once every cluster is.
fn significant_alone(value: &str) -> bool {
    let v = value.trim();
    if v.chars().count() < MIN_OWNED_LEN || is_quantity(v) {
        return false;
    }
    if is_time_zone(v) {
        return false;
    }
    let ip = contains_ipv4(v);
    if !ip && (is_version(v) || !v.bytes().any(|b| b.is_ascii_alphabetic())) {
        return false;
    }
    !STOP_WORDS.iter().any(|w| w.eq_ignore_ascii_case(v))
}

/// Numbers, quantities and durations: runs of digits (with one decimal point) each followed by
/// at most three letters. `2048Mi`, `1.5`, `30d`, `1h30m`, `-3`.
fn is_quantity(v: &str) -> bool {
    let b = v.trim_start_matches(['+', '-']).as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        if i == start {
            return false;
        }
        let letters = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i - letters > 3 {
            return false;
        }
    }
    true
}

/// `Europe/Oslo`, `America/Argentina/Buenos_Aires`, `Etc/UTC`.
fn is_time_zone(v: &str) -> bool {
    const AREAS: &[&str] = &[
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];
    v.split_once('/').is_some_and(|(area, place)| {
        AREAS.contains(&area)
            && !place.is_empty()
            && place
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/'))
    })
}

/// `1.27`, `v2.11.0-rc.1`, `3.2.1+build.5`.
fn is_version(v: &str) -> bool {
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

fn contains_ipv4(v: &str) -> bool {
    v.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|chunk| {
            let parts: Vec<&str> = chunk.split('.').collect();
            parts.len() == 4
                && parts.iter().all(|p| {
                    !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255)
                })
        })
}

/// Whether `allowShared` makes `candidate` shared (rule 4 above).
fn allowed(candidate: &str, allow_shared: &[String]) -> bool {
    allow_shared
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .any(|a| a.contains(candidate) || candidate.contains(a))
}

/// The words of a string for `ownedPatterns`: runs of letters, digits, `.`, `-` and `_`.
fn words(v: &str) -> impl Iterator<Item = &str> {
    v.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .filter(|w| !w.is_empty())
}

impl<'a> Ownership<'a> {
    /// What each environment owns, from every cluster's leaves, in any order.
    pub(crate) fn build(leaves: &[ResolvedLeaf<'_>], config: &'a PolicyConfig) -> Ownership<'a> {
        let mut by_cluster: BTreeMap<(&str, &str), Vec<ResolvedLeaf<'_>>> = BTreeMap::new();
        for leaf in leaves {
            by_cluster
                .entry((leaf.environment, leaf.cluster))
                .or_default()
                .push(leaf.clone());
        }
        let mut builder = OwnershipBuilder::default();
        for cluster in by_cluster.values() {
            builder.add(cluster, config);
        }
        builder.finish(config)
    }

    /// A hash of what each environment owns, and of the patterns and exceptions: when it is
    /// unchanged, so are the leak findings of an unchanged object.
    pub(crate) fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        let mut text = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        for o in &self.owned {
            text(&o.value);
            text(&o.owners.len().to_string());
            for w in &o.owners {
                text(&w.environment);
                text(&w.set_in);
                text(&w.line.to_string());
                text(&w.path);
            }
        }
        for (environment, globs) in &self.patterns {
            text(environment);
            text(&globs.len().to_string());
            for (glob, _) in globs {
                text(glob);
            }
        }
        for allowed in self.allow_shared {
            text(allowed);
        }
        crate::digest::hex(&h.finalize())
    }

    /// `secrets`: the `x-strata-secret` values of every cluster, which reports never show.
    pub(crate) fn hide(&mut self, secrets: BTreeSet<&'a str>) {
        self.secrets = secrets;
    }

    /// The strings some environment owns, with their owning environments.
    #[cfg(test)]
    fn owned_values(&self) -> Vec<(&str, Vec<&str>)> {
        self.owned
            .iter()
            .map(|o| {
                let envs = o.owners.iter().map(|w| w.environment.as_str()).collect();
                (o.value.as_str(), envs)
            })
            .collect()
    }

    /// The owned strings in `text` at word boundaries: (start, index into `owned`). Overlapped
    /// shorter matches are dropped.
    /// Owned strings in `text` that belong to an environment other than `environment`; of
    /// overlapping ones only the longest. Strings the environment owns itself are left out
    /// first, so a longer own value cannot hide a foreign one inside it.
    fn matches(&self, text: &str, environment: &str) -> Vec<(usize, usize)> {
        let bytes = text.as_bytes();
        // Left of a match may not stand a letter, digit, '-' or '_' (`prod-osl2` is not inside
        // `non-prod-osl2`); right of it no letter or digit (`prod-osl2-thanos` does hold
        // `prod-osl2`).
        let bounded = |start: usize, end: usize| {
            (start == 0 || !(alnum(bytes[start - 1]) || matches!(bytes[start - 1], b'-' | b'_')))
                && (end == bytes.len() || !alnum(bytes[end]))
        };
        let mut found: Vec<(usize, usize)> = Vec::new();
        for start in 0..bytes.len() {
            if !alnum(bytes[start]) || (start > 0 && alnum(bytes[start - 1])) {
                continue;
            }
            let Some(candidates) = self.by_key.get(leading_run(&bytes[start..])) else {
                continue;
            };
            for &i in candidates {
                let owned = self.owned[i].value.as_bytes();
                if bytes[start..].starts_with(owned) && bounded(start, start + owned.len()) {
                    found.push((start, i));
                }
            }
        }
        for &i in &self.unkeyed {
            let owned = &self.owned[i].value;
            for (start, _) in text.match_indices(owned.as_str()) {
                if bounded(start, start + owned.len()) {
                    found.push((start, i));
                }
            }
        }
        found.retain(|(_, i)| {
            self.owned[*i]
                .owners
                .iter()
                .any(|o| o.environment != environment)
        });
        let span = |(start, i): (usize, usize)| (start, start + self.owned[i].value.len());
        let all = found.clone();
        found.retain(|m| {
            let (s, e) = span(*m);
            !all.iter().any(|o| {
                let (os, oe) = span(*o);
                os <= s && e <= oe && oe - os > e - s
            })
        });
        found.sort_unstable();
        let mut seen = BTreeSet::new();
        found.retain(|(_, i)| seen.insert(*i));
        found
    }

    /// How a report may show `value`: itself, unless it is or holds a secret.
    fn shown(&self, value: &str) -> String {
        if self.secrets.contains(value) {
            fingerprint(value)
        } else {
            format!("`{value}`")
        }
    }

    fn quotable(&self, text: &Text) -> bool {
        !text.confidential
            && text.value.len() <= 200
            && !self.secrets.iter().any(|s| text.value.contains(s))
    }

    /// Leaks in the strings of one object of `cluster` in `environment`.
    /// `leaves`: the string leaves of the cluster (others' are passed over), to name in a hint
    /// the cluster's own value that copies a foreign one.
    pub(crate) fn check(
        &self,
        environment: &str,
        cluster: &str,
        texts: &Texts,
        leaves: &[ResolvedLeaf<'_>],
        out: &mut Vec<Finding>,
    ) {
        for text in texts.iter() {
            let mut reported: Vec<&str> = Vec::new();
            for (_, i) in self.matches(&text.value, environment) {
                let owned = &self.owned[i];
                let Some(owner) = owned.owners.iter().find(|o| o.environment != environment) else {
                    continue;
                };
                reported.push(&owned.value);
                let field = texts.field(text);
                let copy = leaves
                    .iter()
                    .filter(|l| {
                        l.environment == environment
                            && l.cluster == cluster
                            && under_environment(l.set_in, environment)
                            && l.value.contains(&owned.value)
                    })
                    .min_by(|a, b| (&a.set_in, a.line).cmp(&(&b.set_in, b.line)));
                out.push(self.owned_leak(environment, text, field, owned, owner, copy));
            }
            self.pattern_leaks(environment, texts, text, &reported, out);
        }
    }

    fn owned_leak(
        &self,
        environment: &str,
        text: &Text,
        field: String,
        owned: &Owned,
        owner: &Owner,
        copy: Option<&ResolvedLeaf<'_>>,
    ) -> Finding {
        let value = self.shown(&owned.value);
        let whose = format!(
            "environment {} (set at `{}` in {}:{})",
            owner.environment, owner.path, owner.set_in, owner.line
        );
        let message = if text.value == owned.value {
            format!("{value} belongs to {whose} and must not appear in {environment}")
        } else if self.quotable(text) {
            format!(
                "`{}` contains {value}, which belongs to {whose}",
                text.value
            )
        } else {
            format!("this value contains {value}, which belongs to {whose}")
        };
        let hint = match copy {
            Some(leaf) => format!(
                "{environment} sets it itself at `{}` in {}:{}: use {environment}'s own value \
                 there; if it is shared on purpose, add it to `policies.allowShared`",
                leaf.path,
                normalize(leaf.set_in),
                leaf.line
            ),
            None => format!(
                "use {environment}'s own value here; if it is shared on purpose, add it to \
                 `policies.allowShared`"
            ),
        };
        Finding::new(ENVIRONMENT_LEAK, field, message)
            .hint(hint)
            .origin(owner.set_in.clone(), owner.line)
    }

    fn pattern_leaks(
        &self,
        environment: &str,
        texts: &Texts,
        text: &Text,
        reported: &[&str],
        out: &mut Vec<Finding>,
    ) {
        for (owner, globs) in &self.patterns {
            if owner == environment || globs.is_empty() {
                continue;
            }
            let mut candidates: BTreeSet<&str> = words(&text.value).collect();
            candidates.insert(&text.value);
            let hits: Vec<(&str, &str)> = candidates
                .iter()
                .filter(|c| !allowed(c, self.allow_shared))
                .filter(|c| !reported.iter().any(|r| r.contains(**c)))
                .filter_map(|c| {
                    globs
                        .iter()
                        .find(|(_, m)| m.is_match(c))
                        .map(|(g, _)| (*c, g.as_str()))
                })
                .collect();
            // Report the smallest matching strings: the host, not the whole URL around it.
            for (candidate, glob) in &hits {
                if hits
                    .iter()
                    .any(|(other, _)| other != candidate && candidate.contains(other))
                {
                    continue;
                }
                let shown = if text.confidential || self.secrets.contains(candidate) {
                    fingerprint(candidate)
                } else {
                    format!("`{candidate}`")
                };
                out.push(
                    Finding::new(
                        ENVIRONMENT_LEAK,
                        texts.field(text),
                        format!(
                            "{shown} matches `{glob}`, which `policies.ownedPatterns` reserves for \
                         environment {owner}"
                        ),
                    )
                    .hint(format!(
                        "use {environment}'s own value here; if the string is shared on purpose, \
                     add it to `policies.allowShared`"
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> BTreeSet<&'static str> {
        ["non-prod", "prod"].into_iter().collect()
    }

    #[test]
    fn a_file_is_under_an_environment_as_its_normalized_path_says() {
        for (file, env, under) in [
            ("environments/prod/layer.yaml", "prod", true),
            ("./environments/prod/sto2/a.cluster.yaml", "prod", true),
            (".\\environments\\prod\\layer.yaml", "prod", true),
            ("environments\\prod/layer.yaml", "prod", true),
            ("environments/prod", "prod", false),
            ("environments/prod-eu/layer.yaml", "prod", false),
            ("environments/non-prod/layer.yaml", "prod", false),
            ("environments/layer.yaml", "prod", false),
            ("components/web/values.yaml", "prod", false),
            ("../environments/prod/layer.yaml", "prod", false),
            ("", "prod", false),
        ] {
            let reference = normalize(file).starts_with(&format!("environments/{env}/"));
            assert_eq!(reference, under, "the reference on {file}");
            assert_eq!(under_environment(file, env), under, "{file}");
        }
    }

    #[test]
    fn short_common_numeric_and_version_strings_are_not_significant() {
        for v in [
            "short",
            "true",
            "Enabled",
            "IfNotPresent",
            "ClusterIP",
            "2048Mi",
            "100Gi",
            "1h30m",
            "168h",
            "1.27.3",
            "v2.11.0-rc.1",
            "01:00:00",
            "0 3 * * *",
            "2026-12-24",
            "prod",
            "non-prod",
            "production",
            "1000000",
        ] {
            assert!(!significant(v, &envs()), "{v} should not be significant");
        }
        for v in [
            "harbor.prod.welkin.example.com",
            "10.20.0.0/16",
            "prod-backups",
            "https://acme-v02.api.letsencrypt.org/directory",
            "welkinprodbackups",
        ] {
            assert!(significant(v, &envs()), "{v} should be significant");
        }
    }

    #[test]
    fn words_for_patterns() {
        let w: Vec<&str> = words("https://grafana.prod.example.com:443/api?x=prod-1").collect();
        assert_eq!(
            w,
            [
                "https",
                "grafana.prod.example.com",
                "443",
                "api",
                "x",
                "prod-1"
            ]
        );
    }

    fn leaf(
        env: &'static str,
        cluster: &'static str,
        path: &str,
        value: &'static str,
        set_in: &'static str,
        line: u32,
    ) -> ResolvedLeaf<'static> {
        ResolvedLeaf {
            environment: env,
            cluster,
            path: path.into(),
            value,
            set_in,
            line,
        }
    }

    #[test]
    fn ownership_needs_the_own_layers_a_difference_and_no_shared_layer() {
        let leaves = [
            // Differs per environment, set in each environment's layer: each owns its own.
            leaf(
                "prod",
                "p1",
                "global.domain",
                "prod.example.org",
                "environments/prod/layer.yaml",
                3,
            ),
            leaf(
                "non-prod",
                "n1",
                "global.domain",
                "dev.example.org",
                "environments/non-prod/layer.yaml",
                3,
            ),
            // Only prod has it: prod owns it.
            leaf(
                "prod",
                "p1",
                "backup.bucket",
                "welkin-prod-offsite",
                "environments/prod/layer.yaml",
                9,
            ),
            // The same in both, from the environments' own layers: nobody owns it.
            leaf(
                "prod",
                "p1",
                "dns.server",
                "ns1.example-dns.net",
                "environments/prod/layer.yaml",
                5,
            ),
            leaf(
                "non-prod",
                "n1",
                "dns.server",
                "ns1.example-dns.net",
                "environments/non-prod/layer.yaml",
                5,
            ),
            // Prod sets a value that a shared layer also sets elsewhere: shared.
            leaf(
                "prod",
                "p1",
                "a.url",
                "https://status.example.org",
                "environments/prod/layer.yaml",
                7,
            ),
            leaf(
                "non-prod",
                "n1",
                "b.url",
                "https://status.example.org",
                "environments/layer.yaml",
                2,
            ),
            leaf(
                "non-prod",
                "n1",
                "a.url",
                "https://status.dev.example.org",
                "environments/non-prod/layer.yaml",
                7,
            ),
            // A component default: shared.
            leaf(
                "prod",
                "p1",
                "c.image",
                "registry.example.org/c",
                "components/c/values.yaml",
                1,
            ),
            // Too short, or a quantity.
            leaf(
                "prod",
                "p1",
                "d.size",
                "100Gi",
                "environments/prod/layer.yaml",
                11,
            ),
        ];
        let config = PolicyConfig::default();
        let o = Ownership::build(&leaves, &config);
        assert_eq!(
            o.owned_values(),
            [
                ("dev.example.org", vec!["non-prod"]),
                ("https://status.dev.example.org", vec!["non-prod"]),
                ("prod.example.org", vec!["prod"]),
                ("welkin-prod-offsite", vec!["prod"]),
            ]
        );
    }

    #[test]
    fn matches_stand_at_word_boundaries_and_the_longest_wins() {
        let leaves = [
            leaf(
                "prod",
                "p1",
                "g.host",
                "harbor.prod.example.org",
                "environments/prod/layer.yaml",
                1,
            ),
            leaf(
                "prod",
                "p1",
                "g.registry",
                "harbor.prod.example.org/platform",
                "environments/prod/layer.yaml",
                2,
            ),
            leaf(
                "prod",
                "p1",
                "g.bucket",
                "prod-bucket",
                "environments/prod/layer.yaml",
                3,
            ),
            leaf(
                "non-prod",
                "n1",
                "g.x",
                "other-value",
                "environments/non-prod/layer.yaml",
                1,
            ),
        ];
        let config = PolicyConfig::default();
        let o = Ownership::build(&leaves, &config);
        let found = |text: &str| -> Vec<&str> {
            o.matches(text, "elsewhere")
                .into_iter()
                .map(|(_, i)| o.owned[i].value.as_str())
                .collect()
        };
        assert_eq!(
            found("harbor.prod.example.org/platform/app:1"),
            ["harbor.prod.example.org/platform"]
        );
        assert_eq!(
            found("https://harbor.prod.example.org"),
            ["harbor.prod.example.org"]
        );
        assert_eq!(found("s3://prod-bucket/x and prod-bucket"), ["prod-bucket"]);
        assert!(found("myprod-bucket2").is_empty());
        assert!(found("harbor.prod.example.organic").is_empty());
    }

    #[test]
    fn a_value_both_environments_set_alike_is_owned_by_neither() {
        let leaves = [
            leaf(
                "prod",
                "p1",
                "global.s3",
                "https://s3.sto2.cloud.example",
                "environments/prod/sto2/layer.yaml",
                3,
            ),
            leaf(
                "non-prod",
                "n1",
                "global.s3",
                "https://s3.sto2.cloud.example",
                "environments/non-prod/sto2/layer.yaml",
                3,
            ),
            leaf(
                "prod",
                "p2",
                "global.s3",
                "https://s3.osl2.cloud.example",
                "environments/prod/osl2/layer.yaml",
                3,
            ),
        ];
        let config = PolicyConfig::default();
        let o = Ownership::build(&leaves, &config);
        assert!(
            o.owned_values().iter().all(|(v, _)| !v.contains("sto2")),
            "{:?}",
            o.owned_values()
        );
    }

    #[test]
    fn an_own_longer_value_does_not_hide_a_foreign_one_and_prefixes_are_not_words() {
        let leaves = [
            leaf(
                "prod",
                "p1",
                "global.domain",
                "shop.prod.example.com",
                "environments/prod/layer.yaml",
                2,
            ),
            leaf(
                "prod",
                "p1",
                "global.bucket",
                "prod-osl2",
                "environments/prod/layer.yaml",
                3,
            ),
            leaf(
                "non-prod",
                "n1",
                "global.domain",
                "shop.dev.example.com",
                "environments/non-prod/layer.yaml",
                2,
            ),
            leaf(
                "non-prod",
                "n1",
                "global.bucket",
                "non-prod-osl2",
                "environments/non-prod/layer.yaml",
                3,
            ),
            leaf(
                "non-prod",
                "n1",
                "web.host",
                "https://shop.prod.example.com/api",
                "environments/non-prod/layer.yaml",
                4,
            ),
        ];
        let config = PolicyConfig::default();
        let o = Ownership::build(&leaves, &config);
        let found = |text: &str| -> Vec<&str> {
            o.matches(text, "non-prod")
                .into_iter()
                .map(|(_, i)| o.owned[i].value.as_str())
                .collect()
        };
        assert_eq!(
            found("https://shop.prod.example.com/api"),
            ["shop.prod.example.com"]
        );
        assert!(found("s3://non-prod-osl2/x").is_empty());
        assert_eq!(found("s3://prod-osl2-thanos/x"), ["prod-osl2"]);
    }
}
