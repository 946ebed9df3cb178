//! Runs an example's commands in a fresh copy of its scenario, and checks file examples.

use std::path::Path;
use std::process::{Command, Stdio};

use super::readme::{Block, FileExample};
use super::scenarios::{self, Fixture};

/// What the README shows in place of the scenario's temporary directory.
pub const SHOWN_HOME: &str = "/home/alice";

/// The output of each command of the block, normalised, as lines; or why its scenario could
/// not be made.
pub fn run_block(block: &Block) -> Result<Vec<Vec<String>>, String> {
    let fixture = scenarios::instantiate(&block.scenario).map_err(|e| {
        format!(
            "README.md:{}: scenario `{}` could not be made: {e}",
            block.fence_line, block.scenario
        )
    })?;
    Ok(block
        .commands
        .iter()
        .map(|c| output_lines(&fixture, &run(&fixture, &c.words)))
        .collect())
}

/// Runs one command in the source repository, stdout and stderr into one file so that they
/// interleave as on a terminal.
fn run(fixture: &Fixture, words: &[String]) -> String {
    let Some((program, args)) = words.split_first() else {
        return "(an empty command)".to_string();
    };
    let reads_the_clock = ["publish", "promote", "verify-promotion", "status"];
    if program == "strata"
        && args.iter().any(|a| reads_the_clock.contains(&a.as_str()))
        && !args.iter().any(|a| a == "--now" || a.starts_with("--now="))
    {
        return "(this command reads the clock: give it --now so that its output is the same on every run)".to_string();
    }
    let mut command = match program.as_str() {
        "strata" => Command::new(env!("CARGO_BIN_EXE_strata")),
        "git" => Command::new("git"),
        other => return format!("(examples run strata or git, not `{other}`)"),
    };
    scenarios::fixed_env(&mut command, fixture.home(), scenarios::EXAMPLE_TIME);
    let capture = match tempfile::tempfile() {
        Ok(f) => f,
        Err(e) => return format!("(no capture file: {e})"),
    };
    let (Ok(out), Ok(err)) = (capture.try_clone(), capture.try_clone()) else {
        return "(could not share the capture file)".to_string();
    };
    let status = command
        .args(args)
        .current_dir(fixture.source())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status();
    let mut text = read_all(capture);
    match status {
        Ok(s) if s.code() == Some(101) || s.code().is_none() => {
            text.push_str(&format!("({program} crashed: {s})\n"));
        }
        Ok(_) => {}
        Err(e) => text.push_str(&format!("(could not run {program}: {e})\n")),
    }
    text
}

fn read_all(mut file: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    if file.rewind().is_ok() {
        let _ = file.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The normalisations the README's outputs rely on, and no others: the scenario's directory
/// reads as `/home/alice`, and trailing blank lines are dropped.
fn output_lines(fixture: &Fixture, text: &str) -> Vec<String> {
    let home = fixture.home().to_string_lossy().into_owned();
    let text = text.replace(&home, SHOWN_HOME);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// Checks a YAML example of one of strata's files against strata's JSON Schema of that file
/// (`schema/`, the schemas strata itself checks its files with).
pub fn check_file_example(file: &FileExample) -> Result<(), String> {
    let schema = match file.kind.as_str() {
        "strata.yaml" => "strata.schema.json",
        "component.yaml" => "component.schema.json",
        "layer.yaml" | "cluster.yaml" => "layer.schema.json",
        other => return Err(format!("unknown file kind `{other}`")),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(schema);
    let schema: serde_json::Value = std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))?;
    let value: serde_json::Value =
        yaml_serde::from_str(&file.text).map_err(|e| format!("not YAML strata reads: {e}"))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("  {} at `{}`", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("not a valid {}:\n{}", file.kind, errors.join("\n")))
    }
}
