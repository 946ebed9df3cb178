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
//!   running policy's.
//!
//! Removing `promotion:`, reordering it or dropping a gated environment from it therefore
//! changes nothing until that change has itself been promoted into the environment, through
//! the gates of the policy it replaces. The first publish of an environment, with nothing
//! running, takes the proposed policy.

use crate::load::{Promotion, Soak};

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
    InForce {
        gated: primary.is_some() || has_next,
        previous: primary.and_then(|p| previous(p, environment)),
        soak,
        distinct,
        from,
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
        }
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
