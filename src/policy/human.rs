//! Violations for a person at a terminal: what is wrong, where, what to do.

use std::fmt::Write;

use super::config::Level;
use super::violation::Violation;

/// One block per violation, then a summary line.
///
/// ```text
/// error[no-privileged]: container `app` runs privileged
///   --> rendered/prod/sto2/workload/shop/deployment-web.yaml
///    = resource: apps/Deployment shop/web
///    = field: spec.template.spec.containers[name=app].securityContext.privileged
///    = cluster: prod-sto2-workload (prod), component shop
///    = hint: remove `securityContext.privileged: true`; ...
///
/// policy: 1 error, 0 warnings, 0 exempted
/// ```
pub fn render_human(violations: &[Violation]) -> String {
    let mut sorted: Vec<&Violation> = violations.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut out = String::new();
    for v in &sorted {
        let label = match (&v.exemption, v.level) {
            (Some(_), _) => "exempted",
            (None, Level::Deny) => "error",
            (None, Level::Warn) => "warning",
            (None, Level::Off) => "off",
        };
        let _ = writeln!(out, "{label}[{}]: {}", v.rule, v.message);
        let _ = writeln!(out, "  --> {}", v.file);
        let _ = writeln!(out, "   = resource: {}", v.resource);
        let _ = writeln!(out, "   = field: {}", v.field);
        let _ = writeln!(
            out,
            "   = cluster: {} ({}), component {}",
            v.cluster, v.environment, v.component
        );
        if let Some((file, line)) = &v.origin {
            let _ = writeln!(out, "   = set at: {file}:{line}");
        }
        if let Some(reason) = &v.exemption {
            let _ = writeln!(out, "   = exempted: {reason}");
        } else {
            let _ = writeln!(out, "   = hint: {}", v.hint);
        }
        out.push('\n');
    }
    let count = |f: &dyn Fn(&Violation) -> bool| sorted.iter().filter(|v| f(v)).count();
    let errors = count(&|v| v.fails());
    let warnings = count(&|v| v.exemption.is_none() && v.level == Level::Warn);
    let exempted = count(&|v| v.exemption.is_some());
    if sorted.is_empty() {
        out.push_str("policy: no violations\n");
    } else {
        let _ = writeln!(
            out,
            "policy: {errors} {}, {warnings} {}, {exempted} exempted",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
