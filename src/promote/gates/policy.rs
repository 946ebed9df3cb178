//! Which promotion policy is in force for an environment: the one rule that `publish`,
//! `verify-promotion`, `promote`, `status`, `audit`, `check --repo` and `diff`'s headline share.
//!
//! A change must not relax the rules it is judged by. So the policy comes from what already
//! runs: the `promotion:` of strata.yaml at the drySha `env/<e>` records (for `diff`, at the
//! base). The proposed commit's policy may only add to it:
//! - an environment is gated when the running policy gates it, or the proposed one does, or the
//!   output repository already has its `env/<e>-next` (publish made that branch because the
//!   environment was gated; only the forge can remove it);
//! - where both policies gate it, the longer soak, the union of holidays and the larger number
//!   of approvers apply; the order (the previous environment), time zone and workdays are the
//!   running policy's;
//! - maintenance windows add up: where both policies give the environment a window, a planned
//!   change needs both open (a proposal can narrow a window, never widen or remove it); freezes
//!   are the union of both lists;
//! - of the major-change rules the stricter of each applies (first window of the month if
//!   either says so, the smaller `perMonth`, the longer `announceDays`, per component the
//!   stricter class: `major` over `semver` over `minor`); the health gate is required where
//!   either policy requires it.
//!
//! Removing `promotion:`, reordering it or dropping a gated environment from it therefore
//! changes nothing until that change has itself been promoted into the environment, through
//! the gates of the policy it replaces. The first publish of an environment, with nothing
//! running, takes the proposed policy.

use std::collections::BTreeMap;

use crate::load::{Freeze, MajorChanges, Promotion, Soak, Window};

/// What the policy in force says about one environment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InForce {
    /// Publish writes it to `env/<e>-next`; only a promotion moves `env/<e>`.
    pub(crate) gated: bool,
    /// The environment it is promoted from, when a policy in force names one.
    pub(crate) previous: Option<String>,
    /// Defaults filled in: 5 working days in UTC.
    pub(crate) soak: Soak,
    /// Distinct approvers outside the author set.
    pub(crate) distinct: u32,
    /// Whose order, calendar and identities apply.
    pub(crate) from: PolicyFrom,
    /// The maintenance windows that must all be open for a planned change; none: any time.
    pub(crate) windows: Vec<Window>,
    pub(crate) freezes: Vec<Freeze>,
    /// `None`: major changes have no rules of their own.
    pub(crate) major: Option<MajorChanges>,
    /// Whether `verify-promotion` needs the previous environment's Argo CD status.
    pub(crate) health_required: bool,
}

/// Where the policy in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyFrom {
    /// The drySha the environment runs (or the base of a diff).
    Running,
    /// The commit being published or proposed: nothing running gates the environment.
    Proposed,
    /// Neither policy gates it, but `env/<e>-next` exists.
    Branch,
}

/// The policy in force for `environment`. `running` is the `promotion:` at the drySha the
/// environment runs (`None` when nothing runs there, or it has no `promotion:`), `proposed` the
/// one of the commit being published or promoted, `has_next` whether `env/<e>-next` exists.
pub(crate) fn in_force(
    environment: &str,
    running: Option<&Promotion>,
    proposed: Option<&Promotion>,
    has_next: bool,
) -> InForce {
    let running = running.filter(|p| previous(p, environment).is_some());
    let proposed = proposed.filter(|p| previous(p, environment).is_some());
    let (primary, other, from) = match (running, proposed) {
        (Some(r), q) => (Some(r), q, PolicyFrom::Running),
        (None, Some(q)) => (Some(q), None, PolicyFrom::Proposed),
        (None, None) => (None, None, PolicyFrom::Branch),
    };
    let mut soak = primary
        .and_then(|p| p.soak.clone())
        .unwrap_or_else(default_soak);
    let mut distinct = primary.map_or(1, approvers);
    if let Some(other) = other {
        let theirs = other.soak.clone().unwrap_or_else(default_soak);
        soak.working_days = soak.working_days.max(theirs.working_days);
        for h in theirs.holidays {
            if !soak.holidays.contains(&h) {
                soak.holidays.push(h);
            }
        }
        soak.holidays.sort();
        distinct = distinct.max(approvers(other));
    }
    let mut windows = Vec::new();
    let mut freezes: Vec<Freeze> = Vec::new();
    let mut major: Option<MajorChanges> = None;
    let mut health_required = false;
    for policy in primary.into_iter().chain(other) {
        if let Some(w) = policy.windows.get(environment)
            && !windows.contains(w)
        {
            windows.push(w.clone());
        }
        for f in &policy.freezes {
            if !freezes.contains(f) {
                freezes.push(f.clone());
            }
        }
        if let Some(theirs) = &policy.major_changes {
            major = Some(match major {
                None => theirs.clone(),
                Some(ours) => stricter(ours, theirs),
            });
        }
        health_required |= policy
            .health
            .as_ref()
            .is_some_and(|h| h.required.iter().any(|e| e == environment));
    }
    InForce {
        gated: primary.is_some() || has_next,
        previous: primary.and_then(|p| previous(p, environment)),
        soak,
        distinct,
        from,
        windows,
        freezes,
        major,
        health_required,
    }
}

/// Each rule of two major-change policies at its stricter.
fn stricter(ours: MajorChanges, theirs: &MajorChanges) -> MajorChanges {
    let rank = |class: &str| match class {
        "major" => 2,
        "semver" => 1,
        _ => 0,
    };
    let mut classes: BTreeMap<String, String> = ours.classes;
    for (component, class) in &theirs.classes {
        // A component a policy does not name is `semver`.
        let current = classes.get(component).map_or("semver", String::as_str);
        if rank(class) > rank(current) {
            classes.insert(component.clone(), class.clone());
        }
    }
    classes
        .retain(|c, class| rank(class) >= 1 || theirs.classes.get(c).is_some_and(|t| rank(t) == 0));
    MajorChanges {
        first_window_of_month: ours.first_window_of_month || theirs.first_window_of_month,
        per_month: match (ours.per_month, theirs.per_month) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
        announce_days: match (ours.announce_days, theirs.announce_days) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
        classes,
    }
}

/// The environment before `environment` in the order, if it is gated there.
fn previous(policy: &Promotion, environment: &str) -> Option<String> {
    let index = policy.order.iter().position(|e| e == environment)?;
    index
        .checked_sub(1)
        .and_then(|i| policy.order.get(i))
        .cloned()
}

fn approvers(policy: &Promotion) -> u32 {
    policy.approvals.as_ref().map_or(1, |a| a.distinct)
}

fn default_soak() -> Soak {
    Soak {
        working_days: 5,
        timezone: "UTC".into(),
        workdays: None,
        holidays: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Approvals;

    fn policy(order: &[&str], days: u32, distinct: u32, holidays: &[&str]) -> Promotion {
        Promotion {
            order: order.iter().map(|s| s.to_string()).collect(),
            soak: Some(Soak {
                working_days: days,
                timezone: "Europe/Stockholm".into(),
                workdays: None,
                holidays: holidays.iter().map(|s| s.to_string()).collect(),
            }),
            approvals: Some(Approvals { distinct }),
            ..Promotion::default()
        }
    }

    fn wednesday(from: &str, to: &str) -> Window {
        Window {
            days: vec!["wed".into()],
            from: from.into(),
            to: to.into(),
        }
    }

    fn christmas() -> Freeze {
        Freeze {
            from: "2026-12-19".into(),
            to: "2027-01-06".into(),
            reason: Some("Christmas".into()),
        }
    }

    /// The usual policy with a prod window of Wednesday 07:00–12:00, a Christmas freeze, major
    /// changes once a month in the first window, and the health gate for prod.
    fn windowed() -> Promotion {
        Promotion {
            windows: BTreeMap::from([("prod".to_string(), wednesday("07:00", "12:00"))]),
            freezes: vec![christmas()],
            major_changes: Some(MajorChanges {
                first_window_of_month: true,
                per_month: Some(1),
                announce_days: Some(14),
                classes: BTreeMap::from([("kured".to_string(), "minor".to_string())]),
            }),
            health: Some(crate::load::Health {
                required: vec!["prod".into()],
            }),
            ..policy(&["dev", "prod"], 5, 1, &[])
        }
    }

    /// (windows, freezes, first window of month, per month, announce days, kured's class, health)
    type Schedule = (
        Vec<(String, String)>,
        usize,
        bool,
        Option<u32>,
        Option<u32>,
        Option<String>,
        bool,
    );

    fn schedule(f: &InForce) -> Schedule {
        let major = f.major.clone().unwrap_or_default();
        (
            f.windows
                .iter()
                .map(|w| (w.from.clone(), w.to.clone()))
                .collect(),
            f.freezes.len(),
            major.first_window_of_month,
            major.per_month,
            major.announce_days,
            major.classes.get("kured").cloned(),
            f.health_required,
        )
    }

    #[test]
    fn a_change_can_narrow_the_window_never_widen_or_remove_it() {
        let usual = windowed();
        let s = |w: &[(&str, &str)], freezes, first, per, days, kured: Option<&str>, health| {
            (
                w.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>(),
                freezes,
                first,
                per,
                days,
                kured.map(str::to_string),
                health,
            )
        };
        let running = s(
            &[("07:00", "12:00")],
            1,
            true,
            Some(1),
            Some(14),
            Some("minor"),
            true,
        );
        let removed = Promotion {
            windows: BTreeMap::new(),
            freezes: Vec::new(),
            major_changes: None,
            health: None,
            ..usual.clone()
        };
        let widened = Promotion {
            windows: BTreeMap::from([("prod".to_string(), wednesday("00:00", "23:59"))]),
            major_changes: Some(MajorChanges {
                first_window_of_month: false,
                per_month: Some(4),
                announce_days: Some(0),
                classes: BTreeMap::from([("kured".to_string(), "minor".to_string())]),
            }),
            ..usual.clone()
        };
        let narrowed = Promotion {
            windows: BTreeMap::from([("prod".to_string(), wednesday("08:00", "10:00"))]),
            freezes: vec![
                christmas(),
                Freeze {
                    from: "2027-04-01".into(),
                    to: "2027-04-05".into(),
                    reason: None,
                },
            ],
            major_changes: Some(MajorChanges {
                per_month: Some(0),
                announce_days: Some(21),
                classes: BTreeMap::new(),
                ..MajorChanges::default()
            }),
            ..usual.clone()
        };
        let plain = policy(&["dev", "prod"], 5, 1, &[]);
        let cases: [(&str, Option<&Promotion>, Option<&Promotion>, Schedule); 5] = [
            ("the usual", Some(&usual), Some(&usual), running.clone()),
            (
                "windows, freezes, major rules and health removed: not yet",
                Some(&usual),
                Some(&removed),
                running.clone(),
            ),
            (
                "widened and loosened: not yet, both windows must be open",
                Some(&usual),
                Some(&widened),
                s(
                    &[("07:00", "12:00"), ("00:00", "23:59")],
                    1,
                    true,
                    Some(1),
                    Some(14),
                    Some("minor"),
                    true,
                ),
            ),
            (
                "narrowed and stricter: at once; kured is semver again",
                Some(&usual),
                Some(&narrowed),
                s(
                    &[("07:00", "12:00"), ("08:00", "10:00")],
                    2,
                    true,
                    Some(0),
                    Some(21),
                    None,
                    true,
                ),
            ),
            (
                "added by a proposal: at once",
                Some(&plain),
                Some(&usual),
                running,
            ),
        ];
        for (case, running, proposed, want) in cases {
            assert_eq!(
                schedule(&in_force("prod", running, proposed, true)),
                want,
                "{case}"
            );
        }
        let nothing = in_force("prod", Some(&plain), Some(&plain), true);
        assert_eq!(
            schedule(&nothing),
            (Vec::new(), 0, false, None, None, None, false)
        );
        assert!(nothing.major.is_none());
    }

    /// (gated, previous, working days, distinct, from)
    type Summary<'a> = (bool, Option<&'a str>, u32, u32, PolicyFrom);
    /// (case, environment, running, proposed, has_next, what is in force)
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a Promotion>,
        Option<&'a Promotion>,
        bool,
        Summary<'a>,
    );

    fn summary(f: &InForce) -> Summary<'_> {
        (
            f.gated,
            f.previous.as_deref(),
            f.soak.working_days,
            f.distinct,
            f.from,
        )
    }

    #[test]
    fn what_a_change_to_the_policy_can_do() {
        use PolicyFrom::*;
        let usual = policy(&["dev", "prod"], 5, 1, &[]);
        let swapped = policy(&["prod", "dev"], 5, 1, &[]);
        let lax = policy(&["dev", "prod"], 0, 0, &[]);
        let strict = policy(&["dev", "prod"], 7, 2, &[]);
        let cases: [Case; 11] = [
            (
                "the usual",
                "prod",
                Some(&usual),
                Some(&usual),
                true,
                (true, Some("dev"), 5, 1, Running),
            ),
            (
                "the first environment",
                "dev",
                Some(&usual),
                Some(&usual),
                false,
                (false, None, 5, 1, Branch),
            ),
            (
                "promotion: removed",
                "prod",
                Some(&usual),
                None,
                true,
                (true, Some("dev"), 5, 1, Running),
            ),
            (
                "removed, prod never promoted, -next exists",
                "prod",
                None,
                None,
                true,
                (true, None, 5, 1, Branch),
            ),
            (
                "order swapped: prod stays gated",
                "prod",
                Some(&usual),
                Some(&swapped),
                true,
                (true, Some("dev"), 5, 1, Running),
            ),
            (
                "order swapped: dev gated at once",
                "dev",
                Some(&usual),
                Some(&swapped),
                false,
                (true, Some("prod"), 5, 1, Proposed),
            ),
            (
                "relaxed: not yet",
                "prod",
                Some(&usual),
                Some(&lax),
                true,
                (true, Some("dev"), 5, 1, Running),
            ),
            (
                "stricter: at once",
                "prod",
                Some(&usual),
                Some(&strict),
                true,
                (true, Some("dev"), 7, 2, Running),
            ),
            (
                "the first publish",
                "prod",
                None,
                Some(&usual),
                false,
                (true, Some("dev"), 5, 1, Proposed),
            ),
            (
                "no policy anywhere",
                "prod",
                None,
                None,
                false,
                (false, None, 5, 1, Branch),
            ),
            (
                "relaxed and promoted",
                "prod",
                Some(&lax),
                Some(&lax),
                true,
                (true, Some("dev"), 0, 0, Running),
            ),
        ];
        for (case, env, running, proposed, has_next, want) in cases {
            assert_eq!(
                summary(&in_force(env, running, proposed, has_next)),
                want,
                "{case}"
            );
        }
    }

    #[test]
    fn holidays_add_up() {
        let running = policy(&["dev", "prod"], 5, 1, &["2026-12-25"]);
        let proposed = policy(&["dev", "prod"], 5, 1, &["2026-12-24", "2026-12-25"]);
        let f = in_force("prod", Some(&running), Some(&proposed), true);
        assert_eq!(f.soak.holidays, ["2026-12-24", "2026-12-25"]);
        assert_eq!(f.soak.timezone, "Europe/Stockholm");
    }
}
