//! One function per command. Each returns the exit code; `Err` means strata could not run.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::diag::{self, Diagnostics, SourceTexts};
use crate::world::{FsWorld, find_root};
use crate::{Compiled, Failure, Selection, check, emit, explain, load, merge};

use super::{Cli, Command, Exit, Format, ListWhat, PolicyWhat, ValidateFormat};

pub fn dispatch(cli: Cli) -> Result<Exit> {
    TIMINGS.store(cli.timings, std::sync::atomic::Ordering::Relaxed);
    if let Command::Protection { forge, publisher } = &cli.command {
        return super::repo::protection(*forge, publisher);
    }
    // verify-promotion and promote run in the output repository's CI, where --source names
    // the source repository; it stands in for --root there.
    let source = match &cli.command {
        Command::VerifyPromotion { gates, .. } | Command::Promote { gates, .. } => {
            gates.source.clone()
        }
        _ => None,
    };
    let root = resolve_root(cli.root.as_deref().or(source.as_deref()))?;
    let now = super::repo::now(cli.now.as_deref())?;
    match cli.command {
        Command::Diff {
            base,
            head,
            format,
            stat,
            env,
            cluster,
            color,
            context,
        } => super::diff::diff(
            &root,
            base.as_deref(),
            head.as_deref(),
            format,
            stat,
            env,
            cluster,
            color,
            context,
        ),
        Command::Publish {
            repo,
            env,
            committer,
            rollback,
            format,
        } => super::repo::publish(
            &root,
            &repo,
            env.as_deref(),
            committer.as_deref(),
            rollback.as_deref(),
            now,
            format,
        ),
        Command::VerifyPromotion {
            repo,
            env,
            gates,
            format,
        } => super::repo::verify(&root, &repo, &env, &gates, now, format),
        Command::Promote {
            repo,
            to,
            gates,
            committer,
            format,
        } => super::repo::promote(&root, &repo, &to, &gates, committer.as_deref(), now, format),
        Command::Audit {
            repo,
            env,
            since,
            format,
        } => super::repo::audit(&root, &repo, &env, since.as_deref(), format),
        Command::Status { repo, format } => super::repo::status(&root, &repo, now, format),
        Command::Protection { .. } => Ok(Exit::Failed),
        Command::Render {
            out,
            env,
            cluster,
            shard,
            progress,
            format,
        } => super::render::render(
            &root,
            out,
            Selection {
                environment: env,
                cluster,
                shard,
            },
            progress,
            format,
        ),
        Command::Validate { format } => validate(&root, format),
        Command::Policy {
            what: PolicyWhat::List,
        } => policy_list(&root),
        Command::Explain {
            cluster,
            target,
            format,
        } => explain_cmd(&root, &cluster, &target, format),
        Command::Check {
            against: Some(against),
            env,
            format,
            ..
        } => check_cmd(&root, &against, env.as_deref(), format),
        Command::Check {
            repo: Some(repo),
            env,
            format,
            ..
        } => super::repo::check(&root, &repo, env.as_deref(), format),
        Command::Check { .. } => anyhow::bail!("give --against DIR or --repo PATH"),
        Command::List {
            what: ListWhat::Clusters { format, shards },
        } => list_clusters(&root, format, shards),
        Command::Drift {
            cluster,
            live,
            kubectl,
            context,
            format,
        } => super::live::drift(
            &root,
            &cluster,
            live.as_deref(),
            kubectl,
            context.as_deref(),
            format,
        ),
    }
}

fn resolve_root(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(dir) => {
            if !dir.join("strata.yaml").is_file() {
                anyhow::bail!(
                    "{} has no strata.yaml\nhint: --root names the directory that holds strata.yaml",
                    dir.display()
                );
            }
            Ok(dir.to_path_buf())
        }
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            find_root(&cwd).with_context(|| {
                format!(
                    "no strata.yaml in {} or any parent directory\nhint: run strata inside a source repository, or pass --root DIR",
                    cwd.display()
                )
            })
        }
    }
}

pub(super) fn open(root: &Path) -> std::result::Result<FsWorld, Exit> {
    FsWorld::open(root).map_err(|d| report(&d, &SourceTexts::default()))
}

/// Prints diagnostics to stderr and picks the exit code: problems with the input are 1, an
/// environment that stops strata from running is 2.
pub(super) fn report(diags: &Diagnostics, texts: &SourceTexts) -> Exit {
    eprint!("{}", diag::render(diags, texts));
    let errors = diags
        .iter()
        .filter(|d| d.severity == diag::Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        eprintln!(
            "{errors} error{}{}",
            if errors == 1 { "" } else { "s" },
            if warnings > 0 {
                format!(
                    ", {warnings} warning{}",
                    if warnings == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        );
    }
    let cannot_run = diags.iter().any(|d| matches!(d.code, "io" | "no-settings"));
    if cannot_run {
        Exit::Failed
    } else if errors > 0 {
        Exit::Found
    } else {
        Exit::Clean
    }
}

/// Whether `--timings` was given.
static TIMINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints one stage's time when `--timings` was given.
pub(super) fn print_timing(stage: &str, took: std::time::Duration) {
    if TIMINGS.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{stage:>16}: {:>8.1} ms", took.as_secs_f64() * 1000.0);
    }
}

pub(super) fn compile(
    world: &FsWorld,
    selection: &Selection,
) -> std::result::Result<Compiled, Exit> {
    compile_incremental(world, selection, &crate::Incremental::default())
}

pub(super) fn report_compiled(f: &Failure) -> Exit {
    report(&f.diagnostics, &f.texts)
}

pub(super) fn compile_incremental(
    world: &FsWorld,
    selection: &Selection,
    incremental: &crate::Incremental<'_>,
) -> std::result::Result<Compiled, Exit> {
    reported(crate::compile_with(world, selection, incremental))
}

/// A compile's result as the user sees it: its stage timings and warnings printed on success,
/// its diagnostics on failure.
pub(super) fn reported(
    compiled: std::result::Result<Compiled, Failure>,
) -> std::result::Result<Compiled, Exit> {
    match compiled {
        Ok(c) => {
            for (stage, d) in &c.timings.stages {
                print_timing(stage, *d);
            }
            if !c.warnings.is_empty() {
                eprint!("{}", diag::render(&c.warnings, &c.source.texts));
            }
            Ok(c)
        }
        Err(Failure { diagnostics, texts }) => Err(report(&diagnostics, &texts)),
    }
}

pub(super) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn validate(root: &Path, format: ValidateFormat) -> Result<Exit> {
    let world = match FsWorld::open(root) {
        Ok(w) => w,
        Err(d) => return validate_failed(format, &d, &SourceTexts::default()),
    };
    match crate::compile(&world, &Selection::default()) {
        Ok(c) => {
            match format {
                ValidateFormat::Json => print_json(&serde_json::json!({
                    "valid": true,
                    "clusters": c.all.len(),
                    "components": c.source.components.len(),
                    "objects": c.objects,
                    "diagnostics": c.warnings.0,
                    "exempted": c.violations.iter().filter(|v| v.exemption.is_some()).map(|v| serde_json::json!({
                        "rule": v.rule, "file": v.file, "resource": v.resource, "reason": v.exemption,
                    })).collect::<Vec<_>>(),
                }))?,
                ValidateFormat::Sarif => println!(
                    "{}",
                    crate::policy::render_sarif(&c.violations, env!("CARGO_PKG_VERSION"))
                ),
                ValidateFormat::Human => {
                    if !c.warnings.is_empty() {
                        eprint!("{}", diag::render(&c.warnings, &c.source.texts));
                    }
                    let exempted = c
                        .violations
                        .iter()
                        .filter(|v| v.exemption.is_some())
                        .count();
                    println!(
                        "valid: {} clusters, {} components, {} objects{}",
                        c.all.len(),
                        c.source.components.len(),
                        c.objects,
                        if exempted > 0 {
                            format!(" ({exempted} exempted policy findings)")
                        } else {
                            String::new()
                        }
                    );
                }
            }
            Ok(Exit::Clean)
        }
        Err(Failure { diagnostics, texts }) => validate_failed(format, &diagnostics, &texts),
    }
}

fn validate_failed(
    format: ValidateFormat,
    diags: &Diagnostics,
    texts: &SourceTexts,
) -> Result<Exit> {
    let exit = report(diags, texts);
    match format {
        ValidateFormat::Json => {
            print_json(&serde_json::json!({"valid": false, "diagnostics": diags.0}))?
        }
        ValidateFormat::Sarif => println!("{}", diagnostics_sarif(diags)),
        ValidateFormat::Human => {}
    }
    Ok(exit)
}

/// Every diagnostic as a SARIF 2.1.0 result, so code scanning shows input errors too.
fn diagnostics_sarif(diags: &Diagnostics) -> String {
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut r = serde_json::json!({
                "ruleId": d.code,
                "level": if d.severity == diag::Severity::Error { "error" } else { "warning" },
                "message": {"text": match &d.hint { Some(h) => format!("{} (hint: {h})", d.message), None => d.message.clone() }},
            });
            // Code scanning needs a location on every result; strata.yaml stands in for
            // findings without a source line (the notes name the rendered file).
            let (file, line, column) = match &d.span {
                Some(span) => (span.file.clone(), span.line, span.column),
                None => ("strata.yaml".to_string(), 1, 1),
            };
            r["locations"] = serde_json::json!([{"physicalLocation": {
                "artifactLocation": {"uri": file},
                "region": {"startLine": line.max(1), "startColumn": column.max(1)},
            }}]);
            let text = r["message"]["text"].as_str().map(str::to_string);
            if let Some(text) = text.filter(|_| !d.notes.is_empty()) {
                r["message"]["text"] = serde_json::json!(format!("{text} ({})", d.notes.join("; ")));
            }
            r
        })
        .collect();
    let rules: std::collections::BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "strata", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/strata-dev/strata",
                "rules": rules.iter().map(|r| serde_json::json!({"id": r})).collect::<Vec<_>>()}},
            "results": results,
        }],
    }))
    .unwrap_or_default()
}

fn policy_list(root: &Path) -> Result<Exit> {
    let world = match open(root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let source = match load::load(&world) {
        Ok(s) => s,
        Err(f) => return Ok(report(&f.diagnostics, &f.texts)),
    };
    let envs: Vec<String> = source
        .clusters
        .iter()
        .map(|c| c.environment.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    print!(
        "{}",
        crate::policy::list_rules(&source.settings.policies, &envs)
    );
    Ok(Exit::Clean)
}

fn explain_cmd(root: &Path, cluster: &str, target: &str, format: Format) -> Result<Exit> {
    let world = match open(root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let source = match load::load(&world) {
        Ok(s) => s,
        Err(f) => return Ok(report(&f.diagnostics, &f.texts)),
    };
    let clusters = match merge::merge_all(&source, merge::Wrote::Kept) {
        Ok(c) => c,
        Err(d) => return Ok(report(&d, &source.texts)),
    };
    match explain::explain(&clusters, cluster, target) {
        Ok(e) => {
            match format {
                Format::Json => print_json(&e)?,
                Format::Human => print!("{}", explain::render_human(&e)),
            }
            Ok(Exit::Clean)
        }
        Err(d) => Ok(report(&d.into(), &source.texts)),
    }
}

fn check_cmd(root: &Path, against: &Path, env: Option<&str>, format: Format) -> Result<Exit> {
    if !against.is_dir() {
        anyhow::bail!(
            "{} is not a directory\nhint: --against names a rendered directory, e.g. golden/ or a checkout of the output repository",
            against.display()
        );
    }
    let world = match open(root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let compiled = match compile(&world, &Selection::default()) {
        Ok(c) => c,
        Err(exit) => return Ok(exit),
    };
    let mut actual =
        emit::read_tree(against).with_context(|| format!("cannot read {}", against.display()))?;
    // A checkout of one environment's branch holds that environment's tree and its
    // hydrator.metadata, which names the environment.
    let metadata = actual.files.remove("hydrator.metadata");
    let env = env.map(str::to_string).or_else(|| {
        let m: crate::git::output::Metadata = serde_json::from_slice(metadata.as_deref()?).ok()?;
        Some(m.environment).filter(|e| !e.is_empty())
    });
    let expected = match &env {
        Some(e) => emit::OutputTree {
            files: compiled.tree.environment(e),
        },
        None => compiled.tree.clone(),
    };
    let drift = check::compare(&expected, &actual);
    match format {
        Format::Json => print_json(&drift)?,
        Format::Human => print!(
            "{}",
            check::render_human(&drift, &against.display().to_string())
        ),
    }
    Ok(if drift.is_clean() {
        Exit::Clean
    } else {
        Exit::Found
    })
}

fn list_clusters(root: &Path, format: Format, shards: Option<u32>) -> Result<Exit> {
    let world = match open(root) {
        Ok(w) => w,
        Err(exit) => return Ok(exit),
    };
    let source = match load::load(&world) {
        Ok(s) => s,
        Err(f) => return Ok(report(&f.diagnostics, &f.texts)),
    };
    let clusters = match merge::merge_all(&source, merge::Wrote::Skipped) {
        Ok(c) => c,
        Err(d) => return Ok(report(&d, &source.texts)),
    };
    match format {
        Format::Json => {
            let list: Vec<_> = clusters
                .iter()
                .map(|c| {
                    let mut v = serde_json::json!({
                        "name": c.name,
                        "environment": c.environment,
                        "datacenter": c.datacenter,
                        "role": c.role,
                        "server": c.server,
                        "path": c.path(),
                        "file": c.file.path,
                    });
                    if let Some(n) = shards {
                        v["shard"] = serde_json::json!(crate::shard_of(&c.name, n));
                    }
                    v
                })
                .collect();
            print_json(&list)?;
        }
        Format::Human => {
            for c in &clusters {
                println!(
                    "{:<28} {:<10} {:<10} {}",
                    c.name, c.environment, c.role, c.server
                );
            }
        }
    }
    Ok(Exit::Clean)
}
