//! `strata site`: the evidence as static pages, written into a directory of their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::diag::{self, Code, Diagnostic};
use crate::output;
use crate::promote::gates::health::AppStatus;
use crate::site;

use super::open::{self, Context};
use super::report::{Exit, print_diagnostics, print_promotion_error, print_timing};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The local clone of the output repository (as for `strata status`).
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    /// The directory to write the site into: new, empty, or one strata wrote a site into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The approvals of the pending promotions, as for `verify-promotion --approvals`;
    /// without it four-eyes counts only the proposals' Approved-by trailers.
    #[arg(long, value_name = "FILE")]
    approvals: Option<PathBuf>,
    /// A report of `strata drift --format json`, as CLUSTER=FILE (or FILE, named after the
    /// cluster it is for: prod-sto2-workload.json). Repeat it for each cluster.
    #[arg(long, value_name = "[CLUSTER=]FILE")]
    drift: Vec<String>,
    /// Argo CD's Applications, as `kubectl get applications.argoproj.io -n argocd -o yaml`
    /// prints them (`-` for stdin): the overview shows each cluster's sync and health, and the
    /// health gate of the next environment is judged. Repeat it for each Argo CD.
    #[arg(long, value_name = "FILE")]
    argocd_status: Vec<PathBuf>,
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let out_dir =
        match output::output_dir(&context.root, &args.out, output::OutputFrom::CommandLine) {
            Ok(d) => d,
            Err(d) => return Ok(print_diagnostics(&d.into(), &Default::default())),
        };
    let approvals = match &args.approvals {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read --approvals {}\nhint: give the file of `gh api repos/O/R/pulls/N/reviews`, or leave --approvals out",
                path.display()
            )
        })?),
        None => None,
    };
    let drift = if args.drift.is_empty() {
        None
    } else {
        Some(
            args.drift
                .iter()
                .map(|given| read_drift(given))
                .collect::<Result<Vec<_>>>()?,
        )
    };
    let argocd_status = match argocd_status(&args.argocd_status)? {
        Ok(apps) => apps,
        Err(exit) => return Ok(exit),
    };
    let source = open::source_repo(&context.root, None)?;
    let repo = open::output_repo(&args.repo)?;
    let request = site::Request {
        now: context.now,
        approvals,
        drift,
        argocd_status,
        generator: concat!("strata ", env!("CARGO_PKG_VERSION")).to_string(),
    };
    let started = std::time::Instant::now();
    let model = match site::collect(&source, &repo, &request) {
        Ok(m) => m,
        Err(e) => return Ok(print_promotion_error(e)),
    };
    print_timing("read repositories", started.elapsed());
    let started = std::time::Instant::now();
    let files = site::render(&model).map_err(|e| anyhow::anyhow!("{e}"))?;
    print_timing("render pages", started.elapsed());
    let started = std::time::Instant::now();
    let written = site::write::write(&out_dir, &files)
        .map_err(|e| anyhow::anyhow!("{e}\nhint: {}", e.hint()))?;
    print_timing("write", started.elapsed());
    for left in &written.left {
        eprintln!("warning: left {left}");
    }
    println!(
        "wrote the site of {} to {}: {} files ({} written, {} unchanged, {} removed); open {}",
        model.platform,
        args.out.display(),
        files.len(),
        written.written,
        written.unchanged,
        written.removed,
        args.out.join("index.html").display()
    );
    Ok(Exit::Clean)
}

/// The Applications of every `--argocd-status` export, by name; `None` when none is given.
/// An Application in two exports is an error: which one is right cannot be told.
fn argocd_status(
    paths: &[PathBuf],
) -> Result<std::result::Result<Option<BTreeMap<String, AppStatus>>, Exit>> {
    if paths.is_empty() {
        return Ok(Ok(None));
    }
    let mut all: BTreeMap<String, (&Path, AppStatus)> = BTreeMap::new();
    for path in paths {
        let apps = match super::verify::argocd_status(path)? {
            Ok(apps) => apps,
            Err(exit) => return Ok(Err(exit)),
        };
        for (name, app) in apps {
            if let Some((first, _)) = all.get(&name) {
                let d = Diagnostic::error(
                    Code::LiveInput,
                    format!(
                        "--argocd-status: the Application {name} is in both {} and {}",
                        first.display(),
                        path.display()
                    ),
                )
                .hint("give each Argo CD's export once: one file for each environment's Argo CD");
                eprint!("{}", diag::plain(&d));
                return Ok(Err(d.code.exit()));
            }
            all.insert(name, (path, app));
        }
    }
    Ok(Ok(Some(
        all.into_iter()
            .map(|(name, (_, app))| (name, app))
            .collect(),
    )))
}

/// `CLUSTER=FILE` or `FILE`, read and parsed.
fn read_drift(given: &str) -> Result<site::model::ClusterDrift> {
    let (cluster, file) = match given.split_once('=') {
        Some((cluster, file)) if !cluster.is_empty() && !cluster.contains('/') => {
            (cluster.to_string(), file)
        }
        _ => (
            Path::new(given)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            given,
        ),
    };
    let text = std::fs::read_to_string(file).with_context(|| {
        format!("cannot read --drift {file}\nhint: give the file `strata drift --cluster {cluster} --format json` wrote")
    })?;
    site::drift::read(&cluster, &text).map_err(|e| {
        anyhow::anyhow!("--drift {file}: {e}\nhint: write it with `strata drift --cluster {cluster} --live FILE --format json > {file}`")
    })
}
