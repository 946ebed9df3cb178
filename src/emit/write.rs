//! Writing an [`OutputTree`] to disk: only changed files are written, files no longer produced
//! are removed, and a directory strata did not create is never cleaned.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::OutputTree;

/// The file that marks a directory as strata's output. Without it strata refuses to clean.
pub const MARKER: &str = ".strata-output";
/// The render cache inside the output directory (see `crate::cache`).
pub const CACHE_DIR: &str = ".strata-cache/";
const MARKER_TEXT: &str = "This directory is written by `strata render`.\nstrata removes files here that it no longer renders: do not keep other files in it.\n";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "refusing to write to {dir}: it is not empty and strata did not create it (no {MARKER} file)"
    )]
    NotOurs { dir: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `tree` under `dir`. Files under `dir` that start with one of `owned` and that the tree
/// does not hold are removed; others are left alone.
pub fn write_tree(
    dir: &Path,
    tree: &OutputTree,
    owned: &[String],
) -> Result<WriteStats, WriteError> {
    let marker = dir.join(MARKER);
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty && !marker.is_file() {
            return Err(WriteError::NotOurs {
                dir: dir.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    if !marker.is_file() {
        std::fs::write(&marker, MARKER_TEXT).map_err(io(&marker))?;
    }

    let mut stats = WriteStats::default();
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (rel, bytes) in &tree.files {
        let path = dir.join(rel);
        let parent = path.parent().unwrap_or(dir);
        match std::fs::read(&path) {
            Ok(old) if old == *bytes => {
                stats.unchanged += 1;
                continue;
            }
            Ok(_) => {
                // Replace beside the target and rename, so a reader never sees half a file.
                let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
                tmp.write_all(bytes).map_err(io(&path))?;
                tmp.persist(&path).map_err(|e| WriteError::Io {
                    path: path.clone(),
                    source: e.error,
                })?;
            }
            Err(_) => {
                // A new file: nothing to protect, so one write (creating files dominates the
                // time of a first render).
                if !made.contains(parent) {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                    made.insert(parent.to_path_buf());
                }
                std::fs::write(&path, bytes).map_err(io(&path))?;
            }
        }
        stats.written += 1;
    }

    let mut dirs = BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).follow_links(false) {
        let entry = entry.map_err(|e| WriteError::Io {
            path: dir.to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type().is_dir() {
            dirs.insert(entry.path().to_path_buf());
            continue;
        }
        if rel == MARKER || rel.starts_with(CACHE_DIR) || tree.files.contains_key(&rel) {
            continue;
        }
        if owned.iter().any(|p| rel.starts_with(p.as_str())) {
            std::fs::remove_file(entry.path()).map_err(io(entry.path()))?;
            stats.removed += 1;
        }
    }
    // Deepest first, so a directory emptied by its children goes too.
    for d in dirs.iter().rev() {
        if std::fs::read_dir(d).is_ok_and(|mut r| r.next().is_none()) {
            let _ = std::fs::remove_dir(d);
        }
    }
    Ok(stats)
}

/// Reads a rendered directory back as a tree (for `check --against`). The marker is skipped.
pub fn read_tree(dir: &Path) -> std::io::Result<OutputTree> {
    let mut tree = OutputTree::default();
    for entry in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            e.into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed"))
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if rel == MARKER || rel.starts_with(CACHE_DIR) {
            continue;
        }
        tree.files.insert(rel, std::fs::read(entry.path())?);
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> OutputTree {
        OutputTree {
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn writes_only_what_changed_and_removes_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let all = vec![String::new()];
        let s = write_tree(&out, &tree(&[("a/x.yaml", "1"), ("a/y.yaml", "2")]), &all).unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 2,
                unchanged: 0,
                removed: 0
            }
        );
        let s = write_tree(&out, &tree(&[("a/x.yaml", "1"), ("b/z.yaml", "3")]), &all).unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 1,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!out.join("a/y.yaml").exists());
        let back = read_tree(&out).unwrap();
        assert_eq!(back, tree(&[("a/x.yaml", "1"), ("b/z.yaml", "3")]));
    }

    #[test]
    fn refuses_a_directory_it_did_not_create() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "precious").unwrap();
        let e = write_tree(dir.path(), &tree(&[("a.yaml", "1")]), &[String::new()]).unwrap_err();
        assert!(e.to_string().contains("strata did not create it"), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
            "precious"
        );
    }

    #[test]
    fn only_owned_paths_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_tree(
            &out,
            &tree(&[("prod/a.yaml", "1"), ("dev/b.yaml", "2")]),
            &[String::new()],
        )
        .unwrap();
        let s = write_tree(&out, &tree(&[]), &["prod/".to_string()]).unwrap();
        assert_eq!(s.removed, 1);
        assert!(out.join("dev/b.yaml").exists());
    }
}
