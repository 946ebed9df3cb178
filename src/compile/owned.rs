//! What a write of a compile's tree may delete under the output directory, when the tree no
//! longer holds a file: the paths the compile answers for.
//!
//! - A full render without a cache answers for everything (`""`).
//! - A full render with a cache answers for what it rendered: each rendered cluster's
//!   directory and Applications, or only its changed components' ([`super::pipeline`]).
//! - A partial render (`--env`, `--cluster`, `--shard`) answers for the clusters it selected,
//!   and for a whole environment when it selected one.
//! - With a cache, the files of each cluster that is gone, and the whole directory of an
//!   environment that has no cluster left.
//!
//! Within these paths the writer deletes only what it recorded writing, in the shapes of the
//! layout, with the bytes it wrote (`crate::output`).

use crate::cache::Cache;
use crate::emit::{self, layout};
use crate::load::Source;
use crate::merge::Cluster;
use crate::packed::Packed;

use super::Selection;

/// The paths a write of the tree may delete in: directories (ending in `/`, `""` for all)
/// and single files.
pub(super) struct Owned<'a> {
    pub(super) selection: &'a Selection,
    pub(super) source: &'a Source,
    /// Every cluster of the platform.
    pub(super) all: &'a [Cluster],
    pub(super) selected: &'a [&'a Cluster],
    /// The cache the compile was given, as the output on disk bears it out.
    pub(super) previous: Option<&'a Cache>,
    /// The cache the compile leaves.
    pub(super) next: &'a Cache,
}

impl Owned<'_> {
    /// The paths, given what the pipeline found its rendered clusters answer for (`rendered`).
    pub(super) fn paths(&self, rendered: Vec<Packed>) -> Vec<String> {
        let selection = self.selection;
        let mut owned = if selection.is_partial() {
            let mut owned = emit::owned_prefixes(self.source, self.selected.iter().copied());
            if selection.cluster.is_none() && selection.shard.is_none() {
                owned.extend(
                    selection
                        .environment
                        .iter()
                        .map(|e| layout::environment_dir(e)),
                );
            }
            owned
        } else if self.previous.is_none() {
            vec![String::new()]
        } else {
            rendered.iter().flat_map(Packed::strings).collect()
        };
        if let Some(old) = self.previous {
            for (name, c) in &old.clusters {
                if !self.next.clusters.contains_key(name) {
                    owned.extend(c.files.paths());
                }
                // An environment with no clusters left goes entirely, its Argo CD objects too.
                if !self.all.iter().any(|a| a.environment == c.environment) {
                    owned.push(layout::environment_dir(&c.environment));
                }
            }
        }
        owned
    }
}
