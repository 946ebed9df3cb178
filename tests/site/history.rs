//! The example platform (this repository's strata.yaml, components/ and environments/) with a
//! scripted history made by the strata binary on real git repositories: a publish, a
//! promotion after the soak with four eyes, a hostile change promoted under break-glass, and
//! a change that waits over Christmas. Then `strata site` writes its pages.

use std::path::{Path, PathBuf};
use std::process::Output;

use git2::{Repository, Signature, Time};

/// The hostile strings: a commit message, an approver's name and a component description
/// hold them.
pub const SCRIPT: &str = "<script>alert(1)</script>";
pub const IMG: &str = "\"><img src=x onerror=alert(2)>";
/// The value of the Secret the pending change adds: no page may show it.
pub const SECRET: &str = "hunter2-relay-password";
/// When the site is made: prod waits for a change that landed in non-prod two working days
/// before, with Christmas ahead.
pub const NOW: &str = "2026-12-23T12:00:00Z";

pub struct History {
    pub source: tempfile::TempDir,
    pub out: tempfile::TempDir,
    pub files: tempfile::TempDir,
    repo: Repository,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("under");
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn at(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("time")
        .as_second()
}

impl History {
    fn new() -> History {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let source = tempfile::tempdir().expect("tmp");
        // The scripted history promotes on Mondays and Tuesdays, and its first promotion adds
        // every component: it predates the example's maintenance window, change classes and
        // health gate, which tests/schedule.rs covers. The site shows whatever gates there are.
        let settings = std::fs::read_to_string(root.join("strata.yaml")).expect("strata.yaml");
        let schedule = settings
            .find("  # The service description")
            .zip(settings.find("  health: {required: [prod]}\n"))
            .expect("the example's schedule");
        let settings = format!(
            "{}{}",
            &settings[..schedule.0],
            &settings[schedule.1 + "  health: {required: [prod]}\n".len()..]
        );
        std::fs::write(source.path().join("strata.yaml"), settings).expect("write");
        for dir in ["components", "environments", "schema"] {
            copy_dir(&root.join(dir), &source.path().join(dir));
        }
        let repo = Repository::init(source.path()).expect("init");
        let mut cfg = repo.config().expect("config");
        cfg.set_str("user.name", "Paula Promoter").expect("config");
        cfg.set_str("user.email", "paula@example.com")
            .expect("config");
        let out = tempfile::tempdir().expect("tmp");
        Repository::init(out.path()).expect("init output");
        History {
            source,
            out,
            files: tempfile::tempdir().expect("tmp"),
            repo,
        }
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.source.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.source.path().join(rel);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(path, text.replacen(from, to, 1)).expect("write");
    }

    /// Commits the whole tree as `name <email>` at `when`.
    pub fn commit(&self, message: &str, name: &str, email: &str, when: &str) -> String {
        let sig = Signature::new(name, email, &Time::new(at(when), 0)).expect("sig");
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.write().expect("index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let parents: Vec<git2::Commit> = self
            .repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
            .expect("commit")
            .to_string()
    }

    /// Runs strata in the source repository; `OUT` stands for the output repository.
    pub fn strata(&self, args: &[&str]) -> Output {
        let out = self.out.path().to_str().expect("utf-8").to_string();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "OUT" { out.as_str() } else { a })
            .collect();
        assert_cmd::Command::cargo_bin("strata")
            .expect("binary")
            .current_dir(self.source.path())
            .args(&args)
            .output()
            .expect("run strata")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let o = self.strata(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "strata {args:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    fn publish(&self, now: &str) {
        self.ok(&[
            "publish",
            "--repo",
            "OUT",
            "--now",
            now,
            "--committer",
            "strata-bot <bot@example.com>",
        ]);
    }

    /// A file beside the repositories.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8").to_string()
    }

    fn promote(&self, now: &str, approvals: &str, emergency: Option<&str>) {
        let approvals = self.file("approvals.json", approvals);
        let mut args = vec![
            "promote",
            "--repo",
            "OUT",
            "--to",
            "prod",
            "--approvals",
            &approvals,
            "--now",
            now,
            "--promoter",
            "paula@example.com",
            "--committer",
            "strata-bot <bot@example.com>",
        ];
        if let Some(reason) = emergency {
            args.extend(["--emergency", reason]);
        }
        self.ok(&args);
    }

    /// The site's directory after `strata site` with `extra` arguments.
    pub fn site_dir(&self) -> PathBuf {
        self.files.path().join("site")
    }

    /// Runs `strata site --repo OUT --out <site_dir> --now NOW` and `extra`.
    pub fn site(&self, extra: &[&str]) -> Output {
        let dir = self.site_dir();
        let mut args = vec![
            "site",
            "--repo",
            "OUT",
            "--out",
            dir.to_str().expect("utf-8"),
            "--now",
            NOW,
        ];
        args.extend_from_slice(extra);
        self.strata(&args)
    }
}

impl History {
    /// A drift report of prod-sto2-workload made by `strata drift`: the ingress controller's
    /// ConfigMap edited live, every other object missing.
    pub fn drift_report(&self) -> String {
        let live = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "golden/prod/sto2/workload/ingress-nginx/configmap-ingress-nginx-controller.yaml",
        ))
        .expect("golden configmap")
        .replace("hsts-max-age: \"31536000\"", "hsts-max-age: \"60\"");
        let live = self.file("live.yaml", &live);
        let o = self.strata(&[
            "drift",
            "--cluster",
            "prod-sto2-workload",
            "--live",
            &live,
            "--format",
            "json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        self.file(
            "prod-sto2-workload.json",
            &String::from_utf8_lossy(&o.stdout),
        )
    }
}

pub const BOB: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

/// The history; see the module's docs.
pub fn history() -> History {
    let h = History::new();
    // 1. The platform, published on a Monday; prod's first promotion after five working days.
    h.commit(
        "Add the Welkin platform",
        "Alice Author",
        "alice@example.com",
        "2026-11-02T09:00:00Z",
    );
    h.publish("2026-11-02T09:05:00Z");
    h.promote("2026-11-10T09:00:00Z", BOB, None);
    // 2. A hostile change, promoted the next day under break-glass with two approvers, one
    //    with a hostile name.
    h.edit(
        "components/fluentd/component.yaml",
        "description: Ships",
        &format!("description: {SCRIPT}{IMG} Ships"),
    );
    h.edit(
        "components/ingress-nginx/component.yaml",
        "version: 1.11.3",
        "version: 1.11.4",
    );
    h.commit(
        &format!("ingress-nginx 1.11.4 {SCRIPT}{IMG}"),
        "Alice Author",
        "alice@example.com",
        "2026-11-16T09:00:00Z",
    );
    h.publish("2026-11-16T09:05:00Z");
    h.promote(
        "2026-11-17T10:00:00Z",
        &format!(
            r#"[{{"name": "Bob Reviewer", "email": "bob@example.com"}}, {{"name": "Dora {}", "email": "dora@example.com"}}]"#,
            IMG.replace('"', "\\\"")
        ),
        Some("CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471"),
    );
    // 3. A change that waits over Christmas: a new version and a Secret, exempted from the
    //    plaintext rule with a reason.
    h.edit(
        "components/ingress-nginx/component.yaml",
        "version: 1.11.4",
        "version: 1.11.5",
    );
    h.write(
        "components/grafana/templates/secret-smtp.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: grafana-smtp\n  annotations:\n    strata.dev/exempt: \"no-plaintext-secrets=the mail relay takes no sealed secrets (SEC-7)\"\nstringData:\n  password: {SECRET}\n"
        ),
    );
    h.commit(
        "ingress-nginx 1.11.5, grafana mails alerts",
        "Carol Coder",
        "carol@example.com",
        "2026-12-21T09:00:00Z",
    );
    h.publish("2026-12-21T09:05:00Z");
    h
}
