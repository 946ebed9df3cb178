//! The command line: clap arguments → plain configuration → the library. Nothing below this
//! module knows about clap.

mod commands;
mod diff;
mod live;
mod render;
mod repo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes are part of the interface: CI scripts branch on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success, and nothing found.
    Clean = 0,
    /// It ran and found something: differences, drift, invalid input, a closed gate.
    Found = 1,
    /// It could not run: bad arguments, no strata.yaml, an I/O or git failure.
    Failed = 2,
}

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
pub struct Cli {
    /// The source repository root (the directory holding strata.yaml). Default: found upward from the current directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Replace the clock (RFC 3339, e.g. 2026-12-01T14:00:00+01:00) in every time-dependent command, for tests and reproducible reports.
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,

    /// Print how long each stage of the compile took, on stderr.
    #[arg(long, global = true)]
    pub timings: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum ValidateFormat {
    #[default]
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

#[derive(Subcommand, Debug)]
pub enum PolicyWhat {
    /// The rules, their level per environment, and what each checks.
    List,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    #[default]
    Human,
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum AuditFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Forge {
    Github,
    Gitlab,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile the platform, or a part of it, into the output directory.
    ///
    /// Writes one file per resource under `<out>/<environment>/<cluster path>/<component>/` and the
    /// Argo CD objects under `<out>/<environment>/argocd/`. Only changed files are written; files no
    /// longer produced are removed. A failed render leaves the previous output untouched.
    #[command(
        after_help = "Examples:\n  strata render\n  strata render --env non-prod\n  strata render --cluster prod-sto2-workload --out /tmp/out"
    )]
    Render {
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
    },
    /// Check everything a render checks, policies included, and write nothing.
    #[command(
        after_help = "Examples:\n  strata validate\n  strata validate --format json\n  strata validate --format sarif > strata.sarif   # for GitHub code scanning"
    )]
    Validate {
        #[arg(long, value_enum, default_value_t)]
        format: ValidateFormat,
    },
    /// The compliance policies.
    Policy {
        #[command(subcommand)]
        what: PolicyWhat,
    },
    /// Show a merged value and every layer that set it, in order.
    #[command(
        after_help = "Examples:\n  strata explain prod-sto2-workload ingress-nginx.controller.replicas\n  strata explain non-prod-osl2-management global.baseDomain\n  strata explain prod-sto2-workload 'ingress-nginx.controller.annotations.\"a.b/c\"'"
    )]
    Explain {
        /// The cluster name, e.g. prod-sto2-workload (see `strata list clusters`).
        cluster: String,
        /// COMPONENT[.path], `global[.path]` or `cluster[.path]`. Quote keys that contain dots.
        target: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Report render drift: output that differs from a fresh render.
    ///
    /// With --against DIR: the files of a rendered directory that are changed, missing or extra.
    /// With --repo PATH: every env/* branch of the output repository against a re-render of the
    /// drySha its hydrator.metadata records (hand edits, extra and missing files), and the
    /// branches publish writes against the source's HEAD (unpublished source commits).
    #[command(
        after_help = "Examples:\n  strata check --against golden\n  strata check --repo ../platform-rendered\n  strata check --repo ../platform-rendered --env prod --format json"
    )]
    Check {
        /// A rendered directory to compare, e.g. golden/ or a checkout of one environment's output.
        #[arg(
            long,
            value_name = "DIR",
            required_unless_present = "repo",
            conflicts_with = "repo"
        )]
        against: Option<PathBuf>,
        /// A local clone of the output repository.
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// Only this environment: with --against, DIR holds that environment's tree (a
        /// checkout of env/<ENV>; found from its hydrator.metadata when not given); with
        /// --repo, only that environment's branches.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
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
    Diff {
        /// The base revision. Default: HEAD.
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// The head revision. Default: the working tree.
        #[arg(long, value_name = "REF")]
        head: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: DiffFormat,
        /// The summary only.
        #[arg(long)]
        stat: bool,
        /// Only this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Only this cluster (name or path).
        #[arg(long, value_name = "CLUSTER")]
        cluster: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        color: ColorChoice,
        /// Lines of context around each change.
        #[arg(long, value_name = "N", default_value_t = 3)]
        context: usize,
    },
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
    Drift {
        /// The cluster, by name.
        #[arg(long, value_name = "CLUSTER")]
        cluster: String,
        /// A file of live objects, or `-` for stdin.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "kubectl",
            conflicts_with = "kubectl"
        )]
        live: Option<PathBuf>,
        /// Run `kubectl get` for the kinds strata renders on this cluster.
        #[arg(long)]
        kubectl: bool,
        /// The kubeconfig context for --kubectl.
        #[arg(long, value_name = "CTX", requires = "kubectl")]
        context: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
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
    Publish {
        /// A local clone of the output repository.
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Committer identity, "Name <email>". Default: user.name/user.email of the output repository, else strata.
        #[arg(long, value_name = "IDENTITY")]
        committer: Option<String>,
        /// Move a branch to a drySha that does not contain the one it runs (an older commit, or
        /// another branch's), on purpose. Without it publish refuses. The reason is recorded in
        /// a `Rollback:` trailer, and `audit` shows it.
        #[arg(long, value_name = "REASON")]
        rollback: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check the gates of promoting env/<ENV>-next into env/<ENV>: history, reproducible, soaked, four eyes, break-glass.
    ///
    /// Exit 0 when every gate is open, 1 when one is closed. Use it as the required check of the
    /// env/<e>-next → env/<e> pull request.
    #[command(
        name = "verify-promotion",
        after_help = "Examples:\n  strata verify-promotion --repo ../platform-rendered --env prod --approvals reviews.json\n  gh api repos/O/R/pulls/42/reviews > reviews.json"
    )]
    VerifyPromotion {
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        #[arg(long, value_name = "ENV")]
        env: String,
        #[command(flatten)]
        gates: GateArgs,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Promote env/<ENV>-next into env/<ENV> with a merge commit, if every gate is open.
    ///
    /// The merge commit records Sha-dry-active, Sha-dry-proposed, Soaked-in, one Approved-by per
    /// approver, Emergency when used and Rollback for a proposal published with --rollback.
    /// env/<ENV>-next moves to the merge too. If a gate is closed it writes nothing and exits 1.
    #[command(
        after_help = "Examples:\n  strata promote --repo ../platform-rendered --to prod --approvals approvals.json\n  strata promote --repo ../platform-rendered --to prod --emergency \"CVE-2026-1234 in ingress-nginx\" --approvals approvals.json"
    )]
    Promote {
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        #[arg(long, value_name = "ENV")]
        to: String,
        #[command(flatten)]
        gates: GateArgs,
        #[arg(long, value_name = "IDENTITY")]
        committer: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The evidence of every change to an environment: when, what, soak, approvers, break-glass.
    ///
    /// Each promotion is checked against what it claims (its parents, the proposal it merges,
    /// its tree and Render-digest); a commit that fails is listed as a direct push, with why.
    #[command(
        after_help = "Examples:\n  strata audit --repo ../platform-rendered --env prod > audit.md\n  strata audit --repo ../platform-rendered --env prod --since 2026-01-01 --format json"
    )]
    Audit {
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        #[arg(long, value_name = "ENV")]
        env: String,
        /// Only changes since this date (YYYY-MM-DD) or time (RFC 3339).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: AuditFormat,
    },
    /// Component versions per environment and cluster, what waits for promotion, and soak progress.
    ///
    /// Also what is wrong with the history of the env/* branches (moved back, replaced, dates
    /// that cannot be true): exit 1 when there is something, 0 otherwise.
    #[command(after_help = "Examples:\n  strata status --repo ../platform-rendered")]
    Status {
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print the branch protection to apply to env/* on your forge.
    #[command(
        after_help = "Examples:\n  strata protection --forge github > ruleset.json\n  gh api repos/O/R/rulesets --method POST --input ruleset.json"
    )]
    Protection {
        #[arg(long, value_enum)]
        forge: Forge,
        /// The identity (GitHub app/user or GitLab user) that publishes and promotes.
        #[arg(long, value_name = "WHO", default_value = "strata-bot")]
        publisher: String,
    },
    /// List things strata knows about.
    List {
        #[command(subcommand)]
        what: ListWhat,
    },
}

/// What the promotion gates are given.
#[derive(clap::Args, Debug, Clone)]
pub struct GateArgs {
    /// The source repository (default: the one holding strata.yaml).
    #[arg(long, value_name = "PATH")]
    pub source: Option<PathBuf>,
    /// Approvals: GitHub's pull-request reviews JSON (`gh api .../reviews`) or [{"name", "email"}].
    #[arg(long, value_name = "FILE")]
    pub approvals: Option<PathBuf>,
    /// Who promotes, "Name <email>" or an email. Default: user.email of the source repository.
    #[arg(long, value_name = "IDENTITY")]
    pub promoter: Option<String>,
    /// Break-glass: skip the soak gate, with one more approver than usual. The reason is recorded.
    #[arg(long, value_name = "REASON")]
    pub emergency: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ListWhat {
    /// The clusters, one a line, or as JSON for CI matrices.
    #[command(
        after_help = "Examples:\n  strata list clusters\n  strata list clusters --format json --shards 4   # each cluster with the shard that renders it"
    )]
    Clusters {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also give each cluster's shard of N, as `render --shard I/N` splits them.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        shards: Option<u32>,
    },
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

/// Parses the command line and runs it: the whole of the `strata` binary but its process setup.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

pub fn run(cli: Cli) -> ExitCode {
    let code = match commands::dispatch(cli) {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Failed
        }
    };
    ExitCode::from(code as u8)
}
