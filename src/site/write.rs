//! Writing a site into its directory, which strata owns and nobody else should write in.
//!
//! The directory may hold what someone planted: links, a marker, a record. So, as for the
//! output directory of `render` (see `crate::output`), strata
//! - writes only into a directory that is missing, empty, or holds its site marker
//!   ([`MARKER`], a plain file);
//! - never writes through a link: a link or a directory where a page goes stops the write
//!   before anything is written; each page is written beside its place and renamed over it,
//!   so a reader never sees half a page and a link there is replaced, not followed;
//! - deletes only the pages the marker records it wrote, that are still as it wrote them (the
//!   record holds their sha256), and that have the flat name of a page. Whoever plants a
//!   record can thus only have strata delete files whose bytes they know. The marker is
//!   distinct from `render`'s, so a site never claims rendered output, nor the reverse.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::SiteFiles;
use crate::digest::sha256_hex;
use crate::output::read_no_follow;

/// The file that marks a directory as a strata site, with the record of what it wrote.
pub const MARKER: &str = ".strata-site";
const HEADER: &str = "strata site 1";

/// Why a site could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "refusing to write the site to {dir}: it is not empty and strata did not write a site there (no {MARKER} file)"
    )]
    NotOurs { dir: PathBuf },
    #[error(
        "refusing to write the site to {dir}: {name} is a symbolic link or not a plain file, and strata never writes through one"
    )]
    NotAFile { dir: PathBuf, name: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl WriteError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            WriteError::NotOurs { .. } => {
                "give --out a new or empty directory: strata deletes pages it wrote there before, so it keeps the directory to itself"
            }
            WriteError::NotAFile { .. } => {
                "remove it, or give --out a new directory; find out who put it there"
            }
            WriteError::Io { .. } => "check the permissions and free space of the directory",
        }
    }
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Files strata recorded writing and no longer writes that it left, with why.
    pub left: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A name a page may have: one path segment, not hidden.
fn is_page_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Writes `files` into `dir` (created if missing), and removes the pages it wrote there before
/// and no longer makes. Everything is checked before the first write.
pub fn write(dir: &Path, files: &SiteFiles) -> Result<Written, WriteError> {
    let record = claim(dir)?;
    for name in files.keys() {
        if !is_page_name(name) {
            // The pages' names are strata's own; one that is not flat is a defect, and is
            // refused rather than written somewhere else.
            return Err(WriteError::NotAFile {
                dir: dir.to_path_buf(),
                name: name.clone(),
            });
        }
        match std::fs::symlink_metadata(dir.join(name)) {
            Ok(m) if m.file_type().is_file() => {}
            Ok(_) => {
                return Err(WriteError::NotAFile {
                    dir: dir.to_path_buf(),
                    name: name.clone(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&dir.join(name))(e)),
        }
    }
    let mut done = Written::default();
    let mut next = BTreeMap::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        next.insert(name.clone(), sha256_hex(bytes));
        if read_no_follow(&path).is_ok_and(|old| old == *bytes) {
            done.unchanged += 1;
            continue;
        }
        replace(dir, &path, bytes)?;
        done.written += 1;
    }
    for (name, hash) in record {
        if files.contains_key(&name) {
            continue;
        }
        let path = dir.join(&name);
        let why = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&path)(e)),
            Ok(_) if !is_page_name(&name) => Some("not the name of a page"),
            Ok(m) if !m.file_type().is_file() => Some("not a plain file"),
            Ok(_) => match read_no_follow(&path) {
                Ok(bytes) if sha256_hex(&bytes) == hash => None,
                _ => Some("it changed since strata wrote it"),
            },
        };
        match why {
            None => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                done.removed += 1;
            }
            Some(why) => done.left.push(format!("{name}: {why}")),
        }
    }
    let mut text = format!("{HEADER}\n");
    for (name, hash) in &next {
        text.push_str(&format!("{hash} {name}\n"));
    }
    replace(dir, &dir.join(MARKER), text.as_bytes())?;
    Ok(done)
}

/// Makes `dir` the site's, or refuses: it must be missing, empty, or hold the marker as a
/// plain file. Returns the record of what strata wrote there before.
fn claim(dir: &Path) -> Result<BTreeMap<String, String>, WriteError> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            return Ok(BTreeMap::new());
        }
        Err(e) => return Err(io(dir)(e)),
        Ok(m) if !m.is_dir() => return Err(WriteError::NotOurs { dir: dir.into() }),
        Ok(_) => {}
    }
    let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
    if empty {
        return Ok(BTreeMap::new());
    }
    let marker = dir.join(MARKER);
    match std::fs::symlink_metadata(&marker) {
        Ok(m) if m.file_type().is_file() => {}
        _ => return Err(WriteError::NotOurs { dir: dir.into() }),
    }
    let text = read_no_follow(&marker).map_err(io(&marker))?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(BTreeMap::new());
    }
    Ok(lines
        .filter_map(|l| l.split_once(' '))
        .map(|(hash, name)| (name.to_string(), hash.to_string()))
        .collect())
}

/// Writes `bytes` beside `path` and renames it over `path`.
fn replace(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.persist(path).map_err(|e| WriteError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pages: &[(&str, &str)]) -> SiteFiles {
        pages
            .iter()
            .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn writes_into_a_new_directory_then_removes_only_its_own_stale_pages() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("site");
        let first = write(&dir, &files(&[("index.html", "a"), ("env-old.html", "b")]));
        assert_eq!(first.expect("write").written, 2);
        std::fs::write(dir.join("notes.txt"), "mine").expect("write");
        let again = write(&dir, &files(&[("index.html", "a2")])).expect("write");
        assert_eq!((again.written, again.removed), (1, 1));
        assert!(!dir.join("env-old.html").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).expect("read"),
            "mine"
        );
    }

    #[test]
    fn refuses_a_directory_it_did_not_write() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join("thesis.tex"), "years of work").expect("write");
        let e = write(tmp.path(), &files(&[("index.html", "a")])).expect_err("refused");
        assert_eq!(
            e.to_string(),
            format!(
                "refusing to write the site to {}: it is not empty and strata did not write a site there (no .strata-site file)",
                tmp.path().display()
            )
        );
        assert!(!tmp.path().join("index.html").exists());
    }

    #[test]
    fn a_planted_record_deletes_nothing_it_does_not_know_the_bytes_of() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        std::fs::write(dir.join("precious.html"), "keep").expect("write");
        std::fs::write(
            dir.join(MARKER),
            format!(
                "{HEADER}\n{} precious.html\n{} ../outside.html\n",
                sha256_hex(b"guess"),
                sha256_hex(b"x")
            ),
        )
        .expect("write");
        let done = write(dir, &files(&[("index.html", "a")])).expect("write");
        assert_eq!(done.removed, 0);
        assert_eq!(
            done.left,
            ["precious.html: it changed since strata wrote it"]
        );
        assert!(dir.join("precious.html").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_where_a_page_goes_stops_the_write_before_anything_is_written() {
        let tmp = tempfile::tempdir().expect("tmp");
        let outside = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        std::fs::write(dir.join(MARKER), format!("{HEADER}\n")).expect("write");
        std::os::unix::fs::symlink(outside.path().join("x"), dir.join("style.css")).expect("link");
        let e =
            write(dir, &files(&[("index.html", "a"), ("style.css", "b")])).expect_err("refused");
        assert!(matches!(e, WriteError::NotAFile { ref name, .. } if name == "style.css"));
        assert!(!dir.join("index.html").exists());
        assert!(!outside.path().join("x").exists());
    }
}
