//! The pull request comment: a headline, a table of the blast radius, then one collapsed
//! section per cluster with its diffs.
//!
//! GitHub refuses comments over 65,536 characters, and a comment that fails to post hides the
//! very change it was meant to show. So the comment is budgeted: each resource's diff is cut
//! after [`MAX_DIFF_LINES`] lines, each diff line after [`MAX_LINE_CHARS`] characters, and when
//! the next resource would not fit, the remaining ones are replaced by a note that says how
//! many resources in how many clusters are not shown. The whole stays under
//! [`MARKDOWN_LIMIT`] bytes, which bounds the characters too.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::compare::diff::{
    ClusterGroup, Counts, Diff, DiffOptions, ResourceDiff, Summary, group_by_cluster, plural,
    shorten,
};

/// The output is always shorter than this many bytes.
pub(crate) const MARKDOWN_LIMIT: usize = 65_000;
/// Lines of one resource's diff shown before it is cut.
const MAX_DIFF_LINES: usize = 50;
/// Characters of one diff line shown before it is cut.
const MAX_LINE_CHARS: usize = 300;
/// Changed paths listed per resource.
const MAX_PATHS: usize = 10;
/// Kept free for the end of the last section and the closing note, which are short.
const RESERVE: usize = 1_000;
const RUN_LOCALLY: &str = "run `strata diff` locally for the full diff";

/// Prints a diff as a GitHub pull request comment, under [`MARKDOWN_LIMIT`] bytes.
pub(crate) fn render_markdown(d: &Diff, o: &DiffOptions) -> String {
    let summary = d.summary(o);
    let mut out = String::new();
    let _ = writeln!(out, "{}", escape_text(&summary.headline()));
    let mut filters = Vec::new();
    if let Some(env) = &o.env {
        filters.push(format!("environment {}", inline_code(&shorten(env, 100))));
    }
    if let Some(cluster) = &o.cluster {
        filters.push(format!("cluster {}", inline_code(&shorten(cluster, 100))));
    }
    if !filters.is_empty() {
        let _ = writeln!(out, "\nshowing only {}", filters.join(", "));
    }
    if summary.environments.is_empty() {
        return out;
    }
    let budget = MARKDOWN_LIMIT - RESERVE;
    table(&mut out, &summary, budget);
    if o.stat {
        return out;
    }

    let mut hidden = Hidden::default();
    let mut shown = Shown::default();
    for group in group_by_cluster(d.selected(o)) {
        if hidden.resources > 0 {
            hidden.clusters += 1;
            hidden.resources += group.resources.len();
            continue;
        }
        section(&mut out, &group, o.context, budget, &mut shown, &mut hidden);
    }
    if hidden.resources > 0 {
        let _ = writeln!(
            out,
            "**⚠ {} in {} not shown**: the comment would exceed GitHub's size limit; {RUN_LOCALLY}.",
            plural(hidden.resources, "resource"),
            plural(hidden.clusters, "cluster"),
        );
    }
    if out.len() >= MARKDOWN_LIMIT {
        // Unreachable with the reserve above; kept so that no input can break the promise.
        return format!(
            "{}\n\nThe diff is too large for a comment; {RUN_LOCALLY}.\n",
            escape_text(&summary.headline())
        );
    }
    out
}

/// What the budget left out.
#[derive(Default)]
struct Hidden {
    resources: usize,
    clusters: usize,
}

/// The diffs already printed, and where. A change made on every cluster (an image bump) has
/// the same diff everywhere: it is printed once, and referred to after, so that the budget
/// covers every cluster instead of the first few.
#[derive(Default)]
struct Shown {
    diffs: BTreeMap<String, String>,
}

fn table(out: &mut String, summary: &Summary, budget: usize) {
    out.push_str("\n| environment | clusters | added | changed | removed |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: |\n");
    for (shown, env) in summary.environments.iter().enumerate() {
        let name = escape_text(&env.environment);
        let name = if env.gated {
            format!("**{name}** ⚠")
        } else {
            name
        };
        let row = format!(
            "| {name} | {} | {} | {} | {} |\n",
            env.clusters_touched, env.counts.added, env.counts.changed, env.counts.removed
        );
        if out.len() + row.len() > budget / 2 {
            let rest = summary.environments.len() - shown;
            let _ = writeln!(out, "| … {} more environments | | | | |", rest);
            break;
        }
        out.push_str(&row);
    }
    out.push('\n');
}

/// Appends the section of one cluster, as many of its resources as fit in `budget`.
fn section(
    out: &mut String,
    group: &ClusterGroup<'_>,
    context: usize,
    budget: usize,
    seen: &mut Shown,
    hidden: &mut Hidden,
) {
    let mut counts = Counts::default();
    for r in &group.resources {
        counts.add(r.status);
    }
    let mut text = format!(
        "<details><summary>{} · {}: {}</summary>\n\n",
        escape_html(group.environment),
        escape_html(&group.label().to_string()),
        escape_html(&counts.line())
    );
    const CLOSE: &str = "</details>\n\n";
    let mut component = None;
    let mut shown = 0;
    for r in &group.resources {
        let mut block = String::new();
        if component != Some(&r.key.component) {
            let _ = writeln!(block, "**{}**\n", escape_text(&r.key.component));
        }
        let unified = r.unified_with(context);
        let place = format!(
            "{} in {} · {}",
            inline_code(&format!("{} {}", r.status.sign(), r.key)),
            escape_text(group.environment),
            escape_text(&group.label().to_string())
        );
        match seen.diffs.get(unified.as_ref()) {
            Some(first) => same_diff(&mut block, r, first),
            None => resource(&mut block, r, &unified),
        }
        if out.len() + text.len() + block.len() + CLOSE.len() > budget {
            break;
        }
        seen.diffs.entry(unified.into_owned()).or_insert(place);
        component = Some(&r.key.component);
        text.push_str(&block);
        shown += 1;
    }
    let total = group.resources.len();
    if shown == 0 {
        hidden.clusters += 1;
        hidden.resources += total;
        return;
    }
    if shown < total {
        let _ = writeln!(
            text,
            "_… {} more {} of this cluster not shown._\n",
            total - shown,
            if total - shown == 1 {
                "resource"
            } else {
                "resources"
            }
        );
        hidden.clusters += 1;
        hidden.resources += total - shown;
    }
    text.push_str(CLOSE);
    out.push_str(&text);
}

/// `~ apps/Deployment ns/name` changed: `spec.replicas`, … (no line end).
fn heading(out: &mut String, r: &ResourceDiff) {
    let header = format!("{} {}", r.status.sign(), r.key);
    out.push_str(&inline_code(&header));
    if !r.changed_paths.is_empty() {
        let paths: Vec<String> = r
            .changed_paths
            .iter()
            .take(MAX_PATHS)
            .map(|p| inline_code(&shorten(p, 200)))
            .collect();
        let _ = write!(out, " changed: {}", paths.join(", "));
        if r.changed_paths.len() > MAX_PATHS {
            let _ = write!(out, " and {} more", r.changed_paths.len() - MAX_PATHS);
        }
    }
}

/// A resource whose diff was printed before: its header and where to find that diff.
fn same_diff(out: &mut String, r: &ResourceDiff, first: &str) {
    heading(out, r);
    let _ = writeln!(out, "\n\n_same diff as {first}_\n");
}

/// One resource: its header, its changed paths and its diff in a fence, cut when long.
fn resource(out: &mut String, r: &ResourceDiff, unified: &str) {
    heading(out, r);
    out.push_str("\n\n");
    let lines: Vec<&str> = unified.lines().collect();
    let shown: Vec<String> = lines
        .iter()
        .take(MAX_DIFF_LINES)
        .map(|line| match line.char_indices().nth(MAX_LINE_CHARS) {
            Some((at, _)) => format!(
                "{} … ({} more characters)",
                &line[..at],
                line[at..].chars().count()
            ),
            None => (*line).to_owned(),
        })
        .collect();
    let fence = "`".repeat(longest_backtick_run(&shown).max(2) + 1);
    let _ = writeln!(out, "{fence}diff");
    for line in &shown {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{fence}\n");
    if lines.len() > MAX_DIFF_LINES {
        let _ = writeln!(
            out,
            "_… {} more lines; {RUN_LOCALLY}._\n",
            lines.len() - MAX_DIFF_LINES
        );
    }
}

fn longest_backtick_run(lines: &[String]) -> usize {
    lines
        .iter()
        .flat_map(|line| line.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// `text` as inline code, with a delimiter longer than any backtick run inside it.
fn inline_code(text: &str) -> String {
    let run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(run + 1);
    if run > 0 {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

/// Text for a Markdown paragraph or table cell: characters that would start markup are escaped.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#'
        ) {
            out.push('\\');
        }
        if c == '\n' || c == '\r' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Text inside an HTML element (`<summary>`).
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape_html, escape_text, inline_code};

    #[test]
    fn escaping() {
        assert_eq!(inline_code("a"), "`a`");
        assert_eq!(inline_code("a`b"), "`` a`b ``");
        assert_eq!(escape_text("a|b *c*"), "a\\|b \\*c\\*");
        assert_eq!(escape_html("<b>&"), "&lt;b&gt;&amp;");
    }
}
