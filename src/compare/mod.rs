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

/// `strata diff`'s report of `base` against `head` (`human`, `json` or `markdown`, three lines
/// of context, no filter, no color): with both sides compiled whole, or with the head compiled
/// against the base so that clusters equal on both sides are compiled once. For the tests that
/// prove the two byte-identical; `Err` holds why a side did not render or diff.
#[doc(hidden)]
pub fn diff_report(
    base: &dyn crate::world::World,
    head: &dyn crate::world::World,
    format: &str,
    narrowed: bool,
) -> Result<String, String> {
    use diff::sides::{self, How};
    let how = if narrowed { How::Narrowed } else { How::Whole };
    let format = match format {
        "json" => diff::Format::Json,
        "markdown" => diff::Format::Markdown,
        _ => diff::Format::Human,
    };
    let (base, head) = sides::compile(base, head, how);
    let fail = |f: crate::diag::Failure| crate::diag::render(&f.diagnostics, &f.texts);
    let (base, head) = (base.map_err(fail)?, head.map_err(fail)?);
    diff::report(&base, &head, format, diff::DiffOptions::default())
        .map(|(text, _)| text)
        .map_err(|e| e.to_string())
}
