//! The terminal format: environment → cluster → component → resource, each resource with its
//! changed paths and its unified diff.

use std::fmt::Write as _;

use crate::compare::diff::{Diff, DiffOptions, Status, filter_note, group_by_cluster};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const BOLD_YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// Prints a diff for a person at a terminal.
///
/// ```text
/// ⚠ this change reaches prod: 1 cluster, 1 resource
///
/// prod: 1 cluster, 1 resource changed (0 added, 1 changed, 0 removed)
///   sto2/workload (prod-sto2-workload): 1 resource changed (0 added, 1 changed, 0 removed)
///
/// environment prod
///   cluster sto2/workload (prod-sto2-workload)
///     component ingress-nginx
///       ~ apps/Deployment ingress-nginx/ingress-nginx-controller
///         changed: spec.replicas
///         @@ -20,7 +20,7 @@
///         …
/// ```
pub(crate) fn render_human(d: &Diff, o: &DiffOptions) -> String {
    let paint = Paint(o.color);
    let summary = d.summary(o);
    let mut out = String::new();
    let headline = summary.headline();
    if summary.reaches_gated() {
        out.push_str(&paint.wrap(BOLD_YELLOW, &headline));
    } else {
        out.push_str(&headline);
    }
    out.push('\n');
    if let Some(note) = filter_note(o) {
        let _ = writeln!(out, "{note}");
    }
    if summary.environments.is_empty() {
        return out;
    }
    out.push('\n');
    for env in &summary.environments {
        let _ = writeln!(out, "{}", env.line());
        for cluster in &env.clusters {
            let _ = writeln!(out, "  {}", cluster.line());
        }
    }
    if o.stat {
        return out;
    }
    let mut environment = None;
    for group in group_by_cluster(d.selected(o)) {
        if environment != Some(group.environment) {
            environment = Some(group.environment);
            let heading = format!("environment {}", group.environment);
            let _ = writeln!(out, "\n{}", paint.wrap(CYAN, &heading));
        }
        let heading = format!("cluster {}", group.label());
        let _ = writeln!(out, "  {}", paint.wrap(CYAN, &heading));
        let mut component = None;
        for r in group.resources {
            if component != Some(&r.key.component) {
                component = Some(&r.key.component);
                let heading = format!("component {}", r.key.component);
                let _ = writeln!(out, "    {}", paint.wrap(CYAN, &heading));
            }
            let header = format!("{} {}", r.status.sign(), r.key);
            let color = match r.status {
                Status::Added => GREEN,
                Status::Removed => RED,
                Status::Changed => CYAN,
            };
            let _ = writeln!(out, "      {}", paint.wrap(color, &header));
            for path in &r.changed_paths {
                let _ = writeln!(out, "        changed: {path}");
            }
            for line in r.unified_with(o.context).lines() {
                let color = if line.starts_with('+') {
                    GREEN
                } else if line.starts_with('-') {
                    RED
                } else if line.starts_with("@@") {
                    CYAN
                } else {
                    ""
                };
                let _ = writeln!(out, "        {}", paint.wrap(color, line));
            }
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// ANSI colors, or none.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, color: &str, text: &str) -> String {
        if self.0 && !color.is_empty() {
            format!("{color}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}
