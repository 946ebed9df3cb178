//! [`OutputTree`]: the rendered files, by path.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic};

/// Rendered files by path relative to the output directory, `<environment>/...`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputTree {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl OutputTree {
    /// Adds a file. A path with an empty, `.` or `..` segment, a backslash or a leading '/' is
    /// refused: it is a bug upstream, and must never reach the disk.
    pub(crate) fn insert(&mut self, path: String, bytes: Vec<u8>) -> Result<(), Diagnostic> {
        if !is_safe_path(&path) {
            return Err(Diagnostic::error(
                Code::OutputPath,
                format!("refusing to write {path:?}: it could leave the output directory"),
            )
            .hint("this is a bug in strata; please report it"));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// The files of one environment, with paths relative to the environment directory: the tree
    /// of branch `env/<environment>`.
    pub(crate) fn environment(&self, environment: &str) -> BTreeMap<String, Vec<u8>> {
        let prefix = super::layout::environment_dir(environment);
        self.files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
            .collect()
    }

    pub fn environments(&self) -> BTreeSet<String> {
        self.files
            .keys()
            .filter_map(|k| k.split('/').next())
            .map(str::to_string)
            .collect()
    }
}

pub(crate) fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        for p in [
            "../x",
            "a/../../b",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "a\\b",
            "",
        ] {
            assert!(!is_safe_path(p), "{p}");
        }
        assert!(is_safe_path("prod/sto2/workload/dex/deployment-dex.yaml"));
    }
}
