//! The gates of a promotion, as `verify-promotion`, `promote` and `audit` report them.
//!
//! The JSON form is part of the contract: gate names are kebab-case (`history`, `reproducible`,
//! `soaked`, `four-eyes`, `break-glass`, `window`, `change-class`, `healthy`) and the fields are `name`, `open`, `summary` and
//! `details`.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use super::approvals::FourEyes;
use super::break_glass::BreakGlass;
use super::calendar::Calendar;
use super::window::{Shut, WindowState, Windows};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum GateName {
    History,
    Reproducible,
    Soaked,
    FourEyes,
    BreakGlass,
    Window,
    ChangeClass,
    Healthy,
}

impl GateName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GateName::History => "history",
            GateName::Reproducible => "reproducible",
            GateName::Soaked => "soaked",
            GateName::FourEyes => "four-eyes",
            GateName::BreakGlass => "break-glass",
            GateName::Window => "window",
            GateName::ChangeClass => "change-class",
            GateName::Healthy => "healthy",
        }
    }
}

impl fmt::Display for GateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gate: whether it is open, a one-line summary, and the lines that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Gate {
    pub(crate) name: GateName,
    pub(crate) open: bool,
    pub(crate) summary: String,
    pub(crate) details: Vec<String>,
}

impl Gate {
    /// The soak gate. `landed` is when the drySha (or a descendant) reached the previous
    /// environment's branch, `None` if it has not. An emergency opens the gate.
    pub(crate) fn soaked(
        calendar: &Calendar,
        landed: Option<Timestamp>,
        now: Timestamp,
        working_days: u32,
        emergency: Option<&BreakGlass>,
    ) -> Gate {
        let (done, progress) = match landed {
            Some(landed) => (
                calendar.soaked(landed, now) >= working_days,
                calendar.describe(landed, now, working_days),
            ),
            None => (
                working_days == 0,
                format!(
                    "not yet on the previous environment's branch; soaked 0 of {working_days} working days"
                ),
            ),
        };
        let (open, summary) = match emergency {
            Some(_) if !done => (true, format!("skipped by break-glass; {progress}")),
            _ => (done, progress),
        };
        Gate {
            name: GateName::Soaked,
            open,
            summary,
            details: Vec::new(),
        }
    }

    pub(crate) fn four_eyes(result: &FourEyes) -> Gate {
        Gate {
            name: GateName::FourEyes,
            open: result.open,
            summary: result.summary(),
            details: result.details(),
        }
    }

    /// The window gate: a planned change only inside the environment's maintenance window.
    /// Break-glass opens it, and the promotion is unplanned.
    pub(crate) fn window(
        windows: &Windows,
        now: Timestamp,
        emergency: Option<&BreakGlass>,
    ) -> Gate {
        let env = windows.environment();
        let window = format!("the {env} window ({})", windows.describe());
        let (open, summary) = match windows.state(now) {
            WindowState::Open { until } => (
                true,
                format!("inside {window} until {}", windows.format(&until)),
            ),
            WindowState::Closed { why, next } => {
                let why = match why {
                    Shut::Outside => format!("outside {window}"),
                    Shut::Holiday(date) => format!("{date} is a holiday: no {window}"),
                    Shut::Frozen { from, to, reason } => format!(
                        "{env} is frozen from {from} to {to}{}: no {window}",
                        reason.map(|r| format!(" ({r})")).unwrap_or_default()
                    ),
                };
                let next = match next {
                    Some(at) => format!("it opens next at {}", windows.format(&at)),
                    None => "it does not open in the next 800 days; check promotion.windows and promotion.freezes in strata.yaml".to_string(),
                };
                match emergency {
                    Some(_) => (true, format!("unplanned, by break-glass: {why}; {next}")),
                    None => (
                        false,
                        format!(
                            "{why}; {next}: promote then, or with --emergency \"reason\" for an unplanned change"
                        ),
                    ),
                }
            }
        };
        Gate {
            name: GateName::Window,
            open,
            summary,
            details: Vec::new(),
        }
    }

    /// Shown only in an emergency. `usual` is the policy's `approvals.distinct`.
    pub(crate) fn break_glass(emergency: &BreakGlass, usual: u32) -> Gate {
        Gate {
            name: GateName::BreakGlass,
            open: true,
            summary: format!(
                "emergency: {}; needs {} distinct approvers instead of {usual}",
                emergency.reason(),
                usual.saturating_add(1)
            ),
            details: Vec::new(),
        }
    }
}

/// The gates for a terminal, one line each with its details indented, then the verdict:
///
/// ```text
/// ✔ soaked  soaked 5 of 5 working days since 2026-11-24 14:00 Europe/Stockholm
/// ✘ four-eyes  0 of 1 distinct approvers outside the author set (alice@example.com is the author)
///     approval by @alice does not count: alice@example.com is the author
/// promotion to prod: blocked by 1 gate
/// ```
pub(crate) fn render_human(env: &str, gates: &[Gate]) -> String {
    let mut out = String::new();
    for gate in gates {
        let mark = if gate.open { '✔' } else { '✘' };
        out.push_str(&format!("{mark} {}  {}\n", gate.name, gate.summary));
        for detail in &gate.details {
            out.push_str(&format!("    {detail}\n"));
        }
    }
    match blocked(gates) {
        0 => out.push_str(&format!("promotion to {env}: ready\n")),
        1 => out.push_str(&format!("promotion to {env}: blocked by 1 gate\n")),
        n => out.push_str(&format!("promotion to {env}: blocked by {n} gates\n")),
    }
    out
}

/// How many gates are closed.
pub(crate) fn blocked(gates: &[Gate]) -> usize {
    gates.iter().filter(|g| !g.open).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::gates::approvals::{Member, Role, four_eyes, read_approvals};
    use crate::promote::gates::identity::{Identities, Identity};
    use std::collections::BTreeMap;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn calendar() -> Calendar {
        Calendar::new("Europe/Stockholm", None, &[]).expect("calendar")
    }

    #[test]
    fn soaked_gate_table() {
        let landed = Some(ts("2026-11-24T14:00:00+01:00"));
        let early = ts("2026-11-27T15:00:00+01:00");
        let late = ts("2026-12-01T14:00:00+01:00");
        let emergency = BreakGlass::new("CVE-2026-1234").expect("valid");
        let cases = [
            (
                landed,
                early,
                None,
                false,
                "soaked 3 of 5 working days; ready at 2026-12-01 14:00 Europe/Stockholm",
            ),
            (
                landed,
                late,
                None,
                true,
                "soaked 5 of 5 working days since 2026-11-24 14:00 Europe/Stockholm",
            ),
            (
                landed,
                early,
                Some(&emergency),
                true,
                "skipped by break-glass; soaked 3 of 5 working days; ready at 2026-12-01 14:00 Europe/Stockholm",
            ),
            (
                landed,
                late,
                Some(&emergency),
                true,
                "soaked 5 of 5 working days since 2026-11-24 14:00 Europe/Stockholm",
            ),
            (
                None,
                late,
                None,
                false,
                "not yet on the previous environment's branch; soaked 0 of 5 working days",
            ),
        ];
        for (landed, now, emergency, open, summary) in cases {
            let gate = Gate::soaked(&calendar(), landed, now, 5, emergency);
            assert_eq!((gate.open, gate.summary.as_str()), (open, summary));
        }
    }

    fn gates() -> Vec<Gate> {
        let identities = Identities::new(&BTreeMap::from([(
            "alice".to_string(),
            "alice@example.com".to_string(),
        )]));
        let approvals = read_approvals(
            r#"[{"user": {"login": "alice"}, "state": "APPROVED", "commit_id": "89abcdef", "submitted_at": "2026-11-30T10:00:00Z"}]"#,
            "89abcdef",
            &identities,
        )
        .expect("reviews");
        let authors = [Member {
            role: Role::Author,
            identity: Identity::new("Alice", "alice@example.com"),
        }];
        vec![
            Gate {
                name: GateName::Reproducible,
                open: true,
                summary: "re-rendering 1a2b3c4 gives the proposed tree".to_string(),
                details: Vec::new(),
            },
            Gate::soaked(
                &calendar(),
                Some(ts("2026-11-24T14:00:00+01:00")),
                ts("2026-11-27T15:00:00+01:00"),
                5,
                None,
            ),
            Gate::four_eyes(&four_eyes(&authors, &approvals, 1)),
        ]
    }

    #[test]
    fn render_human_blocked() {
        assert_eq!(
            render_human("prod", &gates()),
            "✔ reproducible  re-rendering 1a2b3c4 gives the proposed tree\n\
             ✘ soaked  soaked 3 of 5 working days; ready at 2026-12-01 14:00 Europe/Stockholm\n\
             ✘ four-eyes  0 of 1 distinct approvers outside the author set (alice@example.com is the author)\n    \
             approval by @alice does not count: alice@example.com is the author\n\
             promotion to prod: blocked by 2 gates\n"
        );
    }

    #[test]
    fn render_human_ready_and_break_glass() {
        let emergency = BreakGlass::new("CVE-2026-1234 in ingress-nginx").expect("valid");
        let gates = [
            Gate::break_glass(&emergency, 1),
            Gate::soaked(&calendar(), None, ts("2026-11-27T15:00:00Z"), 0, None),
        ];
        assert_eq!(
            render_human("prod", &gates),
            "✔ break-glass  emergency: CVE-2026-1234 in ingress-nginx; needs 2 distinct approvers instead of 1\n\
             ✔ soaked  not yet on the previous environment's branch; soaked 0 of 0 working days\n\
             promotion to prod: ready\n"
        );
        assert_eq!(
            render_human("prod", &gates[..0]),
            "promotion to prod: ready\n"
        );
    }

    #[test]
    fn json_is_kebab_case() {
        let json = serde_json::to_string(&gates()[2]).expect("json");
        assert_eq!(
            json,
            r#"{"name":"four-eyes","open":false,"summary":"0 of 1 distinct approvers outside the author set (alice@example.com is the author)","details":["approval by @alice does not count: alice@example.com is the author"]}"#
        );
        let names: Vec<String> = [
            GateName::Reproducible,
            GateName::Soaked,
            GateName::FourEyes,
            GateName::BreakGlass,
        ]
        .iter()
        .map(|n| serde_json::to_string(n).expect("json"))
        .collect();
        assert_eq!(
            names,
            [
                r#""reproducible""#,
                r#""soaked""#,
                r#""four-eyes""#,
                r#""break-glass""#
            ]
        );
    }
}
