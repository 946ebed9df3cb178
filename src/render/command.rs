//! Command sources: a program that prints YAML, run without a shell, with a cleared
//! environment, a timeout and a cap on its output.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::process::{Unfinished, run_bounded};

/// The most a command may print on stdout.
pub(crate) const MAX_COMMAND_STDOUT: usize = 64 * 1024 * 1024;
/// How much of a failing command's stderr is kept to show.
const STDERR_KEEP: usize = 64 * 1024;
/// How many trailing stderr lines a failure message shows.
const STDERR_LINES: usize = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CommandError {
    #[error("cannot start `{program}`: {reason}")]
    Spawn { program: String, reason: String },
    #[error("`{program}` did not finish within {timeout:?} and was killed")]
    Timeout { program: String, timeout: Duration },
    #[error("`{program}` printed more than {MAX_COMMAND_STDOUT} bytes and was stopped")]
    TooMuchOutput { program: String },
    #[error("`{program}` exited with {status}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("`{program}` printed output that is not UTF-8")]
    NotUtf8 { program: String },
}

impl CommandError {
    pub(crate) fn stderr(&self) -> Option<&str> {
        match self {
            CommandError::Failed { stderr, .. } if !stderr.is_empty() => Some(stderr),
            _ => None,
        }
    }
}

/// Where programs that honour the proxy variables send their requests: a port nothing listens
/// on, so that a command reaches no network through them.
const NO_PROXY_THERE: &str = "http://127.0.0.1:9";

/// Runs `argv` in `dir` and returns its stdout. Its environment is `PATH`, `STRATA_VALUES` and
/// `HOME`, an empty directory (no kubeconfig, no credentials, no tool configuration), plus
/// variables that keep git and programs that honour the proxy variables off the network.
/// The program is looked up in the absolute directories of `PATH` only, so that a `.` there
/// does not run a file of the component by the name of an allowed program.
pub(crate) fn run(
    argv: &[String],
    dir: &Path,
    values_file: &Path,
    home: &Path,
    timeout: Duration,
) -> Result<String, CommandError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(CommandError::Spawn {
            program: String::new(),
            reason: "the command is empty".into(),
        });
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let resolved = if program.contains('/') {
        std::path::PathBuf::from(program)
    } else {
        std::env::split_paths(&path)
            .filter(|d| d.is_absolute())
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .ok_or_else(|| CommandError::Spawn {
                program: program.clone(),
                reason: "it is in no absolute directory of PATH".into(),
            })?
    };
    let mut cmd = Command::new(resolved);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("STRATA_VALUES", values_file)
        .env("GIT_ALLOW_PROTOCOL", "file")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(proxy, NO_PROXY_THERE);
    }
    // The process group, the deadline on the reads and the kill at the end of every run are
    // `process::run_bounded`'s, for every program strata runs.
    let done = match run_bounded(cmd, timeout, MAX_COMMAND_STDOUT, STDERR_KEEP) {
        Ok(done) => done,
        Err(Unfinished::Spawn(e)) => {
            return Err(CommandError::Spawn {
                program: program.clone(),
                reason: e.to_string(),
            });
        }
        Err(Unfinished::Timeout) => {
            return Err(CommandError::Timeout {
                program: program.clone(),
                timeout,
            });
        }
    };
    if done.overflow {
        return Err(CommandError::TooMuchOutput {
            program: program.clone(),
        });
    }
    if !done.status.success() {
        return Err(CommandError::Failed {
            program: program.clone(),
            status: done.status.to_string(),
            stderr: tail(&String::from_utf8_lossy(&done.stderr), STDERR_LINES),
        });
    }
    String::from_utf8(done.stdout).map_err(|_| CommandError::NotUtf8 {
        program: program.clone(),
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut s = all[start..].join("\n");
    if start > 0 {
        s = format!("… ({start} earlier lines not shown)\n{s}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn sh(script: &str, timeout: Duration) -> Result<String, CommandError> {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.json");
        std::fs::write(&values, "{}").unwrap();
        run(
            &["sh".into(), "-c".into(), script.into()],
            dir.path(),
            &values,
            dir.path(),
            timeout,
        )
    }

    #[test]
    fn stdout_is_returned_and_the_environment_is_cleared() {
        let out = sh("echo \"$STRATA_VALUES\" | grep -c values.json; env | cut -d= -f1 | sort | tr '\\n' ' '", Duration::from_secs(5)).unwrap();
        assert!(out.starts_with("1\n"), "{out}");
        let vars: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
        for v in &vars {
            assert!(
                [
                    "HOME",
                    "PATH",
                    "STRATA_VALUES",
                    "GIT_ALLOW_PROTOCOL",
                    "GIT_TERMINAL_PROMPT",
                    "GIT_CONFIG_NOSYSTEM",
                    "HTTP_PROXY",
                    "HTTPS_PROXY",
                    "ALL_PROXY",
                    "http_proxy",
                    "https_proxy",
                    "all_proxy",
                    "PWD",
                    "SHLVL",
                    "_",
                    "OLDPWD"
                ]
                .contains(v),
                "leaked {v}"
            );
        }
    }

    /// The command of issue 28: a background child keeps stdout open after the command printed
    /// its YAML and exited.
    #[test]
    fn a_background_child_holding_stdout_neither_hangs_the_render_nor_outlives_it() {
        let started = Instant::now();
        let out = sh(
            "sleep 1001 & printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: ok}\\n'",
            Duration::from_secs(3),
        )
        .unwrap();
        assert_eq!(
            out,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_hang_is_killed_with_its_children() {
        let started = Instant::now();
        let e = sh("sleep 30 & sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, CommandError::Timeout { .. }), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_failure_keeps_the_end_of_stderr() {
        let e = sh(
            "for i in $(seq 1 30); do echo line$i >&2; done; exit 3",
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "`sh` exited with exit status: 3");
        let stderr = e.stderr().unwrap();
        assert!(
            stderr.starts_with("… (10 earlier lines not shown)\nline11"),
            "{stderr}"
        );
        assert!(stderr.ends_with("line30"));
    }

    #[test]
    fn a_flood_is_cut_off() {
        let e = sh(
            "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(matches!(e, CommandError::TooMuchOutput { .. }), "{e:?}");
    }

    #[test]
    fn a_missing_program_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let e = run(
            &["no-such-program-strata".into()],
            dir.path(),
            dir.path(),
            dir.path(),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot start `no-such-program-strata`"),
            "{e}"
        );
    }
}
