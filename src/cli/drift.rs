//! `strata drift`: live drift of one cluster.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

use crate::compare::drift;
use crate::compile::{Options, Selection};
use crate::diag::{self, Code, Diagnostic, Span};

use super::open::{self, Context};
use super::report::{Exit, Format, print_compile, print_json};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
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
}

pub(super) fn run(args: Args, context: &Context) -> Result<Exit> {
    let cluster = args.cluster.as_str();
    let world = match open::world(context) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let selection = Selection {
        cluster: Some(cluster.to_string()),
        ..Selection::default()
    };
    // The objects as rendered, not read back from their YAML.
    let options = Options {
        keep_objects: true,
        ..Options::default()
    };
    let mut compiled =
        match print_compile(crate::compile::compile_with(&world, &selection, &options)) {
            Ok(c) => c,
            Err(exit) => return Ok(exit),
        };
    let desired: Vec<serde_json::Value> = std::mem::take(&mut compiled.rendered)
        .into_iter()
        .map(|o| o.object)
        .collect();
    let selected = compiled.selected();
    let Some(c) = selected.first() else {
        return Ok(Exit::Failed);
    };
    // What the diagnostics call the input: every one of them names it.
    let input = match (args.live.as_deref(), args.kubectl) {
        (Some(p), _) if p == Path::new("-") => "<stdin>".to_string(),
        (Some(p), _) => p.display().to_string(),
        (None, _) => "the output of kubectl get".to_string(),
    };
    let text = match (args.live.as_deref(), args.kubectl) {
        (Some(p), _) if p == Path::new("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read live objects from stdin")?;
            s
        }
        (Some(p), _) => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read live objects from {}", p.display()))?,
        (None, true) => run_kubectl(&desired, args.context.as_deref())?,
        (None, false) => anyhow::bail!("give --live FILE (or - for stdin) or --kubectl"),
    };
    let live = match drift::parse_live(&text) {
        Ok(l) => l,
        Err(e) => {
            let d = match e.line() {
                Some((line, column)) => Diagnostic::error(Code::LiveInput, e.to_string())
                    .at(Span::new(input.clone(), line, column)),
                None => Diagnostic::error(Code::LiveInput, format!("{input}: {e}")),
            }
            .hint("feed the output of `kubectl get ... -o yaml` or `-o json`");
            // One line, as for a log: there is no source line to quote.
            eprint!("{}", diag::plain(&d));
            return Ok(d.code.exit());
        }
    };
    let mut options = drift::Options::default();
    for (name, _) in c.enabled() {
        if let Some(component) = compiled.source.components.get(name) {
            options
                .ignore
                .extend(component.ignore_differences.iter().cloned());
        }
    }
    let report = drift::drift(&desired, &live, &options);
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            println!("cluster {cluster}:");
            print!("{}", drift::render_human(&report));
        }
    }
    Ok(if report.is_in_sync() {
        Exit::Clean
    } else {
        Exit::Found
    })
}

/// `kubectl get` of every kind strata renders on the cluster, with its labels, across namespaces.
fn run_kubectl(desired: &[serde_json::Value], context: Option<&str>) -> Result<String> {
    let kinds: BTreeSet<String> = desired
        .iter()
        .filter_map(|o| {
            let kind = o.get("kind")?.as_str()?.to_lowercase();
            let api = o.get("apiVersion")?.as_str()?;
            Some(match api.rsplit_once('/') {
                Some((group, _)) => format!("{kind}.{group}"),
                None => kind,
            })
        })
        .collect();
    if kinds.is_empty() {
        anyhow::bail!(
            "strata renders nothing for this cluster, so there is nothing to ask kubectl for"
        );
    }
    let mut cmd = Command::new("kubectl");
    if let Some(ctx) = context {
        cmd.args(["--context", ctx]);
    }
    cmd.args([
        "get",
        &kinds.into_iter().collect::<Vec<_>>().join(","),
        "--all-namespaces",
        "-o",
        "yaml",
        "--request-timeout=60s",
    ]);
    cmd.stdin(Stdio::null());
    let out = cmd
        .output()
        .context("cannot run kubectl; is it installed and on PATH?")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        anyhow::bail!(
            "kubectl get failed ({}):\n{}\nhint: check the kubeconfig and --context; `kubectl get ns` should work first",
            out.status,
            tail.join("\n")
        );
    }
    String::from_utf8(out.stdout).context("kubectl printed output that is not UTF-8")
}
