//! `strata render`, with the render cache kept in the output directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cache::SourceDigest;
use crate::cache::store::{Counts, LAST_RENDER, LastRender, Record, Store, Unfinished};
use crate::compile::{Options, Selection, WriteCluster, compile_with_store};
use crate::emit::OutputTree;
use crate::output;

use super::open::{self, Context};
use super::progress::ProgressLine;
use super::report::{
    Exit, Format, print_compile, print_diagnostics, print_failure, print_json, print_timing,
};

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

/// Compiles the source in `world`, reusing what `cache` gives.
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
fn report_left(out_dir: &Path, left: &[output::Left]) {
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
        output::CACHE_DIR,
        output::RECORD
    );
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (root, out, progress, format) = (&context.root, args.out, args.progress, args.format);
    let selection = Selection {
        environment: args.env,
        cluster: args.cluster,
        shard: args.shard,
    };
    let opened = std::time::Instant::now();
    let world = match open::world(context) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    print_timing("read source", opened.elapsed());
    let partial = selection.is_partial();
    // The output directory may come from strata.yaml; read that file alone.
    // Where strata.yaml says is the repository's word, checked as untrusted input; --out is
    // the user's, and may point outside the repository.
    let out_dir = match &out {
        Some(dir) => match output::output_dir(root, dir, output::OutputFrom::CommandLine) {
            Ok(d) => d,
            Err(d) => {
                print_diagnostics(&d.into(), &Default::default());
                return Ok(Exit::Failed);
            }
        },
        None => match output::output_dir_of_settings(root, &world) {
            Ok(d) => d,
            Err(f) => return Ok(print_failure(&f)),
        },
    };
    // One render at a time in an output directory, from the cache's first read to the record's
    // last write: two at once would each trust a cache the other is rewriting.
    let _lock = open::lock(&out_dir, true, "render")?;
    let store = Store::new(&out_dir);
    let helm = (!partial).then(|| helm_version(&world, &store)).flatten();
    let build = if partial {
        String::new()
    } else {
        crate::cache::build_id(helm.as_ref().map(|h| h.version.as_str()))
    };
    let started = std::time::Instant::now();
    // A partial render neither uses nor leaves the record, so it needs no digest.
    let source = if partial {
        SourceDigest::default()
    } else {
        crate::cache::source_digest(&build, &world)
    };
    let last = (!partial)
        .then(|| store.last_render(&build, &source))
        .flatten();
    print_timing("quick check", started.elapsed());
    let vouched_hashes = match last {
        Some(LastRender::Unchanged(counts)) => {
            let summary = Summary {
                clusters: counts.clusters,
                rendered: 0,
                components_rendered: 0,
                objects: counts.objects,
                files: counts.files,
                written: 0,
                removed: 0,
                left: 0,
            };
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
    let bar = ProgressLine::new(progress);
    let hint = |e: output::WriteError| match e {
        output::WriteError::Io { path, source } => anyhow::anyhow!(
            "cannot write {}: {}\nhint: the output directory is as it was before this render; make room (or make it writable) and render again",
            path.display().to_string().trim_end_matches('/'),
            plain_io_error(source)
        ),
        _ => anyhow::anyhow!(
            "{e}\nhint: choose an empty directory with --out, or remove the directory if it holds nothing you need"
        ),
    };
    // Each cluster's files are written as soon as it is checked, and let go: a render's memory
    // then does not grow with the fleet. Nothing is written under the output directory, the
    // cache included, until it is known to be strata's; when it is not, the source is still
    // compiled, so that its errors come first.
    let writing = output::claim(&out_dir).and_then(|c| c.begin());
    // The output is about to change; until this render ends well, no record says it is
    // current.
    let forgotten = writing
        .as_ref()
        .ok()
        .and_then(|_| store.forget_last_render());
    let write = |tree: OutputTree, threads: output::Threads| {
        if let Ok(w) = &writing {
            w.write(&tree, threads, None);
        }
    };
    let options = Options {
        build: build.clone(),
        progress: Some(&bar),
        vouched: Some(&vouched),
        write: writing.is_ok().then_some(&write as &WriteCluster<'_>),
        ..Options::default()
    };
    let (compiled, cache) = compile_with_store(&world, &selection, &store, &options);
    if let Some((read, check)) = cache.read {
        print_timing("read cache", read);
        print_timing("check output", check);
    }
    // Diagnostics print below the line on a terminal, which then goes on with the writing.
    let compiled = match bar.bar.suspend(|| print_compile(compiled)) {
        Ok(c) => c,
        Err(exit) => {
            bar.finish();
            // The output is as it was, and so is the record that says so.
            if let Ok(w) = writing {
                w.abandon();
                if let Some(record) = forgotten {
                    let _ = record.finish();
                }
            }
            return Ok(exit);
        }
    };
    let writing = match writing {
        Ok(w) => w,
        Err(e) => {
            bar.finish();
            return Err(hint(e));
        }
    };

    let selected = compiled.selected();
    let save = !partial && cache.changed;
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
        files: compiled.tree.files.len()
            + compiled.written_files
            + reused_files
            + compiled.kept_files,
        written: 0,
        removed: 0,
        left: 0,
    };
    // The next render with the same source can stop at the quick check, if this one printed
    // nothing but its summary: a render that warned must warn again.
    let record = !partial && compiled.warnings.is_empty();
    let started = std::time::Instant::now();
    // The cache and the record are written while the last files are written and the stale
    // ones removed, and marked finished once they are.
    let (stats, (index, recorded)) = rayon::join(
        || {
            writing.write(&compiled.tree, output::Threads::All, Some(&bar));
            writing.finish(&compiled.owned)
        },
        || {
            let index = save.then(|| store.write_index(&compiled.cache));
            let recorded = record.then(|| {
                store.record_last_render(&Record {
                    build: &build,
                    source: &source,
                    counts: Counts {
                        clusters: summary.clusters,
                        objects: summary.objects,
                        files: summary.files,
                    },
                    tree: &compiled.tree,
                    cache: &compiled.cache,
                })
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
            store.dir().display()
        );
    }
    // Not remembered, the next render asks helm again: one run more, nothing wrong.
    if let Some(HelmVersion {
        file,
        version,
        asked: true,
    }) = &helm
    {
        let _ = store.record_helm_version(file, version);
    }
    // A record stands only beside the cache it was made with.
    if let (Ok(()), Some(recorded)) = (&saved, recorded)
        && let Err(e) = recorded.and_then(Unfinished::finish)
    {
        eprintln!(
            "warning: could not save {} in {}: {e}; the next render with no change will take longer",
            LAST_RENDER,
            store.dir().display()
        );
    }
    summary.written = stats.written;
    summary.removed = stats.removed;
    summary.left = stats.left.len();
    report_left(&out_dir, &stats.left);
    print_summary(format, &out_dir, &summary)?;
    // The process ends here: freeing every cluster's values one by one would only add time.
    std::mem::forget(compiled);
    Ok(Exit::Clean)
}

/// The system's error without a library's wrapping: tempfile adds ` at path "..."` with a name
/// that the message already gives, and that no longer exists.
fn plain_io_error(e: std::io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((plain, _)) => plain.to_string(),
        None => text,
    }
}

/// What `helm version` says, for the render cache's key, and of which helm file.
struct HelmVersion {
    /// The helm on `PATH` ([`crate::cache::helm_file`]).
    file: String,
    version: String,
    /// Asked this render, so to be remembered for the next.
    asked: bool,
}

/// What the helm on `PATH` says its version is, when a component may run helm: remembered from
/// an earlier render into this output while helm is the same file, so that a render with
/// nothing to do starts no helm at all; asked otherwise. A helm that could not say is asked
/// again next time.
fn helm_version(world: &dyn crate::world::World, store: &Store) -> Option<HelmVersion> {
    use crate::render::helm;
    if !helm::uses_helm(world) {
        return None;
    }
    let file = crate::cache::helm_file()?;
    if let Some(version) = store.helm_version(&file) {
        return Some(HelmVersion {
            file,
            version,
            asked: false,
        });
    }
    let (version, asked) = match helm::ask_version()? {
        Ok(version) => (version, true),
        Err(reason) => (reason, false),
    };
    Some(HelmVersion {
        file,
        version,
        asked,
    })
}
