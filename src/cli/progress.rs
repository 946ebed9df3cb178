//! The progress of a long render on stderr: a line redrawn on a terminal, plain lines in a
//! CI log with `--progress`.

use std::io::Write as _;

/// The progress of a render on stderr, once it has taken over a second: a count and an ETA for
/// each phase (rendering, then writing). On a terminal it is one line, redrawn; with
/// `--progress` and stderr not a terminal (a CI log) it is a plain line every few seconds.
/// Otherwise nothing is shown.
pub(super) struct ProgressLine {
    /// Counts, and estimates the time left; drawn only on a terminal.
    pub(super) bar: indicatif::ProgressBar,
    started: std::time::Instant,
    /// How long a render runs before its progress shows.
    after: std::time::Duration,
    show: Show,
}

/// Where a [`ProgressLine`] shows.
enum Show {
    Nowhere,
    /// The bar, redrawn on stderr, a terminal.
    Terminal,
    /// Plain lines, at most one every `every`, for a log.
    Log {
        every: std::time::Duration,
        log: std::sync::Mutex<LogLines>,
    },
}

impl Show {
    /// Plain lines into `out`, one every `every`, the first `after` from now.
    fn log(
        every: std::time::Duration,
        after: std::time::Duration,
        out: impl std::io::Write + Send + 'static,
    ) -> Show {
        Show::Log {
            every,
            log: std::sync::Mutex::new(LogLines {
                next: std::time::Instant::now() + after,
                out: Box::new(out),
            }),
        }
    }
}

struct LogLines {
    /// No line before this: a second into the render and into each phase, `every` after the
    /// last line.
    next: std::time::Instant,
    out: Box<dyn std::io::Write + Send>,
}

impl ProgressLine {
    /// For stderr: drawn on a terminal; written as plain lines every 2 s when `forced` and
    /// stderr is not a terminal.
    pub(super) fn new(forced: bool) -> ProgressLine {
        use std::io::IsTerminal as _;
        let after = std::time::Duration::from_secs(1);
        let show = if std::io::stderr().is_terminal() {
            Show::Terminal
        } else if forced {
            Show::log(std::time::Duration::from_secs(2), after, std::io::stderr())
        } else {
            Show::Nowhere
        };
        ProgressLine::showing(show, after)
    }

    fn showing(show: Show, after: std::time::Duration) -> ProgressLine {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                // The words of the log's line, then a bar as wide as the terminal leaves.
                "{prefix}: {pos}/{len} {msg}, ETA {eta} [{wide_bar}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        ProgressLine {
            bar,
            started: std::time::Instant::now(),
            after,
            show,
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A render that ends early (an output directory that is not strata's, a failed write) takes
/// its line along too, rather than leaving it above the error.
impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.finish();
    }
}

impl crate::progress::Progress for ProgressLine {
    fn start(&self, doing: &'static str, things: &'static str, total: usize) {
        // A line at the start of a phase would have no count to estimate from.
        if let Show::Log { log, .. } = &self.show
            && let Ok(mut log) = log.lock()
        {
            log.next = log.next.max(std::time::Instant::now() + self.after);
        }
        self.bar.set_prefix(doing);
        self.bar.set_message(things);
        self.bar.set_length(total as u64);
        self.bar.set_position(0);
        self.bar.reset_eta();
    }

    fn advance(&self) {
        self.bar.inc(1);
        match &self.show {
            Show::Nowhere => {}
            Show::Terminal => {
                if self.bar.is_hidden() && self.started.elapsed() > self.after {
                    self.bar
                        .set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
            }
            Show::Log { every, log } => {
                // Another thread is writing the line: this count goes in the next one.
                let Ok(mut log) = log.try_lock() else {
                    return;
                };
                let now = std::time::Instant::now();
                if now < log.next {
                    return;
                }
                log.next = now + *every;
                // A progress line that cannot be written is not worth failing the render.
                let _ = writeln!(
                    log.out,
                    "{}: {}/{} {}, ETA {}",
                    self.bar.prefix(),
                    self.bar.position(),
                    self.bar.length().unwrap_or(0),
                    self.bar.message(),
                    indicatif::HumanDuration(self.bar.eta()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// What a [`ProgressLine`] logs, kept for the test to read.
    #[derive(Clone, Default)]
    struct Kept(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Kept {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Kept {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().expect("lock").clone())
                .expect("utf-8")
                .lines()
                .map(str::to_string)
                .collect()
        }
    }

    /// A log of `every` between lines, from the start, after `rendered` pairs of 3 are
    /// rendered and then `written` files of 2 written.
    fn logged(every: std::time::Duration, after: std::time::Duration) -> Vec<String> {
        use crate::progress::Progress as _;
        let kept = Kept::default();
        let line = ProgressLine::showing(Show::log(every, after, kept.clone()), after);
        line.start("rendering", "(cluster, component) pairs", 3);
        (0..3).for_each(|_| line.advance());
        line.start("writing", "files", 2);
        (0..2).for_each(|_| line.advance());
        line.finish();
        kept.lines()
    }

    #[test]
    fn a_log_shows_each_phase_with_its_count_its_things_and_an_eta() {
        let lines = logged(std::time::Duration::ZERO, std::time::Duration::ZERO);
        let counts: Vec<&str> = lines
            .iter()
            .map(|l| l.split_once(", ETA ").expect(l).0)
            .collect();
        assert_eq!(
            counts,
            [
                "rendering: 1/3 (cluster, component) pairs",
                "rendering: 2/3 (cluster, component) pairs",
                "rendering: 3/3 (cluster, component) pairs",
                "writing: 1/2 files",
                "writing: 2/2 files",
            ]
        );
        assert!(
            lines
                .iter()
                .all(|l| !l.split_once(", ETA ").expect(l).1.is_empty()),
            "{lines:?}"
        );
    }

    #[test]
    fn a_log_line_comes_at_most_once_in_its_interval() {
        // The first line may come at once; the next only an hour later.
        let lines = logged(
            std::time::Duration::from_secs(3600),
            std::time::Duration::ZERO,
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("rendering: 1/3 "), "{lines:?}");
    }

    #[test]
    fn a_render_shorter_than_the_wait_logs_nothing() {
        let lines = logged(
            std::time::Duration::ZERO,
            std::time::Duration::from_secs(3600),
        );
        assert_eq!(lines, Vec::<String>::new());
    }
}
