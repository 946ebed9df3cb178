//! The `strata` binary: parse arguments, run, print diagnostics, exit with 0, 1 or 2.

use std::ffi::{c_int, c_long};
use std::process::ExitCode;

// The render allocates and frees many small values on every thread; glibc's malloc spends a
// large share of a render's CPU time on them, mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v3, `include/mimalloc.h`): how many
/// milliseconds freed memory waits before it goes back to the OS; -1 keeps it. The test below
/// checks that the number names that option: its default, 1000, is no other option's.
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

fn main() -> ExitCode {
    // A closed pipe (`strata diff | head`) is a normal end, not a crash.
    #[cfg(unix)]
    // SAFETY: restores the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // strata runs for milliseconds to seconds: handing freed memory back to the OS (an madvise
    // per range) only costs, mostly as the render's values are freed at the end.
    // SAFETY: sets an option by its number; mimalloc reads it when it next purges.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
    strata::cli::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_strata_sets() {
        // SAFETY: reads and sets mimalloc options by number.
        let (default, set) = unsafe {
            let default = mi_option_get(MI_OPTION_PURGE_DELAY);
            mi_option_set(MI_OPTION_PURGE_DELAY, -1);
            (default, mi_option_get(MI_OPTION_PURGE_DELAY))
        };
        // src/options.c of the vendored mimalloc: 1000 ms, a default no other option has.
        assert_eq!(
            default, 1000,
            "option {MI_OPTION_PURGE_DELAY} is not the purge delay"
        );
        assert_eq!(set, -1);
    }
}
