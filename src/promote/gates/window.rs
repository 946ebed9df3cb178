//! The maintenance window of an environment: when a planned change may reach it.
//!
//! - A window is weekdays and a clock-time range in the policy's time zone, open from `from`
//!   (included) to `to` (excluded): `{days: [wed], from: "07:00", to: "12:00"}` is open on
//!   Wednesday at 07:00 and closed at 12:00.
//! - A holiday of the soak calendar and every date of a freeze (both ends included) have no
//!   window: the next one opens on the next window day that is neither.
//! - Where the policy in force has two windows (a proposal narrowed the running one), a planned
//!   change needs both open: the window of a day is the overlap.
//! - The comparison is on the local clock, so a window is 07:00–12:00 on the wall clock the
//!   whole year, across DST changes. A window that starts in a spring-forward gap opens at the
//!   first instant after it.
//! - Nothing here reads the clock: `now` is an argument.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime};

use super::calendar::{time_zone, weekday_index};
use crate::load::{Freeze, Window};

/// How far ahead the next opening is searched: farther than any freeze a platform keeps.
const HORIZON_DAYS: i32 = 800;

/// The maintenance windows of one environment, with the dates on which they stay shut.
#[derive(Debug, Clone)]
pub(crate) struct Windows {
    environment: String,
    tz: TimeZone,
    tz_name: String,
    slots: Vec<Slot>,
    freezes: Vec<(Date, Date, Option<String>)>,
    holidays: BTreeSet<Date>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Monday first.
    days: [bool; 7],
    from: Time,
    to: Time,
}

/// Whether the window is open at an instant, and if not, why and when it opens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WindowState {
    Open {
        until: ZonedDateTime,
    },
    Closed {
        why: Shut,
        next: Option<ZonedDateTime>,
    },
}

/// Why the window is shut now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shut {
    /// Outside the weekdays or hours of the window.
    Outside,
    Holiday(Date),
    Frozen {
        from: Date,
        to: Date,
        reason: Option<String>,
    },
}

impl Windows {
    /// `None` when the environment has no window and no freeze applies: any time is planned
    /// time. Freezes apply only to environments with a window.
    pub(crate) fn new(
        environment: &str,
        tz_name: &str,
        windows: &[Window],
        freezes: &[Freeze],
        holidays: &[Date],
    ) -> Result<Option<Windows>, String> {
        if windows.is_empty() {
            return Ok(None);
        }
        let tz = time_zone(tz_name).map_err(|e| e.to_string())?;
        let key = format!("promotion.windows.{environment}");
        let mut slots = Vec::new();
        for w in windows {
            let mut days = [false; 7];
            for d in &w.days {
                let index = weekday_index(d).map_err(|_| {
                    format!(
                        "{key}.days: unknown weekday `{d}`; use mon, tue, wed, thu, fri, sat or sun"
                    )
                })?;
                days[index] = true;
            }
            if !days.contains(&true) {
                return Err(format!(
                    "{key}.days is empty, so the window never opens; list at least one day, such as [wed]"
                ));
            }
            let from = clock(&w.from).ok_or_else(|| {
                format!(
                    "{key}.from: `{}` is not a time; write it like \"07:00\"",
                    w.from
                )
            })?;
            let to = clock(&w.to).ok_or_else(|| {
                format!(
                    "{key}.to: `{}` is not a time; write it like \"12:00\"",
                    w.to
                )
            })?;
            if from >= to {
                return Err(format!(
                    "{key}: from {} is not before to {}, so the window never opens; a window ends on the day it starts",
                    w.from, w.to
                ));
            }
            slots.push(Slot { days, from, to });
        }
        let mut ranges = Vec::new();
        for (i, f) in freezes.iter().enumerate() {
            let date = |s: &str, end: &str| {
                s.parse::<Date>().map_err(|_| {
                    format!(
                        "promotion.freezes[{i}].{end}: `{s}` is not a date; write dates like 2026-12-24"
                    )
                })
            };
            let (from, to) = (date(&f.from, "from")?, date(&f.to, "to")?);
            if from > to {
                return Err(format!(
                    "promotion.freezes[{i}]: from {from} is after to {to}; both dates are included, so write the earlier one first"
                ));
            }
            ranges.push((from, to, f.reason.clone()));
        }
        Ok(Some(Windows {
            environment: environment.to_string(),
            tz_name: tz.iana_name().unwrap_or(tz_name).to_string(),
            tz,
            slots,
            freezes: ranges,
            holidays: holidays.iter().copied().collect(),
        }))
    }

    /// The window as the policy says it: `Wed 07:00–12:00 Europe/Stockholm`.
    pub(crate) fn describe(&self) -> String {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let slots: Vec<String> = self
            .slots
            .iter()
            .map(|s| {
                let days: Vec<&str> = names
                    .iter()
                    .zip(s.days)
                    .filter(|(_, on)| *on)
                    .map(|(n, _)| *n)
                    .collect();
                format!(
                    "{} {}–{}",
                    days.join(","),
                    s.from.strftime("%H:%M"),
                    s.to.strftime("%H:%M")
                )
            })
            .collect();
        format!("{} {}", slots.join(" and "), self.tz_name)
    }

    /// The open hours of `date`, if the window opens that day.
    fn hours(&self, date: Date) -> Option<(Time, Time)> {
        if self.holidays.contains(&date) || self.freeze_of(date).is_some() {
            return None;
        }
        let index = usize::try_from(date.weekday().to_monday_zero_offset()).ok()?;
        let mut open = (Time::midnight(), Time::MAX);
        for slot in &self.slots {
            if !slot.days.get(index).copied().unwrap_or(false) {
                return None;
            }
            open = (open.0.max(slot.from), open.1.min(slot.to));
        }
        (open.0 < open.1).then_some(open)
    }

    fn freeze_of(&self, date: Date) -> Option<&(Date, Date, Option<String>)> {
        self.freezes
            .iter()
            .find(|(from, to, _)| *from <= date && date <= *to)
    }

    fn local(&self, at: Timestamp) -> DateTime {
        at.to_zoned_datetime(self.tz.clone()).datetime()
    }

    fn resolve(&self, local: DateTime) -> Option<ZonedDateTime> {
        self.tz.to_ambiguous_zoned_datetime(local).compatible().ok()
    }

    /// Whether a planned change may reach the environment at `now`.
    pub(crate) fn state(&self, now: Timestamp) -> WindowState {
        let local = self.local(now);
        let today = local.date();
        if let Some((from, to)) = self.hours(today)
            && from <= local.time()
            && local.time() < to
            && let Some(until) = self.resolve(today.to_datetime(to))
        {
            return WindowState::Open { until };
        }
        let why = if self.holidays.contains(&today) {
            Shut::Holiday(today)
        } else if let Some((from, to, reason)) = self.freeze_of(today) {
            Shut::Frozen {
                from: *from,
                to: *to,
                reason: reason.clone(),
            }
        } else {
            Shut::Outside
        };
        WindowState::Closed {
            why,
            next: self.next_opening(now),
        }
    }

    /// The first opening after `now`, `None` within the horizon (a freeze longer than that,
    /// or window days that are all holidays).
    pub(crate) fn next_opening(&self, now: Timestamp) -> Option<ZonedDateTime> {
        let local = self.local(now);
        (0..HORIZON_DAYS).find_map(|n| {
            let date = local.date().checked_add(n.days()).ok()?;
            let (from, _) = self.hours(date)?;
            let opening = date.to_datetime(from);
            (opening > local).then(|| self.resolve(opening)).flatten()
        })
    }

    /// The first date of `date`'s month on which the window opens.
    pub(crate) fn first_window_of_month(&self, date: Date) -> Option<Date> {
        let first = date.first_of_month();
        (0..31)
            .filter_map(|n| first.checked_add(n.days()).ok())
            .take_while(|d| d.month() == first.month())
            .find(|d| self.hours(*d).is_some())
    }

    /// The first opening of a window that is the first of its month, after `now`.
    pub(crate) fn next_first_window(&self, now: Timestamp) -> Option<ZonedDateTime> {
        let local = self.local(now);
        let mut month = local.date().first_of_month();
        for _ in 0..(HORIZON_DAYS / 28) {
            if let Some(day) = self.first_window_of_month(month) {
                let (from, _) = self.hours(day)?;
                if day.to_datetime(from) > local {
                    return self.resolve(day.to_datetime(from));
                }
            }
            month = month.checked_add(1.month()).ok()?;
        }
        None
    }

    /// An instant as messages show it: `2026-12-09 07:00 Europe/Stockholm`.
    pub(crate) fn format(&self, at: &ZonedDateTime) -> String {
        format!("{} {}", at.strftime("%Y-%m-%d %H:%M"), self.tz_name)
    }

    pub(crate) fn environment(&self) -> &str {
        &self.environment
    }
}

/// `HH:MM` on the 24-hour clock.
fn clock(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn date(s: &str) -> Date {
        s.parse().expect("test date")
    }

    fn wednesday() -> Window {
        Window {
            days: vec!["wed".into()],
            from: "07:00".into(),
            to: "12:00".into(),
        }
    }

    fn new_year() -> Freeze {
        Freeze {
            from: "2026-12-19".into(),
            to: "2027-01-06".into(),
            reason: Some("Christmas and New Year".into()),
        }
    }

    /// Prod: Wednesdays 07:00–12:00 in Stockholm, frozen over New Year, 2027-05-05 a holiday.
    fn prod() -> Windows {
        Windows::new(
            "prod",
            "Europe/Stockholm",
            &[wednesday()],
            &[new_year()],
            &[date("2027-05-05")],
        )
        .expect("valid")
        .expect("a window")
    }

    /// How the state reads: `open until …` or `closed (why); next …`.
    fn read(w: &Windows, state: WindowState) -> String {
        match state {
            WindowState::Open { until } => format!("open until {}", w.format(&until)),
            WindowState::Closed { why, next } => {
                let next = next.map_or("never".into(), |n| w.format(&n));
                let why = match why {
                    Shut::Outside => "outside".to_string(),
                    Shut::Holiday(d) => format!("holiday {d}"),
                    Shut::Frozen { from, to, reason } => {
                        format!("frozen {from}..{to} {}", reason.unwrap_or_default())
                    }
                };
                format!("closed ({why}); next {next}")
            }
        }
    }

    #[test]
    fn window_table() {
        let w = prod();
        let cases = [
            // Inside and outside, at the edges: 07:00 exactly is open, 12:00 exactly closed.
            (
                "2026-12-02T07:00:00+01:00",
                "open until 2026-12-02 12:00 Europe/Stockholm",
            ),
            (
                "2026-12-02T06:59:59+01:00",
                "closed (outside); next 2026-12-02 07:00 Europe/Stockholm",
            ),
            (
                "2026-12-02T11:59:59+01:00",
                "open until 2026-12-02 12:00 Europe/Stockholm",
            ),
            (
                "2026-12-02T12:00:00+01:00",
                "closed (outside); next 2026-12-09 07:00 Europe/Stockholm",
            ),
            (
                "2026-12-04T22:00:00+01:00",
                "closed (outside); next 2026-12-09 07:00 Europe/Stockholm",
            ),
            // The clock of the window is Stockholm's, not UTC: 07:30 UTC is 08:30 there.
            (
                "2026-12-02T06:00:00Z",
                "open until 2026-12-02 12:00 Europe/Stockholm",
            ),
            (
                "2026-12-02T11:00:00Z",
                "closed (outside); next 2026-12-09 07:00 Europe/Stockholm",
            ),
            // DST: spring forward on Sunday 2027-03-28; the window stays 07:00–12:00 local.
            (
                "2027-03-28T02:30:00+01:00",
                "closed (outside); next 2027-03-31 07:00 Europe/Stockholm",
            ),
            (
                "2027-03-31T05:00:00Z",
                "open until 2027-03-31 12:00 Europe/Stockholm",
            ),
            (
                "2027-03-31T04:59:59Z",
                "closed (outside); next 2027-03-31 07:00 Europe/Stockholm",
            ),
            (
                "2027-03-24T06:00:00Z",
                "open until 2027-03-24 12:00 Europe/Stockholm",
            ),
            // DST: fall back on Sunday 2026-10-25; 06:00 UTC is 08:00 before, 07:00 after.
            (
                "2026-10-21T05:00:00Z",
                "open until 2026-10-21 12:00 Europe/Stockholm",
            ),
            (
                "2026-10-28T05:59:59Z",
                "closed (outside); next 2026-10-28 07:00 Europe/Stockholm",
            ),
            (
                "2026-10-28T06:00:00Z",
                "open until 2026-10-28 12:00 Europe/Stockholm",
            ),
            (
                "2026-10-25T02:30:00+01:00",
                "closed (outside); next 2026-10-28 07:00 Europe/Stockholm",
            ),
            // A freeze across New Year: the Wednesdays 23 and 30 Dec and 6 Jan stay shut.
            (
                "2026-12-23T09:00:00+01:00",
                "closed (frozen 2026-12-19..2027-01-06 Christmas and New Year); next 2027-01-13 07:00 Europe/Stockholm",
            ),
            (
                "2027-01-06T09:00:00+01:00",
                "closed (frozen 2026-12-19..2027-01-06 Christmas and New Year); next 2027-01-13 07:00 Europe/Stockholm",
            ),
            (
                "2026-12-16T12:00:00+01:00",
                "closed (outside); next 2027-01-13 07:00 Europe/Stockholm",
            ),
            (
                "2027-01-13T07:00:00+01:00",
                "open until 2027-01-13 12:00 Europe/Stockholm",
            ),
            // A holiday on a Wednesday moves the next window a week on.
            (
                "2027-05-05T09:00:00+02:00",
                "closed (holiday 2027-05-05); next 2027-05-12 07:00 Europe/Stockholm",
            ),
            (
                "2027-04-30T09:00:00+02:00",
                "closed (outside); next 2027-05-12 07:00 Europe/Stockholm",
            ),
        ];
        for (now, want) in cases {
            assert_eq!(read(&w, w.state(ts(now))), want, "at {now}");
        }
    }

    #[test]
    fn two_windows_in_force_need_both_open() {
        let narrowed = Window {
            days: vec!["wed".into(), "thu".into()],
            from: "08:00".into(),
            to: "10:00".into(),
        };
        let w = Windows::new(
            "prod",
            "Europe/Stockholm",
            &[wednesday(), narrowed],
            &[],
            &[],
        )
        .expect("valid")
        .expect("a window");
        assert_eq!(
            w.describe(),
            "Wed 07:00–12:00 and Wed,Thu 08:00–10:00 Europe/Stockholm"
        );
        let cases = [
            (
                "2026-12-02T07:30:00+01:00",
                "closed (outside); next 2026-12-02 08:00 Europe/Stockholm",
            ),
            (
                "2026-12-02T09:00:00+01:00",
                "open until 2026-12-02 10:00 Europe/Stockholm",
            ),
            (
                "2026-12-03T09:00:00+01:00",
                "closed (outside); next 2026-12-09 08:00 Europe/Stockholm",
            ),
        ];
        for (now, want) in cases {
            assert_eq!(read(&w, w.state(ts(now))), want, "at {now}");
        }
    }

    #[test]
    fn the_first_window_of_the_month_skips_holidays_and_freezes() {
        let w = prod();
        // January 2027: the 6th is frozen, so the first window is the 13th.
        assert_eq!(
            w.first_window_of_month(date("2027-01-20")),
            Some(date("2027-01-13"))
        );
        // May 2027: the 5th is a holiday.
        assert_eq!(
            w.first_window_of_month(date("2027-05-01")),
            Some(date("2027-05-12"))
        );
        assert_eq!(
            w.first_window_of_month(date("2026-12-30")),
            Some(date("2026-12-02"))
        );
        let next = w
            .next_first_window(ts("2026-12-02T12:00:00+01:00"))
            .expect("next");
        assert_eq!(w.format(&next), "2027-01-13 07:00 Europe/Stockholm");
    }

    #[test]
    fn no_window_is_any_time() {
        let w = Windows::new("prod", "Europe/Stockholm", &[], &[new_year()], &[]).expect("valid");
        assert!(w.is_none());
    }

    #[test]
    fn errors_say_what_is_wrong_and_how_to_fix_it() {
        let bad = |days: &[&str], from: &str, to: &str| {
            Windows::new(
                "prod",
                "Europe/Stockholm",
                &[Window {
                    days: days.iter().map(|d| d.to_string()).collect(),
                    from: from.into(),
                    to: to.into(),
                }],
                &[],
                &[],
            )
            .expect_err("invalid")
        };
        assert_eq!(
            bad(&["wendsday"], "07:00", "12:00"),
            "promotion.windows.prod.days: unknown weekday `wendsday`; use mon, tue, wed, thu, fri, sat or sun"
        );
        assert_eq!(
            bad(&["wed"], "7", "12:00"),
            "promotion.windows.prod.from: `7` is not a time; write it like \"07:00\""
        );
        assert_eq!(
            bad(&["wed"], "12:00", "07:00"),
            "promotion.windows.prod: from 12:00 is not before to 07:00, so the window never opens; a window ends on the day it starts"
        );
        let freeze = Windows::new(
            "prod",
            "Europe/Stockholm",
            &[wednesday()],
            &[Freeze {
                from: "2027-01-06".into(),
                to: "2026-12-19".into(),
                reason: None,
            }],
            &[],
        )
        .expect_err("invalid");
        assert_eq!(
            freeze,
            "promotion.freezes[0]: from 2027-01-06 is after to 2026-12-19; both dates are included, so write the earlier one first"
        );
    }
}
