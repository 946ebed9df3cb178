//! The render cache on disk, in `.strata-cache/` of the output directory: the index of what
//! each cluster was made from and made ([`Cache`]), and the record of the last render that
//! printed nothing but its summary ([`LastRender`]). Whatever is there may have been planted by a
//! hostile repository: it is read without following links, and an entry that does not hold up
//! only makes a render do more work.
//!
//! A file of the store is rewritten in place and marked [`Unfinished`] until it is whole: a
//! render that stops half way leaves a file that the next render ignores.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Cache, CachedCluster, SourceDigest};
use crate::emit::{OutputTree, layout};
use crate::object::RenderedObject;
use crate::output::{CACHE_DIR, no_follow, read_no_follow};
use crate::packed::{Merge, Packed};

/// The index of the cache, in the cache directory.
const INDEX: &str = "index.json";

/// How many output files the cache check looks at on its own thread, not on the rayon pool.
const ALONE_UP_TO: usize = 4096;

/// The render cache of one output directory.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    /// The output directory.
    out: PathBuf,
    /// Its cache directory.
    dir: PathBuf,
}

/// What a render counted, as the record of the last render keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) clusters: usize,
    pub(crate) objects: usize,
    pub(crate) files: usize,
}

/// What the record of a render holds: `tree` the files it wrote or found unchanged (every
/// environment's Argo CD objects among them), `cache` the files of every cluster, skipped
/// ones included.
pub(crate) struct Record<'a> {
    pub(crate) build: &'a str,
    pub(crate) source: &'a SourceDigest,
    pub(crate) counts: Counts,
    pub(crate) tree: &'a OutputTree,
    pub(crate) cache: &'a Cache,
}

impl Store {
    /// The store of the output directory `out`.
    pub(crate) fn new(out: &Path) -> Store {
        Store {
            out: out.to_path_buf(),
            dir: out.join(CACHE_DIR.trim_end_matches('/')),
        }
    }

    /// The cache directory, for messages.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache as the last render left it.
    pub(crate) fn read_index(&self) -> Option<Cache> {
        let bytes = read_no_follow(&self.dir.join(INDEX)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes `cache` as the index, [`Unfinished`] until it is finished. Streamed through a
    /// buffer, so that a render does not build the whole text in memory first.
    pub(crate) fn write_index(&self, cache: &Cache) -> std::io::Result<Unfinished> {
        Unfinished::write(&self.dir, INDEX, |w| {
            serde_json::to_writer(w, cache).map_err(std::io::Error::other)
        })
    }

    /// The clusters of `cache` whose files on disk no longer match it.
    pub(crate) fn clusters_gone(&self, cache: &Cache) -> Vec<String> {
        use rayon::prelude::*;
        let gone = |(_, c): &(&String, &Arc<CachedCluster>)| {
            let mut check = DiskCheck::new(&self.out);
            let mut files = c.files.cursor();
            while let Some((path, len)) = files.next() {
                if !check.on_disk(path, len) {
                    return true;
                }
            }
            false
        };
        // A few thousand files are checked on the cache's thread alone, beside the compile: on
        // the rayon pool they would hold up the load and the merge. More are worth the pool.
        let files: usize = cache.clusters.values().map(|c| c.files.len()).sum();
        if files <= ALONE_UP_TO {
            cache
                .clusters
                .iter()
                .filter(gone)
                .map(|(n, _)| n.clone())
                .collect()
        } else {
            cache
                .clusters
                .par_iter()
                .filter(gone)
                .map(|(n, _)| n.clone())
                .collect()
        }
    }

    /// The rendered objects of a cluster of `cache`, read back from the files it wrote:
    /// needed only when the environment-leak rule must look at a cluster it did not render.
    pub(crate) fn objects(&self, cache: &Cache, cluster: &str) -> Option<Vec<RenderedObject>> {
        read_objects(&self.out, cache, cluster)
    }

    /// What the record of the last render, by strata `build`, tells a render of `source`.
    pub(crate) fn last_render(&self, build: &str, source: &SourceDigest) -> Option<LastRender> {
        last_render(&self.out, &self.dir, build, source)
    }

    /// Marks the record of the last render unfinished: the output is about to change, and
    /// until this render ends well no record says it is current. Finishing what it returns
    /// marks the record whole again, for a render that put the output back as it was.
    pub(crate) fn forget_last_render(&self) -> Option<Unfinished> {
        // A failure leaves a record that the source digest still guards.
        unfinish(&self.dir, LAST_RENDER).ok().flatten()
    }

    /// Writes the record of this render, [`Unfinished`] until it is finished.
    pub(crate) fn record_last_render(&self, record: &Record<'_>) -> std::io::Result<Unfinished> {
        record_last_render(&self.dir, record)
    }

    /// What `helm version` said when the helm on `PATH` was the file `helm`
    /// ([`super::helm_file`]), as an earlier render recorded it.
    pub(crate) fn helm_version(&self, helm: &str) -> Option<String> {
        let text = String::from_utf8(read_no_follow(&self.dir.join(HELM)).ok()?).ok()?;
        let (file, version) = text.strip_prefix(HELM_HEADER)?.split_once('\n')?;
        (file == helm).then(|| version.to_string())
    }

    /// Records what `helm version` said when the helm on `PATH` was the file `helm`.
    pub(crate) fn record_helm_version(&self, helm: &str, version: &str) -> std::io::Result<()> {
        // A path with a line break in it is recorded, and matches nothing when read.
        Unfinished::write(&self.dir, HELM, |w| {
            write!(w, "{HELM_HEADER}{helm}\n{version}")
        })
        .and_then(Unfinished::finish)
    }
}

/// The record of what the helm on `PATH` said its version was, in the cache directory.
const HELM: &str = "helm";
const HELM_HEADER: &str = "strata helm 1\n";

/// The rendered objects of an unchanged cluster, read back from the files it wrote: needed only
/// when the environment-leak rule must look at them again.
fn read_objects(out: &Path, cache: &Cache, cluster: &str) -> Option<Vec<RenderedObject>> {
    let record = cache.clusters.get(cluster)?;
    let mut objects = Vec::new();
    for path in record.files.paths() {
        let Some(layout::Place::Object { component, .. }) = layout::place(&path) else {
            continue;
        };
        let bytes = read_no_follow(&out.join(&path)).ok()?;
        let object: serde_json::Value = yaml_serde::from_slice(&bytes).ok()?;
        objects.push(RenderedObject {
            environment: record.environment.clone(),
            cluster: cluster.to_string(),
            component: component.to_string(),
            file: path.clone(),
            object,
        });
    }
    Some(objects)
}

/// The record, in the cache directory, of the last full render that printed nothing but its
/// summary: the digest of the source it was made from, its counts, the hash of every source
/// file it read, and the size of every file it left (each cluster's and each environment's).
pub(crate) const LAST_RENDER: &str = "last-render";
const LAST_RENDER_HEADER: &str = "strata last-render 2";

/// What the record of the last render tells this one.
pub(crate) enum LastRender {
    /// The source is the same (its digest covers this strata) and every file the last render
    /// left is still on disk with its size: there is nothing to do, and nothing to parse.
    Unchanged(Counts),
    /// The hashes ([`SourceDigest::files`]) of the source files the last render read and
    /// rendered without a word: the load need not check them against strata's own schemas.
    Vouched(BTreeSet<String>),
}

/// What the record of the last render, by strata `build`, tells a render of `source`.
fn last_render(out: &Path, dir: &Path, build: &str, source: &SourceDigest) -> Option<LastRender> {
    use rayon::prelude::*;
    let text = String::from_utf8(read_no_follow(&dir.join(LAST_RENDER)).ok()?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != LAST_RENDER_HEADER {
        return None;
    }
    let mut field =
        |name: &str| -> Option<&str> { lines.next()?.strip_prefix(name)?.strip_prefix(' ') };
    if field("renderer")? != build {
        return None;
    }
    let same = field("source")? == source.whole;
    let clusters = field("clusters")?.parse().ok()?;
    let objects = field("objects")?.parse().ok()?;
    let files = field("files")?.parse().ok()?;
    let read: usize = field("read")?.parse().ok()?;
    let vouched: Vec<&str> = lines.by_ref().take(read).collect();
    if same {
        let recorded: Vec<(u64, &str)> = lines
            .map(|line| {
                let (len, path) = line.split_once(' ')?;
                Some((len.parse().ok()?, path))
            })
            .collect::<Option<_>>()?;
        let all_there = recorded
            .par_iter()
            .map_init(
                || DiskCheck::new(out),
                |check, (len, path)| check.on_disk(path, *len),
            )
            .all(|there| there);
        if all_there {
            return Some(LastRender::Unchanged(Counts {
                clusters,
                objects,
                files,
            }));
        }
    }
    Some(LastRender::Vouched(
        vouched.into_iter().map(str::to_string).collect(),
    ))
}

/// Records a render in `dir`, [`Unfinished`] until it is finished.
fn record_last_render(dir: &Path, r: &Record<'_>) -> std::io::Result<Unfinished> {
    let Record {
        build,
        source,
        counts,
        tree,
        cache,
    } = r;
    // Every cluster's files and the tree's, in path order: merged as they are, not gathered
    // in a map of the whole fleet's paths.
    let tree = Packed::from_iter(
        tree.files
            .iter()
            .map(|(path, bytes)| (path.as_str(), bytes.len() as u64)),
    );
    let lists = cache.clusters.values().map(|c| c.files.packed());
    Unfinished::write(dir, LAST_RENDER, |w| {
        write!(
            w,
            "{LAST_RENDER_HEADER}\nrenderer {build}\nsource {}\nclusters {}\nobjects {}\nfiles {}\nread {}\n",
            source.whole,
            counts.clusters,
            counts.objects,
            counts.files,
            source.files.len()
        )?;
        for digest in source.files.values() {
            writeln!(w, "{digest}")?;
        }
        // A path listed twice is written once, with the length of the last list that has it:
        // the tree's.
        let mut files = Merge::new(lists.chain([&tree]));
        let mut held: Option<u64> = None;
        let mut held_path = String::new();
        while let Some((path, len, ..)) = files.next() {
            match held {
                Some(_) if held_path == path => {}
                Some(held_len) => {
                    writeln!(w, "{held_len} {held_path}")?;
                    held_path.clear();
                    held_path.push_str(path);
                }
                None => held_path.push_str(path),
            }
            held = Some(len);
        }
        if let Some(len) = held {
            writeln!(w, "{len} {held_path}")?;
        }
        Ok(())
    })
}

/// Looks at the files a render wrote under `out`, to see that each is still there: a file of
/// the size recorded. Files are looked at from their directory, kept open while the next file
/// is in it too: the kernel then walks one name per file, not the whole path.
struct DiskCheck<'a> {
    out: &'a Path,
    #[cfg(unix)]
    dir: Option<(String, rustix::fd::OwnedFd)>,
}

impl<'a> DiskCheck<'a> {
    fn new(out: &'a Path) -> DiskCheck<'a> {
        DiskCheck {
            out,
            #[cfg(unix)]
            dir: None,
        }
    }

    /// Whether `path` (relative to the output directory, `/`-separated) is a file of `len`
    /// bytes. Symbolic links are followed, as a reader of the file would.
    #[cfg(unix)]
    fn on_disk(&mut self, path: &str, len: u64) -> bool {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let open = match &self.dir {
            Some((open, _)) => open != parent,
            None => true,
        };
        if open {
            self.dir = None;
            // A handle for lookups only, where the system has one.
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            match rustix::fs::open(self.out.join(parent), flags, Mode::empty()) {
                Ok(fd) => self.dir = Some((parent.to_string(), fd)),
                Err(_) => return false,
            }
        }
        let Some((_, dir)) = &self.dir else {
            return false;
        };
        rustix::fs::statat(dir, name, AtFlags::empty()).is_ok_and(|st| {
            FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
                && u64::try_from(st.st_size).is_ok_and(|size| size == len)
        })
    }

    #[cfg(not(unix))]
    fn on_disk(&mut self, path: &str, len: u64) -> bool {
        std::fs::metadata(self.out.join(path)).is_ok_and(|m| m.is_file() && m.len() == len)
    }
}

/// The first byte of a cache file that is being written: the index no longer parses as JSON
/// and the record's header no longer matches, so no render takes the file for a cache.
const UNFINISHED: u8 = b'#';

/// A file of the cache directory, rewritten in place and marked [`UNFINISHED`] until
/// [`Unfinished::finish`] writes its first byte: a render that stops half way, killed or out
/// of disk, leaves a file that the next render ignores, which makes that render a full one.
///
/// In place, not written beside and renamed over it: on ext4 a new file and the freeing of the
/// old one cost a one-value change more than writing the file does. Like the output files, the
/// cache is not synced to disk.
pub(crate) struct Unfinished {
    file: std::fs::File,
    first: Option<u8>,
}

impl Unfinished {
    /// Writes the file `name` of the cache directory through a buffer. Streaming it keeps a
    /// render from building the whole text in memory first: the fresh memory that the growing
    /// text takes costs more than writing it.
    fn write(
        dir: &Path,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> std::io::Result<Unfinished> {
        use std::io::{Seek as _, Write as _};
        std::fs::create_dir_all(dir)?;
        let file = no_follow(
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(dir.join(name))?;
        // The mark goes on before anything else changes.
        let mut start = &file;
        start.write_all(&[UNFINISHED])?;
        start.rewind()?;
        let (first, len) = {
            // The mark is put in below the buffer: it sees a few large writes, not every
            // small one of the serializer.
            let mut buffered = std::io::BufWriter::with_capacity(
                64 * 1024,
                HoldFirstByte {
                    to: &file,
                    first: None,
                    len: 0,
                },
            );
            write(&mut buffered)?;
            let marked = buffered.into_inner().map_err(|e| e.into_error())?;
            (marked.first, marked.len)
        };
        file.set_len(len)?;
        Ok(Unfinished { file, first })
    }

    /// Puts the first byte in place: the file is whole, and the next render may read it.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        use std::io::{Seek as _, Write as _};
        match self.first {
            Some(first) => {
                self.file.rewind()?;
                self.file.write_all(&[first])
            }
            None => Ok(()),
        }
    }
}

/// A writer that puts [`UNFINISHED`] in place of the first byte, and keeps that byte.
struct HoldFirstByte<W> {
    to: W,
    first: Option<u8>,
    len: u64,
}

impl<W: std::io::Write> std::io::Write for HoldFirstByte<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = match (self.first, buf) {
            (None, [first, rest @ ..]) => {
                self.to.write_all(&[UNFINISHED])?;
                self.first = Some(*first);
                1 + self.to.write(rest)?
            }
            _ => self.to.write(buf)?,
        };
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.to.flush()
    }
}

/// Marks the file `name` of the cache directory [`UNFINISHED`], if it is there and not marked
/// already; finishing what it returns puts its first byte back.
fn unfinish(dir: &Path, name: &str) -> std::io::Result<Option<Unfinished>> {
    use std::io::{Read as _, Seek as _, Write as _};
    let mut file =
        match no_follow(std::fs::OpenOptions::new().read(true).write(true)).open(dir.join(name)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
    let mut first = [0u8];
    let was = match file.read(&mut first)? {
        1 if first[0] != UNFINISHED => Some(first[0]),
        _ => None,
    };
    file.rewind()?;
    file.write_all(&[UNFINISHED])?;
    Ok(was.map(|first| Unfinished {
        file,
        first: Some(first),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_file(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).expect("read")
    }

    #[test]
    fn a_look_at_the_output_sees_each_file_as_a_file_of_its_recorded_size() {
        let out = tempfile::tempdir().expect("tempdir");
        let root = out.path();
        std::fs::create_dir_all(root.join("rendered/a")).expect("mkdir");
        std::fs::create_dir_all(root.join("rendered/b/dir")).expect("mkdir");
        std::fs::write(root.join("top.yaml"), "12345").expect("write");
        std::fs::write(root.join("rendered/a/one.yaml"), "1").expect("write");
        std::fs::write(root.join("rendered/a/two.yaml"), "22").expect("write");
        std::fs::write(root.join("rendered/b/three.yaml"), "333").expect("write");
        let mut check = DiskCheck::new(root);
        // In order, as a cluster's files are: the directory kept open serves the next file.
        assert!(check.on_disk("top.yaml", 5));
        assert!(check.on_disk("rendered/a/one.yaml", 1));
        assert!(check.on_disk("rendered/a/two.yaml", 2));
        assert!(!check.on_disk("rendered/a/two.yaml", 3), "another size");
        assert!(!check.on_disk("rendered/a/gone.yaml", 0), "no such file");
        assert!(check.on_disk("rendered/b/three.yaml", 3));
        assert!(
            !check.on_disk("rendered/b/dir", 4096),
            "a directory is not a file"
        );
        assert!(
            !check.on_disk("rendered/c/four.yaml", 4),
            "no such directory"
        );
        // A directory that failed to open is not taken for the one before it.
        assert!(!check.on_disk("rendered/c/one.yaml", 1));
        assert!(
            check.on_disk("rendered/a/one.yaml", 1),
            "back to a directory seen before"
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("one.yaml", root.join("rendered/a/link.yaml"))
                .expect("symlink");
            assert!(
                check.on_disk("rendered/a/link.yaml", 1),
                "a link is followed"
            );
        }
    }

    #[test]
    fn a_cache_file_is_marked_unfinished_until_it_is_finished_and_then_holds_exactly_its_text() {
        let out = tempfile::tempdir().expect("tempdir");
        let long = "x".repeat(200_000);
        Unfinished::write(out.path(), "f", |w| w.write_all(long.as_bytes()))
            .and_then(Unfinished::finish)
            .expect("write");
        assert_eq!(cache_file(out.path(), "f"), long.as_bytes());

        let written = Unfinished::write(out.path(), "f", |w| {
            w.write_all(b"{\"a\":")?;
            w.write_all(b"1}")
        })
        .expect("write");
        assert_eq!(cache_file(out.path(), "f"), b"#\"a\":1}");
        written.finish().expect("finish");
        assert_eq!(cache_file(out.path(), "f"), b"{\"a\":1}");
    }

    #[test]
    fn a_cache_file_whose_writing_failed_stays_marked_unfinished() {
        let out = tempfile::tempdir().expect("tempdir");
        Unfinished::write(out.path(), "f", |w| w.write_all(b"{\"old\":true}"))
            .and_then(Unfinished::finish)
            .expect("write");
        let failed = Unfinished::write(out.path(), "f", |w| {
            w.write_all(b"{\"new\"")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(cache_file(out.path(), "f")[0], UNFINISHED);
    }

    #[test]
    fn unfinish_marks_a_cache_file_and_leaves_a_missing_one_missing() {
        let out = tempfile::tempdir().expect("tempdir");
        assert!(
            unfinish(out.path(), LAST_RENDER)
                .expect("nothing to mark")
                .is_none()
        );
        assert!(!out.path().join(LAST_RENDER).exists());
        Unfinished::write(out.path(), LAST_RENDER, |w| w.write_all(b"strata"))
            .and_then(Unfinished::finish)
            .expect("write");
        let marked = unfinish(out.path(), LAST_RENDER).expect("mark");
        assert_eq!(cache_file(out.path(), LAST_RENDER), b"#trata");
        marked.expect("it was whole").finish().expect("finish");
        assert_eq!(cache_file(out.path(), LAST_RENDER), b"strata");
    }
}
