//! A source repository and an output repository in temp dirs, for the promotion tests.

use std::path::Path;

use git2::{Repository, Signature, Time};

use super::{Platform, stderr, stdout};

pub const POLICY: &str = "promotion:\n  order: [dev, prod]\n  soak: {workingDays: 5, timezone: Europe/Stockholm, holidays: [2026-12-24, 2026-12-25]}\n  approvals: {distinct: 1}\nidentities:\n  bob-gh: bob@example.com\n";

pub fn ts(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("time")
        .as_second()
}

/// A source repository holding the minimal platform, and an empty output repository.
pub struct Setup {
    pub platform: Platform,
    pub source: Repository,
    pub out_dir: tempfile::TempDir,
}

impl Setup {
    pub fn new() -> Setup {
        let platform = Platform::minimal();
        platform.write(
            "strata.yaml",
            &format!("{}{}{POLICY}", super::STRATA_YAML, super::POLICIES_OFF),
        );
        let source = Repository::init(platform.path()).expect("init source");
        let mut cfg = source.config().expect("cfg");
        cfg.set_str("user.name", "Paula Promoter").expect("cfg");
        cfg.set_str("user.email", "paula@example.com").expect("cfg");
        let out_dir = tempfile::tempdir().expect("tmp");
        Repository::init(out_dir.path()).expect("init output");
        let s = Setup {
            platform,
            source,
            out_dir,
        };
        s.commit(
            "Add the platform",
            "Alice Author <alice@example.com>",
            "2026-11-02T09:00:00Z",
        );
        s
    }

    /// Commits the whole working tree as `author` at `when`.
    pub fn commit(&self, subject: &str, author: &str, when: &str) -> String {
        let (name, email) = author
            .trim_end_matches('>')
            .split_once(" <")
            .expect("Name <email>");
        let sig = Signature::new(name, email, &Time::new(ts(when), 0)).expect("sig");
        let mut index = self.source.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.write().expect("write index");
        let tree = self
            .source
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let parents: Vec<git2::Commit> = self
            .source
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        self.source
            .commit(Some("HEAD"), &sig, &sig, subject, &tree, &refs)
            .expect("commit")
            .to_string()
    }

    pub fn out(&self) -> &Path {
        self.out_dir.path()
    }

    pub fn strata(&self, args: &[&str]) -> std::process::Output {
        let out = self.out().to_str().expect("utf8").to_string();
        let mut full: Vec<&str> = args
            .iter()
            .map(|a| if *a == "OUT" { out.as_str() } else { a })
            .collect();
        if matches!(args.first(), Some(&"publish") | Some(&"promote")) {
            full.push("--committer");
            full.push("strata bot <bot@example.com>");
        }
        self.platform.strata(&full)
    }

    pub fn publish(&self, now: &str) -> std::process::Output {
        let o = self.strata(&["publish", "--repo", "OUT", "--now", now]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        o
    }

    pub fn gate(&self, args: &[&str]) -> (i32, String) {
        let mut full = vec!["verify-promotion", "--repo", "OUT", "--env", "prod"];
        full.extend_from_slice(args);
        let o = self.platform.strata(
            &full
                .iter()
                .map(|a| {
                    if *a == "OUT" {
                        self.out().to_str().expect("utf8")
                    } else {
                        a
                    }
                })
                .collect::<Vec<_>>(),
        );
        (
            o.status.code().unwrap_or(-1),
            format!("{}{}", stdout(&o), stderr(&o)),
        )
    }

    pub fn approvals(&self, json: &str) -> String {
        let path = self.platform.path().join("approvals.json");
        std::fs::write(&path, json).expect("write");
        path.to_str().expect("utf8").to_string()
    }

    pub fn output_repo(&self) -> Repository {
        Repository::open(self.out()).expect("open output")
    }
}

/// Runs git in `dir` as a hostile actor would, with fixed identities and times, and returns
/// its stdout trimmed. `GIT_COMMITTER_DATE` and the like come from `env`.
pub fn git(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Mallory")
        .env("GIT_AUTHOR_EMAIL", "mallory@example.com")
        .env("GIT_COMMITTER_NAME", "Mallory")
        .env("GIT_COMMITTER_EMAIL", "mallory@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .envs(env.iter().copied())
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o).trim().to_string()
}

impl Setup {
    /// git in the output repository.
    pub fn git_out(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        git(self.out(), args, env)
    }

    /// The commit a ref of the output repository points at.
    pub fn rev_out(&self, rev: &str) -> String {
        self.git_out(&["rev-parse", rev], &[])
    }

    /// Promotes prod with Bob's approval at `now`, asserting it succeeds.
    pub fn promote(&self, now: &str) -> std::process::Output {
        let bob = self.approvals(r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#);
        let o = self.strata(&[
            "promote",
            "--repo",
            "OUT",
            "--to",
            "prod",
            "--approvals",
            &bob,
            "--now",
            now,
            "--promoter",
            "paula@example.com",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        o
    }
}

impl Setup {
    /// git in the source repository.
    pub fn git_out_source(&self, args: &[&str]) -> String {
        git(self.platform.path(), args, &[])
    }
}

/// The platform published once, then a change to the domain by Alice, committed and published
/// at `landed`: it waits on env/prod-next and landed in dev then.
pub fn proposed_change(landed: &str) -> Setup {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    s.commit(
        "Move to example.org",
        "Alice Author <alice@example.com>",
        landed,
    );
    s.publish(landed);
    s
}
