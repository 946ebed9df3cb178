//! The `strata` binary: parse arguments, run, print diagnostics, exit with 0, 1 or 2.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

// The render allocates and frees many small values on every thread; glibc's malloc spent a
// quarter of the CPU time of a 100-cluster render (perf), mimalloc about half as much.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A closed pipe (`strata diff | head`) is a normal end, not a crash.
    #[cfg(unix)]
    // SAFETY: restores the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::run(cli::Cli::parse())
}
