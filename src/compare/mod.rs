//! Comparing what strata rendered with something else, resource by resource or byte by byte:
//!
//! - [`check`]: render drift, a rendered directory or branch against a fresh render, file by
//!   file and byte by byte (`strata check`, and the reproducible gate).
//! - [`diff`]: two renders, resource by resource (`strata diff`).
//! - [`drift`]: a cluster's live objects against its rendered ones (`strata drift`).
//!
//! They name fields one way ([`field_path`]) and Secret values one way ([`crate::secret`]).

pub mod check;
pub(crate) mod diff;
pub mod drift;
pub(crate) mod field_path;

/// What happened to a resource between two renders; the site's model names it too.
pub use diff::Status;
