//! Writing an [`OutputTree`] to disk: only changed files are written, and files no longer
//! produced are removed — but only files strata itself wrote there.
//!
//! The output directory may hold what a hostile repository planted: a marker, a cache index,
//! symbolic links. So strata
//! - writes into a directory only when it is empty or holds its marker ([`claim`]), and never
//!   through a symbolic link: a link anywhere under the directory, where strata would write or
//!   delete, stops the write before anything is written;
//! - keeps a record ([`RECORD`]) of every file it wrote and the sha256 of what it wrote, and
//!   deletes a file only when the record lists it, its path has a shape of the layout
//!   ([`layout::place`]), and its bytes still hash to what the record says. Whoever
//!   plants a record can thus only have strata delete files whose bytes they know, in the
//!   shapes strata writes. Without a record nothing is deleted, and what is left is reported.
//!
//! Where the output directory may be at all is [`output_dir`]'s business (`dir.rs`); reading
//! from it without following links, `read.rs`'s.

mod dir;
mod read;

pub(crate) use dir::{OutputFrom, output_dir, output_dir_of_settings};
pub(crate) use read::no_follow;
pub(crate) use read::read_no_follow;
pub use read::read_tree;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::Digest as _;

use crate::emit::OutputTree;
use crate::emit::layout;
use crate::packed::{Merge, Packed};

/// The file that marks a directory as strata's output. Without it strata refuses to clean.
pub(crate) const MARKER: &str = ".strata-output";
/// The render cache inside the output directory (see `crate::cache::store`).
pub(crate) const CACHE_DIR: &str = ".strata-cache/";
/// The record of what strata wrote, in the cache directory: `<sha256> <path>` a line.
pub(crate) const RECORD: &str = "written";
const RECORD_HEADER: &str = "strata written 1";
const MARKER_TEXT: &str = "This directory is written by `strata render`.\nstrata removes files here that it wrote and no longer renders: do not keep other files in it.\n";

#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error(
        "refusing to write to {dir}: it is not empty and strata did not create it (no {MARKER} file)"
    )]
    NotOurs { dir: PathBuf },
    #[error(
        "refusing to write to {dir}: {path} is a symbolic link or not a plain file or directory, and strata never writes through one"
    )]
    Link { dir: PathBuf, path: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct WriteStats {
    pub(crate) written: usize,
    pub(crate) unchanged: usize,
    pub(crate) removed: usize,
    /// Files the render no longer produces that strata did not delete, and why.
    pub(crate) left: Vec<Left>,
}

/// A file no longer rendered that strata left where it was.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Left {
    /// Relative to the output directory.
    pub(crate) path: String,
    pub(crate) why: LeftWhy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LeftWhy {
    /// strata has no record of writing it (the record is missing, or it never did).
    NotRecorded,
    /// Its bytes are no longer the ones strata wrote.
    Changed,
    /// A symbolic link, a directory or another non-file where strata wrote a file.
    NotAFile,
}

impl LeftWhy {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            LeftWhy::NotRecorded => "strata has no record of writing it",
            LeftWhy::Changed => "it changed since strata wrote it",
            LeftWhy::NotAFile => "it is not a plain file",
        }
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `tree` under `dir`: [`claim`], then [`Claimed::write_tree`].
#[cfg(test)]
pub(crate) fn write_tree(
    dir: &Path,
    tree: &OutputTree,
    owned: &[String],
) -> Result<WriteStats, WriteError> {
    claim(dir)?.write_tree(tree, owned, None)
}

/// An output directory that strata may write: it was missing or empty, or it holds strata's
/// marker. See [`claim`].
#[derive(Debug)]
pub(crate) struct Claimed<'a> {
    dir: &'a Path,
    /// It was missing or empty: nothing in it can be stale.
    fresh: bool,
}

/// Claims `dir` as strata's output before anything is written there: refuses a directory that
/// is not empty and has no marker (or has a link for one), and otherwise creates the directory
/// and the marker. Whatever else goes under `dir` (the render cache) is written only after this.
pub(crate) fn claim(dir: &Path) -> Result<Claimed<'_>, WriteError> {
    let marker = dir.join(MARKER);
    let link = |path: &str| WriteError::Link {
        dir: dir.to_path_buf(),
        path: path.to_string(),
    };
    let mut fresh = true;
    let mut marked = false;
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        match std::fs::symlink_metadata(&marker) {
            Ok(m) if m.file_type().is_file() => marked = true,
            Ok(_) => return Err(link(MARKER)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&marker)(e)),
        }
        if !empty && !marked {
            return Err(WriteError::NotOurs {
                dir: dir.to_path_buf(),
            });
        }
        let cache = CACHE_DIR.trim_end_matches('/');
        match std::fs::symlink_metadata(dir.join(cache)) {
            Ok(m) if !m.file_type().is_dir() => return Err(link(cache)),
            _ => {}
        }
        fresh = empty;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    if !marked {
        create_new(&marker, MARKER_TEXT.as_bytes())?;
    }
    Ok(Claimed { dir, fresh })
}

/// Creates `path`, which must not exist (a link there, even to nothing, is not followed).
fn create_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(io(path))
}

fn sha256(bytes: &[u8]) -> String {
    crate::digest::hex(&sha2::Sha256::digest(bytes))
}

/// The record of what strata wrote under `dir`, by path: `None` when there is none or it
/// does not read. Entries outside the layout's shapes are dropped: no record makes strata
/// touch them.
fn read_record(dir: &Path) -> Option<BTreeMap<String, String>> {
    let bytes = read_no_follow(&dir.join(CACHE_DIR).join(RECORD)).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    if lines.next()? != RECORD_HEADER {
        return None;
    }
    let mut record = BTreeMap::new();
    for line in lines {
        let (hash, path) = line.split_once(' ')?;
        if layout::place(path).is_some() {
            record.insert(path.to_string(), hash.to_string());
        }
    }
    Some(record)
}

/// Replaces the record, beside it and renamed over it, with what `record` said less the paths
/// in `gone`, and the files of `parts`. Streamed from both, in path order: at ten thousand
/// clusters the record's text is larger than anything else a render keeps. Returns how many
/// files the parts hold, and how many of them were written.
fn write_record(
    dir: &Path,
    record: Option<&BTreeMap<String, String>>,
    gone: &BTreeSet<&str>,
    parts: &[Part],
) -> Result<(usize, usize), WriteError> {
    let cache = dir.join(CACHE_DIR);
    std::fs::create_dir_all(&cache).map_err(io(&cache))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&cache).map_err(io(&cache))?;
    let counts = {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
        w.write_all(RECORD_HEADER.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(io(&cache))?;
        let mut line = |hash: &str, path: &str| -> std::io::Result<()> {
            w.write_all(hash.as_bytes())?;
            w.write_all(b" ")?;
            w.write_all(path.as_bytes())?;
            w.write_all(b"\n")
        };
        let mut old = record
            .into_iter()
            .flatten()
            .filter(|(path, _)| !gone.contains(path.as_str()))
            .peekable();
        let counts = each_file(parts, |path, hash, written| {
            while let Some((o, hash)) = old.next_if(|(o, _)| o.as_str() < path) {
                line(hash, o)?;
            }
            // What this write holds replaces what the record said of the same path.
            old.next_if(|(o, _)| o.as_str() == path);
            line(&crate::digest::hex(hash), path)?;
            Ok(written)
        })
        .map_err(io(&cache))?;
        for (path, hash) in old {
            line(hash, path).map_err(io(&cache))?;
        }
        w.flush().map_err(io(&cache))?;
        counts
    };
    let path = cache.join(RECORD);
    tmp.persist(&path).map_err(|e| WriteError::Io {
        path,
        source: e.error,
    })?;
    Ok(counts)
}

/// Calls `f` with each file of `parts` once, in path order: its path, the sha256 of its bytes
/// and whether it was written. Returns how many files there were, and how many of them `f`
/// said were written.
///
/// A compile that ran again over a cache the disk did not bear out hands some files over
/// twice: the same bytes, once written and once found as they were. Such a file is one file,
/// written if either part wrote it.
fn each_file(
    parts: &[Part],
    mut f: impl FnMut(&str, &[u8; 32], bool) -> std::io::Result<bool>,
) -> std::io::Result<(usize, usize)> {
    let mut merge = Merge::new(parts.iter().map(|p| &p.paths));
    // The file before, held until the next one shows it is not the same.
    let mut held: Option<([u8; 32], bool)> = None;
    let mut held_path = String::new();
    let (mut files, mut written) = (0, 0);
    let mut give = |path: &str, (hash, wrote): ([u8; 32], bool)| -> std::io::Result<()> {
        files += 1;
        written += usize::from(f(path, &hash, wrote)?);
        Ok(())
    };
    while let Some((path, done, part, index)) = merge.next() {
        let hash = parts
            .get(part)
            .and_then(|p| p.hashes.get(index))
            .copied()
            .unwrap_or_default();
        let wrote = done != Done::Found as u64;
        match &mut held {
            Some((_, w)) if held_path == path => *w |= wrote,
            _ => {
                if let Some(file) = held.take() {
                    give(&held_path, file)?;
                }
                held_path.clear();
                held_path.push_str(path);
                held = Some((hash, wrote));
            }
        }
    }
    if let Some(file) = held {
        give(&held_path, file)?;
    }
    Ok((files, written))
}

/// Which threads write the files of one part ([`Writing::write`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// Every thread: nothing else keeps them busy.
    All,
    /// The calling thread alone: the others are writing parts of their own. Threads that
    /// share a part would create files in the same directories at once, and the kernel lets
    /// only one at a time create in a directory: the others wait, spinning or asleep.
    This,
}

impl Threads {
    /// The smallest share of `n` items a thread takes: all of them keeps them on this thread.
    fn min_len(self, n: usize) -> usize {
        match self {
            Threads::All => 1,
            Threads::This => n.max(1),
        }
    }
}

/// What one file of the tree needs.
enum Plan {
    Unchanged,
    /// There, with other bytes: replaced beside and renamed over.
    Replace,
    New,
}

/// Checks that no directory strata will go through under `dir` is a symbolic link or a file,
/// each directory once; `checked` remembers them across calls.
fn check_dirs<'p>(
    dir: &Path,
    paths: impl Iterator<Item = &'p str>,
    checked: &mut BTreeSet<&'p str>,
) -> Result<(), WriteError> {
    for path in paths {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            let prefix = &path[..end];
            end += 1;
            if !checked.insert(prefix) {
                continue;
            }
            match std::fs::symlink_metadata(dir.join(prefix)) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(_) => {
                    return Err(WriteError::Link {
                        dir: dir.to_path_buf(),
                        path: prefix.to_string(),
                    });
                }
                // Nothing deeper can be there either.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(io(&dir.join(prefix))(e)),
            }
        }
    }
    Ok(())
}

impl<'a> Claimed<'a> {
    /// Writes `tree` under the directory, and removes what strata wrote there before and no
    /// longer renders, within `owned`: [`Claimed::begin`], [`Writing::write`] and
    /// [`Writing::finish`] at once.
    #[cfg(test)]
    pub(crate) fn write_tree(
        &self,
        tree: &OutputTree,
        owned: &[String],
        progress: Option<&dyn crate::progress::Progress>,
    ) -> Result<WriteStats, WriteError> {
        let writing = self.begin()?;
        writing.write(tree, Threads::All, progress);
        writing.finish(owned)
    }

    /// Starts a write whose files come in parts ([`Writing::write`]): a render hands over each
    /// cluster's files as soon as it is checked, and lets them go.
    pub(crate) fn begin(&self) -> Result<Writing<'a>, WriteError> {
        let (dir, fresh) = (self.dir, self.fresh);
        let record = if fresh {
            Some(BTreeMap::new())
        } else {
            read_record(dir)
        };
        Ok(Writing {
            dir,
            fresh,
            record,
            undo: Undo::begin(dir)?,
            wrote: Mutex::default(),
            failed: Mutex::default(),
        })
    }
}

/// A write under way, whose files come in parts. Every change is recorded in an undo journal
/// from the first part on: when a part fails, when [`Writing::finish`] fails, or when the
/// caller [abandons](Writing::abandon) it (the compile found an error after some clusters were
/// written), the output directory is put back as it was, byte for byte.
pub(crate) struct Writing<'a> {
    dir: &'a Path,
    /// The directory was missing or empty: nothing in it can be stale.
    fresh: bool,
    /// What the record said strata wrote before this write.
    record: Option<BTreeMap<String, String>>,
    undo: Undo,
    /// The files of each part written. Only their paths and hashes stay; the bytes go with
    /// their part.
    wrote: Mutex<Vec<Part>>,
    /// The first part that failed: no part after it is written.
    failed: Mutex<Option<WriteError>>,
}

/// The files of one part of a [`Writing`], in path order: each path with what the write did
/// to the file ([`Done`]) as its number, and the sha256 of each file's bytes. They are what the
/// record of the write is made of, and what a roll back removes: a fleet's render keeps them
/// for every file it writes, so the paths are front-coded.
struct Part {
    paths: Packed,
    hashes: Vec<[u8; 32]>,
    /// The directories the part created, relative: a roll back removes them.
    dirs: Packed,
}

/// What a write did to a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Done {
    /// It was there as it is.
    Found,
    /// It was there with other bytes.
    Replaced,
    /// It was not there: a roll back removes it.
    Created,
}

impl Writing<'_> {
    /// Writes the files of `tree`, one part of the output, on the `threads` given: with
    /// [`Threads::All`] on every thread, since creating a file costs more than rendering it.
    /// Within the part everything is checked before its first file is written: a link where a
    /// file or directory is to go stops it. A failure is kept for [`Writing::finish`] to
    /// report, once the whole write is undone.
    ///
    /// `progress` is told how many files there are, and of each one written or found as it is.
    pub(crate) fn write(
        &self,
        tree: &OutputTree,
        threads: Threads,
        progress: Option<&dyn crate::progress::Progress>,
    ) {
        if self.failed.lock().map_or(true, |f| f.is_some()) {
            return;
        }
        if let Err(e) = self.write_part(tree, threads, progress)
            && let Ok(mut failed) = self.failed.lock()
        {
            failed.get_or_insert(e);
        }
    }

    fn write_part(
        &self,
        tree: &OutputTree,
        threads: Threads,
        progress: Option<&dyn crate::progress::Progress>,
    ) -> Result<(), WriteError> {
        use rayon::prelude::*;
        let (dir, fresh) = (self.dir, self.fresh);
        let mut checked = BTreeSet::new();
        if !fresh {
            check_dirs(dir, tree.files.keys().map(String::as_str), &mut checked)?;
        }
        let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
        let plans: Vec<(Plan, [u8; 32])> = files
            .par_iter()
            .with_min_len(threads.min_len(files.len()))
            .map(|(rel, bytes)| {
                let hash = sha2::Sha256::digest(bytes).into();
                if fresh {
                    return Ok((Plan::New, hash));
                }
                let path = dir.join(rel);
                match read_no_follow(&path) {
                    Ok(old) if old == **bytes => Ok((Plan::Unchanged, hash)),
                    Ok(_) => Ok((Plan::Replace, hash)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Plan::New, hash)),
                    // A link (ELOOP) or a directory where the file goes.
                    Err(_) => Err(WriteError::Link {
                        dir: dir.to_path_buf(),
                        path: rel.to_string(),
                    }),
                }
            })
            .collect::<Result<_, _>>()?;

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
        // Recorded with the part, even one that fails: a roll back removes them.
        let missing = missing_dirs(dir, &leaves);
        let made: Packed = missing.iter().map(|d| (d.as_str(), 0)).collect();
        // Parents first, each with one call: a directory that another part made meanwhile is
        // as good.
        let done = missing
            .iter()
            .try_for_each(|d| {
                let path = dir.join(d);
                match std::fs::create_dir(&path) {
                    Err(e) if !(e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir()) => {
                        Err(io(&path)(e))
                    }
                    _ => Ok(()),
                }
            })
            .and_then(|()| self.write_files(&files, &plans, threads, progress));
        let part = match done {
            Ok(done) => Part {
                paths: files
                    .iter()
                    .zip(&done)
                    .map(|((rel, _), d)| (rel.as_str(), *d as u64))
                    .collect(),
                hashes: plans.iter().map(|(_, hash)| *hash).collect(),
                dirs: made,
            },
            Err(e) => {
                if let Ok(mut wrote) = self.wrote.lock() {
                    wrote.push(Part {
                        paths: Packed::default(),
                        hashes: Vec::new(),
                        dirs: made,
                    });
                }
                return Err(e);
            }
        };
        if let Ok(mut wrote) = self.wrote.lock() {
            wrote.push(part);
        }
        Ok(())
    }

    /// Writes `files` as `plans` say, on the `threads` given; what it did to each file.
    fn write_files(
        &self,
        files: &[(&String, &Vec<u8>)],
        plans: &[(Plan, [u8; 32])],
        threads: Threads,
        progress: Option<&dyn crate::progress::Progress>,
    ) -> Result<Vec<Done>, WriteError> {
        use rayon::prelude::*;
        let dir = self.dir;
        if let Some(p) = progress {
            p.start("writing", "files", files.len());
        }
        let undo = &self.undo;
        let results: Vec<Result<Done, WriteError>> = files
            .par_iter()
            .zip(plans)
            .with_min_len(threads.min_len(files.len()))
            .map(|((rel, bytes), (plan, _))| {
                let done = write_file(&dir.join(rel), bytes, plan, undo);
                if let Some(p) = progress {
                    p.advance();
                }
                done
            })
            .collect();
        let mut error = None;
        let done: Vec<Done> = results
            .into_iter()
            .map(|r| match r {
                Ok(done) => done,
                Err(e) => {
                    error.get_or_insert(e);
                    Done::Found
                }
            })
            .collect();
        if let Some(e) = error {
            // The record of the write, which tells a roll back what to remove, never holds
            // the part that failed: its new files go now.
            for ((rel, _), d) in files.iter().zip(&done) {
                if *d == Done::Created {
                    let _ = std::fs::remove_file(dir.join(rel));
                }
            }
            return Err(e);
        }
        Ok(done)
    }

    /// Ends the write: removes what strata wrote before and no longer renders, within `owned`
    /// (an entry is a directory, `prod/sto2/workload/` or `""` for all of it, or one file's
    /// path), and records what it wrote. On any failure, of a part or here, the output
    /// directory is put back as it was.
    pub(crate) fn finish(self, owned: &[String]) -> Result<WriteStats, WriteError> {
        let Writing {
            dir,
            fresh,
            record,
            undo,
            wrote,
            failed,
        } = self;
        let poisoned = wrote.is_poisoned();
        let parts = wrote.into_inner().unwrap_or_else(|e| e.into_inner());
        let failed = failed
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .or_else(|| {
                Some(WriteError::Io {
                    path: dir.to_path_buf(),
                    source: std::io::Error::other("a thread writing the output failed"),
                })
                .filter(|_| poisoned)
            });
        if let Some(e) = failed {
            undo.roll_back(dir, &parts);
            return Err(e);
        }
        match end(dir, fresh, record, &parts, owned, &undo) {
            Ok((stale, removed, (files, written))) => {
                undo.forget();
                prune(dir, &stale.remove);
                Ok(WriteStats {
                    written,
                    unchanged: files - written,
                    removed,
                    left: stale.left,
                })
            }
            Err(e) => {
                undo.roll_back(dir, &parts);
                Err(e)
            }
        }
    }

    /// Gives up the write: the output directory is put back as it was. A directory that was
    /// missing or empty is left empty, without strata's marker.
    pub(crate) fn abandon(self) {
        let parts = self.wrote.into_inner().unwrap_or_else(|e| e.into_inner());
        self.undo.roll_back(self.dir, &parts);
        if self.fresh {
            let _ = std::fs::remove_file(self.dir.join(MARKER));
            let _ = std::fs::remove_dir(self.dir.join(CACHE_DIR));
        }
    }
}

/// The end of a write of the files of `parts`: the stale files decided and removed, and the
/// record written. Returns the stale files, how many of them went, and how many files the
/// parts hold and how many of them were written.
fn end(
    dir: &Path,
    fresh: bool,
    record: Option<BTreeMap<String, String>>,
    parts: &[Part],
    owned: &[String],
    undo: &Undo,
) -> Result<(Stale, usize, (usize, usize)), WriteError> {
    let stale_files = if fresh {
        Stale::default()
    } else {
        let mut produced = Vec::new();
        each_file(parts, |path, _, _| {
            produced.push(path.to_string());
            Ok(false)
        })
        .map_err(io(dir))?;
        let produced = |path: &str| produced.binary_search_by(|p| p.as_str().cmp(path)).is_ok();
        let mut checked = BTreeSet::new();
        stale(dir, &produced, owned, record.as_ref(), &mut checked)?
    };
    let removed = remove(dir, &stale_files.remove, undo)?;
    // The record: what it said, less what is gone or no longer strata's, and every file of
    // this write.
    let gone: BTreeSet<&str> = stale_files
        .remove
        .iter()
        .chain(&stale_files.forget)
        .map(String::as_str)
        .collect();
    let counts = write_record(dir, record.as_ref(), &gone, parts)?;
    Ok((stale_files, removed, counts))
}

/// What a write changed so far, so that a failure can put the output directory back as it was.
/// Old bytes are kept in a directory of the cache (`undo-*`, on the same file system, so that
/// keeping them costs no space and putting them back cannot fail for want of it) until the
/// write is over.
struct Undo {
    kept_in: Option<tempfile::TempDir>,
    /// How many files are kept.
    count: std::sync::atomic::AtomicUsize,
    /// Files replaced or removed, with where their old bytes are: moved back.
    kept: std::sync::Mutex<Vec<(PathBuf, PathBuf)>>,
}

/// The prefix of the directories that keep old bytes during a write.
const UNDO_PREFIX: &str = "undo-";

impl Undo {
    /// Starts a write under `dir`: removes what a write that crashed kept, and makes a place
    /// for what this one keeps.
    fn begin(dir: &Path) -> Result<Undo, WriteError> {
        let cache = dir.join(CACHE_DIR);
        std::fs::create_dir_all(&cache).map_err(io(&cache))?;
        if let Ok(entries) = std::fs::read_dir(&cache) {
            for entry in entries.flatten() {
                let stale = entry.file_name().to_string_lossy().starts_with(UNDO_PREFIX)
                    && entry.file_type().is_ok_and(|t| t.is_dir());
                if stale {
                    // Does not follow links (std's remove_dir_all).
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let kept_in = tempfile::Builder::new()
            .prefix(UNDO_PREFIX)
            .tempdir_in(&cache)
            .map_err(io(&cache))?;
        Ok(Undo {
            kept_in: Some(kept_in),
            count: std::sync::atomic::AtomicUsize::new(0),
            kept: std::sync::Mutex::default(),
        })
    }

    /// Where a file being written for `path` waits: the undo directory.
    fn aside<'p>(&'p self, path: &'p Path) -> &'p Path {
        match &self.kept_in {
            Some(kept_in) => kept_in.path(),
            None => path.parent().unwrap_or(path),
        }
    }

    /// Keeps the bytes of `path` aside before it is replaced (`linked`: it stays where it is
    /// too) or removed.
    fn keep(&self, path: &Path, linked: bool) -> Result<(), WriteError> {
        let n = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(kept_in) = &self.kept_in else {
            return Ok(());
        };
        let aside = kept_in.path().join(n.to_string());
        let moved = if linked {
            // A second name costs no data blocks; a file system without links gets a rename.
            std::fs::hard_link(path, &aside).or_else(|_| std::fs::rename(path, &aside))
        } else {
            std::fs::rename(path, &aside)
        };
        moved.map_err(io(path))?;
        if let Ok(mut kept) = self.kept.lock() {
            kept.push((path.to_path_buf(), aside));
        }
        Ok(())
    }

    /// Puts everything back under `dir`: the old files where they were, no new file (those
    /// that `parts` created), no new directory.
    fn roll_back(mut self, dir: &Path, parts: &[Part]) {
        for (path, aside) in self.kept.get_mut().map(std::mem::take).unwrap_or_default() {
            let _ = std::fs::rename(&aside, &path);
        }
        for part in parts {
            part.paths.for_each(|rel, done| {
                if done == Done::Created as u64 {
                    let _ = std::fs::remove_file(dir.join(rel));
                }
            });
        }
        // Sorted paths put a parent before its children: the deepest go first.
        let mut dirs: Vec<String> = parts.iter().flat_map(|p| p.dirs.strings()).collect();
        dirs.sort();
        dirs.dedup();
        for d in dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir.join(d));
        }
    }

    /// The write went through: the old bytes go.
    fn forget(mut self) {
        if let Some(kept_in) = self.kept_in.take() {
            let _ = kept_in.close();
        }
    }
}

/// The directories above `leaves` (and they) that do not exist under `dir`, parents first.
/// Each is looked at once.
fn missing_dirs(dir: &Path, leaves: &[&str]) -> Vec<String> {
    let mut missing = BTreeSet::new();
    let mut present = BTreeSet::new();
    for leaf in leaves {
        let mut end = 0;
        loop {
            let next = leaf[end..].find('/').map(|i| end + i);
            let prefix = &leaf[..next.unwrap_or(leaf.len())];
            if missing.contains(prefix) || present.contains(prefix) {
                // Looked at already.
            } else if std::fs::symlink_metadata(dir.join(prefix)).is_err() {
                missing.insert(prefix);
            } else {
                present.insert(prefix);
            }
            match next {
                Some(i) => end = i + 1,
                None => break,
            }
        }
    }
    // Sorted paths put a parent before its children.
    missing.into_iter().map(str::to_string).collect()
}

/// Writes one file as planned, keeping the bytes it replaces in `undo`.
fn write_file(path: &Path, bytes: &[u8], plan: &Plan, undo: &Undo) -> Result<Done, WriteError> {
    match plan {
        Plan::Unchanged => Ok(Done::Found),
        Plan::Replace => {
            // Written aside and renamed over the target, so a reader never sees half a file;
            // aside in the undo directory, so a crash leaves no stray file in the output (the
            // next write clears it).
            let aside = undo.aside(path);
            let mut tmp = tempfile::NamedTempFile::new_in(aside).map_err(io(aside))?;
            tmp.as_file_mut().write_all(bytes).map_err(io(path))?;
            undo.keep(path, true)?;
            tmp.persist(path).map_err(|e| WriteError::Io {
                path: path.to_path_buf(),
                source: e.error,
            })?;
            Ok(Done::Replaced)
        }
        // A new file: nothing to protect, so one write. One that fails half written goes:
        // the part that failed is not recorded for a roll back.
        Plan::New => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(io(path))?;
            file.write_all(bytes).map_err(|e| {
                drop(file);
                let _ = std::fs::remove_file(path);
                io(path)(e)
            })?;
            Ok(Done::Created)
        }
    }
}

/// The files a write removes and leaves.
#[derive(Default)]
struct Stale {
    /// Recorded, in the layout, and as strata wrote them.
    remove: Vec<String>,
    /// Left where they are, with why.
    left: Vec<Left>,
    /// Recorded, but gone or no longer as strata wrote them: out of the record.
    forget: Vec<String>,
}

/// Whether `path` is under one of `roots` (a directory ending in '/', or one file).
fn is_owned(path: &str, roots: &[&str]) -> bool {
    roots
        .iter()
        .any(|r| r.is_empty() || (r.ends_with('/') && path.starts_with(r)) || path == *r)
}

/// Decides which files under the `owned` paths of `dir` that the write did not produce are
/// removed.
fn stale<'p>(
    dir: &Path,
    produced: &dyn Fn(&str) -> bool,
    owned: &'p [String],
    record: Option<&'p BTreeMap<String, String>>,
    checked: &mut BTreeSet<&'p str>,
) -> Result<Stale, WriteError> {
    // Only roots of the layout's shapes: a cache index may have been planted too.
    let is_root = |r: &str| {
        layout::place(r).is_some()
            || r.strip_suffix('/').is_some_and(|dir| {
                dir.split('/')
                    .all(|s| crate::load::is_dns_label(s) && !layout::is_reserved(s))
            })
    };
    let roots: Vec<&str> = if owned.iter().any(String::is_empty) {
        vec![""]
    } else {
        owned
            .iter()
            .map(String::as_str)
            .filter(|r| is_root(r))
            .collect()
    };
    let mut out = Stale::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    // What the record says strata wrote: removed if it is still as written.
    if let Some(record) = record {
        let candidates: Vec<(&String, &String)> = record
            .iter()
            .filter(|(path, _)| is_owned(path, &roots) && !produced(path))
            .collect();
        for (path, hash) in candidates {
            seen.insert(path.clone());
            check_dirs(dir, std::iter::once(path.as_str()), checked)?;
            let full = dir.join(path);
            match std::fs::symlink_metadata(&full) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.forget.push(path.clone()),
                Err(e) => return Err(io(&full)(e)),
                Ok(m) if !m.file_type().is_file() => {
                    out.forget.push(path.clone());
                    out.left.push(Left {
                        path: path.clone(),
                        why: LeftWhy::NotAFile,
                    });
                }
                Ok(_) => {
                    let bytes = read_no_follow(&full).map_err(io(&full))?;
                    if sha256(&bytes) == *hash {
                        out.remove.push(path.clone());
                    } else {
                        out.forget.push(path.clone());
                        out.left.push(Left {
                            path: path.clone(),
                            why: LeftWhy::Changed,
                        });
                    }
                }
            }
        }
    }
    // Whatever else is there: left, and said.
    for root in roots {
        if !root.is_empty() && !root.ends_with('/') {
            continue;
        }
        let start = dir.join(root);
        match std::fs::symlink_metadata(&start) {
            Ok(m) if m.file_type().is_dir() => {}
            _ => continue,
        }
        for entry in walkdir::WalkDir::new(&start).follow_links(false) {
            let entry = entry.map_err(|e| WriteError::Io {
                path: e.path().unwrap_or(&start).to_path_buf(),
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("walk failed")),
            })?;
            if entry.file_type().is_dir() {
                continue;
            }
            let Some(rel) = crate::world::relative_slash(entry.path(), dir) else {
                continue;
            };
            if rel == MARKER || rel.starts_with(CACHE_DIR) || produced(&rel) || seen.contains(&rel)
            {
                continue;
            }
            out.left.push(Left {
                path: rel,
                why: LeftWhy::NotRecorded,
            });
        }
    }
    out.left.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Removes `paths` under `dir`, keeping their bytes in `undo`. Returns how many files went.
fn remove(dir: &Path, paths: &[String], undo: &Undo) -> Result<usize, WriteError> {
    let mut removed = 0;
    for rel in paths {
        let path = dir.join(rel);
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {
                undo.keep(&path, false)?;
                removed += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Ok(removed)
}

/// Removes the directories that the removal of `paths` left empty.
fn prune(dir: &Path, paths: &[String]) {
    let mut dirs = BTreeSet::new();
    for rel in paths {
        let mut parent = rel.rsplit_once('/').map(|(p, _)| p);
        while let Some(p) = parent {
            dirs.insert(p.to_string());
            parent = p.rsplit_once('/').map(|(p, _)| p);
        }
    }
    // Deepest first, so a directory emptied by its children goes too.
    for d in dirs.iter().rev() {
        let path = dir.join(d);
        if std::fs::read_dir(&path).is_ok_and(|mut r| r.next().is_none()) {
            let _ = std::fs::remove_dir(&path);
        }
    }
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

    const X: &str = "dev/c1/app/configmap-x.yaml";
    const Y: &str = "dev/c1/app/configmap-y.yaml";
    const Z: &str = "dev/c2/app/configmap-z.yaml";

    #[test]
    fn writes_only_what_changed_and_removes_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let all = vec![String::new()];
        let s = write_tree(&out, &tree(&[(X, "1"), (Y, "2")]), &all).unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (2, 0, 0));
        let s = write_tree(&out, &tree(&[(X, "1"), (Z, "3")]), &all).unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 1,
                unchanged: 1,
                removed: 1,
                left: vec![],
            }
        );
        assert!(!out.join(Y).exists());
        let back = read_tree(&out).unwrap();
        assert_eq!(back, tree(&[(X, "1"), (Z, "3")]));
    }

    #[test]
    fn refuses_a_directory_it_did_not_create() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "precious").unwrap();
        let e = write_tree(dir.path(), &tree(&[(X, "1")]), &[String::new()]).unwrap_err();
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
        write_tree(&out, &tree(&[(X, "1"), (Z, "2")]), &[String::new()]).unwrap();
        let s = write_tree(&out, &tree(&[]), &["dev/c1/".to_string()]).unwrap();
        assert_eq!(s.removed, 1);
        assert!(out.join(Z).exists());
    }

    #[test]
    fn a_removed_file_takes_the_directories_it_leaves_empty() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let all = vec![String::new()];
        write_tree(&out, &tree(&[(X, "1"), (Z, "2")]), &all).unwrap();
        // c1 is gone: its file is owned by path, as a cached render lists it.
        let s = write_tree(
            &out,
            &tree(&[(Z, "2")]),
            &[X.to_string(), "dev/c2/".to_string()],
        )
        .unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (0, 1, 1));
        assert!(!out.join("dev/c1").exists(), "empty directories are left");
        assert!(out.join(Z).is_file());
        assert!(out.join(MARKER).is_file());
    }

    /// A directory that looks like strata's: a marker and a record written by someone else.
    fn planted(record: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), "").unwrap();
        std::fs::create_dir_all(dir.path().join(CACHE_DIR)).unwrap();
        std::fs::write(dir.path().join(CACHE_DIR).join(RECORD), record).unwrap();
        dir
    }

    #[test]
    fn a_planted_record_deletes_only_files_of_the_layout_with_the_recorded_bytes() {
        let mine = "dev/c1/app/configmap-mine.yaml";
        let known = "dev/c1/app/configmap-known.yaml";
        let record = format!(
            "{RECORD_HEADER}\n{} {mine}\n{} {known}\n{} notes.txt\n{} ../outside.yaml\n",
            sha256(b"what the planter guessed"),
            sha256(b"known bytes"),
            sha256(b"notes"),
            sha256(b"outside"),
        );
        let dir = planted(&record);
        let out = dir.path();
        for (path, bytes) in [
            (mine, "my work"),
            (known, "known bytes"),
            ("notes.txt", "notes"),
        ] {
            std::fs::create_dir_all(out.join(path).parent().unwrap()).unwrap();
            std::fs::write(out.join(path), bytes).unwrap();
        }
        std::fs::write(dir.path().parent().unwrap().join("outside.yaml"), "outside").ok();
        let s = write_tree(out, &tree(&[]), &[String::new()]).unwrap();
        assert_eq!(s.removed, 1, "only the file whose bytes the record knew");
        assert!(!out.join(known).exists());
        assert_eq!(std::fs::read_to_string(out.join(mine)).unwrap(), "my work");
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "notes"
        );
        let left: Vec<(&str, LeftWhy)> = s.left.iter().map(|l| (l.path.as_str(), l.why)).collect();
        assert_eq!(
            left,
            [
                (mine, LeftWhy::Changed),
                ("notes.txt", LeftWhy::NotRecorded)
            ]
        );
    }

    #[test]
    fn without_a_record_nothing_is_removed_and_what_is_left_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_tree(&out, &tree(&[(X, "1"), (Y, "2")]), &[String::new()]).unwrap();
        std::fs::remove_file(out.join(CACHE_DIR).join(RECORD)).unwrap();
        let s = write_tree(&out, &tree(&[(X, "1")]), &[String::new()]).unwrap();
        assert_eq!(s.removed, 0);
        assert!(out.join(Y).is_file());
        assert_eq!(
            s.left,
            [Left {
                path: Y.into(),
                why: LeftWhy::NotRecorded
            }]
        );
        // The record is back, with what this write wrote.
        assert_eq!(read_record(&out).unwrap().keys().collect::<Vec<_>>(), [X]);
    }

    /// Every file under `dir` but the marker, relative to it.
    fn files_in(dir: &Path) -> Vec<String> {
        let mut files: Vec<String> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| !e.file_type().is_dir())
            .filter_map(|e| crate::world::relative_slash(e.path(), dir))
            .filter(|rel| rel != MARKER)
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_fresh_write_whose_second_part_fails_half_way_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let claimed = claim(&out).unwrap();
        let writing = claimed.begin().unwrap();
        writing.write(&tree(&[(X, "1"), (Z, "3")]), Threads::All, None);
        // A file where the first part made a directory: its new files beside it, one in a
        // directory of its own, are created before the part fails.
        writing.write(
            &tree(&[
                ("dev/c1/app", "dir"),
                (Y, "2"),
                ("dev/c3/app/configmap-w.yaml", "4"),
            ]),
            Threads::All,
            None,
        );
        let e = writing.finish(&[String::new()]).unwrap_err();
        assert!(e.to_string().contains("dev/c1/app"), "{e}");
        assert_eq!(files_in(&out), Vec::<String>::new());
        assert!(!out.join("dev").exists(), "the directories it made go too");
    }

    #[test]
    fn an_abandoned_fresh_write_removes_every_file_of_every_part() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let claimed = claim(&out).unwrap();
        let writing = claimed.begin().unwrap();
        writing.write(&tree(&[(Z, "3")]), Threads::All, None);
        writing.write(&tree(&[(X, "1"), (Y, "2")]), Threads::All, None);
        assert_eq!(files_in(&out), [X, Y, Z]);
        writing.abandon();
        assert_eq!(files_in(&out), Vec::<String>::new());
        assert!(!out.join(MARKER).exists());
    }

    #[test]
    fn the_record_of_parts_written_out_of_order_and_one_handed_over_twice_is_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_tree(&out, &tree(&[(Y, "2")]), &[String::new()]).unwrap();
        let claimed = claim(&out).unwrap();
        let writing = claimed.begin().unwrap();
        writing.write(&tree(&[(Z, "3")]), Threads::All, None);
        writing.write(&tree(&[(X, "1"), (Y, "2")]), Threads::All, None);
        // A compile that ran again over a cache the disk did not bear out: the same bytes.
        writing.write(&tree(&[(Z, "3")]), Threads::All, None);
        let s = writing.finish(&[String::new()]).unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (2, 1, 0));
        let record = std::fs::read_to_string(out.join(CACHE_DIR).join(RECORD)).unwrap();
        assert_eq!(
            record,
            format!(
                "{RECORD_HEADER}\n{} {X}\n{} {Y}\n{} {Z}\n",
                sha256(b"1"),
                sha256(b"2"),
                sha256(b"3")
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_the_output_stops_the_write_before_anything_is_written() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("configmap-x.yaml"), "precious").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_tree(&out, &tree(&[(Z, "2")]), &[String::new()]).unwrap();
        // A directory and a file of the layout, each a link out.
        std::fs::create_dir_all(out.join("dev/c1")).unwrap();
        std::os::unix::fs::symlink(outside.path(), out.join("dev/c1/app")).unwrap();
        let e = write_tree(&out, &tree(&[(Z, "3"), (X, "1")]), &[String::new()]).unwrap_err();
        assert!(
            e.to_string().contains("dev/c1/app is a symbolic link"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join(Z)).unwrap(),
            "2",
            "nothing written"
        );
        assert_eq!(
            std::fs::read_to_string(outside.path().join("configmap-x.yaml")).unwrap(),
            "precious"
        );
        std::fs::remove_file(out.join("dev/c1/app")).unwrap();
        std::fs::create_dir_all(out.join("dev/c1/app")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("configmap-x.yaml"), out.join(X)).unwrap();
        let e = write_tree(&out, &tree(&[(X, "1")]), &[String::new()]).unwrap_err();
        assert!(e.to_string().contains(X), "{e}");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("configmap-x.yaml")).unwrap(),
            "precious"
        );
    }

    /// Writes `parts` in turn, each on the calling thread alone, as a render of many clusters
    /// hands them over, and finishes the write.
    fn write_parts_on_this_thread(
        out: &Path,
        parts: &[OutputTree],
    ) -> Result<WriteStats, WriteError> {
        let claimed = claim(out)?;
        let writing = claimed.begin()?;
        for part in parts {
            writing.write(part, Threads::This, None);
        }
        writing.finish(&[String::new()])
    }

    #[test]
    fn a_part_written_on_one_thread_writes_what_a_parallel_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let (one, all) = (dir.path().join("one"), dir.path().join("all"));
        let parts = [tree(&[(X, "1"), (Y, "2")]), tree(&[(Z, "3")])];
        let s = write_parts_on_this_thread(&one, &parts).unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (3, 0, 0));
        write_tree(
            &all,
            &tree(&[(X, "1"), (Y, "2"), (Z, "3")]),
            &[String::new()],
        )
        .unwrap();
        assert_eq!(read_tree(&one).unwrap(), read_tree(&all).unwrap());
        assert_eq!(read_record(&one), read_record(&all));
        // Again over its own output: nothing to write, nothing to remove.
        let s = write_parts_on_this_thread(&one, &parts).unwrap();
        assert_eq!((s.written, s.unchanged, s.removed), (0, 3, 0));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_stops_a_part_written_on_one_thread_and_the_parts_before_it_are_undone() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("configmap-x.yaml"), "precious").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_tree(&out, &tree(&[(Z, "2")]), &[String::new()]).unwrap();
        let before = read_tree(&out).unwrap();
        std::fs::create_dir_all(out.join("dev/c1")).unwrap();
        std::os::unix::fs::symlink(outside.path(), out.join("dev/c1/app")).unwrap();
        // The first part changes Z and adds a cluster; the second goes through the link.
        let e = write_parts_on_this_thread(
            &out,
            &[
                tree(&[(Z, "3"), ("dev/c3/app/configmap-w.yaml", "4")]),
                tree(&[(X, "1"), (Y, "2")]),
            ],
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("dev/c1/app is a symbolic link"),
            "{e}"
        );
        std::fs::remove_file(out.join("dev/c1/app")).unwrap();
        assert_eq!(
            read_tree(&out).unwrap(),
            before,
            "the first part is undone, the second never written"
        );
        assert!(
            !out.join("dev/c3").exists(),
            "no directory of the undone part"
        );
        assert_eq!(
            std::fs::read_to_string(outside.path().join("configmap-x.yaml")).unwrap(),
            "precious"
        );
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            1,
            "nothing written through the link"
        );
    }
}
