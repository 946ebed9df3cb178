//! The progress line of a render, in a CI log (stderr not a terminal): shown only with
//! `--progress`, and only once the render has taken over a second.

mod common;

use common::{Platform, stderr};

/// The minimal platform with `web` rendered by a command that takes 1.5 s: a render that takes
/// over a second on any machine.
fn slow() -> Platform {
    let p = Platform::minimal();
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, \"sleep 1.5; printf 'apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {{name: slow}}\\\\n'\"]\n",
            common::WEB_COMPONENT
        ),
    );
    p
}

#[test]
fn progress_shows_in_a_log_when_asked_for() {
    let p = slow();
    let o = p.strata(&["render", "--progress"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line in the second after the first: {err}"
    );
    assert!(
        lines[0].starts_with("rendering: ")
            && lines[0].contains("/2 (cluster, component) pairs, ETA "),
        "{err}"
    );
    // The progress line goes to stderr only: the output is what it would be without it.
    assert!(
        p.rendered()
            .iter()
            .any(|(path, bytes)| path.ends_with("configmap-slow.yaml")
                && bytes.starts_with(b"apiVersion: v1")),
        "{:?}",
        p.rendered().iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
}

#[test]
fn progress_stays_out_of_a_log_unless_asked_for() {
    let p = slow();
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(err, "", "nothing on stderr but diagnostics");
}
