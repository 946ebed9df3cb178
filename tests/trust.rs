//! The promise of the gates, tried as a hostile contributor or publisher would: with git
//! plumbing on the output repository, backdated commits, shallow clones and lookalike
//! identities. Each test names what it defends.

mod common;

use common::promotion::{Setup, git, proposed_change};
use common::{stderr, stdout};

const BOB: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

fn gate_with(s: &Setup, approvals: &str, now: &str) -> (i32, String) {
    let file = s.approvals(approvals);
    s.gate(&[
        "--approvals",
        &file,
        "--now",
        now,
        "--promoter",
        "paula@example.com",
    ])
}

#[test]
fn lookalike_identities_of_the_author_are_refused() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let cases = [
        (
            r#"[{"email": "alice@example.com\u0000"}]"#,
            "holds the control character U+0000",
        ),
        (
            r#"[{"email": "alice@example.com\u200b"}]"#,
            "holds the invisible character U+200B (zero width space)",
        ),
        (
            r#"[{"email": "\u0430lice@example.com"}]"#,
            "mixes Cyrillic and Latin letters",
        ),
    ];
    for (approvals, why) in cases {
        let (code, out) = gate_with(&s, approvals, "2026-11-20T09:00:00Z");
        assert_eq!(code, 2, "{approvals}: {out}");
        assert!(
            out.contains("error: --approvals: approvals file: item 1: `email` "),
            "{out}"
        );
        assert!(out.contains(why), "{approvals}: {out}");
    }
    // A trailing dot is the same address: the author's own approval.
    let (code, out) = gate_with(
        &s,
        r#"[{"email": "alice@example.com."}]"#,
        "2026-11-20T09:00:00Z",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "approval by alice@example.com. does not count: alice@example.com is the author"
        ),
        "{out}"
    );
}

#[test]
fn ten_thousand_self_approvals_give_one_reason() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let one = r#"{"name": "Alice Author", "email": "alice@example.com"}"#;
    let (code, out) = gate_with(
        &s,
        &format!("[{}]", vec![one; 10_000].join(",")),
        "2026-11-20T09:00:00Z",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("✘ four-eyes  0 of 1 distinct approvers outside the author set (alice@example.com is the author (10000 times))\n"),
        "{out}"
    );
    assert!(
        out.contains("    approval by Alice Author <alice@example.com> does not count: alice@example.com is the author (10000 times)\n"),
        "{out}"
    );
    assert!(out.len() < 2_000, "{} bytes", out.len());
}

/// Commits on `branch` of the output repository, as a hostile publisher would with plumbing:
/// the tip's tree with `cacheinfo` entries (`mode,sha,path`) added, the tip's message, the tip
/// as parent.
fn recommit_with(s: &Setup, branch: &str, cacheinfo: &[String]) -> String {
    let index = s.out_dir.path().join("hostile.index");
    let index = index.to_str().expect("utf8");
    let env = [("GIT_INDEX_FILE", index)];
    s.git_out(&["read-tree", branch], &env);
    for entry in cacheinfo {
        s.git_out(&["update-index", "--add", "--cacheinfo", entry], &env);
    }
    let tree = s.git_out(&["write-tree"], &env);
    let message = s.git_out(&["log", "-1", "--format=%B", branch], &[]);
    let commit = s.git_out(
        &["commit-tree", &tree, "-p", branch, "-m", &message],
        &[("GIT_COMMITTER_DATE", "2026-11-03T09:00:00Z")],
    );
    s.git_out(
        &["update-ref", &format!("refs/heads/{branch}"), &commit],
        &[],
    );
    commit
}

#[test]
fn an_executable_bit_or_a_gitlink_on_the_proposal_closes_the_reproducible_gate() {
    let path = "sto2/workload/web/deployment-web.yaml";
    for (entry, detail) in [
        ("100755", format!("mode 100755 (executable): {path}")),
        ("160000", "gitlink (160000, a submodule at ".to_string()),
    ] {
        let s = proposed_change("2026-11-02T13:00:00Z");
        let (blob, at) = if entry == "160000" {
            (s.rev_out("env/dev"), "sto2/workload/web/vendor")
        } else {
            (s.rev_out(&format!("env/prod-next:{path}")), path)
        };
        recommit_with(&s, "env/prod-next", &[format!("{entry},{blob},{at}")]);
        let (code, out) = gate_with(&s, BOB, "2026-11-20T09:00:00Z");
        assert_eq!(code, 1, "{entry}: {out}");
        assert!(
            out.contains("✘ reproducible  env/prod-next differs from a re-render of "),
            "{out}"
        );
        assert!(
            out.contains(
                "0 changed, 0 missing, 0 extra, 1 with a mode or type publish never writes"
            ),
            "{out}"
        );
        assert!(out.contains(&format!("    {detail}")), "{out}");
        let bob = s.approvals(BOB);
        let o = s.strata(&[
            "promote",
            "--repo",
            "OUT",
            "--to",
            "prod",
            "--approvals",
            &bob,
            "--now",
            "2026-11-20T09:00:00Z",
            "--promoter",
            "paula@example.com",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
        let check = s.strata(&["check", "--repo", "OUT", "--env", "prod"]);
        assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
        assert!(
            stdout(&check).contains(&format!("    not written by strata: {detail}")),
            "{}",
            stdout(&check)
        );
    }
}

#[test]
fn a_shallow_clone_cannot_vouch_for_four_eyes() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.net}\n",
    );
    s.commit(
        "Move on to example.net",
        "Carol Coder <carol@example.com>",
        "2026-11-03T09:00:00Z",
    );
    s.publish("2026-11-03T09:00:00Z");
    let alice = s.approvals(r#"[{"name": "Alice Author", "email": "alice@example.com"}]"#);
    // The full clone knows Alice wrote part of what is promoted.
    let (code, out) = s.gate(&[
        "--approvals",
        &alice,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("alice@example.com is an author"), "{out}");

    // CI's default checkout: one commit deep.
    let ci = tempfile::tempdir().expect("tmp");
    let url = format!("file://{}", s.platform.path().display());
    git(
        ci.path(),
        &["clone", "--quiet", "--depth", "1", &url, "src"],
        &[],
    );
    let shallow = ci.path().join("src");
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(s.out())
        .args([
            "verify-promotion",
            "--repo",
            ".",
            "--env",
            "prod",
            "--source",
        ])
        .arg(&shallow)
        .args([
            "--approvals",
            &alice,
            "--now",
            "2026-11-20T09:00:00Z",
            "--promoter",
            "paula@example.com",
        ])
        .output()
        .expect("run");
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "error: the source repository {}/ is a shallow clone: the gates need every promoted commit and its author, which it may not have\nhint: fetch the whole history with `git -C {}/ fetch --unshallow`",
            shallow.display(),
            shallow.display()
        )),
        "{text}"
    );
    assert!(!text.contains("✔ four-eyes"), "{text}");

    // A shallow output repository hides landings and earlier promotions the same way.
    let url = format!("file://{}", s.out().display());
    git(
        ci.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            "out",
        ],
        &[],
    );
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(s.platform.path())
        .args(["audit", "--env", "dev", "--repo"])
        .arg(ci.path().join("out"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains(
            "is a shallow clone: the gates and the audit need the whole history of env/*"
        ),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("fetch --unshallow origin '+refs/heads/env/*:refs/heads/env/*' '+refs/notes/*:refs/notes/*'"), "{}", stderr(&o));
}

/// A platform promoted once to prod, whose next commit (by Mallory) rewrites strata.yaml with
/// `edit` and changes a value everywhere.
fn policy_change(edit: impl Fn(&str) -> String) -> Setup {
    let s = proposed_change("2026-11-26T13:00:00Z");
    s.promote("2026-12-03T13:00:00Z");
    let yaml = std::fs::read_to_string(s.platform.path().join("strata.yaml")).expect("read");
    s.platform.write("strata.yaml", &edit(&yaml));
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: evil.example}\n",
    );
    s.commit(
        "Tidy up",
        "Mallory <mallory@example.com>",
        "2026-12-04T09:00:00Z",
    );
    s
}

fn without_promotion(yaml: &str) -> String {
    let start = yaml.find("promotion:").expect("promotion");
    let end = yaml.find("identities:").expect("identities");
    format!("{}{}", &yaml[..start], &yaml[end..])
}

fn swapped(yaml: &str) -> String {
    yaml.replace("order: [dev, prod]", "order: [prod, dev]")
}

#[test]
fn removing_or_reordering_promotion_does_not_reach_prod() {
    for (case, edit) in [
        ("removed", without_promotion as fn(&str) -> String),
        ("swapped", swapped),
    ] {
        let s = policy_change(edit);
        let prod = s.rev_out("env/prod");
        let o = s.publish("2026-12-04T10:00:00Z");
        assert!(
            stdout(&o).contains("env/prod-next: committed"),
            "{case}: {}",
            stdout(&o)
        );
        assert_eq!(s.rev_out("env/prod"), prod, "{case}: env/prod moved");

        // diff's headline: the base's policy still gates prod.
        let d = s
            .platform
            .strata(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
        let headline = stdout(&d).lines().next().unwrap_or("").to_string();
        assert!(
            headline.starts_with("⚠ this change reaches ") && headline.contains("prod"),
            "{case}: {}",
            stdout(&d)
        );

        // The gates still hold the change to the policy prod runs: five working days.
        let (code, out) = gate_with(&s, BOB, "2026-12-05T09:00:00Z");
        assert_eq!(code, 1, "{case}: {out}");
        assert!(out.contains("✘ soaked  "), "{case}: {out}");
        assert!(out.contains("soaked 0 of 5 working days"), "{case}: {out}");
    }
}

/// Re-makes the tip of `branch` as a hostile publisher would: same tree, message and parents,
/// another committer date.
fn redate_tip(s: &Setup, branch: &str, date: &str) -> String {
    let tip = s.rev_out(branch);
    let tree = s.rev_out(&format!("{branch}^{{tree}}"));
    let message = s.git_out(&["log", "-1", "--format=%B", branch], &[]);
    let parents = s.git_out(&["log", "-1", "--format=%P", branch], &[]);
    let mut args = vec!["commit-tree".to_string(), tree];
    for p in parents.split_whitespace() {
        args.extend(["-p".to_string(), p.to_string()]);
    }
    args.extend(["-m".to_string(), message]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let commit = s.git_out(
        &args,
        &[("GIT_COMMITTER_DATE", date), ("GIT_AUTHOR_DATE", date)],
    );
    s.git_out(
        &["update-ref", &format!("refs/heads/{branch}"), &commit, &tip],
        &[],
    );
    commit
}

#[test]
fn a_backdated_landing_does_not_open_the_soak() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    let (code, out) = gate_with(&s, BOB, "2026-11-30T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("✘ soaked  soaked 1 of 5 working days"),
        "{out}"
    );

    let forged = redate_tip(&s, "env/dev", "2026-11-15T13:00:00Z");
    let (code, out) = gate_with(&s, BOB, "2026-11-30T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    let want = format!(
        "✘ soaked  env/dev@{} says {} arrived at 2026-11-15T13:00:00Z, before that source commit was made (2026-11-26T13:00:00Z); the soak is not counted from a time that cannot be true.",
        &forged[..7],
        &s.git_out_source(&["rev-parse", "--short=7", "HEAD"])
    );
    assert!(out.contains(&want), "{out}");
    assert!(!out.contains("✔ soaked"), "{out}");
}

#[test]
fn a_missing_notes_ref_is_named_with_how_to_fetch_it() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    // Only prod changes: dev's arrival is recorded only in a note.
    s.platform.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    image: nginx:1.28\n    args: !append [--prod]\n",
    );
    s.commit(
        "Newer nginx in prod",
        "Alice Author <alice@example.com>",
        "2026-11-26T13:00:00Z",
    );
    s.publish("2026-11-26T13:00:00Z");
    s.git_out(&["update-ref", "-d", "refs/notes/hydrator.metadata"], &[]);
    let (code, out) = gate_with(&s, BOB, "2026-12-10T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is not on env/dev yet, and this clone has no refs/notes/hydrator.metadata: if a publish left env/dev as it was, the arrival is recorded there; fetch it: git fetch origin '+refs/notes/*:refs/notes/*'; soaked 0 of 5 working days\n"),
        "{out}"
    );
    assert!(
        !out.contains("not yet on the previous environment's branch"),
        "{out}"
    );
}

#[test]
fn publishing_with_uncommitted_changes_warns() {
    let s = Setup::new();
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.net}\n",
    );
    let o = s.publish("2026-11-02T10:00:00Z");
    let head = s.git_out_source(&["rev-parse", "--short=7", "HEAD"]);
    assert_eq!(
        stderr(&o),
        format!(
            "warning: published HEAD {head}; 1 uncommitted change(s) in the source are not in it: environments/layer.yaml\nhint: commit them and publish again to publish them\n"
        )
    );
}

#[test]
fn a_backdated_note_does_not_open_the_soak() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    s.platform.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    image: nginx:1.28\n    args: !append [--prod]\n",
    );
    let change = s.commit(
        "Newer nginx in prod",
        "Alice Author <alice@example.com>",
        "2026-11-26T13:00:00Z",
    );
    s.publish("2026-11-26T13:00:00Z");
    s.git_out(
        &[
            "notes",
            "--ref=hydrator.metadata",
            "add",
            "-f",
            "-m",
            &format!(r#"[{{"drySha": "{change}", "at": "2026-11-10T09:00:00Z"}}]"#),
            "env/dev",
        ],
        &[],
    );
    let (code, out) = gate_with(&s, BOB, "2026-12-01T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "✘ soaked  env/dev@{} says {} arrived at 2026-11-10T09:00:00Z, before that source commit was made (2026-11-26T13:00:00Z)",
            &s.rev_out("env/dev")[..7],
            &change[..7]
        )),
        "{out}"
    );
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-12-01T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "  ⚠ env/dev@{} says {} arrived at 2026-11-10T09:00:00Z, before that source commit was made (2026-11-26T13:00:00Z) (a note): its date cannot be trusted\n",
            &s.rev_out("env/dev")[..7],
            &change[..7]
        )),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_backdated_landing_shows_in_status_and_audit() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    let forged = redate_tip(&s, "env/dev", "2026-11-15T13:00:00Z");
    let why = format!(
        "env/dev@{} says {} arrived at 2026-11-15T13:00:00Z, before that source commit was made (2026-11-26T13:00:00Z): its date cannot be trusted",
        &forged[..7],
        &s.git_out_source(&["rev-parse", "--short=7", "HEAD"])
    );
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-11-30T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!("  ⚠ {why}\n")),
        "{}",
        stdout(&o)
    );
    let o = s.strata(&["audit", "--repo", "OUT", "--env", "dev"]);
    assert!(
        stdout(&o).contains(&format!("- **⚠ Problem:** {why}\n")),
        "{}",
        stdout(&o)
    );
}

/// Promotes the proposed change, then a second one (published on `second`, promoted a soak
/// later). Returns the first promotion commit.
fn two_promotions() -> (Setup, String) {
    let s = proposed_change("2026-11-26T13:00:00Z");
    s.promote("2026-12-03T13:00:00Z");
    let first = s.rev_out("env/prod");
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.net}\n",
    );
    s.commit(
        "Move on to example.net",
        "Alice Author <alice@example.com>",
        "2026-12-04T09:00:00Z",
    );
    s.publish("2026-12-04T09:00:00Z");
    s.promote("2026-12-11T09:00:00Z");
    (s, first)
}

#[test]
fn a_forged_promotion_is_listed_as_a_direct_push() {
    let (s, _) = two_promotions();
    // Mallory edits a manifest on env/prod and copies the last promotion's message.
    let path = "sto2/workload/web/deployment-web.yaml";
    let text = s.git_out(&["show", &format!("env/prod:{path}")], &[]);
    let file = s.out_dir.path().join("edited.yaml");
    std::fs::write(&file, format!("{text}\n# by hand\n")).expect("write");
    let blob = s.git_out(&["hash-object", "-w", file.to_str().expect("utf8")], &[]);
    let forged = recommit_with(&s, "env/prod", &[format!("100644,{blob},{path}")]);

    let o = s.strata(&[
        "audit", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(entries[0]["commit"], forged);
    assert_eq!(entries[0]["kind"], "direct-push", "{entries}");
    assert_eq!(entries[0]["approvers"], serde_json::json!([]), "{entries}");
    let problems = entries[0]["problems"].to_string();
    for want in [
        "it has 1 parent(s), where a promotion has 2",
        "is not a publish of the proposed drySha",
        "its tree is not the tree of the proposal",
        "differs from the Render-digest it records",
    ] {
        assert!(problems.contains(want), "{want}: {problems}");
    }
    assert_eq!(entries[1]["kind"], "promotion", "{entries}");
    let md = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    let top = md.split("\n## ").nth(1).expect("an entry");
    assert!(
        top.starts_with("⚠ Direct push, not through a promotion"),
        "{md}"
    );
    assert!(top.contains("- **Approved by:** (nobody)"), "{md}");

    let o = s.strata(&["check", "--repo", "OUT", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "    ⚠ its tip {}: its tree's digest sha256:",
            &forged[..7]
        )),
        "{}",
        stdout(&o)
    );
}

#[test]
fn moving_prod_back_to_an_earlier_promotion_is_found() {
    let (s, first) = two_promotions();
    let second = s.rev_out("env/prod");
    s.git_out(&["update-ref", "refs/heads/env/prod", &first], &[]);
    let want = format!(
        "env/prod no longer contains the promotion {} of 2026-12-11T09:00:00Z, which env/prod-next holds: env/prod was moved back, deleted or replaced",
        &second[..7]
    );

    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-12-14T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("  ⚠ {want}\n")),
        "{}",
        stdout(&o)
    );

    let o = s.strata(&["check", "--repo", "OUT"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("    ⚠ {want}\n")),
        "{}",
        stdout(&o)
    );

    let md = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    assert!(
        md.contains(&format!(
            "## ⚠ History rewritten — `{}`\n\n- {want}\n",
            &second[..7]
        )),
        "{md}"
    );

    let (code, out) = gate_with(&s, BOB, "2026-12-14T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("✘ history  1 problem(s) in the history of env/prod, env/prod-next, env/dev"),
        "{out}"
    );
    assert!(out.contains(&format!("    {want}\n")), "{out}");

    // publish will not bury the evidence under a new proposal.
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.info}\n",
    );
    s.commit(
        "And on",
        "Alice Author <alice@example.com>",
        "2026-12-14T09:00:00Z",
    );
    let o = s.strata(&["publish", "--repo", "OUT", "--now", "2026-12-14T10:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("error: {want}; nothing was written\n")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn replacing_the_first_environment_with_an_unrelated_commit_is_found() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    let dev = s.rev_out("env/dev");
    let before = s.rev_out("env/dev~1");
    let tree = s.rev_out("env/dev^{tree}");
    let message = s.git_out(&["log", "-1", "--format=%B", "env/dev"], &[]);
    let root = s.git_out(
        &["commit-tree", &tree, "-m", &message],
        &[("GIT_COMMITTER_DATE", "2026-11-26T13:00:00Z")],
    );
    s.git_out(&["update-ref", "refs/heads/env/dev", &root, &dev], &[]);
    let want = format!(
        "env/dev no longer contains {}, which env/prod-next@{} recorded as its tip when it was published (2026-11-26T13:00:00Z): env/dev was moved back, deleted or replaced",
        &before[..7],
        &s.rev_out("env/prod-next")[..7]
    );
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-12-04T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("  ⚠ {want}\n")),
        "{}",
        stdout(&o)
    );
    let o = s.strata(&["check", "--repo", "OUT", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = s.strata(&["audit", "--repo", "OUT", "--env", "dev", "--format", "json"]);
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(entries[0]["kind"], "rewritten", "{entries}");
    let (code, out) = gate_with(&s, BOB, "2026-12-04T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✘ history  "), "{out}");
}

#[test]
fn publishing_an_older_commit_needs_rollback_and_is_recorded() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    s.promote("2026-12-03T13:00:00Z");
    let dev = s.rev_out("env/dev");
    let old = s.git_out_source(&["rev-parse", "HEAD~1"]);
    s.git_out_source(&["checkout", "--quiet", "--detach", &old]);
    let o = s.strata(&["publish", "--repo", "OUT", "--now", "2026-12-04T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let head = s.git_out_source(&["rev-parse", "--short=7", "HEAD@{1}"]);
    assert_eq!(
        stderr(&o),
        format!(
            "error: HEAD {} is older than {head} that env/dev runs; nothing was written\nhint: publish from the branch that has {head} (git pull), or roll back on purpose with --rollback \"reason\", which the commit and the audit record\n",
            &old[..7]
        )
    );
    assert_eq!(s.rev_out("env/dev"), dev, "nothing was written");

    let o = s.strata(&[
        "publish",
        "--repo",
        "OUT",
        "--now",
        "2026-12-04T09:00:00Z",
        "--rollback",
        "example.org breaks logins",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!("from {}), rolled back from {head}", &old[..7])),
        "{}",
        stdout(&o)
    );
    let message = s.git_out(&["log", "-1", "--format=%B", "env/dev"], &[]);
    assert!(
        message.contains("\nRollback: example.org breaks logins\nRolled-back-from: "),
        "{message}"
    );
    let md = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "dev"]));
    assert!(
        md.contains("\n## Rollback 2026-12-04T09:00:00Z — `"),
        "{md}"
    );
    assert!(
        md.contains("- **Rollback:** example.org breaks logins\n"),
        "{md}"
    );

    // Promoting it rolls prod back: the history gate lets it through as a rollback, and the
    // promotion records it.
    let (code, out) = gate_with(&s, BOB, "2026-12-10T09:00:00Z");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("✔ history  env/prod, env/prod-next, env/dev moved only forward; this proposal is a rollback: example.org breaks logins\n"),
        "{out}"
    );
    s.promote("2026-12-10T09:00:00Z");
    let md = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    assert!(
        md.contains("\n## Promotion of a rollback 2026-12-10T09:00:00Z — `"),
        "{md}"
    );
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-12-10T10:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_proposal_older_than_prod_without_rollback_closes_the_history_gate() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    s.promote("2026-12-03T13:00:00Z");
    // Mallory points env/prod-next back at the first proposal, which holds the older drySha.
    let first = s.git_out(&["rev-list", "--max-parents=0", "env/prod-next"], &[]);
    let active = s.git_out_source(&["rev-parse", "--short=7", "HEAD"]);
    s.git_out(&["update-ref", "refs/heads/env/prod-next", &first], &[]);
    let (code, out) = gate_with(&s, BOB, "2026-12-10T09:00:00Z");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("which is older than {active} that env/prod runs: promoting it would roll env/prod back; publish it with --rollback \"reason\" to do that on purpose")),
        "{out}"
    );
}

/// The backticked words of a Markdown table cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_trust_model_is_what_protection_prints() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README");
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .args(["protection", "--forge", "github"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ruleset: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");

    // The ruleset shown in the README is the one printed.
    let section = readme
        .split("### strata protection")
        .nth(1)
        .expect("section");
    let shown = section
        .split("```json\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a json block");
    let shown: serde_json::Value = serde_json::from_str(shown).expect("README json");
    assert_eq!(
        shown, ruleset,
        "README's ruleset differs from `strata protection --forge github`"
    );

    // The trust model's row for env/* names exactly what the ruleset sets.
    let model = readme
        .split("### The trust model")
        .nth(1)
        .expect("trust model");
    let row = model
        .lines()
        .find(|l| l.starts_with("| `refs/heads/env/*` of the output repository |"))
        .expect("the env/* row");
    let cells: Vec<&str> = row.split(" | ").collect();
    let github: Vec<String> = code_spans(cells[2]);
    assert_eq!(
        ruleset["conditions"]["ref_name"]["include"],
        serde_json::json!(["refs/heads/env/*"])
    );
    let mut printed: Vec<String> = Vec::new();
    for rule in ruleset["rules"].as_array().expect("rules") {
        printed.push(rule["type"].as_str().expect("type").to_string());
        if let Some(params) = rule["parameters"].as_object() {
            for (k, v) in params {
                if v == &serde_json::Value::Bool(true) {
                    printed.push(k.clone());
                }
            }
            for check in params
                .get("required_status_checks")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                printed.push(check["context"].as_str().expect("context").to_string());
            }
        }
    }
    printed.retain(|p| p != "strict_required_status_checks_policy");
    printed.sort();
    let mut named = github.clone();
    named.sort();
    assert_eq!(
        named, printed,
        "the trust model's env/* row and the ruleset disagree"
    );
    assert!(cells[2].contains(", strict"), "{row}");

    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .args(["protection", "--forge", "gitlab"])
        .output()
        .expect("run");
    let script = stdout(&o);
    let gitlab = code_spans(cells[3]);
    assert!(gitlab.len() >= 7, "{row}");
    for setting in gitlab {
        let key = setting.split('=').next().unwrap_or("");
        let found = if setting == "env/*" {
            script.contains("name=env/*")
        } else if setting.contains('=') {
            script.contains(&setting)
        } else {
            script.contains(key)
        };
        assert!(
            found,
            "`{setting}` of the trust model is not in the GitLab script:\n{script}"
        );
    }
}

#[test]
fn a_publish_straight_onto_prod_is_a_direct_push_in_audit_and_check() {
    // What publish did before the policy in force: a publish commit on env/prod itself.
    let (s, _) = two_promotions();
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: evil.example}\n",
    );
    s.commit(
        "Tidy up",
        "Mallory <mallory@example.com>",
        "2026-12-12T09:00:00Z",
    );
    s.publish("2026-12-12T09:00:00Z");
    let tree = s.rev_out("env/prod-next^{tree}");
    let message = s.git_out(&["log", "-1", "--format=%B", "env/prod-next"], &[]);
    let direct = s.git_out(
        &["commit-tree", &tree, "-p", "env/prod", "-m", &message],
        &[("GIT_COMMITTER_DATE", "2026-12-12T09:00:00Z")],
    );
    s.git_out(&["update-ref", "refs/heads/env/prod", &direct], &[]);

    let o = s.strata(&[
        "audit", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(entries[0]["commit"], direct, "{entries}");
    assert_eq!(entries[0]["kind"], "direct-push", "{entries}");
    assert_eq!(entries[1]["kind"], "promotion", "{entries}");
    let o = s.strata(&["check", "--repo", "OUT", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "    ⚠ its tip {}: it is not a promotion: it reached this gated branch around the gates (a direct push)\n",
            &direct[..7]
        )),
        "{}",
        stdout(&o)
    );
}
