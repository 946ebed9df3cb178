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
//! is wrong with the history of the branches) and [`error`]. Everything is read from git alone:
//! the source repository (for drySha renders, authors and ancestry) and the output repository
//! (for branches, metadata, landing times and the trailers of earlier promotions). Time comes
//! in as a value.

pub mod audit;
pub mod check_repo;
pub mod error;
pub mod gates;
pub mod history;
pub mod landing;
pub mod promotion;
pub mod publish;
pub mod repos;
pub mod status;
pub mod verify;
