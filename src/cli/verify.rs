//! `strata verify-promotion`: the gates of promoting env/<ENV>-next into env/<ENV>.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use jiff::Timestamp;

use crate::diag::{self, Code, Diagnostic};
use crate::git::short;
use crate::promote;
use crate::promote::gates::gate::render_human;
use crate::promote::gates::health::{AppStatus, read_applications};
use crate::promote::gates::identity::Identity;
use crate::promote::verify::{PromotionRequest, Verification};

use super::open::{self, Context};
use super::report::{Exit, Format, print_json, print_promotion_error};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_name = "PATH")]
    repo: PathBuf,
    #[arg(long, value_name = "ENV")]
    env: String,
    #[command(flatten)]
    pub(super) gates: GateArgs,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What the promotion gates are given.
#[derive(clap::Args, Debug, Clone)]
pub(super) struct GateArgs {
    /// The source repository (default: the one holding strata.yaml).
    #[arg(long, value_name = "PATH")]
    pub(super) source: Option<PathBuf>,
    /// Approvals: GitHub's pull-request reviews JSON (`gh api .../reviews`) or [{"name", "email"}].
    #[arg(long, value_name = "FILE")]
    pub(super) approvals: Option<PathBuf>,
    /// Who promotes, "Name <email>" or an email. Default: user.email of the source repository.
    #[arg(long, value_name = "IDENTITY")]
    pub(super) promoter: Option<String>,
    /// Break-glass: skip the soak gate, with one more approver than usual. The reason is recorded.
    #[arg(long, value_name = "REASON")]
    pub(super) emergency: Option<String>,
    /// The previous environment's Argo CD Applications, as `kubectl get
    /// applications.argoproj.io -n argocd -o yaml` prints them (`-` for stdin): the health gate.
    #[arg(long, value_name = "FILE")]
    pub(super) argocd_status: Option<PathBuf>,
}

/// The Applications of `--argocd-status`, or the diagnostic that says what is wrong with the
/// file, printed, and its exit code.
pub(super) fn argocd_status(
    path: &Path,
) -> Result<std::result::Result<BTreeMap<String, AppStatus>, Exit>> {
    let (name, text) = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the Argo CD Applications (--argocd-status -) from stdin")?;
        ("stdin".to_string(), s)
    } else {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the Argo CD Applications (--argocd-status) from {}",
                path.display()
            )
        })?;
        (path.display().to_string(), text)
    };
    Ok(read_applications(&text).map_err(|e| {
        let d = Diagnostic::error(Code::LiveInput, format!("--argocd-status {name}: {e}"))
            .hint("export the previous environment's Applications with `kubectl get applications.argoproj.io -n argocd -o yaml > FILE` and pass the file unchanged");
        eprint!("{}", diag::plain(&d));
        d.code.exit()
    }))
}

pub(super) fn request(env: &str, gates: &GateArgs, now: Timestamp) -> Result<PromotionRequest> {
    let approvals = match &gates.approvals {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the approvals file {}", p.display()))?,
        ),
        None => None,
    };
    let promoter = match &gates.promoter {
        Some(p) => Some({
            p.split(['<', '>'])
                .try_for_each(crate::promote::gates::identity::plain)
                .with_context(|| format!("--promoter {p:?} cannot name a person"))?;
            Identity::parse(p)
                .or_else(|| p.contains('@').then(|| Identity::new("", p)))
                .with_context(|| format!("--promoter {p:?} is not \"Name <email>\" or an email"))?
        }),
        None => None,
    };
    Ok(PromotionRequest {
        environment: env.to_string(),
        now,
        approvals,
        promoter,
        emergency: gates.emergency.clone(),
        argocd_status: None,
    })
}

/// The gates of promoting `env` in the output repository at `repo`, with the repository; the
/// error printed and its exit code when they cannot be judged.
pub(super) fn verified(
    context: &Context,
    repo: &Path,
    env: &str,
    gates: &GateArgs,
) -> Result<std::result::Result<(git2::Repository, Verification), Exit>> {
    let source = open::source_repo(&context.root, gates.source.as_deref())?;
    let out = open::output_repo(repo)?;
    let mut req = request(env, gates, context.now)?;
    if let Some(path) = &gates.argocd_status {
        match argocd_status(path)? {
            Ok(apps) => req.argocd_status = Some(apps),
            Err(exit) => return Ok(Err(exit)),
        }
    }
    Ok(match promote::verify::verify(&source, &out, &req) {
        Ok(v) => Ok((out, v)),
        Err(e) => Err(print_promotion_error(e)),
    })
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let (repo, env, gates) = (args.repo.as_path(), args.env.as_str(), &args.gates);
    let format = args.format;
    let v = match verified(context, repo, env, gates)? {
        Ok((_, v)) => v,
        Err(exit) => return Ok(exit),
    };
    match format {
        Format::Json => print_json(&v)?,
        Format::Human => {
            println!(
                "promoting {} \"{}\" to {env} (from env/{env}-next)",
                short(&v.proposed),
                v.proposed_subject
            );
            print!("{}", render_human(env, &v.gates));
        }
    }
    Ok(if v.open() { Exit::Clean } else { Exit::Found })
}
