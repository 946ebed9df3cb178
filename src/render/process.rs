//! Running a program so that it cannot outlive its welcome: in a process group of its own,
//! with one deadline for its exit and for reading all it printed, and with the whole group
//! killed when the run ends, whether it ended well or not. Every program strata runs goes
//! through [`run_bounded`].
//!
//! A program's stdout is read until end of file, which only comes when every process that holds
//! the pipe has closed it: a background child (`sleep 1000 &`) holds it as long as it lives. So
//! the wait for the program and the reads share one deadline, and once the program itself has
//! exited, what is left of its group is killed, which closes the pipe.
//!
//! The group is killed before the program is reaped: until then its process id, which is the
//! group's id, cannot be given to another process, so the kill reaches only the program's own.
//! If strata is interrupted (SIGINT, SIGTERM, SIGHUP) while a program runs, the groups still
//! running are killed before strata exits.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a program did within its deadline.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    /// At most the cap on stdout.
    pub(crate) stdout: Vec<u8>,
    /// It printed more than the cap on stdout.
    pub(crate) overflow: bool,
    /// At most the cap on stderr; the end of a longer stderr is lost.
    pub(crate) stderr: Vec<u8>,
}

/// Why a program gave no [`Finished`].
#[derive(Debug)]
pub(crate) enum Unfinished {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It, or a process that kept its output open, was still running at the deadline: its
    /// group was killed.
    Timeout,
}

/// Runs `cmd` with stdin closed, stdout and stderr read (up to `stdout_cap` and `stderr_cap`
/// bytes; past the stdout cap the program is stopped), and everything within `timeout`. The
/// program's process group is killed when this returns, however it returns.
pub(crate) fn run_bounded(
    mut cmd: Command,
    timeout: Duration,
    stdout_cap: usize,
    stderr_cap: usize,
) -> Result<Finished, Unfinished> {
    let deadline = Instant::now() + timeout;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        interrupt::install();
    }
    let child = cmd.spawn().map_err(Unfinished::Spawn)?;
    let mut group = Group::new(child);
    let (sent, received) = mpsc::channel();
    let stdout = group.child.stdout.take();
    let stderr = group.child.stderr.take();
    let to_out = sent.clone();
    // Detached: a reader blocked on a pipe that an escaped process holds must not hold us.
    std::thread::spawn(move || {
        let _ = to_out.send((true, read_capped(stdout, stdout_cap, true)));
    });
    std::thread::spawn(move || {
        let _ = sent.send((false, read_capped(stderr, stderr_cap, false)));
    });

    let (mut stdout, mut stderr) = (None, None);
    let keep = |(is_out, read), stdout: &mut Option<_>, stderr: &mut Option<_>| {
        *(if is_out { stdout } else { stderr }) = Some(read);
    };
    let status = loop {
        match group.exited() {
            Some(status) => break status,
            None if Instant::now() >= deadline => return Err(Unfinished::Timeout),
            None => {}
        }
        while let Ok(read) = received.try_recv() {
            keep(read, &mut stdout, &mut stderr);
        }
        // A flood of stdout past the cap needs no more waiting.
        if stdout.as_ref().is_some_and(|(_, overflow)| *overflow) {
            break group.stop();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    while stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(read) => keep(read, &mut stdout, &mut stderr),
            Err(_) => return Err(Unfinished::Timeout),
        }
    }
    let (stdout, overflow) = stdout.unwrap_or_default();
    let (stderr, _) = stderr.unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        overflow,
        stderr,
    })
}

/// A running program and its process group, killed on drop.
struct Group {
    child: Child,
    /// Its exit, once seen; the group has been killed and the program reaped by then.
    status: Option<ExitStatus>,
}

impl Group {
    fn new(child: Child) -> Group {
        #[cfg(unix)]
        interrupt::running(child.id(), true);
        Group {
            child,
            status: None,
        }
    }

    /// The program's exit status once it has exited, with what is left of its group killed.
    fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() && has_exited(&mut self.child) {
            self.status = Some(self.stop());
        }
        self.status
    }

    /// Kills the group, then reaps the program.
    fn stop(&mut self) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group the program leads;
            // the program is not yet reaped, so that group id is still its own.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let status = self.child.wait();
        #[cfg(unix)]
        interrupt::running(self.child.id(), false);
        // `wait` fails only when there is no such child: it was reaped.
        let status = status.unwrap_or_else(|_| killed());
        self.status = Some(status);
        status
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(unix)]
fn killed() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt as _;
    ExitStatus::from_raw(libc::SIGKILL)
}

#[cfg(not(unix))]
fn killed() -> ExitStatus {
    use std::os::windows::process::ExitStatusExt as _;
    ExitStatus::from_raw(1)
}

/// Whether the program has exited, without reaping it (see the module doc).
#[cfg(unix)]
fn has_exited(child: &mut Child) -> bool {
    let pid: libc::id_t = child.id();
    // SAFETY: waitid(2) fills the zeroed siginfo_t we own; WNOWAIT leaves the child waitable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        // An error (no such child) is an end too: `stop` reaps what there is.
        r != 0 || info.si_pid() != 0
    }
}

#[cfg(not(unix))]
fn has_exited(child: &mut Child) -> bool {
    // Without process groups there is no group id to protect: waiting is reaping.
    !matches!(child.try_wait(), Ok(None))
}

/// Reads up to `cap` bytes; past it, with `stop` the read ends, else it keeps draining (so that
/// the writer is not blocked). Says whether there was more than `cap`.
fn read_capped<R: Read>(reader: Option<R>, cap: usize, stop: bool) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else {
        return (Vec::new(), false);
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut overflow = false;
    loop {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf.len() + n > cap {
                    overflow = true;
                    let room = cap - buf.len();
                    buf.extend_from_slice(&chunk[..room]);
                    if stop {
                        break;
                    }
                    continue;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    (buf, overflow)
}

/// The groups that are running, killed when strata is interrupted.
#[cfg(unix)]
mod interrupt {
    use std::sync::Once;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// More programs than this at once (one a render thread) are not tracked: they are still
    /// killed at the end of their run, only not on an interrupt.
    const SLOTS: usize = 256;
    static RUNNING: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

    /// Records that the group `pid` runs, or no longer does.
    pub(super) fn running(pid: u32, on: bool) {
        let Ok(pid) = i32::try_from(pid) else { return };
        let (from, to) = if on { (0, pid) } else { (pid, 0) };
        for slot in &RUNNING {
            if slot
                .compare_exchange(from, to, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Installs the handler, once, for the signals that end strata when they are not handled.
    pub(super) fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: installs a handler that calls only async-signal-safe functions
                // (atomic loads, kill, signal, raise). A signal the user chose to ignore stays
                // ignored.
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                        || old.sa_sigaction == libc::SIG_IGN
                    {
                        continue;
                    }
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(signal, &action, std::ptr::null_mut());
                }
            }
        });
    }

    extern "C" fn on_signal(signal: libc::c_int) {
        for slot in &RUNNING {
            let pid = slot.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: kill(2) is async-signal-safe.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
        // SAFETY: back to the default action, then the signal again: strata ends as it would
        // have without the handler.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Result<Finished, Unfinished> {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        run_bounded(cmd, timeout, 1024, 1024)
    }

    /// Whether a process with `pid` is still alive two seconds on (a zombie counts as gone): a
    /// SIGKILL is delivered asynchronously, and a loaded machine may take a moment.
    fn alive(pid: &str) -> bool {
        let running = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim().starts_with('Z'))
        };
        let started = Instant::now();
        while running() {
            if started.elapsed() > Duration::from_secs(2) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn a_background_child_that_keeps_stdout_open_does_not_hold_the_run() {
        let started = Instant::now();
        let done = sh("sleep 1001 & echo $!; echo out", Duration::from_secs(20)).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(done.status.success());
        let text = String::from_utf8(done.stdout).unwrap();
        let (pid, rest) = text.split_once('\n').unwrap();
        assert_eq!(rest, "out\n");
        assert!(!alive(pid), "the background child {pid} still runs");
    }

    #[test]
    fn a_background_child_with_its_output_elsewhere_is_killed_when_the_run_ends() {
        let done = sh(
            "sleep 1002 >/dev/null 2>&1 & echo $!",
            Duration::from_secs(20),
        )
        .unwrap();
        let pid = String::from_utf8(done.stdout).unwrap();
        assert!(!alive(pid.trim()), "the background child {pid} still runs");
    }

    #[test]
    fn a_program_that_does_not_end_is_stopped_at_the_deadline_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let started = Instant::now();
        let e = sh(
            &format!("sleep 1003 & echo $! > {}; wait", pidfile.display()),
            Duration::from_millis(500),
        )
        .unwrap_err();
        assert!(matches!(e, Unfinished::Timeout), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        assert!(!alive(pid.trim()), "the background child {pid} still runs");
    }

    #[test]
    fn a_flood_stops_at_the_cap() {
        let done = sh("yes", Duration::from_secs(20)).unwrap();
        assert!(done.overflow);
        assert_eq!(done.stdout.len(), 1024);
    }
}
