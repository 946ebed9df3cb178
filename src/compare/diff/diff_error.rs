//! `DiffError`: why two trees could not be compared.

use std::fmt;

use serde::Serialize;

/// Which of the two trees a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Side {
    Base,
    Head,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Base => "base",
            Side::Head => "head",
        })
    }
}

/// A file of an output tree that is not one Kubernetes object in the output layout.
///
/// The tree is strata's own output, so these point to a hand edit or a bug; the message names
/// the file so that either can be found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DiffError {
    #[error("{side} tree: {file}: {message}")]
    File {
        side: Side,
        file: String,
        message: String,
    },
    #[error("{side} tree: {resource} is in both {first} and {second}")]
    Duplicate {
        side: Side,
        resource: String,
        first: String,
        second: String,
    },
}
