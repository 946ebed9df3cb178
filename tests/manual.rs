//! The user's manual is checked: every example in README.md that shows a command and its output
//! is run, and its output must be what the README shows.
//!
//! An example is a ```` ```console ```` block with an HTML comment above it naming its scenario,
//! invisible on the rendered page:
//!
//! ````text
//! <!-- example: platform -->
//! ```console
//! $ strata list clusters
//! non-prod-osl2-management     non-prod   management https://api.management.osl2.dev.welkin.example.com:6443
//! …
//! ```
//! ````
//!
//! Each block runs in a fresh copy of its scenario (see [`scenarios`]), its commands in order,
//! with the source repository as the working directory. A command's output is what a terminal
//! shows: stdout and stderr as they interleave. The comparison is byte for byte after these
//! normalisations, and no others:
//! - the scenario's temporary directory reads `/home/alice` (the source repository is
//!   `/home/alice/platform`, the output repository `/home/alice/platform-rendered`);
//! - trailing blank lines of an output are not compared (they separate commands in a block);
//! - a line that is only `…` stands for one or more lines the README leaves out.
//!
//! Times are fixed (`--now` in the commands, fixed author and committer dates in the scenarios),
//! so commit hashes are reproducible and need no normalisation.
//!
//! `STRATA_UPDATE_MANUAL=1 cargo test --test manual` writes the real outputs into README.md
//! instead of failing; review them with `git diff README.md`.

mod manual {
    pub mod readme;
    pub mod run;
    pub mod scenarios;
}

use std::path::Path;

use manual::readme;

fn readme_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

fn updating() -> bool {
    std::env::var_os("STRATA_UPDATE_MANUAL").is_some_and(|v| v != "0" && !v.is_empty())
}

#[test]
fn every_example_in_the_readme_prints_what_it_shows() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let blocks = readme::examples(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        blocks.len() >= 30,
        "found only {} examples: is the marker syntax still `<!-- example: SCENARIO -->`?",
        blocks.len()
    );
    let mut failures = Vec::new();
    let mut edits = Vec::new();
    let outputs = run_all(&blocks);
    manual::scenarios::clean_up();
    for (block, actual) in blocks.iter().zip(outputs) {
        // A scenario that could not be made is a failure in update mode too: there is no
        // output to write.
        let actual = match actual {
            Ok(actual) => actual,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match readme::compare(block, &actual) {
            Ok(()) => {}
            Err(report) if updating() => {
                eprintln!("updating README.md:{}\n{report}", block.fence_line);
                edits.push((block, readme::updated_body(block, &actual)));
            }
            Err(report) => failures.push(report),
        }
    }
    if updating() && !edits.is_empty() {
        let text = readme::apply_edits(&text, &edits);
        std::fs::write(readme_path(), text).expect("write README.md");
    }
    assert!(
        failures.is_empty(),
        "{} of {} README examples differ from what strata prints; fix the README or the code, or \
         rewrite the outputs with `STRATA_UPDATE_MANUAL=1 cargo test --test manual` and review \
         `git diff README.md`\n\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n")
    );
}

/// Runs every block, on as many threads as there are cores; the outputs in block order.
fn run_all(blocks: &[readme::Block]) -> Vec<Result<Vec<Vec<String>>, String>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    type Outputs = Result<Vec<Vec<String>>, String>;
    let mut outputs: Vec<(usize, Outputs)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(block) = blocks.get(i) else { break };
                        done.push((i, manual::run::run_block(block)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker"))
            .collect()
    });
    outputs.sort_by_key(|(i, _)| *i);
    outputs.into_iter().map(|(_, o)| o).collect()
}

/// A block that shows `$ strata …` but is not a checked example would rot unnoticed.
#[test]
fn every_block_that_shows_a_strata_command_is_a_checked_example() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let unchecked = readme::unchecked_command_blocks(&text);
    assert!(
        unchecked.is_empty(),
        "README blocks that show `$ strata` output without being checked examples (make them \
         ```console blocks under `<!-- example: SCENARIO -->`):\n{}",
        unchecked.join("\n")
    );
}

/// Every command `strata --help` lists has at least one checked example.
#[test]
fn every_command_has_a_checked_example() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let blocks = readme::examples(&text).unwrap_or_else(|e| panic!("{e}"));
    let help = assert_cmd::Command::cargo_bin("strata")
        .expect("binary")
        .arg("--help")
        .output()
        .expect("strata --help");
    let help = String::from_utf8(help.stdout).expect("utf8");
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "{help}");
    let shown: Vec<&str> = blocks
        .iter()
        .flat_map(|b| &b.commands)
        .filter_map(|c| {
            let mut words = c.words.iter();
            (words.next().map(String::as_str) == Some("strata"))
                .then(|| words.find(|w| !w.starts_with('-')).map(String::as_str))
                .flatten()
        })
        .collect();
    let missing: Vec<&&str> = commands.iter().filter(|c| !shown.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "commands of `strata --help` with no checked example in README.md: {missing:?}"
    );
}

/// The YAML examples of strata's own files are valid files of their kind.
#[test]
fn the_file_format_examples_are_valid() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let files = readme::file_examples(&text);
    assert!(
        files.len() >= 3,
        "found {} file examples under `<!-- file: … -->`",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        if let Err(e) = manual::run::check_file_example(file) {
            failures.push(format!("README.md:{}: {e}", file.fence_line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
