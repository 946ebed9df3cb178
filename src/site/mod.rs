//! The evidence as pages people read: a static site of what runs where, what waits behind
//! which gate, how every change reached production, and what the checks found.
//!
//! A [`Site`] (plain facts, filled from the source and the output repository by `collect`)
//! goes in; [`render`] gives the files of the site as paths and bytes. The site opens from
//! `file://` with no network: one stylesheet, one small script that is not needed (collapsed
//! sections are `<details>`), and inline SVG for the timelines.
//!
//! - `collect`: the model filled from the source and the output repository (`strata site`).
//! - [`model`]: the facts a page shows.
//! - `pending`: the pending change, read from the files that differ between the two branches.
//! - `timeline`: the promotion timeline of an environment, as SVG.
//! - `pages`: the minijinja templates (embedded, auto-escaped as HTML) and the files.
//! - [`write`]: the files written into a directory of the site's own.
//! - [`drift`]: a report of `strata drift --format json`, read for the checks page.
//!
//! The same model gives the same bytes: there is no clock here (`now` is in the model) and
//! no map with an unstable order.

mod collect;
pub mod drift;
pub mod model;
mod pages;
mod pending;
mod timeline;
pub mod write;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use collect::Request;
pub(crate) use collect::collect;
pub use model::Site;

/// The files of a site: path relative to the site's root → content.
pub type SiteFiles = BTreeMap<String, Vec<u8>>;

/// Why a site could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The soak policy's calendar is not valid; `strata validate` says the same.
    #[error("{0}")]
    Calendar(String),
    /// A template failed: a defect of strata, never of the input.
    #[error("the site's template {name} failed: {message}")]
    Template { name: String, message: String },
}

/// Renders every page of `site`.
pub fn render(site: &Site) -> Result<SiteFiles, SiteError> {
    pages::render(site)
}
