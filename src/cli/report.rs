//! How every command reports: diagnostics on stderr and the exit code they mean, JSON on
//! stdout, and the time of each stage with `--timings`.

use anyhow::Result;
use clap::ValueEnum;

use crate::compile::Compiled;
pub(crate) use crate::diag::Exit;
use crate::diag::{self, Diagnostics, Failure, SourceTexts};
use crate::promote::error::PromotionError;

/// How a command prints its result, where it has a choice.
#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    #[default]
    Human,
    Json,
}

/// Prints diagnostics to stderr and picks the exit code: problems with the input are 1, an
/// environment that stops strata from running is 2.
pub(super) fn print_diagnostics(diags: &Diagnostics, texts: &SourceTexts) -> Exit {
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
    diags.exit()
}

/// [`print_diagnostics`] of a failed compile or load.
pub(super) fn print_failure(f: &Failure) -> Exit {
    print_diagnostics(&f.diagnostics, &f.texts)
}

/// Whether `--timings` was given.
static TIMINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the printing of [`print_timing`] on or off, for `--timings`.
pub(super) fn show_timings(on: bool) {
    TIMINGS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Prints one stage's time when `--timings` was given.
pub(super) fn print_timing(stage: &str, took: std::time::Duration) {
    if TIMINGS.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{stage:>16}: {:>8.1} ms", took.as_secs_f64() * 1000.0);
    }
}

/// A compile's result as the user sees it: its stage timings and warnings printed on success,
/// its diagnostics on failure.
pub(super) fn print_compile(
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
        Err(f) => Err(print_failure(&f)),
    }
}

pub(super) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a promotion error, and gives the exit code it means.
pub(super) fn print_promotion_error(e: PromotionError) -> Exit {
    match &e {
        PromotionError::Render { rev, failure } => {
            eprintln!("error: the source at {rev} does not compile:");
            print_failure(failure)
        }
        _ => {
            eprintln!("error: {e}");
            e.exit()
        }
    }
}
