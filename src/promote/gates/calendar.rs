//! The working-day calendar of the soak gate.
//!
//! A soak is counted in whole working days in the policy's time zone. Working days are the
//! `workdays` of the week (Monday to Friday unless configured) minus the `holidays`.
//!
//! - One working day moves a landing to the same clock time on the next working day.
//! - A landing on a non-working day starts counting at 00:00 of the next working day.
//! - The arithmetic is civil (dates and clock times), so a DST change does not move the clock
//!   time: a change that landed at 14:00 is ready at 14:00 after the switch too.
//! - A civil time is turned back into an instant with jiff's *compatible* disambiguation, the
//!   one RFC 5545 and Temporal use: a time in a gap (spring forward) is moved forward by the
//!   length of the gap (02:30 becomes 03:30), and a time in a fold (fall back) takes the earlier
//!   of its two instants (the first 02:30).
//! - Nothing here reads the clock: `now` is always an argument.
//!
//! Dates beyond jiff's range (year 9999) cannot be reached. A soak that would end there is
//! reported as ready at the last representable instant, which reads as "never" and keeps the
//! gate closed, rather than a panic.

use std::collections::BTreeSet;
use std::ops::Bound;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{RoundMode, Span, Timestamp, Unit, ZonedDateTime, ZonedDateTimeRound};

const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// Why a soak policy cannot become a [`Calendar`]. Each message says what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "unknown timezone `{name}` in promotion.soak.timezone; {}use an IANA time zone name such as `Europe/Stockholm` or `UTC`",
        suggestion.as_ref().map(|s| format!("did you mean `{s}`? ")).unwrap_or_default()
    )]
    UnknownTimezone {
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "unknown weekday `{name}` in promotion.soak.workdays; use mon, tue, wed, thu, fri, sat or sun"
    )]
    UnknownWeekday { name: String },
    #[error(
        "promotion.soak.workdays is empty, so no soak could ever end; list at least one day, such as [mon, tue, wed, thu, fri], or remove the key for Monday to Friday"
    )]
    NoWorkdays,
}

/// Working days in one time zone: which weekdays count, and which dates are holidays.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    tz_name: String,
    /// Monday first.
    workdays: [bool; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// `workdays` names days as `mon`…`sun` (or in full, any case); `None` means Monday to Friday.
    pub fn new(
        tz_name: &str,
        workdays: Option<&[String]>,
        holidays: &[Date],
    ) -> Result<Calendar, CalendarError> {
        let tz = time_zone(tz_name)?;
        let tz_name = tz.iana_name().unwrap_or(tz_name).to_string();
        let workdays = match workdays {
            None => [true, true, true, true, true, false, false],
            Some(names) => {
                let mut days = [false; 7];
                for name in names {
                    days[weekday_index(name)?] = true;
                }
                if !days.contains(&true) {
                    return Err(CalendarError::NoWorkdays);
                }
                days
            }
        };
        Ok(Calendar {
            tz,
            tz_name,
            workdays,
            holidays: holidays.iter().copied().collect(),
        })
    }

    /// The time zone's IANA name, as shown in messages.
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        self.works_on(d.weekday()) && !self.holidays.contains(&d)
    }

    fn works_on(&self, weekday: Weekday) -> bool {
        let index = usize::try_from(weekday.to_monday_zero_offset()).unwrap_or(0);
        self.workdays.get(index).copied().unwrap_or(false)
    }

    /// The landing advanced by `n` working days: when a soak of `n` working days is complete.
    pub fn ready_at(&self, landed: Timestamp, n: u32) -> ZonedDateTime {
        let local = landed.to_zoned_datetime(self.tz.clone());
        if n == 0 && self.is_working_day(local.date()) {
            return local;
        }
        let Some(start) = self.start(local.datetime()) else {
            return self.end_of_time();
        };
        match self.nth_working_day_after(start.date(), n) {
            Some(date) => self.resolve(date.to_datetime(start.time())),
            None => self.end_of_time(),
        }
    }

    /// The whole working days completed between `landed` and `now`: the largest `k` with
    /// `ready_at(landed, k) <= now`, or 0.
    pub fn soaked(&self, landed: Timestamp, now: Timestamp) -> u32 {
        let local = landed.to_zoned_datetime(self.tz.clone()).datetime();
        let Some(start) = self.start(local) else {
            return 0;
        };
        let time = start.time();
        let now_date = now.to_zoned_datetime(self.tz.clone()).date();
        // Count by dates first, then correct the last day or two by comparing instants.
        let mut k = self.working_days_in(start.date(), now_date);
        let mut last = if k > 0 {
            self.working_day_through(now_date)
        } else {
            Some(start.date())
        };
        while k > 0 {
            match last {
                Some(day) if !self.reached(day.to_datetime(time), now) => {
                    k -= 1;
                    last = if k > 0 {
                        day.yesterday()
                            .ok()
                            .and_then(|d| self.working_day_through(d))
                    } else {
                        Some(start.date())
                    };
                }
                _ => break,
            }
        }
        let Some(mut last) = last else {
            return 0;
        };
        while let Some(next) = self.next_working_day(last) {
            if !self.reached(next.to_datetime(time), now) {
                break;
            }
            k += 1;
            last = next;
        }
        u32::try_from(k).unwrap_or(u32::MAX)
    }

    /// The soak progress in one line, for gates and reports:
    /// `soaked 3 of 5 working days; ready at 2026-12-01 14:00 Europe/Stockholm`, or when the
    /// soak is complete, `soaked 5 of 5 working days since 2026-11-24 14:00 Europe/Stockholm`.
    /// Past the requirement, `soaked 7 working days (5 required) since ...`: "7 of 5" reads like
    /// a mistake.
    ///
    /// "since" shows the landing time. "ready at" is rounded up to the minute, so it never
    /// names a minute at which the gate is still closed.
    pub fn describe(&self, landed: Timestamp, now: Timestamp, n: u32) -> String {
        let k = self.soaked(landed, now);
        if k >= n {
            let since = landed.to_zoned_datetime(self.tz.clone());
            let soaked = if k == n {
                format!("soaked {k} of {n} working days")
            } else {
                format!("soaked {k} working days ({n} required)")
            };
            format!("{soaked} since {}", self.format(&since))
        } else {
            let ready = self.ready_at(landed, n);
            let ceil = ZonedDateTimeRound::new()
                .smallest(Unit::Minute)
                .mode(RoundMode::Ceil);
            let ready = ready.round(ceil).unwrap_or(ready);
            format!(
                "soaked {k} of {n} working days; ready at {}",
                self.format(&ready)
            )
        }
    }

    fn format(&self, at: &ZonedDateTime) -> String {
        format!("{} {}", at.strftime("%Y-%m-%d %H:%M"), self.tz_name)
    }

    /// Where counting starts: the landing itself on a working day, else 00:00 of the next one.
    fn start(&self, local: DateTime) -> Option<DateTime> {
        if self.is_working_day(local.date()) {
            Some(local)
        } else {
            Some(
                self.next_working_day(local.date())?
                    .to_datetime(Time::midnight()),
            )
        }
    }

    /// The `n`th working day after `d`; `None` past the end of jiff's calendar.
    fn nth_working_day_after(&self, mut d: Date, n: u32) -> Option<Date> {
        let per_week = self.workdays.iter().filter(|w| **w).count().max(1) as i64;
        let mut remaining = i64::from(n);
        // Jump whole weeks while more than a week remains; holidays make a jump count less.
        while remaining > per_week {
            let weeks = (remaining - 1) / per_week;
            let next = d
                .checked_add(Span::new().try_days(weeks.checked_mul(7)?).ok()?)
                .ok()?;
            remaining -= self.working_days_in(d, next);
            d = next;
        }
        for _ in 0..remaining {
            d = self.next_working_day(d)?;
        }
        Some(d)
    }

    /// The number of working days in `(after, through]`.
    fn working_days_in(&self, after: Date, through: Date) -> i64 {
        if through <= after {
            return 0;
        }
        let days = after
            .until(through)
            .map_or(0, |span| i64::from(span.get_days()));
        let per_week = self.workdays.iter().filter(|w| **w).count() as i64;
        let partial = (1..=days % 7)
            .filter(|i| self.works_on(after.weekday().wrapping_add(*i)))
            .count() as i64;
        let holidays = self
            .holidays
            .range((Bound::Excluded(after), Bound::Included(through)))
            .filter(|d| self.works_on(d.weekday()))
            .count() as i64;
        days / 7 * per_week + partial - holidays
    }

    /// The last working day on or before `d`.
    fn working_day_through(&self, mut d: Date) -> Option<Date> {
        while !self.is_working_day(d) {
            d = d.yesterday().ok()?;
        }
        Some(d)
    }

    /// `None` past the end of jiff's calendar.
    fn next_working_day(&self, mut d: Date) -> Option<Date> {
        loop {
            d = d.tomorrow().ok()?;
            if self.is_working_day(d) {
                return Some(d);
            }
        }
    }

    fn resolve(&self, local: DateTime) -> ZonedDateTime {
        self.tz
            .to_ambiguous_zoned_datetime(local)
            .compatible()
            .unwrap_or_else(|_| self.end_of_time())
    }

    /// Whether the instant of a local time is not after `now`; a time that has no instant
    /// (beyond year 9999) is never reached.
    fn reached(&self, local: DateTime, now: Timestamp) -> bool {
        self.tz
            .to_ambiguous_zoned_datetime(local)
            .compatible()
            .is_ok_and(|at| at.timestamp() <= now)
    }

    fn end_of_time(&self) -> ZonedDateTime {
        Timestamp::MAX.to_zoned_datetime(self.tz.clone())
    }
}

/// The time zone of an IANA name, or why not with the nearest name (the windows use it too).
pub(crate) fn time_zone(name: &str) -> Result<TimeZone, CalendarError> {
    let trimmed = name.trim();
    let unknown = || CalendarError::UnknownTimezone {
        name: name.to_string(),
        suggestion: closest_time_zone(trimmed),
    };
    // jiff maps this name to its "unknown" zone, which is UTC by another name.
    if trimmed.eq_ignore_ascii_case("Etc/Unknown") {
        return Err(unknown());
    }
    TimeZone::get(trimmed).map_err(|_| unknown())
}

/// Monday is 0; `mon` or `monday`, any case.
pub(crate) fn weekday_index(name: &str) -> Result<usize, CalendarError> {
    let lower = name.trim().to_ascii_lowercase();
    WEEKDAYS
        .iter()
        .position(|(short, long)| lower == *short || lower == *long)
        .ok_or_else(|| CalendarError::UnknownWeekday {
            name: name.to_string(),
        })
}

/// The known zone name nearest to a misspelt one, if one is near enough to be a typo.
fn closest_time_zone(name: &str) -> Option<String> {
    // Zone names are short; anything long is not a typo worth a suggestion.
    if name.len() > 64 {
        return None;
    }
    let wanted = name.to_ascii_lowercase();
    let limit = 3.min(wanted.len() / 3).max(1);
    jiff::tz::db()
        .available()
        .map(|zone| {
            let zone = zone.as_str().to_string();
            (edit_distance(&wanted, &zone.to_ascii_lowercase()), zone)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, zone)| zone)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
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

    fn stockholm() -> Calendar {
        Calendar::new(
            "Europe/Stockholm",
            None,
            &[date("2026-12-24"), date("2026-12-25")],
        )
        .expect("calendar")
    }

    fn days(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// (case, landed, n, ready at) in Europe/Stockholm with the 2026 Christmas holidays.
    #[test]
    fn ready_at_table() {
        let cases = [
            (
                "weekend in the middle: Thursday to Thursday",
                "2026-11-19T10:00:00+01:00",
                5,
                "2026-11-26T10:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "zero working days on a working day is the landing",
                "2026-11-19T10:00:00+01:00",
                0,
                "2026-11-19T10:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "one working day from Friday is Monday",
                "2026-11-20T10:00:00+01:00",
                1,
                "2026-11-23T10:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "holidays 24 and 25 December do not count",
                "2026-12-21T14:00:00+01:00",
                5,
                "2026-12-30T14:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "landing on a holiday starts at 00:00 of the next working day",
                "2026-12-24T09:00:00+01:00",
                1,
                "2026-12-29T00:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "landing on Saturday counts from Monday 00:00",
                "2026-11-21T15:30:00+01:00",
                5,
                "2026-11-30T00:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "landing on Saturday, zero days is Monday 00:00",
                "2026-11-21T15:30:00+01:00",
                0,
                "2026-11-23T00:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "Friday 23:59 local is still Friday",
                "2026-11-20T23:59:00+01:00",
                1,
                "2026-11-23T23:59:00+01:00[Europe/Stockholm]",
            ),
            (
                "Friday 23:59 UTC is Saturday 00:59 in Stockholm",
                "2026-11-20T23:59:00Z",
                1,
                "2026-11-24T00:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "autumn DST change (25 October 2026) keeps 14:00",
                "2026-10-22T14:00:00+02:00",
                5,
                "2026-10-29T14:00:00+01:00[Europe/Stockholm]",
            ),
            (
                "spring DST change (29 March 2026) keeps 14:00",
                "2026-03-26T14:00:00+01:00",
                5,
                "2026-04-02T14:00:00+02:00[Europe/Stockholm]",
            ),
        ];
        let cal = stockholm();
        for (case, landed, n, want) in cases {
            assert_eq!(cal.ready_at(ts(landed), n).to_string(), want, "{case}");
        }
    }

    #[test]
    fn nonexistent_and_ambiguous_clock_times_resolve_compatibly() {
        // Landed at 02:30 on Friday 27 March 2026; Monday 30 March has 02:30 again, fine. A
        // landing at 02:30 on Saturday 28 March with workdays Sat/Sun needs 02:30 on
        // Sunday 29 March, which does not exist: it moves forward to 03:30.
        let weekend =
            Calendar::new("Europe/Stockholm", Some(&days(&["sat", "sun"])), &[]).expect("calendar");
        assert_eq!(
            weekend
                .ready_at(ts("2026-03-28T02:30:00+01:00"), 1)
                .to_string(),
            "2026-03-29T03:30:00+02:00[Europe/Stockholm]"
        );
        // 02:30 on Sunday 25 October 2026 happens twice: the earlier one (+02:00) is chosen.
        assert_eq!(
            weekend
                .ready_at(ts("2026-10-24T02:30:00+02:00"), 1)
                .to_string(),
            "2026-10-25T02:30:00+02:00[Europe/Stockholm]"
        );
    }

    #[test]
    fn custom_workdays_sunday_to_thursday() {
        let cal = Calendar::new(
            "Asia/Jerusalem",
            Some(&days(&["Sun", "monday", "tue", "wed", "thu"])),
            &[],
        )
        .expect("calendar");
        assert!(cal.is_working_day(date("2026-11-22"))); // Sunday
        assert!(!cal.is_working_day(date("2026-11-20"))); // Friday
        // Thursday 10:00 + 1 working day skips Friday and Saturday.
        assert_eq!(
            cal.ready_at(ts("2026-11-19T10:00:00+02:00"), 1).to_string(),
            "2026-11-22T10:00:00+02:00[Asia/Jerusalem]"
        );
        // Landing on Friday counts from Sunday 00:00.
        assert_eq!(
            cal.ready_at(ts("2026-11-20T10:00:00+02:00"), 5).to_string(),
            "2026-11-29T00:00:00+02:00[Asia/Jerusalem]"
        );
    }

    /// (case, landed, now, soaked)
    #[test]
    fn soaked_table() {
        let landed = "2026-11-19T10:00:00+01:00"; // Thursday
        let cases = [
            ("before landing", landed, "2026-11-18T10:00:00+01:00", 0),
            ("at landing", landed, landed, 0),
            (
                "one minute short of a day",
                landed,
                "2026-11-20T09:59:00+01:00",
                0,
            ),
            ("exactly one day", landed, "2026-11-20T10:00:00+01:00", 1),
            (
                "the weekend adds nothing",
                landed,
                "2026-11-23T09:59:59+01:00",
                1,
            ),
            (
                "one second before ready",
                landed,
                "2026-11-26T09:59:59+01:00",
                4,
            ),
            ("at ready", landed, "2026-11-26T10:00:00+01:00", 5),
            ("after ready", landed, "2026-12-03T12:00:00+01:00", 10),
            (
                "Saturday landing, Monday noon",
                "2026-11-21T15:30:00+01:00",
                "2026-11-23T12:00:00+01:00",
                0,
            ),
            (
                "Saturday landing, Tuesday 00:00",
                "2026-11-21T15:30:00+01:00",
                "2026-11-24T00:00:00+01:00",
                1,
            ),
            (
                "across Christmas",
                "2026-12-21T14:00:00+01:00",
                "2026-12-29T14:00:00+01:00",
                4,
            ),
        ];
        let cal = stockholm();
        for (case, landed, now, want) in cases {
            assert_eq!(cal.soaked(ts(landed), ts(now)), want, "{case}");
        }
    }

    #[test]
    fn soaked_is_the_largest_k_with_ready_at_k_not_after_now() {
        let cal = stockholm();
        let landed = ts("2026-12-18T16:45:00+01:00");
        let mut now = ts("2026-12-17T00:00:00+01:00");
        let end = ts("2027-01-12T00:00:00+01:00");
        while now < end {
            let k = cal.soaked(landed, now);
            assert!(
                k == 0 || cal.ready_at(landed, k).timestamp() <= now,
                "{now}"
            );
            assert!(cal.ready_at(landed, k + 1).timestamp() > now, "{now}");
            now = now
                .checked_add(jiff::SignedDuration::from_mins(37))
                .expect("in range");
        }
    }

    /// The week jumps and date counting agree with stepping one day at a time.
    #[test]
    fn fast_counting_agrees_with_stepping() {
        let calendars = [
            stockholm(),
            Calendar::new(
                "America/New_York",
                Some(&days(&["sun", "tue", "thu"])),
                &[date("2026-03-08"), date("2026-03-10"), date("2026-11-01")],
            )
            .expect("calendar"),
        ];
        for cal in &calendars {
            let mut landed = ts("2026-02-27T23:30:00Z");
            for _ in 0..40 {
                let local = landed.to_zoned_datetime(cal.tz.clone());
                let start = cal.start(local.datetime()).expect("start");
                let mut stepped = start.date();
                for n in 0..30u32 {
                    if n > 0 {
                        stepped = cal.next_working_day(stepped).expect("in range");
                    }
                    let want = if n == 0 && cal.is_working_day(local.date()) {
                        local.clone()
                    } else {
                        cal.resolve(stepped.to_datetime(start.time()))
                    };
                    assert_eq!(cal.ready_at(landed, n), want, "{landed} + {n}");
                    let at = want.timestamp();
                    let before = at - jiff::SignedDuration::from_secs(1);
                    assert!(cal.soaked(landed, at) >= n, "{landed} {n}");
                    if n > 0 && at > landed {
                        assert!(cal.soaked(landed, before) < n, "{landed} {n}");
                    }
                }
                landed += jiff::SignedDuration::from_hours(7 * 24 + 5);
            }
        }
    }

    #[test]
    fn describe_table() {
        let cal = stockholm();
        let cases = [
            (
                "2026-11-24T14:00:00+01:00",
                "2026-11-27T15:00:00+01:00",
                5,
                "soaked 3 of 5 working days; ready at 2026-12-01 14:00 Europe/Stockholm",
            ),
            (
                "2026-11-24T14:00:00+01:00",
                "2026-12-01T14:00:00+01:00",
                5,
                "soaked 5 of 5 working days since 2026-11-24 14:00 Europe/Stockholm",
            ),
            (
                "2026-11-24T14:00:00+01:00",
                "2026-12-03T14:00:00+01:00",
                5,
                "soaked 7 working days (5 required) since 2026-11-24 14:00 Europe/Stockholm",
            ),
            (
                "2026-11-24T14:00:30+01:00",
                "2026-11-24T14:00:30+01:00",
                1,
                "soaked 0 of 1 working days; ready at 2026-11-25 14:01 Europe/Stockholm",
            ),
        ];
        for (landed, now, n, want) in cases {
            assert_eq!(cal.describe(ts(landed), ts(now), n), want);
        }
    }

    #[test]
    fn a_soak_past_year_9999_is_never_ready() {
        let cal = stockholm();
        let landed = ts("2026-11-24T14:00:00+01:00");
        assert_eq!(cal.ready_at(landed, u32::MAX).timestamp(), Timestamp::MAX);
        let last = cal.soaked(landed, Timestamp::MAX);
        assert_eq!(last, 2_080_080);
        assert_eq!(
            cal.ready_at(landed, last).to_string(),
            "9999-12-30T14:00:00+01:00[Europe/Stockholm]"
        );
        assert_eq!(cal.ready_at(landed, last + 1).timestamp(), Timestamp::MAX);
    }

    #[test]
    fn errors_say_what_is_wrong_and_how_to_fix_it() {
        let cases: [(&str, Option<Vec<String>>, &str); 5] = [
            (
                "Europe/Stokholm",
                None,
                "unknown timezone `Europe/Stokholm` in promotion.soak.timezone; did you mean `Europe/Stockholm`? use an IANA time zone name such as `Europe/Stockholm` or `UTC`",
            ),
            (
                "CET+1",
                None,
                "unknown timezone `CET+1` in promotion.soak.timezone; use an IANA time zone name such as `Europe/Stockholm` or `UTC`",
            ),
            (
                "Etc/Unknown",
                None,
                "unknown timezone `Etc/Unknown` in promotion.soak.timezone; use an IANA time zone name such as `Europe/Stockholm` or `UTC`",
            ),
            (
                "UTC",
                Some(days(&["mon", "tues"])),
                "unknown weekday `tues` in promotion.soak.workdays; use mon, tue, wed, thu, fri, sat or sun",
            ),
            (
                "UTC",
                Some(vec![]),
                "promotion.soak.workdays is empty, so no soak could ever end; list at least one day, such as [mon, tue, wed, thu, fri], or remove the key for Monday to Friday",
            ),
        ];
        for (tz, workdays, want) in cases {
            let err = Calendar::new(tz, workdays.as_deref(), &[]).expect_err(tz);
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn the_zone_name_is_canonical() {
        let cal = Calendar::new("europe/stockholm", None, &[]).expect("calendar");
        assert_eq!(cal.tz_name(), "Europe/Stockholm");
    }
}
