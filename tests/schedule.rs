//! The schedule of a promotion: maintenance windows, change classes and the health gate, on
//! real git repositories in temp dirs with commit times set explicitly.

mod common;

use common::promotion::{POLICY, Setup};
use common::{POLICIES_OFF, STRATA_YAML, stderr, stdout};

const BOB_AND_DORA: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}, {"name": "Dora Duty", "email": "dora@example.com"}]"#;
const BOB: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

/// The test policy with a prod window on Wednesdays 07:00–12:00 in Stockholm.
const WINDOW: &str = "  windows:\n    prod: {days: [wed], from: \"07:00\", to: \"12:00\"}\n";

/// The minimal platform under the test policy plus `extra` (lines under `promotion:`), committed
/// by Alice and published at Monday 2026-11-02 10:00 UTC: prod's proposal soaks from then.
fn published(extra: &str) -> Setup {
    let s = Setup::new();
    let policy = POLICY.replacen("promotion:\n", &format!("promotion:\n{extra}"), 1);
    s.platform.write(
        "strata.yaml",
        &format!("{STRATA_YAML}{POLICIES_OFF}{policy}"),
    );
    s.commit(
        "Maintenance window for prod",
        "Alice Author <alice@example.com>",
        "2026-11-02T09:30:00Z",
    );
    s.publish("2026-11-02T10:00:00Z");
    s
}

fn promote(s: &Setup, now: &str, approvals: &str, emergency: Option<&str>) -> (i32, String) {
    let file = s.approvals(approvals);
    let mut args = vec![
        "promote",
        "--repo",
        "OUT",
        "--to",
        "prod",
        "--approvals",
        &file,
        "--now",
        now,
        "--promoter",
        "paula@example.com",
    ];
    if let Some(reason) = emergency {
        args.extend(["--emergency", reason]);
    }
    let o = s.strata(&args);
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

fn tip_message(s: &Setup, branch: &str) -> String {
    let repo = s.output_repo();
    let commit = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .expect("the branch")
        .peel_to_commit()
        .expect("commit");
    commit.message().expect("utf8").to_string()
}

fn line<'a>(out: &'a str, gate: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(&format!(" {gate}  ")))
        .unwrap_or_else(|| panic!("no {gate} gate in:\n{out}"))
}

#[test]
fn promote_refuses_outside_the_window_and_break_glass_is_unplanned() {
    let s = published(WINDOW);
    // Tuesday 2026-11-10 10:00 in Stockholm: soaked, approved, but not Wednesday.
    let (code, out) = promote(&s, "2026-11-10T09:00:00Z", BOB, None);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        line(&out, "window"),
        "✘ window  outside the prod window (Wed 07:00–12:00 Europe/Stockholm); it opens next at 2026-11-11 07:00 Europe/Stockholm: promote then, or with --emergency \"reason\" for an unplanned change"
    );
    assert!(
        out.contains("nothing was written: every gate must be open to promote"),
        "{out}"
    );
    assert!(
        s.output_repo()
            .find_reference("refs/heads/env/prod")
            .is_err()
    );

    let (code, out) = promote(
        &s,
        "2026-11-10T09:00:00Z",
        BOB_AND_DORA,
        Some("CVE-2026-0001 in web"),
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        line(&out, "window"),
        "✔ window  unplanned, by break-glass: outside the prod window (Wed 07:00–12:00 Europe/Stockholm); it opens next at 2026-11-11 07:00 Europe/Stockholm"
    );
    let message = tip_message(&s, "env/prod");
    for trailer in [
        "Emergency: CVE-2026-0001 in web\n",
        "Planned: no\n",
        "Window: outside Wed 07:00–12:00 Europe/Stockholm, by break-glass\n",
    ] {
        assert!(message.contains(trailer), "{trailer} in {message}");
    }

    let audit = s.strata(&["audit", "--repo", "OUT", "--env", "prod"]);
    let text = stdout(&audit);
    assert!(
        text.starts_with(
            "# Audit trail of `prod`\n\n1 change(s), newest first, 1 of them unplanned (break-glass)."
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "- **Break-glass:** CVE-2026-0001 in web\n- **Unplanned:** yes, by break-glass\n- **Window:** outside Wed 07:00–12:00 Europe/Stockholm, by break-glass\n"
        ),
        "{text}"
    );
    let json = s.strata(&[
        "audit", "--repo", "OUT", "--env", "prod", "--format", "json",
    ]);
    let entries: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(entries[0]["unplanned"], true);
    assert_eq!(entries[0]["emergency"], "CVE-2026-0001 in web");
}

#[test]
fn inside_the_window_a_promotion_is_planned() {
    let s = published(WINDOW);
    // Wednesday 2026-11-11 07:00 in Stockholm exactly: the window is open.
    let (code, out) = promote(&s, "2026-11-11T06:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        line(&out, "window"),
        "✔ window  inside the prod window (Wed 07:00–12:00 Europe/Stockholm) until 2026-11-11 12:00 Europe/Stockholm"
    );
    let message = tip_message(&s, "env/prod");
    assert!(
        message.contains("Window: inside Wed 07:00–12:00 Europe/Stockholm\n"),
        "{message}"
    );
    assert!(!message.contains("Planned: no"), "{message}");
    let audit = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    assert!(
        audit.starts_with("# Audit trail of `prod`\n\n1 change(s), newest first. Rebuilt"),
        "{audit}"
    );
}

#[test]
fn status_shows_the_window_of_what_waits() {
    let s = published(WINDOW);
    let o = s.strata(&["status", "--repo", "OUT", "--now", "2026-11-12T09:00:00Z"]);
    let out = stdout(&o);
    assert!(
        out.contains("    ✘ window  outside the prod window (Wed 07:00–12:00 Europe/Stockholm); it opens next at 2026-11-18 07:00 Europe/Stockholm"),
        "{out}"
    );
    // With nothing waiting, status still shows the window; dev has none.
    let (code, out) = promote(&s, "2026-11-18T06:30:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    let out = stdout(&s.strata(&["status", "--repo", "OUT", "--now", "2026-11-18T10:00:00Z"]));
    assert!(
        out.contains("\n  window: inside the prod window (Wed 07:00–12:00 Europe/Stockholm) until 2026-11-18 12:00 Europe/Stockholm\n"),
        "{out}"
    );
    assert!(!out.contains("waiting on"), "{out}");
    assert_eq!(out.matches("window:").count(), 1, "{out}");
}

/// Major changes once a month, in the first window of the month.
const MAJOR: &str = "  windows:\n    prod: {days: [wed], from: \"07:00\", to: \"12:00\"}\n  majorChanges: {firstWindowOfMonth: true, perMonth: 1, announceDays: 14}\n";

#[test]
fn a_major_change_waits_for_the_first_window_of_next_month() {
    let s = published(MAJOR);
    // The first promotion adds every component: major. Wednesday 2 December is the first
    // window of the month.
    let (code, out) = promote(&s, "2026-12-02T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        line(&out, "change-class"),
        "✔ change-class  major: allowed now under promotion.majorChanges"
    );
    assert!(
        tip_message(&s, "env/prod").contains("Change-class: major\n"),
        "{}",
        tip_message(&s, "env/prod")
    );

    // web 2.0, soaked by the second Wednesday: a second major change in December.
    s.platform.write(
        "components/web/component.yaml",
        &common::WEB_COMPONENT.replace("\"1.0\"", "\"2.0\""),
    );
    s.commit(
        "web 2.0",
        "Alice Author <alice@example.com>",
        "2026-12-02T09:00:00Z",
    );
    s.publish("2026-12-02T09:30:00Z");
    let (code, out) = promote(&s, "2026-12-16T08:00:00Z", BOB, None);
    assert_eq!(code, 1, "{out}");
    let gate = line(&out, "change-class");
    assert!(
        gate.starts_with("✘ change-class  major: a major change only in the first window of the month (2026-12-02); the next one opens at 2027-01-06 07:00 Europe/Stockholm; 1 of 1 planned major change(s) to prod in 2026-12 already ("),
        "{gate}"
    );
    assert!(
        out.contains("    web 1.0 → 2.0: the major version moves: major (on prod-sto2-workload)"),
        "{out}"
    );
    // Across the month boundary: the first window of January.
    let (code, out) = promote(&s, "2027-01-06T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_patch_is_minor_any_wednesday() {
    let s = published(MAJOR);
    let (code, out) = promote(&s, "2026-12-02T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    s.platform.write(
        "components/web/component.yaml",
        &common::WEB_COMPONENT.replace("\"1.0\"", "\"1.0.1\""),
    );
    s.commit(
        "web 1.0.1",
        "Alice Author <alice@example.com>",
        "2026-12-02T09:00:00Z",
    );
    s.publish("2026-12-02T09:30:00Z");
    let (code, out) = promote(&s, "2026-12-16T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        line(&out, "change-class"),
        "✔ change-class  minor: no component's major or minor version moves"
    );
    assert!(
        out.contains("    web 1.0 → 1.0.1: a patch: minor (on prod-sto2-workload)"),
        "{out}"
    );
}

/// Prod needs proof that dev runs the change healthy.
const HEALTH: &str = "  health: {required: [prod]}\n";

/// Applications as `kubectl get applications.argoproj.io -n argocd -o yaml` prints them:
/// (name, synced revision, sync status, health status).
fn export(s: &Setup, apps: &[(&str, &str, &str, &str)]) -> String {
    let mut text =
        String::from("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n");
    for (name, revision, sync, health) in apps {
        text.push_str(&format!(
            "- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata:\n    name: {name}\n    namespace: argocd\n  spec:\n    project: dev\n    source: {{repoURL: https://git.example.com/out.git, targetRevision: env/dev}}\n  status:\n    health: {{status: {health}}}\n    history:\n    - {{deployedAt: \"2026-11-02T10:01:00Z\", id: 1, revision: \"{revision}\"}}\n    operationState: {{finishedAt: \"2026-11-02T10:01:00Z\", phase: Succeeded, startedAt: \"2026-11-02T10:00:30Z\"}}\n    reconciledAt: \"2026-11-02T10:04:00Z\"\n    sync: {{revision: \"{revision}\", status: {sync}}}\n"
        ));
    }
    // A file per export, so that an earlier one stays as it was.
    let taken = std::fs::read_dir(s.platform.path())
        .expect("read dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("apps-"))
        })
        .count();
    let path = s.platform.path().join(format!("apps-{taken}.yaml"));
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf8").to_string()
}

fn verify_with(s: &Setup, now: &str, extra: &[&str]) -> (i32, String) {
    verify_approved(s, now, BOB, extra)
}

/// `verify-promotion` of prod at `now` with `approvals`: the exit code and what it printed.
fn verify_approved(s: &Setup, now: &str, approvals: &str, extra: &[&str]) -> (i32, String) {
    let file = s.approvals(approvals);
    let mut args = vec![
        "--approvals",
        &file,
        "--now",
        now,
        "--promoter",
        "paula@example.com",
    ];
    args.extend_from_slice(extra);
    s.gate(&args)
}

#[test]
fn the_health_gate_reads_the_applications_of_the_previous_environment() {
    let s = published(HEALTH);
    let now = "2026-11-10T09:00:00Z";
    let (code, out) = verify_with(&s, now, &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        line(&out, "healthy"),
        "✘ healthy  the policy requires proof that dev runs the change healthy before prod: pass --argocd-status FILE, the output of `kubectl get applications.argoproj.io -n argocd -o yaml` on the Argo CD of dev"
    );
    let dev = s.rev_out("env/dev");
    let short = &dev[..7];

    // One Degraded, one OutOfSync.
    let file = export(
        &s,
        &[
            ("dev-root", &dev, "OutOfSync", "Healthy"),
            ("dev-sto2-workload-web", &dev, "Synced", "Degraded"),
        ],
    );
    let (code, out) = verify_with(&s, now, &["--argocd-status", &file]);
    assert_eq!(code, 1, "{out}");
    let proposed = &s.git_out(&["log", "-1", "--format=%s", "env/prod-next"], &[])[..7];
    assert_eq!(
        line(&out, "healthy"),
        format!(
            "✘ healthy  2 of 2 Applications of dev are not verified with {proposed}; fix dev and export the Applications again"
        )
    );
    assert!(
        out.contains("    dev-root: is OutOfSync, not Synced\n"),
        "{out}"
    );
    assert!(
        out.contains("    dev-sto2-workload-web: is Degraded, not Healthy\n"),
        "{out}"
    );

    // A missing Application.
    let file = export(&s, &[("dev-root", &dev, "Synced", "Healthy")]);
    let (code, out) = verify_with(&s, now, &["--argocd-status", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("    dev-sto2-workload-web: not in the export; export every Application of dev (kubectl get applications.argoproj.io -n argocd -o yaml)\n"),
        "{out}"
    );

    // Every Application synced env/dev's commit and is healthy: promote records the evidence.
    let file = export(
        &s,
        &[
            ("dev-root", &dev, "Synced", "Healthy"),
            ("dev-sto2-workload-web", &dev, "Synced", "Healthy"),
        ],
    );
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
        now,
        "--promoter",
        "paula@example.com",
        "--argocd-status",
        &file,
    ]);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(
        line(&out, "healthy"),
        format!(
            "✔ healthy  2 of 2 Applications of dev synced {proposed} or later, and are Synced and Healthy"
        )
    );
    let message = tip_message(&s, "env/prod");
    for trailer in [
        format!(
            "Verified-in: env/dev: 2 of 2 Applications of dev synced {proposed} or later, and are Synced and Healthy\n"
        ),
        format!(
            "Verified-app: dev-root {short} (drySha {proposed}) Synced Healthy since 2026-11-02T10:01:00Z\n"
        ),
        format!(
            "Verified-app: dev-sto2-workload-web {short} (drySha {proposed}) Synced Healthy since 2026-11-02T10:01:00Z\n"
        ),
    ] {
        assert!(message.contains(&trailer), "{trailer} in {message}");
    }
    let audit = stdout(&s.strata(&["audit", "--repo", "OUT", "--env", "prod"]));
    assert!(
        audit.contains(&format!("- **Verified in:** env/dev: 2 of 2 Applications of dev synced {proposed} or later, and are Synced and Healthy\n  - dev-root {short}")),
        "{audit}"
    );

    // A revision that predates the next proposal: Argo CD has not deployed it yet.
    s.platform.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    s.commit(
        "Move to example.org",
        "Alice Author <alice@example.com>",
        "2026-11-11T09:00:00Z",
    );
    s.publish("2026-11-11T09:30:00Z");
    let file = export(
        &s,
        &[
            ("dev-root", &s.rev_out("env/dev"), "Synced", "Healthy"),
            ("dev-sto2-workload-web", &dev, "Synced", "Healthy"),
        ],
    );
    let (code, out) = verify_with(&s, "2026-11-19T09:00:00Z", &["--argocd-status", &file]);
    assert_eq!(code, 1, "{out}");
    let next = &s.git_out(&["log", "-1", "--format=%s", "env/prod-next"], &[])[..7];
    assert!(
        out.contains(&format!("    dev-sto2-workload-web: synced {short} (drySha {proposed}), which predates {next}: Argo CD has not deployed the change yet\n")),
        "{out}"
    );
}

#[test]
fn a_malformed_export_names_the_file_and_the_place() {
    let s = published(HEALTH);
    let path = s.platform.path().join("apps.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata: {name: a\n",
    )
    .expect("write");
    let file = path.to_str().expect("utf8");
    let (code, out) = verify_with(&s, "2026-11-10T09:00:00Z", &["--argocd-status", file]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "--argocd-status {file}: the live input is not valid YAML: document 1, line 7, column 1"
        )),
        "{out}"
    );
    assert!(
        out.contains("kubectl get applications.argoproj.io -n argocd -o yaml"),
        "{out}"
    );
}

/// The README's chapter on the schedule shows the output of these runs, byte for byte.
#[test]
fn the_readme_shows_real_output_of_each_gate() {
    let s = published(
        "  windows:\n    prod: {days: [wed], from: \"07:00\", to: \"12:00\"}\n  freezes:\n    - {from: 2026-12-19, to: 2027-01-06, reason: Christmas and New Year}\n  majorChanges: {firstWindowOfMonth: true, perMonth: 1, announceDays: 14}\n  health: {required: [prod]}\n",
    );
    let dev = s.rev_out("env/dev");
    let healthy = export(
        &s,
        &[
            ("dev-root", &dev, "Synced", "Healthy"),
            ("dev-sto2-workload-web", &dev, "Synced", "Healthy"),
        ],
    );
    let run =
        |now: &str, approvals: &str, extra: &[&str]| verify_approved(&s, now, approvals, extra).1;
    let mut shown = vec![run(
        "2026-11-10T09:00:00Z",
        BOB,
        &["--argocd-status", &healthy],
    )];
    shown.push(run(
        "2026-11-10T09:00:00Z",
        BOB_AND_DORA,
        &[
            "--argocd-status",
            &healthy,
            "--emergency",
            "CVE-2026-0001 in web",
        ],
    ));
    let sick = export(
        &s,
        &[
            ("dev-root", &dev, "OutOfSync", "Healthy"),
            ("dev-sto2-workload-web", &dev, "Synced", "Degraded"),
        ],
    );
    shown.push(run(
        "2026-12-02T08:00:00Z",
        BOB,
        &["--argocd-status", &sick],
    ));
    shown.push(run("2026-12-02T08:00:00Z", BOB, &[]));
    shown.push(run(
        "2026-12-02T08:00:00Z",
        BOB,
        &["--argocd-status", &healthy],
    ));
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README.md");
    if let Ok(dump) = std::env::var("STRATA_DUMP_README_OUTPUT") {
        std::fs::write(dump, shown.join("\n----\n")).expect("dump");
    }
    for output in shown {
        assert!(
            readme.contains(&output),
            "the README does not show this output of verify-promotion:\n{output}"
        );
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["protection", "--forge", "github"])
        .output()
        .expect("run");
    let explained = stderr(&o);
    assert!(
        explained.contains("window is judged when the check runs"),
        "{explained}"
    );
    assert!(
        readme.contains(&explained),
        "the README does not show:\n{explained}"
    );
}

#[test]
fn a_major_change_with_customer_action_needs_fourteen_days_notice() {
    let s = published(MAJOR);
    let (code, out) = promote(&s, "2026-12-02T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
    s.platform.write(
        "components/web/component.yaml",
        &common::WEB_COMPONENT.replace("\"1.0\"", "\"2.0\""),
    );
    s.commit(
        "web 2.0\n\nCustomer-action: move Ingresses to the new class\nAnnounced: 2026-12-25",
        "Alice Author <alice@example.com>",
        "2026-12-03T09:00:00Z",
    );
    s.publish("2026-12-03T09:30:00Z");
    // The first window of January, but the announcement was 12 days before.
    let (code, out) = promote(&s, "2027-01-06T08:00:00Z", BOB, None);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        line(&out, "change-class"),
        "✘ change-class  major: it needs customer action (move Ingresses to the new class), announced on 2026-12-25: 14 days' notice ends on 2027-01-08"
    );
    // A month later the notice is long over.
    let (code, out) = promote(&s, "2027-02-03T08:00:00Z", BOB, None);
    assert_eq!(code, 0, "{out}");
}
