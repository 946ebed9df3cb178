//! `strata render`, with the render cache kept in the output directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use crate::cache::{Cache, CachedCluster, SourceDigest};
use crate::emit::{self, CACHE_DIR};
use crate::policy::RenderedObject;
use crate::{Incremental, Selection};

use super::progress::ProgressLine;
use super::report::{print_json, print_timing, report, report_failure, reported};
use super::{Context, Exit, Format, open};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Output directory. Default: `output.dir` of strata.yaml, or `rendered`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Render only this environment.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Render only this cluster (by name, e.g. prod-sto2-workload).
    #[arg(long, value_name = "CLUSTER")]
    cluster: Option<String>,
    /// Render only shard I of N (e.g. 2/8): a fixed share of the clusters, by a hash of their
    /// names. Copying the output directories of all N shards together gives exactly the
    /// output of one full render.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Show progress in a log too. A render that takes over a second shows a count and an
    /// ETA on stderr (rendering, then writing): redrawn on a terminal, always; with this
    /// flag, when stderr is not a terminal (a CI log), as a plain line every 2 seconds.
    #[arg(long)]
    progress: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not a shard: write I/N with 1 <= I <= N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Identifies this build of strata: its version and the size and modification time of its own
/// executable, so a rebuilt or replaced strata never trusts a cache an older one wrote. (Hashing
/// the executable itself would cost more than a small render.)
fn renderer_id() -> String {
    let meta = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok());
    match meta {
        Some(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("strata {} {} {mtime}", env!("CARGO_PKG_VERSION"), m.len())
        }
        None => String::new(),
    }
}

fn cache_dir(out: &Path) -> PathBuf {
    out.join(CACHE_DIR.trim_end_matches('/'))
}

/// How many output files the cache check looks at on its own thread, not on the rayon pool.
const ALONE_UP_TO: usize = 4096;

/// The cache of `out`, as the last render left it.
fn read_cache(out: &Path) -> Option<Cache> {
    let bytes = emit::read_no_follow(&cache_dir(out).join("index.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The clusters of `cache` whose files on disk no longer match it.
fn clusters_gone(out: &Path, cache: &Cache) -> Vec<String> {
    use rayon::prelude::*;
    let gone = |(_, c): &(&String, &Arc<CachedCluster>)| {
        let mut look = Look::new(out);
        !c.files
            .iter()
            .all(|(path, record)| look.on_disk(path, record.len))
    };
    // A few thousand files are checked on the cache's thread alone, beside the compile: on the
    // rayon pool they would hold up the load and the merge. More are worth the pool.
    // (Interleaved A/B of a one-value change: alone, 8 clusters took 1 ms less and 100
    // clusters 10 ms more.)
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

/// Compiles the source in `world`, reusing what `cache` gives.
fn compile(
    world: &crate::world::FsWorld,
    selection: &Selection,
    renderer: &str,
    progress: &ProgressLine,
    out: &Path,
    vouched: &(dyn Fn(&str) -> bool + Sync),
    cache: &crate::LoadCache<'_>,
) -> std::result::Result<crate::Compiled, crate::Failure> {
    // The same cache, for as long as this compile borrows it.
    let cache: &crate::LoadCache<'_> = &|| cache();
    let objects =
        |cluster: &str| -> Option<Vec<RenderedObject>> { read_objects(out, cache()?, cluster) };
    let incremental = Incremental {
        progress: Some(progress),
        renderer: renderer.to_string(),
        cache: Some(cache),
        objects: Some(&objects),
        vouched: Some(vouched),
    };
    crate::compile_with(world, selection, &incremental)
}

/// Looks at the files a render wrote under `out`, to see that each is still there: a file of
/// the size recorded. Files are looked at from their directory, kept open while the next file
/// is in it too: the kernel then walks one name per file, not the whole path. (A no-op render
/// at 8 clusters looks at 1,444 files: 7.7 ms by their whole paths, 7.4 ms this way.)
struct Look<'a> {
    out: &'a Path,
    #[cfg(unix)]
    dir: Option<(&'a str, rustix::fd::OwnedFd)>,
}

impl<'a> Look<'a> {
    fn new(out: &'a Path) -> Look<'a> {
        Look {
            out,
            #[cfg(unix)]
            dir: None,
        }
    }

    /// Whether `path` (relative to the output directory, `/`-separated) is a file of `len`
    /// bytes. Symbolic links are followed, as a reader of the file would.
    #[cfg(unix)]
    fn on_disk(&mut self, path: &'a str, len: u64) -> bool {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let open = match &self.dir {
            Some((open, _)) => *open != parent,
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
                Ok(fd) => self.dir = Some((parent, fd)),
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
/// old one took 0.8 ms of a one-value change at 8 clusters (interleaved A/B, 40 runs). Like
/// the output files, the cache is not synced to disk.
struct Unfinished {
    file: std::fs::File,
    first: Option<u8>,
}

impl Unfinished {
    /// Writes the file `name` of the cache directory through a buffer. Streaming it keeps a
    /// render from building the whole text in memory first: at 8 clusters, the fresh memory
    /// that the growing text took cost more than writing it.
    fn write(
        out: &Path,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> std::io::Result<Unfinished> {
        use std::io::{Seek as _, Write as _};
        let dir = cache_dir(out);
        std::fs::create_dir_all(&dir)?;
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
                Marked {
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

    fn finish(mut self) -> std::io::Result<()> {
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
struct Marked<W> {
    to: W,
    first: Option<u8>,
    len: u64,
}

impl<W: std::io::Write> std::io::Write for Marked<W> {
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

/// `options` that do not open a symbolic link: the output directory may hold planted ones.
fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Marks the file `name` of the cache directory [`UNFINISHED`], if it is there.
fn unfinish(out: &Path, name: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    match no_follow(std::fs::OpenOptions::new().write(true)).open(cache_dir(out).join(name)) {
        Ok(mut file) => file.write_all(&[UNFINISHED]),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The rendered objects of an unchanged cluster, read back from the files it wrote: needed only
/// when the environment-leak rule must look at them again.
fn read_objects(out: &Path, cache: &Cache, cluster: &str) -> Option<Vec<RenderedObject>> {
    let record = cache.clusters.get(cluster)?;
    let mut objects = Vec::new();
    for path in &record.files {
        let path = path.0;
        let Some(emit::layout::Place::Object { component, .. }) = emit::layout::place(path) else {
            continue;
        };
        let bytes = emit::read_no_follow(&out.join(path)).ok()?;
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

/// What a render reports on stdout.
struct Summary {
    clusters: usize,
    rendered: usize,
    components_rendered: usize,
    objects: usize,
    files: usize,
    written: usize,
    removed: usize,
    /// Files no longer rendered that strata did not remove.
    left: usize,
}

fn print_summary(format: Format, out_dir: &Path, s: &Summary) -> Result<()> {
    let cached = s.clusters - s.rendered;
    let unchanged = s.files - s.written;
    match format {
        Format::Json => print_json(&serde_json::json!({
            "out": out_dir.display().to_string(),
            "clusters": s.clusters,
            "rendered": s.rendered,
            "cached": cached,
            "components_rendered": s.components_rendered,
            "objects": s.objects,
            "files": s.files,
            "written": s.written,
            "unchanged": unchanged,
            "removed": s.removed,
            "left": s.left,
        }))?,
        Format::Human => println!(
            "rendered {} cluster{}{}, {} objects into {} ({} files: {} written, {} unchanged, {} removed)",
            s.clusters,
            if s.clusters == 1 { "" } else { "s" },
            if cached == 0 {
                String::new()
            } else {
                format!(" ({cached} unchanged since the last render)")
            },
            s.objects,
            out_dir.display(),
            s.files,
            s.written,
            unchanged,
            s.removed
        ),
    }
    Ok(())
}

/// How many left files a warning names; the rest are counted.
const LEFT_SHOWN: usize = 10;

/// Says on stderr which files the render no longer produces but left where they were.
fn report_left(out_dir: &Path, left: &[emit::Left]) {
    if left.is_empty() {
        return;
    }
    eprintln!(
        "warning: left {} file{} in {} that this render no longer produces:",
        left.len(),
        if left.len() == 1 { "" } else { "s" },
        out_dir.display()
    );
    for l in left.iter().take(LEFT_SHOWN) {
        eprintln!("  {} ({})", l.path, l.why.describe());
    }
    if left.len() > LEFT_SHOWN {
        eprintln!("  … and {} more", left.len() - LEFT_SHOWN);
    }
    eprintln!(
        "  = hint: strata removes only files it recorded writing (in {}{}) and that are as it wrote them; remove these by hand if nothing needs them",
        emit::CACHE_DIR,
        emit::RECORD
    );
}

/// The record, in the cache directory, of the last full render that printed nothing but its
/// summary: the digest of the source it was made from, its counts, the hash of every source
/// file it read, and the size of every file it left (each cluster's and each environment's).
const LAST_RENDER: &str = "last-render";
const LAST_RENDER_HEADER: &str = "strata last-render 2";

/// What the record of the last render tells this one.
enum LastRender {
    /// The source is the same (its digest covers this strata) and every file the last render
    /// left is still on disk with its size: there is nothing to do, and nothing to parse.
    Unchanged(Summary),
    /// The hashes ([`SourceDigest::files`]) of the source files the last render read and
    /// rendered without a word: the load need not check them against strata's own schemas.
    Vouched(BTreeSet<String>),
}

fn last_render(out: &Path, renderer: &str, source: &SourceDigest) -> Option<LastRender> {
    use rayon::prelude::*;
    let text =
        String::from_utf8(emit::read_no_follow(&cache_dir(out).join(LAST_RENDER)).ok()?).ok()?;
    let mut lines = text.lines();
    if lines.next()? != LAST_RENDER_HEADER {
        return None;
    }
    let mut field =
        |name: &str| -> Option<&str> { lines.next()?.strip_prefix(name)?.strip_prefix(' ') };
    if field("renderer")? != renderer {
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
                || Look::new(out),
                |look, (len, path)| look.on_disk(path, *len),
            )
            .all(|there| there);
        if all_there {
            return Some(LastRender::Unchanged(Summary {
                clusters,
                rendered: 0,
                components_rendered: 0,
                objects,
                files,
                written: 0,
                removed: 0,
                left: 0,
            }));
        }
    }
    Some(LastRender::Vouched(
        vouched.into_iter().map(str::to_string).collect(),
    ))
}

fn forget_last_render(out: &Path) {
    // A failure leaves a record that the source digest still guards.
    let _ = unfinish(out, LAST_RENDER);
}

/// Records this render, [`Unfinished`] until the files and the cache are written: `tree` holds
/// the files it wrote or found unchanged (every environment's Argo CD objects among them),
/// `cache` the files of every cluster, skipped ones included.
fn record_last_render(
    out: &Path,
    renderer: &str,
    source: &SourceDigest,
    summary: &Summary,
    tree: &emit::OutputTree,
    cache: &Cache,
) -> std::io::Result<Unfinished> {
    let mut files: std::collections::BTreeMap<&str, u64> = cache
        .clusters
        .values()
        .flat_map(|c| c.files.iter().map(|(path, r)| (path.as_str(), r.len)))
        .collect();
    files.extend(
        tree.files
            .iter()
            .map(|(path, bytes)| (path.as_str(), bytes.len() as u64)),
    );
    Unfinished::write(out, LAST_RENDER, |w| {
        write!(
            w,
            "{LAST_RENDER_HEADER}\nrenderer {renderer}\nsource {}\nclusters {}\nobjects {}\nfiles {}\nread {}\n",
            source.whole,
            summary.clusters,
            summary.objects,
            summary.files,
            source.files.len()
        )?;
        for digest in source.files.values() {
            writeln!(w, "{digest}")?;
        }
        for (path, len) in files {
            writeln!(w, "{len} {path}")?;
        }
        Ok(())
    })
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (root, out, progress, format) = (&context.root, args.out, args.progress, args.format);
    let selection = Selection {
        environment: args.env,
        cluster: args.cluster,
        shard: args.shard,
    };
    let opened = std::time::Instant::now();
    let world = match open::world(root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    print_timing("read source", opened.elapsed());
    let partial = selection.is_partial();
    // The output directory may come from strata.yaml; read that file alone.
    // Where strata.yaml says is the repository's word, checked as untrusted input; --out is
    // the user's, and may point outside the repository.
    let out_dir = match &out {
        Some(dir) => match emit::output_dir(root, dir, emit::OutputFrom::CommandLine) {
            Ok(d) => d,
            Err(d) => {
                report(&d.into(), &Default::default());
                return Ok(Exit::Failed);
            }
        },
        None => match crate::load::settings(&world) {
            Ok(s) => {
                match emit::output_dir(root, Path::new(s.output.dir()), emit::OutputFrom::Settings)
                {
                    Ok(d) => d,
                    Err(d) => {
                        use crate::world::World as _;
                        let text =
                            String::from_utf8_lossy(world.read("strata.yaml").unwrap_or_default())
                                .to_string();
                        // At `dir:`, the first one under `output:`.
                        let line = text
                            .lines()
                            .skip_while(|l| !l.starts_with("output:"))
                            .position(|l| l.trim_start().starts_with("dir:"))
                            .and_then(|i| {
                                text.lines()
                                    .position(|l| l.starts_with("output:"))
                                    .map(|o| o + i + 1)
                            })
                            .unwrap_or(1);
                        let column = text
                            .lines()
                            .nth(line - 1)
                            .map_or(1, |l| l.len() - l.trim_start().len() + 1);
                        let d = d.at(crate::diag::Span::new(
                            "strata.yaml",
                            line as u32,
                            column as u32,
                        ));
                        let mut texts = crate::diag::SourceTexts::default();
                        texts.insert("strata.yaml", &text);
                        return Ok(report(&d.into(), &texts));
                    }
                }
            }
            Err(f) => return Ok(report_failure(&f)),
        },
    };
    let renderer = if partial {
        String::new()
    } else {
        renderer_id()
    };
    let started = std::time::Instant::now();
    // A partial render neither uses nor leaves the record, so it needs no digest.
    let source = if partial {
        SourceDigest::default()
    } else {
        crate::cache::source_digest(&renderer, &world)
    };
    let last = (!partial)
        .then(|| last_render(&out_dir, &renderer, &source))
        .flatten();
    print_timing("quick check", started.elapsed());
    let vouched_hashes = match last {
        Some(LastRender::Unchanged(summary)) => {
            print_summary(format, &out_dir, &summary)?;
            return Ok(Exit::Clean);
        }
        Some(LastRender::Vouched(hashes)) => hashes,
        None => BTreeSet::new(),
    };
    let vouched = |path: &str| {
        source
            .files
            .get(path)
            .is_some_and(|h| vouched_hashes.contains(h))
    };
    // The cache is read on a thread of its own while the compile loads, merges and hashes the
    // source, which do not need it. The same thread then looks at every output file the cache
    // lists while the compile goes on, off its path: when some cluster's files are no longer
    // on disk as recorded (deleted, or edited to another size), the render compiles again
    // without that cluster's record, and so renders it. (Checking first, before the cache was
    // used, held up a one-value change at 8 clusters by the time 1,444 stats take.)
    let (send, parsed) = std::sync::mpsc::sync_channel::<Option<Arc<Cache>>>(1);
    let checking = (!partial).then(|| {
        let out = out_dir.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let cache = read_cache(&out).map(Arc::new);
            let read = started.elapsed();
            // The compile may have failed and gone before it asked.
            let _ = send.send(cache.clone());
            let started = std::time::Instant::now();
            let gone = cache.map_or_else(Vec::new, |c| clusters_gone(&out, &c));
            (gone, read, started.elapsed())
        })
    });
    let parsed = std::sync::Mutex::new(parsed);
    let read: std::sync::OnceLock<Option<Arc<Cache>>> = std::sync::OnceLock::new();
    let last_cache = || {
        read.get_or_init(|| parsed.lock().ok()?.recv().ok().flatten())
            .as_deref()
    };
    let bar = ProgressLine::new(progress);
    let compile_from = |cache: &crate::LoadCache<'_>| {
        compile(
            &world, &selection, &renderer, &bar, &out_dir, &vouched, cache,
        )
    };
    let first = compile_from(&last_cache);
    let checked = checking.map(|thread| thread.join());
    if let Some(Ok((_, read, check))) = &checked {
        print_timing("read cache", *read);
        print_timing("check output", *check);
    }
    // The cache as far as the output on disk bears it out.
    let mut kept: Option<Cache> = None;
    let trusted = match checked {
        None => true,
        Some(Ok((gone, ..))) if gone.is_empty() => true,
        Some(Ok((gone, ..))) => {
            kept = last_cache().map(|c| {
                let mut c = c.clone();
                for name in &gone {
                    c.clusters.remove(name);
                }
                c
            });
            false
        }
        // The check did not finish: nothing on disk is known to be as recorded.
        Some(Err(_)) => false,
    };
    let compiled = if trusted {
        first
    } else {
        drop(first);
        compile_from(&|| kept.as_ref())
    };
    // Diagnostics print below the line on a terminal, which then goes on with the writing.
    let compiled = match bar.bar.suspend(|| reported(compiled)) {
        Ok(c) => c,
        Err(exit) => {
            bar.finish();
            return Ok(exit);
        }
    };
    let cache = if trusted { last_cache() } else { kept.as_ref() };

    // What this render may delete: everything for a full render without a cache; otherwise the
    // directories of the clusters it rendered and the files of clusters that are gone.
    let selected = compiled.selected();
    let mut owned: Vec<String> = if partial {
        let mut owned = emit::owned_prefixes(&compiled.source, selected.iter().copied());
        if selection.cluster.is_none() && selection.shard.is_none() {
            owned.extend(selection.environment.iter().map(|e| format!("{e}/")));
        }
        owned
    } else if cache.is_none() {
        vec![String::new()]
    } else {
        compiled.owned.clone()
    };
    if let Some(old) = cache {
        for (name, c) in &old.clusters {
            if !compiled.cache.clusters.contains_key(name) {
                owned.extend(c.files.keys().cloned());
            }
            // An environment with no clusters left goes entirely, its Argo CD objects too.
            if !compiled.all.iter().any(|a| a.environment == c.environment) {
                owned.push(format!("{}/", c.environment));
            }
        }
    }
    // Nothing is written under the output directory, the cache included, until it is known to
    // be strata's.
    let hint = |e: emit::WriteError| {
        anyhow::anyhow!(
            "{e}\nhint: choose an empty directory with --out, or remove the directory if it holds nothing you need"
        )
    };
    let claimed = emit::claim(&out_dir).map_err(hint)?;
    // The output is about to change; until this render ends well, no record says it is current.
    forget_last_render(&out_dir);
    let save = !partial && cache != Some(&compiled.cache);
    let reused_files: usize = compiled
        .reused
        .iter()
        .filter_map(|n| compiled.cache.clusters.get(n))
        .map(|c| c.files.len())
        .sum();
    let mut summary = Summary {
        clusters: selected.len(),
        rendered: selected.len() - compiled.reused.len(),
        components_rendered: compiled.components_rendered,
        objects: compiled.objects,
        files: compiled.tree.files.len() + reused_files + compiled.kept_files,
        written: 0,
        removed: 0,
        left: 0,
    };
    // The next render with the same source can stop at the quick check, if this one printed
    // nothing but its summary: a render that warned must warn again.
    let record = !partial && compiled.warnings.is_empty();
    let started = std::time::Instant::now();
    // The cache and the record are written while the files are written, and marked finished
    // once they are.
    let (stats, (index, recorded)) = rayon::join(
        || claimed.write_tree(&compiled.tree, &owned, Some(&bar)),
        || {
            let index = save.then(|| {
                Unfinished::write(&out_dir, "index.json", |w| {
                    serde_json::to_writer(w, &compiled.cache).map_err(std::io::Error::other)
                })
            });
            let recorded = record.then(|| {
                record_last_render(
                    &out_dir,
                    &renderer,
                    &source,
                    &summary,
                    &compiled.tree,
                    &compiled.cache,
                )
            });
            (index, recorded)
        },
    );
    bar.finish();
    let stats = stats.map_err(hint)?;
    print_timing("write", started.elapsed());
    let started = std::time::Instant::now();
    let saved = match index {
        None => Ok(()),
        Some(index) => index.and_then(Unfinished::finish),
    };
    print_timing("save cache", started.elapsed());
    if let Err(e) = &saved {
        eprintln!(
            "warning: could not save the render cache in {}: {e}; the next render will be a full one",
            cache_dir(&out_dir).display()
        );
    }
    // A record stands only beside the cache it was made with.
    if let (Ok(()), Some(recorded)) = (&saved, recorded)
        && let Err(e) = recorded.and_then(Unfinished::finish)
    {
        eprintln!(
            "warning: could not save {} in {}: {e}; the next render with no change will take longer",
            LAST_RENDER,
            cache_dir(&out_dir).display()
        );
    }
    summary.written = stats.written;
    summary.removed = stats.removed;
    summary.left = stats.left.len();
    report_left(&out_dir, &stats.left);
    print_summary(format, &out_dir, &summary)?;
    // The process ends here: freeing a thousand clusters' values one by one would only add
    // a quarter of a second.
    std::mem::forget(compiled);
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_file(out: &Path, name: &str) -> Vec<u8> {
        std::fs::read(cache_dir(out).join(name)).expect("read")
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
        let mut look = Look::new(root);
        // In order, as a cluster's files are: the directory kept open serves the next file.
        assert!(look.on_disk("top.yaml", 5));
        assert!(look.on_disk("rendered/a/one.yaml", 1));
        assert!(look.on_disk("rendered/a/two.yaml", 2));
        assert!(!look.on_disk("rendered/a/two.yaml", 3), "another size");
        assert!(!look.on_disk("rendered/a/gone.yaml", 0), "no such file");
        assert!(look.on_disk("rendered/b/three.yaml", 3));
        assert!(
            !look.on_disk("rendered/b/dir", 4096),
            "a directory is not a file"
        );
        assert!(
            !look.on_disk("rendered/c/four.yaml", 4),
            "no such directory"
        );
        // A directory that failed to open is not taken for the one before it.
        assert!(!look.on_disk("rendered/c/one.yaml", 1));
        assert!(
            look.on_disk("rendered/a/one.yaml", 1),
            "back to a directory seen before"
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("one.yaml", root.join("rendered/a/link.yaml"))
                .expect("symlink");
            assert!(
                look.on_disk("rendered/a/link.yaml", 1),
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
        unfinish(out.path(), LAST_RENDER).expect("nothing to mark");
        assert!(!cache_dir(out.path()).join(LAST_RENDER).exists());
        Unfinished::write(out.path(), LAST_RENDER, |w| w.write_all(b"strata"))
            .and_then(Unfinished::finish)
            .expect("write");
        unfinish(out.path(), LAST_RENDER).expect("mark");
        assert_eq!(cache_file(out.path(), LAST_RENDER), b"#trata");
    }
}
