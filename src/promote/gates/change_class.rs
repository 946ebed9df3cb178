//! Change classes: whether a proposal is a *major* or a *minor* change, and what a major one
//! may do (the `change-class` gate).
//!
//! A proposal is classified by the component versions `hydrator.metadata` records, per cluster,
//! on `env/<e>` (what runs) and `env/<e>-next` (what is proposed). It is **major** when any of
//! these holds, and **minor** otherwise (a patch, a pre-release or build change, values only):
//! - a component's version moves its major or minor number. Versions are read as semantic
//!   versions: an optional `v`, then `MAJOR.MINOR.PATCH`, with any `-pre-release` or `+build`
//!   ignored and a missing number read as 0. So a Kubernetes minor (`1.30.4` → `1.31.0`) is
//!   major, as the service description counts it;
//! - a version that is not a semantic version changes (strata cannot tell, so it assumes the
//!   larger);
//! - a component is added to or removed from a cluster;
//! - `promotion.majorChanges.classes` says `major` for a component whose version changes.
//!   `minor` there makes a component's version changes minor (for a version scheme that is
//!   not semver); the policy-in-force rule keeps a proposal from declaring itself minor.
//!
//! What a major change may do comes from `promotion.majorChanges`: only in the first window of
//! the month, at most `perMonth` planned ones per calendar month, and, when a promoted source
//! commit declares `Customer-action:`, an `Announced: YYYY-MM-DD` trailer at least
//! `announceDays` days before. Break-glass skips these rules, like the window and the soak.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::gate::{Gate, GateName};
use super::window::Windows;
use crate::load::MajorChanges;

/// Component versions by cluster, then by component, as `hydrator.metadata` records them.
pub(crate) type Versions = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ChangeClass {
    Minor,
    Major,
}

impl ChangeClass {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeClass::Minor => "minor",
            ChangeClass::Major => "major",
        }
    }
}

/// The class of a proposal, and one line per version change saying what it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Classified {
    pub(crate) class: ChangeClass,
    pub(crate) changes: Vec<String>,
}

/// Classifies the move from `old` to `new`; `classes` are the per-component overrides.
pub(crate) fn classify(
    old: &Versions,
    new: &Versions,
    classes: &BTreeMap<String, String>,
) -> Classified {
    // (component, from, to) → clusters, so one line says what changed on every cluster.
    let mut moves: BTreeMap<(String, Option<String>, Option<String>), BTreeSet<String>> =
        BTreeMap::new();
    let empty = BTreeMap::new();
    let clusters: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for cluster in clusters {
        let a = old.get(cluster).unwrap_or(&empty);
        let b = new.get(cluster).unwrap_or(&empty);
        for component in a.keys().chain(b.keys()) {
            let (from, to) = (a.get(component), b.get(component));
            if from != to {
                moves
                    .entry((component.clone(), from.cloned(), to.cloned()))
                    .or_default()
                    .insert(cluster.clone());
            }
        }
    }
    let mut class = ChangeClass::Minor;
    let mut changes = Vec::new();
    for ((component, from, to), on) in &moves {
        let (c, why) = match (from, to) {
            (None, Some(v)) => (
                ChangeClass::Major,
                format!("{component} {v} added: a new component is major"),
            ),
            (Some(v), None) => (
                ChangeClass::Major,
                format!("{component} {v} removed: a removed component is major"),
            ),
            (Some(a), Some(b)) => {
                let (c, why) = version_move(a, b, classes.get(component).map(String::as_str));
                (c, format!("{component} {a} → {b}: {why}"))
            }
            (None, None) => continue,
        };
        class = class.max(c);
        let clusters = if on.len() == 1 {
            format!(" (on {})", on.iter().next().map_or("", String::as_str))
        } else {
            format!(" (on {} clusters)", on.len())
        };
        changes.push(format!("{why}{clusters}"));
    }
    if changes.is_empty() {
        changes.push("no component version changes (values only): minor".to_string());
    }
    Classified { class, changes }
}

/// The class of one version change, and why, under the component's override.
fn version_move(from: &str, to: &str, class: Option<&str>) -> (ChangeClass, String) {
    match class {
        Some("major") => {
            return (
                ChangeClass::Major,
                "major (promotion.majorChanges.classes)".into(),
            );
        }
        Some("minor") => {
            return (
                ChangeClass::Minor,
                "minor (promotion.majorChanges.classes)".into(),
            );
        }
        _ => {}
    }
    match (semver(from), semver(to)) {
        (Some(a), Some(b)) if a.0 != b.0 => (ChangeClass::Major, "the major version moves: major".into()),
        (Some(a), Some(b)) if a.1 != b.1 => (ChangeClass::Major, "the minor version moves: major".into()),
        (Some(_), Some(_)) => (ChangeClass::Minor, "a patch: minor".into()),
        _ => (
            ChangeClass::Major,
            "not a semantic version, so strata counts it as major; set its class in promotion.majorChanges.classes".into(),
        ),
    }
}

/// `(MAJOR, MINOR)` of a semantic version: an optional `v`, pre-release and build ignored.
fn semver(version: &str) -> Option<(u64, u64)> {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let core = v.split(['-', '+']).next()?;
    let mut numbers = core.split('.');
    let major = numbers.next()?.parse().ok()?;
    let minor = match numbers.next() {
        Some(n) => n.parse().ok()?,
        None => 0,
    };
    for rest in numbers {
        rest.parse::<u64>().ok()?;
    }
    Some((major, minor))
}

/// What the major-change rules are judged on, besides the classification.
pub(crate) struct MajorEvidence<'a> {
    pub(crate) environment: &'a str,
    pub(crate) rules: &'a MajorChanges,
    /// The policy's time zone: a month is a calendar month there.
    pub(crate) tz: &'a TimeZone,
    pub(crate) windows: Option<&'a Windows>,
    /// Earlier planned major promotions of the environment: when, and the commit.
    pub(crate) earlier: &'a [(Timestamp, String)],
    /// The `Customer-action:` a promoted source commit declares.
    pub(crate) customer_action: Option<&'a str>,
    /// The `Announced:` date a promoted source commit gives, as written.
    pub(crate) announced: Option<&'a str>,
    pub(crate) now: Timestamp,
    pub(crate) emergency: bool,
}

impl Gate {
    /// The change-class gate: open for a minor change; a major one must keep the rules.
    pub(crate) fn change_class(classified: &Classified, e: &MajorEvidence<'_>) -> Gate {
        let mut details = classified.changes.clone();
        if classified.class == ChangeClass::Minor {
            return Gate {
                name: GateName::ChangeClass,
                open: true,
                summary: "minor: no component's major or minor version moves".into(),
                details,
            };
        }
        let blocked = major_rules(e);
        let (open, summary) = match (blocked.is_empty(), e.emergency) {
            (true, _) => (
                true,
                "major: allowed now under promotion.majorChanges".to_string(),
            ),
            (false, true) => (
                true,
                format!("major, by break-glass: {}", blocked.join("; ")),
            ),
            (false, false) => (false, format!("major: {}", blocked.join("; "))),
        };
        details.sort();
        Gate {
            name: GateName::ChangeClass,
            open,
            summary,
            details,
        }
    }
}

/// Each rule of `promotion.majorChanges` that blocks a major change now, with when it passes.
fn major_rules(e: &MajorEvidence<'_>) -> Vec<String> {
    let local = e.now.to_zoned_datetime(e.tz.clone());
    let today = local.date();
    let format = |at: &jiff::ZonedDateTime| {
        format!(
            "{} {}",
            at.strftime("%Y-%m-%d %H:%M"),
            e.tz.iana_name().unwrap_or("UTC")
        )
    };
    let mut blocked = Vec::new();
    if e.rules.first_window_of_month
        && let Some(w) = e.windows
    {
        let first = w.first_window_of_month(today);
        if first != Some(today) {
            let next = w
                .next_first_window(e.now)
                .map_or("none in the next 800 days".into(), |at| format(&at));
            blocked.push(format!(
                "a major change only in the first window of the month ({}); the next one opens at {next}",
                first.map_or("none this month".into(), |d| d.to_string())
            ));
        }
    }
    if let Some(limit) = e.rules.per_month {
        let month = (today.year(), today.month());
        let this_month: Vec<&(Timestamp, String)> = e
            .earlier
            .iter()
            .filter(|(at, _)| {
                let d = at.to_zoned_datetime(e.tz.clone()).date();
                (d.year(), d.month()) == month
            })
            .collect();
        if this_month.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            let next_month = today.first_of_month().checked_add(1.month()).ok();
            let when = match (e.windows, next_month) {
                (Some(w), Some(m)) => w
                    .first_window_of_month(m)
                    .and_then(|d| {
                        e.tz.to_ambiguous_zoned_datetime(
                            d.to_datetime(jiff::civil::Time::midnight()),
                        )
                        .compatible()
                        .ok()
                    })
                    .and_then(|z| w.next_opening(z.timestamp().checked_sub(1.second()).ok()?))
                    .map_or("next month".into(), |at| format(&at)),
                (None, Some(m)) => m.to_string(),
                _ => "next month".into(),
            };
            let done: Vec<String> = this_month
                .iter()
                .map(|(at, commit)| {
                    format!(
                        "{} at {}",
                        crate::git::short(commit),
                        format(&at.to_zoned_datetime(e.tz.clone()))
                    )
                })
                .collect();
            blocked.push(format!(
                "{} of {limit} planned major change(s) to {} in {:04}-{:02} already ({}); the next may go at {when}",
                this_month.len(),
                e.environment,
                month.0,
                month.1,
                done.join(", ")
            ));
        }
    }
    if let (Some(days), Some(action)) = (e.rules.announce_days, e.customer_action) {
        match e.announced.map(|a| (a, a.trim().parse::<Date>())) {
            None => blocked.push(format!(
                "it needs customer action ({action}) but no commit of it says when that was announced; announce it, then record the date with an `Announced: YYYY-MM-DD` trailer on a commit of the change: it may go {days} days after"
            )),
            Some((text, Err(_))) => blocked.push(format!(
                "`Announced: {text}` is not a date; write it like `Announced: 2026-11-18`"
            )),
            Some((_, Ok(date))) => {
                let ready = date.checked_add(i64::from(days).days()).ok();
                if ready.is_none_or(|r| today < r) {
                    blocked.push(format!(
                        "it needs customer action ({action}), announced on {date}: {days} days' notice ends on {}",
                        ready.map_or("never".into(), |r| r.to_string())
                    ));
                }
            }
        }
    }
    blocked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Freeze, Window};

    fn versions(entries: &[(&str, &str, &str)]) -> Versions {
        let mut v = Versions::new();
        for (cluster, component, version) in entries {
            v.entry(cluster.to_string())
                .or_default()
                .insert(component.to_string(), version.to_string());
        }
        v
    }

    #[test]
    fn classes_table() {
        let base = versions(&[
            ("prod-sto2", "ingress-nginx", "1.11.4"),
            ("prod-sto2", "kured", "1.16.2"),
            ("prod-osl2", "ingress-nginx", "1.11.4"),
        ]);
        let with = |cluster: &str, component: &str, version: Option<&str>| {
            let mut v = base.clone();
            match version {
                Some(x) => {
                    v.entry(cluster.into())
                        .or_default()
                        .insert(component.into(), x.into());
                }
                None => {
                    v.entry(cluster.into()).or_default().remove(component);
                }
            }
            v
        };
        let both = |version: &str| {
            let mut v = with("prod-sto2", "ingress-nginx", Some(version));
            v.entry("prod-osl2".into())
                .or_default()
                .insert("ingress-nginx".into(), version.into());
            v
        };
        let overrides = BTreeMap::from([
            ("kured".to_string(), "major".to_string()),
            ("dated".to_string(), "minor".to_string()),
        ]);
        let cases: [(&str, Versions, ChangeClass, &str); 10] = [
            (
                "values only",
                base.clone(),
                ChangeClass::Minor,
                "no component version changes (values only): minor",
            ),
            (
                "a patch bump",
                both("1.11.5"),
                ChangeClass::Minor,
                "ingress-nginx 1.11.4 → 1.11.5: a patch: minor (on 2 clusters)",
            ),
            (
                "a minor bump",
                both("1.12.0"),
                ChangeClass::Major,
                "ingress-nginx 1.11.4 → 1.12.0: the minor version moves: major (on 2 clusters)",
            ),
            (
                "a major bump",
                both("2.0.0"),
                ChangeClass::Major,
                "ingress-nginx 1.11.4 → 2.0.0: the major version moves: major (on 2 clusters)",
            ),
            (
                "a v prefix and a pre-release",
                both("v1.11.5-rc.1"),
                ChangeClass::Minor,
                "ingress-nginx 1.11.4 → v1.11.5-rc.1: a patch: minor (on 2 clusters)",
            ),
            (
                "a new component",
                with("prod-sto2", "harbor", Some("2.12.0")),
                ChangeClass::Major,
                "harbor 2.12.0 added: a new component is major (on prod-sto2)",
            ),
            (
                "a removed component",
                with("prod-sto2", "kured", None),
                ChangeClass::Major,
                "kured 1.16.2 removed: a removed component is major (on prod-sto2)",
            ),
            (
                "a component whose class is major",
                with("prod-sto2", "kured", Some("1.16.3")),
                ChangeClass::Major,
                "kured 1.16.2 → 1.16.3: major (promotion.majorChanges.classes) (on prod-sto2)",
            ),
            (
                "not semver",
                both("release-1.12"),
                ChangeClass::Major,
                "ingress-nginx 1.11.4 → release-1.12: not a semantic version, so strata counts it as major; set its class in promotion.majorChanges.classes (on 2 clusters)",
            ),
            (
                "a Kubernetes minor",
                {
                    let mut v = base.clone();
                    v.entry("prod-sto2".into())
                        .or_default()
                        .insert("kubernetes".into(), "1.31.0".into());
                    v
                },
                ChangeClass::Major,
                "kubernetes 1.31.0 added: a new component is major (on prod-sto2)",
            ),
        ];
        for (case, new, class, first) in cases {
            let got = classify(&base, &new, &overrides);
            assert_eq!(
                (got.class, got.changes[0].as_str()),
                (class, first),
                "{case}"
            );
        }
        // A version scheme strata cannot read counts as major unless the policy says otherwise.
        let old = versions(&[("c", "dated", "r2026.11"), ("c", "other", "r2026.11")]);
        let new = versions(&[("c", "dated", "r2026.12"), ("c", "other", "r2026.12")]);
        let got = classify(&old, &new, &overrides);
        assert_eq!(got.class, ChangeClass::Major);
        assert_eq!(
            got.changes,
            [
                "dated r2026.11 → r2026.12: minor (promotion.majorChanges.classes) (on c)",
                "other r2026.11 → r2026.12: not a semantic version, so strata counts it as major; set its class in promotion.majorChanges.classes (on c)"
            ]
        );
        // A Kubernetes minor moves the minor number: major, as the service description counts it.
        let k8s = classify(
            &versions(&[("c", "kubernetes", "1.30.4")]),
            &versions(&[("c", "kubernetes", "1.31.0")]),
            &BTreeMap::new(),
        );
        assert_eq!(
            k8s.changes,
            ["kubernetes 1.30.4 → 1.31.0: the minor version moves: major (on c)"]
        );
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn stockholm() -> TimeZone {
        TimeZone::get("Europe/Stockholm").expect("tz")
    }

    fn wednesdays() -> Windows {
        Windows::new(
            "prod",
            "Europe/Stockholm",
            &[Window {
                days: vec!["wed".into()],
                from: "07:00".into(),
                to: "12:00".into(),
            }],
            &[Freeze {
                from: "2026-12-19".into(),
                to: "2027-01-06".into(),
                reason: None,
            }],
            &[],
        )
        .expect("valid")
        .expect("a window")
    }

    fn rules() -> MajorChanges {
        MajorChanges {
            first_window_of_month: true,
            per_month: Some(1),
            announce_days: Some(14),
            classes: BTreeMap::new(),
        }
    }

    fn major() -> Classified {
        Classified {
            class: ChangeClass::Major,
            changes: vec![
                "ingress-nginx 1.11.4 → 1.12.0: the minor version moves: major (on prod-sto2)"
                    .into(),
            ],
        }
    }

    /// The gate's (open, summary) for a major change at `now`.
    fn judge(
        now: &str,
        earlier: &[(&str, &str)],
        action: Option<&str>,
        announced: Option<&str>,
        emergency: bool,
    ) -> (bool, String) {
        let (rules, tz, windows) = (rules(), stockholm(), wednesdays());
        let earlier: Vec<(Timestamp, String)> = earlier
            .iter()
            .map(|(at, c)| (ts(at), c.to_string()))
            .collect();
        let e = MajorEvidence {
            environment: "prod",
            rules: &rules,
            tz: &tz,
            windows: Some(&windows),
            earlier: &earlier,
            customer_action: action,
            announced,
            now: ts(now),
            emergency,
        };
        let gate = Gate::change_class(&major(), &e);
        (gate.open, gate.summary)
    }

    #[test]
    fn once_a_month_in_the_first_window() {
        let a55 = "a55ba01a55ba01a55ba01a55ba01a55ba01a55ba";
        let cases = [
            (
                "the first window of December",
                "2026-12-02T09:00:00+01:00",
                vec![],
                true,
                "major: allowed now under promotion.majorChanges",
            ),
            (
                "the second Wednesday",
                "2026-12-09T09:00:00+01:00",
                vec![],
                false,
                "major: a major change only in the first window of the month (2026-12-02); the next one opens at 2027-01-13 07:00 Europe/Stockholm",
            ),
            (
                "already one this month",
                "2026-12-02T11:00:00+01:00",
                vec![("2026-12-02T09:00:00+01:00", a55)],
                false,
                "major: 1 of 1 planned major change(s) to prod in 2026-12 already (a55ba01 at 2026-12-02 09:00 Europe/Stockholm); the next may go at 2027-01-13 07:00 Europe/Stockholm",
            ),
            // Across the month boundary: November's major does not count in December.
            (
                "last month's does not count",
                "2026-12-02T09:00:00+01:00",
                vec![("2026-11-04T09:00:00+01:00", a55)],
                true,
                "major: allowed now under promotion.majorChanges",
            ),
            // 2026-11-30 23:30 UTC is already December in Stockholm.
            (
                "the month is Stockholm's",
                "2026-12-02T09:00:00+01:00",
                vec![("2026-11-30T23:30:00Z", a55)],
                false,
                "major: 1 of 1 planned major change(s) to prod in 2026-12 already (a55ba01 at 2026-12-01 00:30 Europe/Stockholm); the next may go at 2027-01-13 07:00 Europe/Stockholm",
            ),
        ];
        for (case, now, earlier, open, summary) in cases {
            assert_eq!(
                judge(now, &earlier, None, None, false),
                (open, summary.to_string()),
                "{case}"
            );
        }
        let (open, summary) = judge("2026-12-09T09:00:00+01:00", &[], None, None, true);
        assert!(open);
        assert!(
            summary.starts_with("major, by break-glass: a major change only in the first window"),
            "{summary}"
        );
    }

    #[test]
    fn customer_action_is_announced_fourteen_days_before() {
        let action = Some("rotate the Harbor robot tokens");
        let now = "2026-12-02T09:00:00+01:00";
        let cases = [
            (
                Some("2026-11-18"),
                true,
                "major: allowed now under promotion.majorChanges",
            ),
            (
                Some("2026-11-19"),
                false,
                "major: it needs customer action (rotate the Harbor robot tokens), announced on 2026-11-19: 14 days' notice ends on 2026-12-03",
            ),
            (
                None,
                false,
                "major: it needs customer action (rotate the Harbor robot tokens) but no commit of it says when that was announced; announce it, then record the date with an `Announced: YYYY-MM-DD` trailer on a commit of the change: it may go 14 days after",
            ),
            (
                Some("18 Nov"),
                false,
                "major: `Announced: 18 Nov` is not a date; write it like `Announced: 2026-11-18`",
            ),
        ];
        for (announced, open, summary) in cases {
            assert_eq!(
                judge(now, &[], action, announced, false),
                (open, summary.to_string()),
                "{announced:?}"
            );
        }
        // Without a declared customer action, no announcement is needed.
        assert!(judge(now, &[], None, None, false).0);
    }

    #[test]
    fn a_minor_change_is_always_open() {
        let (rules, tz) = (rules(), stockholm());
        let e = MajorEvidence {
            environment: "prod",
            rules: &rules,
            tz: &tz,
            windows: None,
            earlier: &[],
            customer_action: Some("none really"),
            announced: None,
            now: ts("2026-12-09T09:00:00+01:00"),
            emergency: false,
        };
        let minor = classify(&Versions::new(), &Versions::new(), &BTreeMap::new());
        let gate = Gate::change_class(&minor, &e);
        assert!(gate.open);
        assert_eq!(
            gate.summary,
            "minor: no component's major or minor version moves"
        );
        assert_eq!(
            gate.details,
            ["no component version changes (values only): minor"]
        );
    }
}
