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

/// Writes `tree` under `dir`: [`claim`], then [`Claimed::write_tree`].
pub fn write_tree(
    dir: &Path,
    tree: &OutputTree,
    owned: &[String],
) -> Result<WriteStats, WriteError> {
    claim(dir)?.write_tree(tree, owned, None)
}

/// An output directory that strata may write: it was missing or empty, or it holds strata's
/// marker. See [`claim`].
#[derive(Debug)]
pub struct Claimed<'a> {
    dir: &'a Path,
    /// It was missing or empty: nothing in it can be stale.
    fresh: bool,
}

/// Claims `dir` as strata's output before anything is written there: refuses a directory that
/// is not empty and has no marker, and otherwise creates the directory and the marker. Whatever
/// else goes under `dir` (the render cache) is written only after this.
pub fn claim(dir: &Path) -> Result<Claimed<'_>, WriteError> {
    let marker = dir.join(MARKER);
    let mut fresh = true;
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty && !marker.is_file() {
            return Err(WriteError::NotOurs {
                dir: dir.to_path_buf(),
            });
        }
        fresh = empty;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    if !marker.is_file() {
        std::fs::write(&marker, MARKER_TEXT).map_err(io(&marker))?;
    }
    Ok(Claimed { dir, fresh })
}

impl Claimed<'_> {
    /// Writes `tree` under the directory. Files that start with one of `owned` and that the tree
    /// does not hold are removed; others are left alone. An entry of `owned` is a directory
    /// (`prod/sto2/workload/`, or `""` for all of it) or one file's path.
    ///
    /// Files are written on every thread: creating a file costs more than rendering it.
    /// `progress` is told how many files there are, and of each one written or found as it is.
    pub fn write_tree(
        &self,
        tree: &OutputTree,
        owned: &[String],
        progress: Option<&dyn crate::Progress>,
    ) -> Result<WriteStats, WriteError> {
        use rayon::prelude::*;
        let (dir, fresh) = (self.dir, self.fresh);

        // Every directory first, so that no two threads race to make one.
        let parents: Vec<&str> = tree
            .files
            .keys()
            .filter_map(|rel| rel.rsplit_once('/').map(|(parent, _)| parent))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // A directory that is the parent of the next one is made with it.
        let leaves: Vec<&str> = parents
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                parents
                    .get(i + 1)
                    .is_none_or(|next| !(next.starts_with(**p) && next[p.len()..].starts_with('/')))
            })
            .map(|(_, p)| *p)
            .collect();
        leaves.par_iter().try_for_each(|p| {
            let path = dir.join(p);
            std::fs::create_dir_all(&path).map_err(io(&path))
        })?;

        let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
        if let Some(p) = progress {
            p.start("writing", "files", files.len());
        }
        let written: Vec<bool> = files
            .par_iter()
            .map(|(rel, bytes)| {
                let wrote = write_file(&dir.join(rel), bytes, fresh);
                if let Some(p) = progress {
                    p.advance();
                }
                wrote
            })
            .collect::<Result<_, _>>()?;
        let mut stats = WriteStats::default();
        stats.written = written.iter().filter(|w| **w).count();
        stats.unchanged = written.len() - stats.written;

        // Nothing can be stale in a directory that was empty.
        if !fresh {
            stats.removed = remove_stale(dir, tree, owned)?;
        }
        Ok(stats)
    }
}

/// Writes one file unless it already holds `bytes`; whether it wrote.
fn write_file(path: &Path, bytes: &[u8], fresh: bool) -> Result<bool, WriteError> {
    let old = if fresh {
        None
    } else {
        std::fs::read(path).ok()
    };
    match old {
        Some(old) if old == bytes => Ok(false),
        Some(_) => {
            // Replace beside the target and rename, so a reader never sees half a file.
            let parent = path.parent().unwrap_or(path);
            let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io(parent))?;
            tmp.write_all(bytes).map_err(io(path))?;
            tmp.persist(path).map_err(|e| WriteError::Io {
                path: path.to_path_buf(),
                source: e.error,
            })?;
            Ok(true)
        }
        // A new file: nothing to protect, so one write.
        None => {
            std::fs::write(path, bytes).map_err(io(path))?;
            Ok(true)
        }
    }
}

/// Removes the files under the `owned` paths of `dir` that `tree` does not hold, then the
/// directories that left empty. Returns how many files went.
fn remove_stale(dir: &Path, tree: &OutputTree, owned: &[String]) -> Result<usize, WriteError> {
    let roots: Vec<&str> = if owned.iter().any(String::is_empty) {
        vec![""]
    } else {
        owned.iter().map(String::as_str).collect()
    };
    let mut removed = 0;
    let mut dirs = BTreeSet::new();
    for root in roots {
        let start = dir.join(root);
        if !root.is_empty() && !root.ends_with('/') {
            // One file.
            if start.is_file() && !tree.files.contains_key(root) {
                std::fs::remove_file(&start).map_err(io(&start))?;
                removed += 1;
                let mut parent = start.parent();
                while let Some(p) = parent.filter(|p| p.starts_with(dir) && *p != dir) {
                    dirs.insert(p.to_path_buf());
                    parent = p.parent();
                }
            }
            continue;
        }
        if !start.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&start).follow_links(false) {
            let entry = match entry {
                Ok(e) => e,
                // Removed by an earlier root of this loop.
                Err(e)
                    if e.io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    continue;
                }
                Err(e) => {
                    return Err(WriteError::Io {
                        path: e.path().unwrap_or(&start).to_path_buf(),
                        source: e
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("walk failed")),
                    });
                }
            };
            let Some(rel) = crate::world::relative_slash(entry.path(), dir) else {
                continue;
            };
            if entry.file_type().is_dir() {
                if !rel.is_empty() {
                    dirs.insert(entry.path().to_path_buf());
                }
                continue;
            }
            if rel == MARKER || rel.starts_with(CACHE_DIR) || tree.files.contains_key(&rel) {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(entry.path())(e)),
            }
        }
    }
    // Deepest first, so a directory emptied by its children goes too.
    for d in dirs.iter().rev() {
        if d.starts_with(dir.join(CACHE_DIR.trim_end_matches('/'))) {
            continue;
        }
        if std::fs::read_dir(d).is_ok_and(|mut r| r.next().is_none()) {
            let _ = std::fs::remove_dir(d);
        }
    }
    Ok(removed)
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
        let Some(rel) = crate::world::relative_slash(entry.path(), dir) else {
            continue;
        };
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

    #[test]
    fn a_removed_file_takes_the_directories_it_leaves_empty() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let all = vec![String::new()];
        write_tree(
            &out,
            &tree(&[("dev/c1/app/a.yaml", "1"), ("dev/c2/app/b.yaml", "2")]),
            &all,
        )
        .unwrap();
        // c1 is gone: its file is owned by path, as a cached render lists it.
        let s = write_tree(
            &out,
            &tree(&[("dev/c2/app/b.yaml", "2")]),
            &["dev/c1/app/a.yaml".to_string(), "dev/c2/".to_string()],
        )
        .unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (0, 1, 1));
        assert!(!out.join("dev/c1").exists(), "empty directories are left");
        assert!(out.join("dev/c2/app/b.yaml").is_file());
        assert!(out.join(MARKER).is_file());
    }
}
