//! Publish, the promotion gates, promote and audit, on real git repositories in temp dirs with
//! commit times set explicitly.

mod common;

use std::path::Path;

use git2::{Signature, Time};

use common::promotion::{Setup, proposed_change, ts};
use common::{stderr, stdout};

const BOB: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

#[test]
fn publish_writes_env_branches_with_metadata_and_trailers() {
    let s = Setup::new();
    let o = s.publish("2026-11-02T10:00:00Z");
    let text = stdout(&o);
    assert!(text.contains("env/dev: committed"), "{text}");
    assert!(text.contains("env/prod-next: committed"), "{text}");
    let out = s.output_repo();
    let dev = out
        .find_reference("refs/heads/env/dev")
        .expect("env/dev")
        .peel_to_commit()
        .expect("commit");
    let msg = dev.message().expect("msg");
    let head = s
        .source
        .head()
        .expect("head")
        .peel_to_commit()
        .expect("c")
        .id()
        .to_string();
    assert!(
        msg.starts_with(&format!("{}: Add the platform\n", &head[..7])),
        "{msg}"
    );
    for trailer in [
        format!("Dry-sha: {head}"),
        "Environment: dev".to_string(),
        "Co-authored-by: Alice Author <alice@example.com>".to_string(),
    ] {
        assert!(msg.contains(&trailer), "{trailer} in {msg}");
    }
    assert!(msg.contains("Render-digest: sha256:"), "{msg}");
    let tree = dev.tree().expect("tree");
    let meta = out
        .find_blob(
            tree.get_path(Path::new("hydrator.metadata"))
                .expect("metadata")
                .id(),
        )
        .expect("blob");
    let meta: serde_json::Value = serde_json::from_slice(meta.content()).expect("json");
    assert_eq!(meta["drySha"], head);
    assert_eq!(meta["author"], "Alice Author <alice@example.com>");
    assert_eq!(meta["subject"], "Add the platform");
    assert_eq!(meta["components"]["dev-sto2-workload"]["web"], "1.0");
    assert!(
        meta["treeDigest"]
            .as_str()
            .expect("digest")
            .starts_with("sha256:")
    );
    assert!(
        tree.get_path(Path::new("sto2/workload/web/deployment-web.yaml"))
            .is_ok()
    );
    assert!(tree.get_path(Path::new("argocd/project.yaml")).is_ok());
    assert!(
        out.find_reference("refs/heads/env/prod").is_err(),
        "publish never writes a gated environment directly"
    );
}

#[test]
fn a_no_op_publish_makes_no_commit_and_writes_a_note() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    s.platform.write("README.md", "docs only\n");
    let docs = s.commit(
        "Document the platform",
        "Alice Author <alice@example.com>",
        "2026-11-03T09:00:00Z",
    );
    let out = s.output_repo();
    let before = out
        .find_reference("refs/heads/env/dev")
        .expect("ref")
        .target()
        .expect("oid");
    let o = s.publish("2026-11-03T10:00:00Z");
    assert!(
        stdout(&o).contains("env/dev: unchanged; noted drySha"),
        "{}",
        stdout(&o)
    );
    let after = out
        .find_reference("refs/heads/env/dev")
        .expect("ref")
        .target()
        .expect("oid");
    assert_eq!(before, after);
    let note = out
        .find_note(Some("refs/notes/hydrator.metadata"), after)
        .expect("note");
    assert!(
        note.message().expect("msg").contains(&docs),
        "{:?}",
        note.message()
    );
}

#[test]
fn promoting_too_early_names_the_ready_date() {
    let s = proposed_change("2026-11-26T13:00:00Z"); // Thursday 14:00 in Stockholm
    let bob = s.approvals(BOB);
    let (code, out) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-11-30T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "✘ soaked  soaked 1 of 5 working days; ready at 2026-12-03 14:00 Europe/Stockholm"
        ),
        "{out}"
    );
    assert!(out.contains("✔ reproducible"), "{out}");
    assert!(out.contains("✔ four-eyes"), "{out}");
    assert!(
        out.contains("promotion to prod: blocked by 1 gate"),
        "{out}"
    );
}

#[test]
fn promoting_after_the_soak_is_open_and_promote_merges() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    let bob = s.approvals(BOB);
    let (code, out) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-12-03T13:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("promotion to prod: ready"), "{out}");
    let o = s.strata(&[
        "promote",
        "--repo",
        "OUT",
        "--to",
        "prod",
        "--approvals",
        &bob,
        "--now",
        "2026-12-03T13:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = s.output_repo();
    let prod = out
        .find_reference("refs/heads/env/prod")
        .expect("env/prod")
        .peel_to_commit()
        .expect("c");
    let next = out
        .find_reference("refs/heads/env/prod-next")
        .expect("next")
        .peel_to_commit()
        .expect("c");
    assert_eq!(prod.tree_id(), next.tree_id());
    let msg = prod.message().expect("msg");
    assert!(msg.contains("Sha-dry-proposed: "), "{msg}");
    assert!(msg.contains("Soaked-in: env/dev@"), "{msg}");
    assert!(msg.contains("(5 working days)"), "{msg}");
    assert!(
        msg.contains("Approved-by: Bob Reviewer <bob@example.com>"),
        "{msg}"
    );

    let audit = s.strata(&["audit", "--repo", "OUT", "--env", "prod"]);
    assert_eq!(audit.status.code(), Some(0), "{}", stderr(&audit));
    let md = stdout(&audit);
    assert!(md.starts_with("# Audit trail of `prod`"), "{md}");
    assert!(md.contains("## Promotion 2026-12-03T13:00:00Z"), "{md}");
    assert!(
        md.contains("- **Approved by:** Bob Reviewer <bob@example.com>"),
        "{md}"
    );
    assert!(
        md.contains("| Move to example.org | Alice Author <alice@example.com> |"),
        "{md}"
    );
    let stable: String = md
        .lines()
        .map(|l| {
            if l.contains('`') {
                mask_shas(l)
            } else {
                l.to_string()
            }
        })
        // Output commit ids depend on the temp dir (the metadata's repoURL); mask them.
        .map(|l| match l.split_once("env/dev@") {
            Some((a, b)) => format!("{a}env/dev@<sha>{}", &b[7.min(b.len())..]),
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(stable);
}

fn mask_shas(line: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for part in line.split('`') {
        if in_code && part.len() >= 7 && part.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("`<sha>`");
        } else if in_code && part.starts_with("sha256:") {
            out.push_str("`<digest>`");
        } else if in_code {
            out.push('`');
            out.push_str(part);
            out.push('`');
        } else {
            out.push_str(part);
        }
        in_code = !in_code;
    }
    out
}

#[test]
fn a_holiday_mid_soak_does_not_count() {
    let s = proposed_change("2026-12-21T09:00:00Z"); // Monday; 24 and 25 Dec are holidays
    let bob = s.approvals(BOB);
    let (code, out) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-12-28T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("soaked 3 of 5 working days; ready at 2026-12-30 10:00 Europe/Stockholm"),
        "{out}"
    );
}

#[test]
fn a_revert_in_the_previous_environment_closes_the_soak() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.com}\n",
    );
    // A revert as a new commit on a branch that does not contain the change.
    let base = s
        .source
        .revparse_single("HEAD~1")
        .expect("rev")
        .peel_to_commit()
        .expect("c");
    s.source.set_head_detached(base.id()).expect("detach");
    s.commit(
        "Revert to example.com",
        "Alice Author <alice@example.com>",
        "2026-11-05T09:00:00Z",
    );
    // It does not contain what env/dev runs, so it is a rollback, and must say so.
    let o = s.strata(&[
        "publish",
        "--repo",
        "OUT",
        "--env",
        "dev",
        "--now",
        "2026-11-05T10:00:00Z",
        "--rollback",
        "example.org breaks the login page",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(", rolled back from "), "{}", stdout(&o));
    let bob = s.approvals(BOB);
    let (code, out) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("env/dev no longer contains"), "{out}");
    assert!(out.contains("(a revert?)"), "{out}");
}

#[test]
fn only_a_self_approval_is_not_enough() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let alice = s.approvals(r#"[{"name": "Alice Author", "email": "alice@example.com"}]"#);
    let (code, out) = s.gate(&[
        "--approvals",
        &alice,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("✘ four-eyes  0 of 1 distinct approvers outside the author set"),
        "{out}"
    );
    assert!(out.contains("alice@example.com"), "{out}");
}

#[test]
fn an_approval_by_a_co_author_does_not_count() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    s.commit(
        "Pair on the domain\n\nCo-authored-by: Carol Pair <carol@example.com>",
        "Alice Author <alice@example.com>",
        "2026-11-02T13:00:00Z",
    );
    s.publish("2026-11-02T13:00:00Z");
    let carol = s.approvals(r#"[{"name": "Carol Pair", "email": "carol@example.com"}]"#);
    let (code, out) = s.gate(&[
        "--approvals",
        &carol,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carol@example.com"), "{out}");
    assert!(out.contains("co-author"), "{out}");
}

#[test]
fn github_reviews_count_only_approvals_of_the_head_and_resolve_logins() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let head = s
        .output_repo()
        .find_reference("refs/heads/env/prod-next")
        .expect("r")
        .target()
        .expect("oid")
        .to_string();
    let reviews = format!(
        r#"[{{"user": {{"login": "bob-gh"}}, "state": "APPROVED", "commit_id": "{head}", "submitted_at": "2026-11-19T10:00:00Z"}},
            {{"user": {{"login": "mallory"}}, "state": "APPROVED", "commit_id": "{head}", "submitted_at": "2026-11-19T11:00:00Z"}}]"#
    );
    let file = s.approvals(&reviews);
    let (code, out) = s.gate(&[
        "--approvals",
        &file,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("mallory"),
        "an unresolved login is named: {out}"
    );
}

#[test]
fn break_glass_needs_one_more_approver() {
    let s = proposed_change("2026-11-30T09:00:00Z");
    let bob = s.approvals(BOB);
    let args = [
        "--approvals",
        &bob,
        "--now",
        "2026-11-30T12:00:00Z",
        "--promoter",
        "paula@example.com",
        "--emergency",
        "CVE-2026-0001 in web",
    ];
    let (code, out) = s.gate(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("skipped by break-glass"), "{out}");
    assert!(out.contains("1 of 2 distinct approvers"), "{out}");
    let two = s.approvals(r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}, {"name": "Dora Duty", "email": "dora@example.com"}]"#);
    let o = s.strata(&[
        "promote",
        "--repo",
        "OUT",
        "--to",
        "prod",
        "--approvals",
        &two,
        "--now",
        "2026-11-30T12:00:00Z",
        "--promoter",
        "paula@example.com",
        "--emergency",
        "CVE-2026-0001 in web",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = s.output_repo();
    let prod = out
        .find_reference("refs/heads/env/prod")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    assert!(
        prod.message()
            .expect("m")
            .contains("Emergency: CVE-2026-0001 in web")
    );
    let audit = s.strata(&[
        "audit", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("json");
    assert_eq!(entries[0]["emergency"], "CVE-2026-0001 in web");
    assert_eq!(entries[0]["approvers"].as_array().expect("a").len(), 2);
}

#[test]
fn a_hand_edited_next_branch_closes_the_reproducible_gate() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let out = s.output_repo();
    let next = out
        .find_reference("refs/heads/env/prod-next")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    let mut files = strata::git::output::files_of(&out, &next.tree().expect("t")).expect("files");
    let path = "sto2/workload/web/deployment-web.yaml".to_string();
    let edited = format!(
        "{}# tweaked by hand\n",
        String::from_utf8(files[&path].clone()).expect("utf8")
    );
    files.insert(path.clone(), edited.into_bytes());
    let tree = strata::git::output::write_tree(&out, &files).expect("tree");
    let sig = Signature::new(
        "Mallory",
        "mallory@example.com",
        &Time::new(ts("2026-11-03T09:00:00Z"), 0),
    )
    .expect("sig");
    strata::git::output::commit(
        &out,
        "env/prod-next",
        tree,
        &[next.id()],
        "tweak",
        &sig,
        &sig,
    )
    .expect("commit");
    let bob = s.approvals(BOB);
    let (code, text) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("✘ reproducible"), "{text}");
    assert!(text.contains(&format!("changed by hand: {path}")), "{text}");
}

#[test]
fn promote_with_a_closed_gate_writes_nothing() {
    let s = proposed_change("2026-11-26T13:00:00Z");
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
        "2026-11-27T09:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert!(
        s.output_repo()
            .find_reference("refs/heads/env/prod")
            .is_err()
    );
}

#[test]
fn status_shows_versions_and_what_waits() {
    let s = proposed_change("2026-11-26T13:00:00Z");
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-11-30T09:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("web"), "{text}");
    assert!(text.contains("waiting on env/prod-next"), "{text}");
    assert!(text.contains("soaked 1 of 5 working days"), "{text}");
}

#[test]
fn check_repo_finds_hand_edits_extra_files_and_unpublished_commits() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    let o = s.strata(&["check", "--repo", "OUT"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("in sync: 2 branch(es)"),
        "{}",
        stdout(&o)
    );

    // A hand edit and an extra file on env/dev.
    let out = s.output_repo();
    let dev = out
        .find_reference("refs/heads/env/dev")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    let mut files = strata::git::output::files_of(&out, &dev.tree().expect("t")).expect("files");
    let path = "sto2/workload/web/deployment-web.yaml".to_string();
    let edited = format!(
        "{}# hotfix\n",
        String::from_utf8(files[&path].clone()).expect("utf8")
    );
    files.insert(path.clone(), edited.into_bytes());
    files.insert(
        "sto2/workload/web/extra.yaml".into(),
        b"kind: ConfigMap\n".to_vec(),
    );
    let tree = strata::git::output::write_tree(&out, &files).expect("tree");
    let sig = Signature::new(
        "Mallory",
        "mallory@example.com",
        &Time::new(ts("2026-11-03T09:00:00Z"), 0),
    )
    .expect("sig");
    strata::git::output::commit(&out, "env/dev", tree, &[dev.id()], "hotfix", &sig, &sig)
        .expect("commit");

    // And a source change nobody published.
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.net}\n",
    );
    s.commit(
        "Switch to example.net",
        "Alice Author <alice@example.com>",
        "2026-11-04T09:00:00Z",
    );

    let o = s.strata(&["check", "--repo", "OUT"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains(&format!("edited by hand: {path}")), "{text}");
    assert!(
        text.contains("extra, not rendered by strata: sto2/workload/web/extra.yaml"),
        "{text}"
    );
    assert!(
        text.contains("Switch to example.net (Alice Author <alice@example.com>)"),
        "{text}"
    );
    assert!(text.contains("stale: HEAD"), "{text}");

    let o = s.strata(&[
        "check", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    let checks: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(checks.as_array().expect("list").len(), 1);
    assert_eq!(checks[0]["branch"], "env/prod-next");
    assert_eq!(
        checks[0]["stale"]["unpublished"][0]["subject"],
        "Switch to example.net"
    );
}

#[test]
fn a_change_that_leaves_the_previous_environment_alone_soaks_from_its_publish() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    // Only prod's values change: dev's output is the same, so publish only notes the drySha.
    s.platform.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    image: nginx:1.28\n    args: !append [--prod]\n",
    );
    s.commit(
        "Newer nginx in prod",
        "Alice Author <alice@example.com>",
        "2026-11-26T13:00:00Z",
    );
    let o = s.publish("2026-11-26T13:00:00Z");
    assert!(stdout(&o).contains("env/dev: unchanged"), "{}", stdout(&o));
    let bob = s.approvals(BOB);
    let (code, out) = s.gate(&[
        "--approvals",
        &bob,
        "--now",
        "2026-11-27T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("soaked 0 of 5 working days; ready at 2026-12-03 14:00 Europe/Stockholm"),
        "{out}"
    );
}

#[test]
fn a_merge_on_the_forge_shows_in_the_audit() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let out = s.output_repo();
    let next = out
        .find_reference("refs/heads/env/prod-next")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    let sig = Signature::new(
        "Forge",
        "noreply@forge.example.com",
        &Time::new(ts("2026-11-20T10:00:00Z"), 0),
    )
    .expect("sig");
    strata::git::output::commit(
        &out,
        "env/prod",
        next.tree_id(),
        &[next.id()],
        "Merge pull request #7 from env/prod-next",
        &sig,
        &sig,
    )
    .expect("commit");
    let audit = s.strata(&[
        "audit", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    let entries: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("json");
    assert_eq!(entries[0]["kind"], "direct-push", "{entries}");
    let md = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    assert!(
        md.contains("⚠ Direct push, not through a promotion"),
        "{md}"
    );
}

#[test]
fn approved_by_trailers_on_the_proposal_count() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let out = s.output_repo();
    let next = out
        .find_reference("refs/heads/env/prod-next")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    let message = format!(
        "{}Approved-by: Bob Reviewer <bob@example.com>\n",
        next.message().expect("m")
    );
    let sig = next.committer();
    let parents: Vec<git2::Oid> = next.parent_ids().collect();
    strata::git::output::commit(
        &out,
        "env/prod-next",
        next.tree_id(),
        &parents,
        &message,
        &sig,
        &sig,
    )
    .expect("recommit");
    let (code, text) = s.gate(&[
        "--now",
        "2026-11-20T09:00:00Z",
        "--promoter",
        "paula@example.com",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("✔ four-eyes  1 of 1"), "{text}");
}

#[test]
fn verify_promotion_runs_from_the_output_repository_with_source() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let bob = s.approvals(BOB);
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
        .arg(s.platform.path())
        .args([
            "--approvals",
            &bob,
            "--now",
            "2026-11-20T09:00:00Z",
            "--promoter",
            "paula@example.com",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn check_against_a_checkout_of_one_environment() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    let out = s.output_repo();
    let dev = out
        .find_reference("refs/heads/env/dev")
        .expect("r")
        .peel_to_commit()
        .expect("c");
    let files = strata::git::output::files_of(&out, &dev.tree().expect("t")).expect("files");
    let checkout = tempfile::tempdir().expect("tmp");
    for (path, bytes) in &files {
        let p = checkout.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
    let o = s.platform.strata(&[
        "check",
        "--against",
        checkout.path().to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn a_holiday_that_is_not_a_date_is_an_error() {
    let s = proposed_change("2026-11-02T13:00:00Z");
    let strata_yaml = std::fs::read_to_string(s.platform.path().join("strata.yaml")).expect("read");
    s.platform.write(
        "strata.yaml",
        &strata_yaml.replace("2026-12-25", "2026-02-30"),
    );
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.net}\n",
    );
    s.commit(
        "Bad holiday",
        "Alice Author <alice@example.com>",
        "2026-11-03T09:00:00Z",
    );
    s.publish("2026-11-03T09:00:00Z");
    let (code, text) = s.gate(&["--now", "2026-11-20T09:00:00Z"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("promotion.soak.holidays: `2026-02-30` is not a date"),
        "{text}"
    );
}
