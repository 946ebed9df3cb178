//! The promise of the gates, tried as a hostile contributor or publisher would: with git
//! plumbing on the output repository, backdated commits, shallow clones and lookalike
//! identities. Each test names what it defends.

mod common;

use common::promotion::{Setup, git};
use common::{stderr, stdout};

const BOB: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

/// A change to prod-next that landed in dev at `landed`.
fn proposed_change(landed: &str) -> Setup {
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
