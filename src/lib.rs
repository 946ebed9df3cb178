//! strata compiles a layered platform repository into rendered Kubernetes manifests and the
//! Argo CD objects that deploy them.
//!
//! The pipeline, one stage a module, each with one typed entry point:
//!
//! 1. [`world`]: where the bytes come from: the working tree, a git commit, or memory.
//! 2. [`load`]: files → [`load::Source`]: settings, components, layers, clusters.
//! 3. [`merge`]: layers → one [`merge::Cluster`] each, every value with its origins.
//! 4. `validate`: merged values → diagnostics against each component's values schema.
//! 5. `render`: values + templates (or command sources) → manifests.
//! 6. [`emit`]: manifests → an [`emit::OutputTree`] of paths and bytes, with Argo CD objects;
//!    `emit::layout` is the one place output paths are made and parsed.
//! 7. `policy`: rendered objects → violations.
//! 8. [`kube`]: rendered objects → what the API server of each cluster's Kubernetes version
//!    would refuse or warn about, reported as violations of the same catalogue.
//!
//! [`compile`](mod@compile) runs them all, cluster by cluster, with the render cache (`cache`); [`output`]
//! writes the tree to disk. [`compare`] sets a render against another render, a rendered
//! directory or a cluster's live objects; `promote` publishes and promotes through the output
//! repository ([`git`] is its plumbing). [`cli`] is the command line. Errors from any stage are
//! [`diag::Diagnostic`]s that name a file and line.
//!
//! The README's "Architecture" section has the whole map, and what each module may use.

// A `Diagnostic` is the error of most functions here and is built only on the failure path;
// boxing it would add noise to every signature for no measurable gain.
#![allow(clippy::result_large_err)]

// The modules whose items the integration tests, the fuzz targets and the binary use are
// public; everything in them is `pub(crate)` but those items.
pub(crate) mod cache;
pub mod cli;
pub mod compare;
pub mod compile;
pub mod diag;
pub(crate) mod digest;
pub mod emit;
pub(crate) mod explain;
pub mod git;
pub mod kube;
pub mod load;
pub(crate) mod lock;
pub mod merge;
pub(crate) mod object;
pub mod output;
pub(crate) mod packed;
pub(crate) mod policy;
pub(crate) mod progress;
pub mod promote;
pub(crate) mod render;
pub(crate) mod secret;
pub mod site;
#[cfg(test)]
mod testing;
pub(crate) mod validate;
pub mod vendor;
pub mod world;
pub mod yaml;

pub use compile::{Compiled, Selection, compile, shard_of};
pub use diag::Failure;
