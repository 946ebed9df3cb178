//! `strata policy list`: every rule, what it checks, and its level in each environment.

use std::fmt::Write;

use super::config::{Level, PolicyConfig};
use super::rule::{ALLOWED_REGISTRIES, RULES};

/// A table with one row per rule and one level column per environment. Where
/// `allowed-registries` is off because the environment has no registries, the cell says
/// `off*` and a footnote explains it.
pub(crate) fn list_rules(config: &PolicyConfig, environments: &[String]) -> String {
    let environments: Vec<&str> = if environments.is_empty() {
        vec!["all"]
    } else {
        environments.iter().map(String::as_str).collect()
    };
    let mut unconfigured = Vec::new();
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("RULE".to_string())
            .chain(environments.iter().map(|e| e.to_ascii_uppercase()))
            .chain(std::iter::once("CHECKS".to_string()))
            .collect(),
    ];
    for rule in RULES {
        let mut row = vec![rule.id.to_string()];
        for env in &environments {
            let level = config.level(rule.id, env);
            let cell = if rule.id == ALLOWED_REGISTRIES
                && level != Level::Off
                && !config.has_registries(env)
            {
                unconfigured.push(*env);
                "off*".to_string()
            } else {
                level.to_string()
            };
            row.push(cell);
        }
        row.push(rule.checks.to_string());
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == columns {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !unconfigured.is_empty() {
        let _ = writeln!(
            out,
            "\n* off: no registries configured for {} (set `policies.registries.<environment>`)",
            unconfigured.join(", ")
        );
    }
    out
}
