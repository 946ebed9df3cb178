//! How long each stage of a compile took, for `--timings`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Wall time per stage, in the order the stages ran.
#[derive(Debug)]
pub(crate) struct Timings {
    last: Instant,
    pub(crate) stages: Vec<(&'static str, Duration)>,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            last: Instant::now(),
            stages: Vec::new(),
        }
    }
}

impl Timings {
    /// Ends `stage`: it took the time since the last mark.
    pub(crate) fn mark(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.stages.push((stage, now - self.last));
        self.last = now;
    }

    /// Adds the CPU time of a stage that ran on many threads at once.
    pub(crate) fn cpu(&mut self, stage: &'static str, time: &CpuTime) {
        self.stages.push((stage, time.total()));
    }
}

/// Time spent in a stage that runs on many threads at once, summed over the threads.
#[derive(Default)]
pub(crate) struct CpuTime(AtomicU64);

impl CpuTime {
    /// Runs `f`, counting its time.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
        out
    }

    fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}
