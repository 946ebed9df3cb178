//! Render drift: committed output that differs from a fresh render.

use serde::Serialize;

use crate::emit::OutputTree;

/// How a directory differs from a fresh render, file by file.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct TreeDrift {
    /// Files whose bytes differ.
    pub(crate) changed: Vec<String>,
    /// Files a fresh render produces that the directory lacks.
    pub(crate) missing: Vec<String>,
    /// Files in the directory that a fresh render does not produce.
    pub(crate) extra: Vec<String>,
}

impl TreeDrift {
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compares `actual` (what is committed) with `expected` (a fresh render).
pub fn compare(expected: &OutputTree, actual: &OutputTree) -> TreeDrift {
    let mut drift = TreeDrift::default();
    for (path, bytes) in &expected.files {
        match actual.files.get(path) {
            None => drift.missing.push(path.clone()),
            Some(b) if b != bytes => drift.changed.push(path.clone()),
            Some(_) => {}
        }
    }
    for path in actual.files.keys() {
        if !expected.files.contains_key(path) {
            drift.extra.push(path.clone());
        }
    }
    drift
}

pub fn render_human(drift: &TreeDrift, against: &str) -> String {
    if drift.is_clean() {
        return format!("in sync: {against} matches a fresh render\n");
    }
    let mut out = String::new();
    for p in &drift.changed {
        out.push_str(&format!("  changed  {p}\n"));
    }
    for p in &drift.missing {
        out.push_str(&format!("  missing  {p}\n"));
    }
    for p in &drift.extra {
        out.push_str(&format!("  extra    {p}\n"));
    }
    out.push_str(&format!(
        "drift: {against} differs from a fresh render: {} changed, {} missing, {} extra\n",
        drift.changed.len(),
        drift.missing.len(),
        drift.extra.len()
    ));
    out.push_str(
        "hint: run `strata render` and commit the result, or find who edited the output by hand\n",
    );
    out
}
