//! The promotion timeline: each source commit as it reached the previous environment, soaked,
//! and reached this one, drawn on a calendar of days as an inline SVG.
//!
//! The soak window and each verdict come from [`Calendar`], the arithmetic the soak gate
//! itself uses, so the chart cannot disagree with `verify-promotion`: a landing right of its
//! soak bar soaked, one inside it came early, through break-glass or around the gates.
//!
//! One chart per month of soak starts keeps a year readable: a month holds some twenty rows,
//! and its x axis runs on past the month's end until the last of them landed.
//!
//! Colours come from classes that the site's stylesheet sets for light and dark mode; the
//! presentation attributes are the fallback when the SVG is seen alone. Every text goes
//! through [`escape`]: nothing a commit message holds can become markup.

use std::borrow::Cow;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::model::Landing;
use crate::promote::gates::calendar::Calendar;

/// Width of one day, in SVG units.
const DAY: f64 = 26.0;
/// Width of the row labels left of day 1.
const LABELS: f64 = 270.0;
/// Height of one row.
const ROW: f64 = 20.0;
/// Height of the header: months, day numbers, weekdays.
const HEADER: f64 = 48.0;
const BOTTOM: f64 = 10.0;
/// Room right of the last day for the flags of the rows that end there.
const FLAGS: f64 = 150.0;
/// How far past its month a chart may run before rows are cut off with an arrow.
const MAX_DAYS: i32 = 62;
/// Characters of a commit subject shown beside its short sha.
const SUBJECT_CHARS: usize = 28;

/// What became of one source commit, by the soak rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The first environment: no soak before it.
    Published,
    /// It landed after soaking the full number of working days.
    Soaked { days: u32 },
    /// It landed early by break-glass.
    BreakGlass { days: u32 },
    /// It landed early without break-glass: the rule did not hold.
    Early { days: u32 },
    /// It has not landed yet.
    Waiting { days: u32 },
}

impl Verdict {
    pub(crate) fn of(
        landing: &Landing,
        calendar: &Calendar,
        needed: u32,
        now: Timestamp,
    ) -> Verdict {
        let Some(start) = landing.soak_start else {
            return Verdict::Published;
        };
        match landing.landed {
            None => Verdict::Waiting {
                days: calendar.soaked(start, now),
            },
            Some(at) => {
                let days = calendar.soaked(start, at);
                if days >= needed {
                    Verdict::Soaked { days }
                } else if landing.emergency.is_some() {
                    Verdict::BreakGlass { days }
                } else {
                    Verdict::Early { days }
                }
            }
        }
    }

    fn class(self) -> &'static str {
        match self {
            Verdict::Published => "tl-published",
            Verdict::Soaked { .. } => "tl-ok",
            Verdict::BreakGlass { .. } => "tl-glass",
            Verdict::Early { .. } => "tl-early",
            Verdict::Waiting { .. } => "tl-waiting",
        }
    }
}

/// The counts of one chart, for its caption.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) published: usize,
    pub(crate) soaked: usize,
    pub(crate) break_glass: usize,
    pub(crate) early: usize,
    pub(crate) waiting: usize,
}

impl Counts {
    fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Published => self.published += 1,
            Verdict::Soaked { .. } => self.soaked += 1,
            Verdict::BreakGlass { .. } => self.break_glass += 1,
            Verdict::Early { .. } => self.early += 1,
            Verdict::Waiting { .. } => self.waiting += 1,
        }
    }
}

/// One drawn month.
#[derive(Clone, Debug)]
pub(crate) struct Chart {
    /// `June 2026`.
    pub(crate) title: String,
    /// The element id of the chart, unique on its page.
    pub(crate) id: String,
    pub(crate) counts: Counts,
    /// One sentence an auditor reads instead of the picture: the `<desc>` and the caption.
    pub(crate) summary: String,
    pub(crate) svg: String,
}

/// The timeline of one environment.
pub(crate) struct Timeline<'a> {
    pub(crate) environment: &'a str,
    /// The environment changes soak in first.
    pub(crate) previous: Option<&'a str>,
    /// Oldest first.
    pub(crate) landings: &'a [Landing],
    pub(crate) calendar: &'a Calendar,
    pub(crate) tz: &'a TimeZone,
    pub(crate) holidays: &'a [Date],
    pub(crate) working_days: u32,
    pub(crate) now: Timestamp,
    /// Prefix of the charts' element ids, unique on the page.
    pub(crate) id: &'a str,
}

impl Timeline<'_> {
    /// One chart per month in which commits started their soak (or, in the first
    /// environment, landed), newest month first.
    pub(crate) fn charts(&self) -> Vec<Chart> {
        let mut months: Vec<(Date, Vec<&Landing>)> = Vec::new();
        for landing in self.landings {
            let Some(start) = landing.soak_start.or(landing.landed) else {
                continue;
            };
            let month = self.date(start).first_of_month();
            match months.iter_mut().find(|(m, _)| *m == month) {
                Some((_, rows)) => rows.push(landing),
                None => months.push((month, vec![landing])),
            }
        }
        months.sort_by_key(|(m, _)| std::cmp::Reverse(*m));
        months
            .into_iter()
            .map(|(month, rows)| self.chart(month, &rows))
            .collect()
    }

    fn date(&self, at: Timestamp) -> Date {
        at.to_zoned_datetime(self.tz.clone()).date()
    }

    /// The chart of the rows whose soak started in `month`.
    pub(crate) fn chart(&self, month: Date, rows: &[&Landing]) -> Chart {
        let first = month.first_of_month();
        let mut last = month.last_of_month();
        let mut verdicts = Vec::with_capacity(rows.len());
        let mut counts = Counts::default();
        for row in rows {
            let verdict = Verdict::of(row, self.calendar, self.working_days, self.now);
            counts.add(verdict);
            verdicts.push(verdict);
            for end in [row.landed, self.ready_at(row)].into_iter().flatten() {
                last = last.max(self.date(end));
            }
            if row.landed.is_none() {
                last = last.max(self.date(self.now));
            }
        }
        let cap = first
            .checked_add(jiff::Span::new().days(i64::from(MAX_DAYS - 1)))
            .unwrap_or(last);
        let last = last.min(cap);
        let days = first
            .until(last)
            .map_or(1, |s| s.get_days().saturating_add(1))
            .max(1);
        let title = first.strftime("%B %Y").to_string();
        let id = format!("{}-{}", self.id, first.strftime("%Y-%m"));
        let summary = self.summary(&title, rows.len(), counts);
        let svg = Drawing {
            timeline: self,
            first,
            days,
            id: &id,
            title: &title,
            summary: &summary,
        }
        .draw(rows, &verdicts);
        Chart {
            title,
            id,
            counts,
            summary,
            svg,
        }
    }

    fn ready_at(&self, row: &Landing) -> Option<Timestamp> {
        row.soak_start
            .map(|s| self.calendar.ready_at(s, self.working_days).timestamp())
    }

    fn summary(&self, title: &str, rows: usize, c: Counts) -> String {
        let commits = plural(rows, "source commit", "source commits");
        let Some(previous) = self.previous else {
            return format!("{commits} reached {} in {title}.", self.environment);
        };
        let mut s = format!(
            "{commits} reached {previous} in {title}. {} soaked at least {} in {previous} before {} reached {}",
            c.soaked,
            plural(self.working_days as usize, "working day", "working days"),
            if c.soaked == 1 { "it" } else { "they" },
            self.environment,
        );
        if c.break_glass > 0 {
            let _ = write!(s, "; {} reached it early by break-glass", c.break_glass);
        }
        if c.early > 0 {
            let _ = write!(
                s,
                "; {} reached it early without break-glass: the soak rule did not hold",
                c.early
            );
        }
        if c.waiting > 0 {
            let _ = write!(
                s,
                "; {} still {}",
                c.waiting,
                if c.waiting == 1 { "waits" } else { "wait" }
            );
        }
        s.push('.');
        s
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The geometry of one chart while it is drawn.
struct Drawing<'a> {
    timeline: &'a Timeline<'a>,
    first: Date,
    days: i32,
    id: &'a str,
    title: &'a str,
    summary: &'a str,
}

impl Drawing<'_> {
    fn width(&self) -> f64 {
        LABELS + f64::from(self.days) * DAY + FLAGS
    }

    fn right(&self) -> f64 {
        LABELS + f64::from(self.days) * DAY
    }

    /// The x of an instant, as a fraction of its local day; `None` past the chart's end.
    fn x(&self, at: Timestamp) -> Option<f64> {
        let local = at.to_zoned_datetime(self.timeline.tz.clone());
        let day = self.first.until(local.date()).ok()?.get_days();
        let t = local.time();
        let seconds =
            f64::from(t.hour()) * 3600.0 + f64::from(t.minute()) * 60.0 + f64::from(t.second());
        let x = LABELS + (f64::from(day) + seconds / 86_400.0) * DAY;
        (x <= self.right()).then_some(x)
    }

    fn draw(&self, rows: &[&Landing], verdicts: &[Verdict]) -> String {
        let t = self.timeline;
        let height = HEADER + rows.len() as f64 * ROW + BOTTOM;
        let width = self.width();
        let mut s = String::with_capacity(4096 + rows.len() * 900);
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="{id}" role="img" aria-label="{label}" aria-describedby="{id}-desc" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="11">"#,
            id = escape(self.id),
            label = escape(&format!(
                "Promotion timeline of {}, {}",
                t.environment, self.title
            )),
        );
        let _ = write!(
            s,
            r#"<title>Promotion timeline of {}, {}</title><desc id="{}-desc">{}</desc>"#,
            escape(t.environment),
            escape(self.title),
            escape(self.id),
            escape(self.summary)
        );
        self.days_and_header(&mut s, height);
        for (i, (row, verdict)) in rows.iter().zip(verdicts).enumerate() {
            self.row(&mut s, i, row, *verdict);
        }
        if let Some(x) = self.x(t.now) {
            let _ = write!(
                s,
                r##"<g class="tl-now"><line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#7c3aed" stroke-dasharray="3 2"/><text x="{tx:.1}" y="12" fill="#7c3aed" font-weight="600">now</text></g>"##,
                top = HEADER - 16.0,
                bottom = height - BOTTOM + 4.0,
                tx = x + 3.0,
            );
        }
        s.push_str("</svg>");
        s
    }

    /// Day columns (working days shaded, weekends and holidays marked) and their labels.
    fn days_and_header(&self, s: &mut String, height: f64) {
        let t = self.timeline;
        s.push_str(r#"<g class="tl-days">"#);
        let mut day = self.first;
        for i in 0..self.days {
            let x = LABELS + f64::from(i) * DAY;
            let holiday = t.holidays.contains(&day);
            let working = t.calendar.is_working_day(day);
            let (class, fill, what) = if holiday {
                ("tl-holiday", "#fde7c8", "holiday, not a working day")
            } else if working {
                ("tl-work", "#e8eef7", "working day")
            } else {
                ("tl-rest", "#ffffff", "weekend, not a working day")
            };
            let _ = write!(
                s,
                r#"<rect class="{class}" x="{x:.1}" y="{y}" width="{DAY}" height="{h}" fill="{fill}"><title>{date}: {what}</title></rect>"#,
                y = HEADER - 16.0,
                h = height - HEADER + 16.0 - BOTTOM,
                date = day.strftime("%a %Y-%m-%d"),
            );
            let cx = x + DAY / 2.0;
            if i == 0 || day.day() == 1 {
                let _ = write!(
                    s,
                    r#"<text class="tl-month" x="{x:.1}" y="12" font-weight="600">{}</text>"#,
                    day.strftime("%B %Y")
                );
            }
            let _ = write!(
                s,
                r#"<text class="tl-daynum" x="{cx:.1}" y="26" text-anchor="middle">{}</text>"#,
                day.day()
            );
            let (letter, letter_class) = if holiday {
                ("H", "tl-mark-holiday")
            } else {
                (
                    weekday_letter(day),
                    if working {
                        "tl-weekday"
                    } else {
                        "tl-mark-rest"
                    },
                )
            };
            let _ = write!(
                s,
                r#"<text class="{letter_class}" x="{cx:.1}" y="{y}" text-anchor="middle">{letter}</text>"#,
                y = HEADER - 5.0,
            );
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        s.push_str("</g>");
    }

    fn row(&self, s: &mut String, i: usize, row: &Landing, verdict: Verdict) {
        let t = self.timeline;
        let y = HEADER + i as f64 * ROW;
        let mid = y + ROW / 2.0;
        let rev = &row.revision;
        let short: String = rev.sha.chars().take(7).collect();
        let _ = write!(s, r#"<g class="tl-row {}">"#, verdict.class());
        let _ = write!(
            s,
            "<title>{}</title>",
            escape(&self.row_title(row, verdict))
        );
        let _ = write!(
            s,
            r##"<line class="tl-grid" x1="0" y1="{y2:.1}" x2="{w:.1}" y2="{y2:.1}" stroke="#d0d7e2" stroke-width="0.5"/>"##,
            y2 = y + ROW,
            w = self.right(),
        );
        let _ = write!(
            s,
            r#"<text class="tl-label" x="{x:.1}" y="{ty:.1}" text-anchor="end"><tspan class="tl-sha" font-family="ui-monospace, monospace">{}</tspan> {}</text>"#,
            escape(&short),
            escape(&truncate(&rev.subject, SUBJECT_CHARS)),
            x = LABELS - 6.0,
            ty = mid + 4.0,
        );
        let start = row.soak_start.map(|at| (at, self.x(at)));
        let ready = t.ready_at(row).map(|at| self.x(at).unwrap_or(self.right()));
        if let (Some((_, Some(x0))), Some(x1)) = (start, ready) {
            let _ = write!(
                s,
                r##"<rect class="tl-soak" x="{x0:.1}" y="{ry:.1}" width="{w:.1}" height="8" rx="2" fill="#93c5fd"/><line class="tl-start" x1="{x0:.1}" y1="{a:.1}" x2="{x0:.1}" y2="{b:.1}" stroke="#1d4ed8" stroke-width="2"/>"##,
                ry = mid - 4.0,
                w = (x1 - x0).max(1.0),
                a = mid - 6.0,
                b = mid + 6.0,
            );
        }
        let end = match row.landed {
            Some(at) => self.x(at),
            None => self.x(t.now),
        };
        // From the end of the soak to the landing (or to now, waiting): the time it waited
        // after it was ready. A landing inside the soak has no such line.
        if let (Some((_, Some(_))), Some(x1)) = (start, ready) {
            let to = end.unwrap_or(self.right());
            if to > x1 {
                let dash = if row.landed.is_none() {
                    r#" stroke-dasharray="4 3""#
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    r##"<line class="tl-wait" x1="{x1:.1}" y1="{mid:.1}" x2="{to:.1}" y2="{mid:.1}" stroke="#64748b" stroke-width="1.5"{dash}/>"##,
                );
            }
        }
        // Flags go right of everything the row draws.
        let clear = ready.unwrap_or(0.0);
        match (row.landed, end) {
            (Some(_), Some(x)) => self.marker(s, x, mid, verdict, clear),
            (Some(_), None) | (None, None) => {
                let _ = write!(
                    s,
                    r#"<text class="tl-more" x="{x:.1}" y="{ty:.1}" text-anchor="end">→</text>"#,
                    x = self.right() - 2.0,
                    ty = mid + 4.0,
                );
            }
            (None, Some(x)) => {
                let _ = write!(
                    s,
                    r##"<circle class="tl-marker" cx="{x:.1}" cy="{mid:.1}" r="4" fill="#ffffff" stroke="#64748b" stroke-width="1.5"/>"##,
                );
                if let Verdict::Waiting { days } = verdict {
                    let text = if days >= t.working_days {
                        format!("soaked {days} of {}, waiting", t.working_days)
                    } else {
                        format!("soaking, {days} of {}", t.working_days)
                    };
                    self.flag(s, x.max(clear), mid, &text);
                }
            }
        }
        s.push_str("</g>");
    }

    /// The mark of a landing at `x`; its flag goes right of `clear`.
    fn marker(&self, s: &mut String, x: f64, mid: f64, verdict: Verdict, clear: f64) {
        let needed = self.timeline.working_days;
        match verdict {
            Verdict::Published | Verdict::Soaked { .. } => {
                let fill = if verdict == Verdict::Published {
                    "#1d4ed8"
                } else {
                    "#15803d"
                };
                let _ = write!(
                    s,
                    r#"<circle class="tl-marker" cx="{x:.1}" cy="{mid:.1}" r="5" fill="{fill}"/>"#
                );
            }
            Verdict::BreakGlass { days } => {
                let _ = write!(
                    s,
                    r##"<path class="tl-marker" d="M{x:.1} {a:.1} L{r:.1} {mid:.1} L{x:.1} {b:.1} L{l:.1} {mid:.1} Z" fill="#d97706"/>"##,
                    a = mid - 7.0,
                    b = mid + 7.0,
                    l = x - 7.0,
                    r = x + 7.0,
                );
                self.flag(
                    s,
                    x.max(clear),
                    mid,
                    &format!("break-glass after {days} of {needed}"),
                );
            }
            Verdict::Early { days } => {
                let _ = write!(
                    s,
                    r##"<path class="tl-marker" d="M{l:.1} {a:.1} L{r:.1} {b:.1} M{l:.1} {b:.1} L{r:.1} {a:.1}" stroke="#b91c1c" stroke-width="3"/>"##,
                    a = mid - 5.0,
                    b = mid + 5.0,
                    l = x - 5.0,
                    r = x + 5.0,
                );
                self.flag(
                    s,
                    x.max(clear),
                    mid,
                    &format!("early: {days} of {needed}, no break-glass"),
                );
            }
            Verdict::Waiting { .. } => {}
        }
    }

    /// A short text beside a marker: right of it, or left when it would leave the chart.
    fn flag(&self, s: &mut String, x: f64, mid: f64, text: &str) {
        let room = self.width() - x;
        let wide = text.chars().count() as f64 * 6.0;
        let (tx, anchor) = if room > wide + 12.0 {
            (x + 10.0, "start")
        } else {
            (x - 10.0, "end")
        };
        let _ = write!(
            s,
            r#"<text class="tl-flag" x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}" font-weight="600">{}</text>"#,
            escape(text),
            ty = mid + 4.0,
        );
    }

    /// The tooltip of a row: everything the row draws, in words.
    fn row_title(&self, row: &Landing, verdict: Verdict) -> String {
        let t = self.timeline;
        let at = |ts: Timestamp| {
            ts.to_zoned_datetime(t.tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        };
        let rev = &row.revision;
        let mut s = format!("{} {} ({})", rev.sha, rev.subject, rev.author);
        if let (Some(previous), Some(start)) = (t.previous, row.soak_start) {
            let _ = write!(s, "\nreached {previous} {}", at(start));
            if let Some(ready) = t.ready_at(row) {
                let _ = write!(
                    s,
                    "\nsoaked {} working days at {}",
                    t.working_days,
                    at(ready)
                );
            }
        }
        match row.landed {
            Some(landed) => {
                let _ = write!(s, "\nreached {} {}", t.environment, at(landed));
            }
            None => {
                let _ = write!(s, "\nnot in {} yet", t.environment);
            }
        }
        let _ = write!(
            s,
            "\n{}",
            match verdict {
                Verdict::Published => "published directly".to_string(),
                Verdict::Soaked { days } => format!("soaked {days} working days: the rule held"),
                Verdict::BreakGlass { days } => format!(
                    "break-glass after {days} of {} working days: {}",
                    t.working_days,
                    row.emergency.as_deref().unwrap_or("")
                ),
                Verdict::Early { days } => format!(
                    "EARLY: {days} of {} working days, without break-glass",
                    t.working_days
                ),
                Verdict::Waiting { days } => {
                    format!("waiting: soaked {days} of {} working days", t.working_days)
                }
            }
        );
        s
    }
}

fn weekday_letter(day: Date) -> &'static str {
    use jiff::civil::Weekday::*;
    match day.weekday() {
        Monday => "M",
        Tuesday => "T",
        Wednesday => "W",
        Thursday => "T",
        Friday => "F",
        Saturday => "S",
        Sunday => "S",
    }
}

/// At most `max` characters, with `…` when cut.
fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => {
            let head = text[..cut].trim_end();
            Cow::Owned(format!("{head}…"))
        }
    }
}

/// Text and attribute values as XML: the five characters that could end either.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::model::Revision;

    const TZ: &str = "Europe/Stockholm";

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    fn date(s: &str) -> Date {
        s.parse().expect("test date")
    }

    fn landing(sha: &str, subject: &str, start: &str, landed: Option<&str>) -> Landing {
        Landing {
            revision: Revision {
                sha: sha.to_string(),
                subject: subject.to_string(),
                author: "Alice <alice@example.com>".to_string(),
                at: ts(start),
            },
            soak_start: Some(ts(start)),
            landed: landed.map(ts),
            emergency: None,
            change: None,
        }
    }

    struct Fixture {
        calendar: Calendar,
        tz: TimeZone,
        holidays: Vec<Date>,
    }

    impl Fixture {
        /// Midsummer eve, Friday 2026-06-19, is a holiday.
        fn new() -> Fixture {
            let holidays = vec![date("2026-06-19")];
            Fixture {
                calendar: Calendar::new(TZ, None, &holidays).expect("calendar"),
                tz: TimeZone::get(TZ).expect("tz"),
                holidays,
            }
        }

        fn timeline<'a>(&'a self, landings: &'a [Landing], now: &str) -> Timeline<'a> {
            Timeline {
                environment: "prod",
                previous: Some("non-prod"),
                landings,
                calendar: &self.calendar,
                tz: &self.tz,
                holidays: &self.holidays,
                working_days: 5,
                now: ts(now),
                id: "tl-prod",
            }
        }
    }

    /// Three commits of June 2026: one soaked (Mon 1 → Wed 10), one promoted early by
    /// break-glass, one still waiting at `now`.
    fn june() -> Vec<Landing> {
        let mut glass = landing(
            "bbbbbbb2222",
            "ingress-nginx: fix CVE-2026-1234",
            "2026-06-15T09:00:00+02:00",
            Some("2026-06-16T10:00:00+02:00"),
        );
        glass.emergency = Some("CVE-2026-1234 is exploited".to_string());
        vec![
            landing(
                "aaaaaaa1111",
                "fluentd: raise the buffer",
                "2026-06-01T10:00:00+02:00",
                Some("2026-06-10T09:00:00+02:00"),
            ),
            glass,
            landing(
                "ccccccc3333",
                "grafana: new dashboards",
                "2026-06-22T11:00:00+02:00",
                None,
            ),
        ]
    }

    #[test]
    fn verdicts_follow_the_soak_gate() {
        let f = Fixture::new();
        let n = 5;
        let now = ts("2026-06-25T12:00:00+02:00");
        let mut early = landing(
            "d",
            "x",
            "2026-06-15T09:00:00+02:00",
            Some("2026-06-18T10:00:00+02:00"),
        );
        // Thursday 18th to Friday 26th: the holiday on the 19th does not count, so the soak of
        // a landing on Thursday the 18th ends on Friday the 26th at the same time.
        let over_holiday = landing(
            "e",
            "x",
            "2026-06-18T10:00:00+02:00",
            Some("2026-06-26T10:00:00+02:00"),
        );
        let one_minute_short = landing(
            "f",
            "x",
            "2026-06-18T10:00:00+02:00",
            Some("2026-06-26T09:59:00+02:00"),
        );
        let cases = [
            (june()[0].clone(), Verdict::Soaked { days: 6 }),
            (june()[1].clone(), Verdict::BreakGlass { days: 1 }),
            (june()[2].clone(), Verdict::Waiting { days: 3 }),
            (early.clone(), Verdict::Early { days: 3 }),
            (over_holiday, Verdict::Soaked { days: 5 }),
            (one_minute_short, Verdict::Early { days: 4 }),
        ];
        for (row, expected) in cases {
            assert_eq!(
                Verdict::of(&row, &f.calendar, n, now),
                expected,
                "{}",
                row.revision.sha
            );
        }
        early.soak_start = None;
        assert_eq!(Verdict::of(&early, &f.calendar, n, now), Verdict::Published);
    }

    #[test]
    fn a_month_is_one_chart_that_runs_until_its_last_landing() {
        let f = Fixture::new();
        let mut rows = june();
        rows.push(landing(
            "ddddddd4444",
            "dex: rotate keys",
            "2026-05-29T10:00:00+02:00",
            Some("2026-06-08T09:00:00+02:00"),
        ));
        rows.sort_by_key(|r| r.soak_start);
        let charts = f.timeline(&rows, "2026-07-03T12:00:00+02:00").charts();
        let titles: Vec<&str> = charts.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["June 2026", "May 2026"]);
        // May's chart runs past May 31 to June 8, when its only commit reached prod.
        assert!(
            charts[1]
                .svg
                .contains("<title>Mon 2026-06-08: working day</title>")
        );
        assert!(!charts[1].svg.contains("2026-06-09"));
        // June's chart runs to now (July 3), as one commit still waits.
        assert!(
            charts[0]
                .svg
                .contains("<title>Fri 2026-07-03: working day</title>")
        );
        assert_eq!(charts[0].id, "tl-prod-2026-06");
        assert_eq!(
            charts[0].counts,
            Counts {
                soaked: 1,
                break_glass: 1,
                waiting: 1,
                ..Counts::default()
            }
        );
    }

    #[test]
    fn working_days_weekends_and_holidays_are_marked() {
        let f = Fixture::new();
        let rows = june();
        let chart = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0);
        let svg = &chart.svg;
        assert!(svg.contains(r##"<rect class="tl-holiday" x="738.0" y="32" width="26" height="76" fill="#fde7c8"><title>Fri 2026-06-19: holiday, not a working day</title></rect>"##), "{svg}");
        assert!(svg.contains("<title>Sat 2026-06-20: weekend, not a working day</title>"));
        assert!(svg.contains("<title>Mon 2026-06-22: working day</title>"));
        assert_eq!(svg.matches(r#"class="tl-holiday""#).count(), 1);
        // June 2026 has 8 weekend days.
        assert_eq!(svg.matches(r#"class="tl-rest""#).count(), 8);
        assert_eq!(svg.matches(r#"class="tl-work""#).count(), 30 - 8 - 1);
        assert!(svg.contains(
            r#"<text class="tl-mark-holiday" x="751.0" y="43" text-anchor="middle">H</text>"#
        ));
    }

    #[test]
    fn each_verdict_is_drawn_and_flagged() {
        let f = Fixture::new();
        let mut rows = june();
        rows.push(landing(
            "eeeeeee5555",
            "velero: new schedule",
            "2026-06-02T10:00:00+02:00",
            Some("2026-06-04T10:00:00+02:00"),
        ));
        let chart = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0);
        let svg = &chart.svg;
        assert!(svg.contains(r#"<g class="tl-row tl-ok">"#));
        assert!(svg.contains(r#"<g class="tl-row tl-glass">"#));
        assert!(svg.contains(r#"<g class="tl-row tl-waiting">"#));
        assert!(svg.contains(r#"<g class="tl-row tl-early">"#));
        assert!(svg.contains(">break-glass after 1 of 5</text>"));
        assert!(svg.contains(">early: 2 of 5, no break-glass</text>"));
        assert!(svg.contains(">soaking, 3 of 5</text>"));
        assert!(svg.contains("break-glass after 1 of 5 working days: CVE-2026-1234 is exploited"));
        assert_eq!(
            chart.summary,
            "4 source commits reached non-prod in June 2026. 1 soaked at least 5 working days in non-prod before it reached prod; 1 reached it early by break-glass; 1 reached it early without break-glass: the soak rule did not hold; 1 still waits."
        );
    }

    /// The soaked landing sits right of the end of its soak bar, and the bar ends where the
    /// calendar says the soak is complete: Monday June 1 10:00 + 5 working days = Monday June
    /// 8 10:00.
    #[test]
    fn the_soak_bar_ends_when_the_soak_is_complete() {
        let f = Fixture::new();
        let rows = june();
        let chart = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0);
        let day = |d: f64, hour: f64| LABELS + (d + hour / 24.0) * DAY;
        let bar = format!(
            r##"<rect class="tl-soak" x="{:.1}" y="54.0" width="{:.1}" height="8" rx="2" fill="#93c5fd"/>"##,
            day(0.0, 10.0),
            day(7.0, 10.0) - day(0.0, 10.0)
        );
        assert!(chart.svg.contains(&bar), "{bar}\n{}", chart.svg);
        let landed = format!(
            r##"<circle class="tl-marker" cx="{:.1}" cy="58.0" r="5" fill="#15803d"/>"##,
            day(9.0, 9.0)
        );
        assert!(chart.svg.contains(&landed), "{landed}");
    }

    #[test]
    fn accessible_with_a_title_and_a_description() {
        let f = Fixture::new();
        let rows = june();
        let chart = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0);
        assert!(chart.svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="tl-prod-2026-06" role="img" aria-label="Promotion timeline of prod, June 2026" aria-describedby="tl-prod-2026-06-desc""#), "{}", chart.svg);
        assert!(chart.svg.contains(&format!(
            r#"<title>Promotion timeline of prod, June 2026</title><desc id="tl-prod-2026-06-desc">{}</desc>"#,
            chart.summary
        )));
    }

    #[test]
    fn text_from_commits_is_never_markup() {
        let f = Fixture::new();
        let mut rows = june();
        rows[0].revision.subject =
            r#"<script>alert(1)</script>"><img src=x onerror=alert(1)>"#.into();
        rows[0].revision.author = r#""><img src=x onerror=alert(1)>"#.into();
        rows[1].emergency = Some("<script>alert(2)</script>".into());
        let svg = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0)
            .svg;
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<img"), "{svg}");
        assert!(svg.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        ));
        assert!(svg.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
    }

    #[test]
    fn the_same_model_gives_the_same_bytes() {
        let f = Fixture::new();
        let rows = june();
        let a = f.timeline(&rows, "2026-06-25T12:00:00+02:00").charts();
        let b = f.timeline(&rows, "2026-06-25T12:00:00+02:00").charts();
        assert_eq!(
            a.iter().map(|c| &c.svg).collect::<Vec<_>>(),
            b.iter().map(|c| &c.svg).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_first_environment_shows_publishes() {
        let f = Fixture::new();
        let mut rows = june();
        for r in &mut rows {
            r.landed = r.soak_start.take();
        }
        let mut t = f.timeline(&rows, "2026-06-25T12:00:00+02:00");
        t.environment = "non-prod";
        t.previous = None;
        let chart = t.charts().remove(0);
        assert_eq!(
            chart.summary,
            "3 source commits reached non-prod in June 2026."
        );
        assert_eq!(
            chart
                .svg
                .matches(r#"<g class="tl-row tl-published">"#)
                .count(),
            3
        );
        assert!(!chart.svg.contains("tl-soak"));
    }

    #[test]
    fn a_small_chart() {
        let f = Fixture::new();
        let rows = vec![june()[0].clone()];
        let chart = f
            .timeline(&rows, "2026-06-25T12:00:00+02:00")
            .charts()
            .remove(0);
        insta::assert_snapshot!(chart.svg.replace("><", ">\n<"));
    }

    #[test]
    fn long_subjects_are_cut() {
        assert_eq!(truncate("short", 30), "short");
        assert_eq!(truncate("abcdef ghij", 7), "abcdef…");
        assert_eq!(truncate("åäöåäö", 3), "åäö…");
    }
}
