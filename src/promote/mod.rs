//! Promotion: the workflows on the output repository, one file a command, over the pure
//! gates of [`gates`].
//!
//! - [`publish`]: each environment's rendered tree committed to its branch.
//! - [`verify`]: the gates of promoting `env/<e>-next` into `env/<e>` (`verify-promotion`).
//! - [`promotion`]: the merge commit that promotes, when every gate is open (`promote`).
//! - [`audit`]: the evidence of every change to an environment.
//! - [`status`]: what runs where and what waits.
//! - [`check_repo`]: every `env/*` branch against a re-render of its drySha (`check --repo`).
//!
//! They share [`repos`] (what the repositories say: the source at a commit, the drySha a
//! branch records, the policy in force), [`landing`] (when a drySha arrived), [`history`] (what
//! is wrong with the history of the branches), [`tree_digests`] (the digests of rendered trees) and
//! [`error`]. Everything is read from git alone:
//! the source repository (for drySha renders, authors and ancestry) and the output repository
//! (for branches, metadata, landing times and the trailers of earlier promotions). Time comes
//! in as a value.

pub(crate) mod audit;
pub(crate) mod check_repo;
pub(crate) mod error;
#[cfg(test)]
mod fixture;
pub mod gates;
pub(crate) mod history;
pub(crate) mod landing;
pub(crate) mod promotion;
pub(crate) mod publish;
pub(crate) mod repos;
pub(crate) mod reuse;
pub(crate) mod status;
pub(crate) mod tree_digests;
pub(crate) mod verify;
