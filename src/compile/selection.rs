//! Which clusters a compile renders: all, one environment, one cluster, or a shard.

use std::collections::BTreeSet;

use crate::diag::{Code, DiagResult, Diagnostic};
use crate::merge::Cluster;

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
    pub(crate) fn is_partial(&self) -> bool {
        self.environment.is_some() || self.cluster.is_some() || self.shard.is_some()
    }

    /// Whether `cluster` is among those selected (by its environment, name and shard).
    pub(crate) fn keeps(&self, cluster: &Cluster) -> bool {
        self.environment
            .as_ref()
            .is_none_or(|e| *e == cluster.environment)
            && self
                .shard
                .is_none_or(|(i, n)| shard_of(&cluster.name, n) == i)
            && self.cluster.as_ref().is_none_or(|n| *n == cluster.name)
    }

    /// The indexes in `all` of the clusters selected, or why there are none.
    pub(crate) fn select(&self, all: &[Cluster]) -> DiagResult<Vec<usize>> {
        let mut out: Vec<usize> = (0..all.len()).collect();
        if let Some(env) = &self.environment {
            out.retain(|&i| &all[i].environment == env);
            if out.is_empty() {
                let known: BTreeSet<&str> = all.iter().map(|c| c.environment.as_str()).collect();
                return Err(Diagnostic::error(
                    Code::Selection,
                    format!("there is no environment `{env}`"),
                )
                .hint(format!(
                    "the environments are: {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ))
                .into());
            }
        }
        if let Some((i, n)) = self.shard {
            out.retain(|&c| shard_of(&all[c].name, n) == i);
        }
        if let Some(name) = &self.cluster {
            out.retain(|&i| &all[i].name == name);
            if out.is_empty() {
                let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
                return Err(Diagnostic::error(
                    Code::Selection,
                    format!("there is no cluster `{name}`"),
                )
                .hint(format!("the clusters are: {}", known.join(", ")))
                .into());
            }
        }
        Ok(out)
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
