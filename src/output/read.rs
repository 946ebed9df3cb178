//! Reading the output directory, which may hold what a hostile repository planted: never
//! through a symbolic link.

use std::io::Read as _;
use std::path::Path;

use super::{CACHE_DIR, MARKER};
use crate::emit::OutputTree;

/// Opens `path` for reading unless it is a symbolic link.
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    no_follow(std::fs::OpenOptions::new().read(true)).open(path)
}

/// `options` that do not open a symbolic link.
pub(crate) fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// The bytes of `path`, unless it is a symbolic link: for files of the output directory, where
/// a link could point anywhere.
pub(crate) fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_no_follow(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
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
