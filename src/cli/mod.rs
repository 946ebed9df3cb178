//! The command line: clap arguments → plain configuration → the library. Nothing below this
//! module knows about clap.
//!
//! This file holds the clap types and the one dispatch. Then one file per command: its
//! arguments (`Args`), the library calls, and what it prints. [`report`] prints diagnostics,
//! JSON and timings and picks exit codes for all of them; [`open`] opens what a command works
//! on (the source tree, the repositories) and says why when it cannot; [`progress`] draws the
//! render's progress line. A command file may use those and the library; `promote` uses
//! `verify` (a promotion is a verification and a merge); no command file uses another, and
//! none uses this file (tests/architecture.rs checks it).

mod audit;
mod check;
mod diff;
mod drift;
mod explain;
mod list;
mod open;
mod policy;
mod progress;
mod promote;
mod protection;
mod publish;
mod render;
mod report;
mod site;
mod status;
mod validate;
mod vendor;
mod verify;

#[doc(hidden)]
pub use diff::diff_report;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use jiff::Timestamp;

use open::Context;
use report::Exit;

#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version,
    about = "A GitOps configuration compiler: layered sources in, rendered manifests and Argo CD Applications out",
    long_about = "strata compiles a layered platform repository (strata.yaml, components/, environments/) into \
fully rendered Kubernetes manifests and the Argo CD objects that deploy them, one file per resource.\n\n\
Exit codes: 0 = success and nothing found; 1 = it ran and found something (invalid input, differences, \
drift, a closed gate); 2 = it could not run (bad arguments, no strata.yaml, I/O or git failure).",
    after_help = "Start with `strata render` in a source repository, then `strata explain CLUSTER COMPONENT.path` to see where a value comes from."
)]
struct Cli {
    /// The source repository root (the directory holding strata.yaml). Default: found upward from the current directory.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,

    /// Replace the clock (RFC 3339, e.g. 2026-12-01T14:00:00+01:00) in every time-dependent command, for tests and reproducible reports.
    #[arg(long, global = true, value_name = "TIME")]
    now: Option<String>,

    /// Run a command source only if strata.yaml at REF allows it too (in pull-request CI:
    /// --allow-from origin/main), so that a change cannot widen what strata runs in the same
    /// change that uses it. `diff` does this with its base by default.
    #[arg(long, global = true, value_name = "REF")]
    allow_from: Option<String>,

    /// Print how long each stage of the compile took, on stderr.
    #[arg(long, global = true)]
    timings: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile the platform, or a part of it, into the output directory.
    ///
    /// Writes one file per resource under `<out>/<environment>/<cluster path>/<component>/` and the
    /// Argo CD objects under `<out>/<environment>/argocd/`. Only changed files are written; files no
    /// longer produced are removed. A failed render leaves the previous output untouched.
    #[command(
        after_help = "Examples:\n  strata render\n  strata render --env non-prod\n  strata render --cluster prod-sto2-workload --out /tmp/out"
    )]
    Render(render::Args),
    /// Check everything a render checks, policies included, and write nothing.
    #[command(
        after_help = "Examples:\n  strata validate\n  strata validate --format json\n  strata validate --format sarif > strata.sarif   # for GitHub code scanning"
    )]
    Validate(validate::Args),
    /// The compliance policies.
    Policy(policy::Args),
    /// Show a merged value and every layer that set it, in order; or a rendered object's field
    /// and every patch that set it.
    #[command(
        after_help = "Examples:\n  strata explain prod-sto2-workload ingress-nginx.controller.replicas\n  strata explain non-prod-osl2-management global.baseDomain\n  strata explain prod-sto2-workload 'ingress-nginx.controller.annotations.\"a.b/c\"'\n  strata explain prod-sto2-management harbor Deployment/harbor-core spec.template.spec.topologySpreadConstraints"
    )]
    Explain(explain::Args),
    /// Vendor a Helm chart into a component and record its version and digest.
    ///
    /// With CHART.tgz (from `helm pull`), unpacks it into the path `source.helm.chart` names,
    /// replacing the chart there. Then, with or without it, writes the chart's version and its
    /// digest into `source.helm` of component.yaml: the deliberate step that makes an edited
    /// vendored chart render again.
    #[command(after_help = "Examples:
  helm pull ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --version 4.11.3
  strata vendor ingress-nginx ingress-nginx-4.11.3.tgz
  strata vendor dex          # after editing components/dex/charts/dex on purpose")]
    Vendor(vendor::Args),
    /// Report render drift: output that differs from a fresh render.
    ///
    /// With --against DIR: the files of a rendered directory that are changed, missing or extra.
    /// With --repo PATH: every env/* branch of the output repository against a re-render of the
    /// drySha its hydrator.metadata records (hand edits, extra and missing files), and the
    /// branches publish writes against the source's HEAD (unpublished source commits).
    #[command(
        after_help = "Examples:\n  strata check --against golden\n  strata check --repo ../platform-rendered\n  strata check --repo ../platform-rendered --env prod --format json"
    )]
    Check(check::Args),
    /// Render two versions of the platform and diff them per resource.
    ///
    /// By default compares the committed HEAD with the working tree, uncommitted and untracked
    /// files included. Refs are read straight from git: no checkout, the working tree is never
    /// touched. Resources are keyed by (environment, cluster, component, group/kind, namespace,
    /// name), so moving a resource between files or reordering keys is not a change. Secret
    /// values are never printed, only their sha256 prefix. Exit 0: no differences; 1: differences.
    #[command(
        after_help = "Examples:\n  strata diff\n  strata diff --base origin/main --format markdown > comment.md\n  strata diff --base v1.4 --head v1.5 --env prod --stat"
    )]
    Diff(diff::Args),
    /// Live drift: compare what strata renders for a cluster with the objects the cluster has.
    ///
    /// Reads the output of `kubectl get -o yaml` or `-o json` (a List, a multi-document stream or
    /// one object) from a file or stdin, or runs kubectl itself with --kubectl. Server fields,
    /// defaults and status are normalized away; a field that desired sets and live differs on is
    /// drift; with a last-applied-configuration, a field removed from desired but still live is
    /// drift (three-way). Also reports missing objects and orphans: live objects labelled
    /// `app.kubernetes.io/managed-by: strata` that strata no longer renders.
    #[command(
        after_help = "Examples:\n  kubectl get deploy,svc,cm -A -l app.kubernetes.io/managed-by=strata -o yaml | strata drift --cluster prod-sto2-workload --live -\n  strata drift --cluster prod-sto2-workload --live live.yaml --format json\n  strata drift --cluster prod-sto2-workload --kubectl --context prod-sto2-workload"
    )]
    Drift(drift::Args),
    /// Commit each environment's rendered tree to its branch of the output repository.
    ///
    /// Renders the committed HEAD of the source repository (never uncommitted files: it warns
    /// when there are some) and writes env/<e>-next for every environment gated under the
    /// promotion policy in force (the one at the drySha env/<e> runs, to which HEAD may only
    /// add), env/<e> for the others. A branch only moves forward: a HEAD that does not contain
    /// the drySha a branch runs is refused (exit 1) unless --rollback gives a reason.
    /// Each commit has a root hydrator.metadata (drySha, repoURL, author, date, subject, body,
    /// renderer, treeDigest, components) and the trailers Dry-sha, Render-digest, Environment and
    /// Co-authored-by. When nothing changed there is no commit; a note on
    /// refs/notes/hydrator.metadata records the drySha. Pushing is left to `git push`.
    #[command(
        after_help = "Examples:\n  strata publish --repo ../platform-rendered\n  strata publish --repo ../platform-rendered --env non-prod\n  git -C ../platform-rendered push origin 'refs/heads/env/*' 'refs/notes/*'"
    )]
    Publish(publish::Args),
    /// Check the gates of promoting env/<ENV>-next into env/<ENV>: history, reproducible, soaked, four eyes, break-glass.
    ///
    /// Exit 0 when every gate is open, 1 when one is closed. Use it as the required check of the
    /// env/<e>-next → env/<e> pull request.
    #[command(
        name = "verify-promotion",
        after_help = "Examples:\n  strata verify-promotion --repo ../platform-rendered --env prod --approvals reviews.json\n  gh api repos/O/R/pulls/42/reviews > reviews.json"
    )]
    VerifyPromotion(verify::Args),
    /// Promote env/<ENV>-next into env/<ENV> with a merge commit, if every gate is open.
    ///
    /// The merge commit records Sha-dry-active, Sha-dry-proposed, Soaked-in, one Approved-by per
    /// approver, Emergency when used and Rollback for a proposal published with --rollback.
    /// env/<ENV>-next moves to the merge too. If a gate is closed it writes nothing and exits 1.
    #[command(
        after_help = "Examples:\n  strata promote --repo ../platform-rendered --to prod --approvals approvals.json\n  strata promote --repo ../platform-rendered --to prod --emergency \"CVE-2026-1234 in ingress-nginx\" --approvals approvals.json"
    )]
    Promote(promote::Args),
    /// The evidence of every change to an environment: when, what, soak, approvers, break-glass.
    ///
    /// Each promotion is checked against what it claims (its parents, the proposal it merges,
    /// its tree and Render-digest); a commit that fails is listed as a direct push, with why.
    #[command(
        after_help = "Examples:\n  strata audit --repo ../platform-rendered --env prod > audit.md\n  strata audit --repo ../platform-rendered --env prod --since 2026-01-01 --format json"
    )]
    Audit(audit::Args),
    /// Component versions per environment and cluster, what waits for promotion, and soak progress.
    ///
    /// Also what is wrong with the history of the env/* branches (moved back, replaced, dates
    /// that cannot be true): exit 1 when there is something, 0 otherwise.
    #[command(after_help = "Examples:\n  strata status --repo ../platform-rendered")]
    Status(status::Args),
    /// Write a static website of the evidence: versions, pending gates, timelines, audit trails, the pending change, checks.
    ///
    /// Reads what `status`, `audit`, `verify-promotion`, `diff` and `validate` read (the source
    /// repository at HEAD and the output repository's env/* branches) and writes self-contained
    /// pages into --out: they open from file:// with no network, and the same repositories and
    /// --now give the same bytes. --out must be new, empty, or a directory strata wrote a site
    /// into (it holds .strata-site); strata removes only pages it wrote there.
    #[command(
        after_help = "Examples:\n  strata site --repo ../platform-rendered --out public\n  strata site --repo ../platform-rendered --out public --approvals reviews.json --drift prod-sto2-workload=drift.json"
    )]
    Site(site::Args),
    /// Print the branch protection to apply to env/* on your forge.
    #[command(
        after_help = "Examples:\n  strata protection --forge github > ruleset.json\n  gh api repos/O/R/rulesets --method POST --input ruleset.json"
    )]
    Protection(protection::Args),
    /// List things strata knows about.
    List(list::Args),
}

/// Parses the command line and runs it: the whole of the `strata` binary but its process setup.
pub fn main() -> ExitCode {
    let code = match dispatch(Cli::parse()) {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Failed
        }
    };
    ExitCode::from(code as u8)
}

fn dispatch(cli: Cli) -> Result<Exit> {
    report::show_timings(cli.timings);
    if let Command::Protection(args) = &cli.command {
        return protection::run(args);
    }
    // verify-promotion and promote run in the output repository's CI, where --source names
    // the source repository; it stands in for --root there.
    let source = match &cli.command {
        Command::VerifyPromotion(verify::Args { gates, .. })
        | Command::Promote(promote::Args { gates, .. }) => gates.source.clone(),
        _ => None,
    };
    let root = open::root(cli.root.as_deref().or(source.as_deref()))?;
    let trusted = match &cli.allow_from {
        Some(rev) => Some(open::trusted_commands(&root, rev)?),
        None => None,
    };
    let context = Context {
        root,
        now: now(cli.now.as_deref())?,
        trusted,
    };
    match cli.command {
        Command::Render(args) => render::run(args, &context),
        Command::Validate(args) => validate::run(args, &context),
        Command::Policy(args) => policy::run(args, &context),
        Command::Explain(args) => explain::run(args, &context),
        Command::Vendor(args) => vendor::run(args, &context),
        Command::Check(args) => check::run(args, &context),
        Command::Diff(args) => diff::run(args, &context),
        Command::Drift(args) => drift::run(args, &context),
        Command::Publish(args) => publish::run(args, &context),
        Command::VerifyPromotion(args) => verify::run(args, &context),
        Command::Promote(args) => promote::run(args, &context),
        Command::Audit(args) => audit::run(args, &context),
        Command::Status(args) => status::run(args, &context),
        Command::Site(args) => site::run(args, &context),
        Command::Protection(args) => protection::run(&args),
        Command::List(args) => list::run(args, &context),
    }
}

/// `--now`, or the clock.
fn now(given: Option<&str>) -> Result<Timestamp> {
    match given {
        None => Ok(Timestamp::now()),
        Some(s) => s
            .parse::<Timestamp>()
            .with_context(|| format!("--now {s:?} is not an RFC 3339 time\nhint: write it like 2026-12-01T14:00:00+01:00 or 2026-12-01T13:00:00Z")),
    }
}
