//! One strata at a time in a directory: `render` in its output directory, `publish` and
//! `promote` in the output repository.
//!
//! The lock is an advisory `flock(2)` on the directory itself: it writes nothing (a render takes
//! it before it knows the directory is strata's), and the kernel drops it when the process ends,
//! however it ends, so a crash never leaves a stale lock behind. Where the system has no
//! `flock` (Windows), there is no lock.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second strata waits, quietly, before it says what it is waiting for.
const QUIET: Duration = Duration::from_secs(1);
/// How often a waiting strata tries again.
const POLL: Duration = Duration::from_millis(50);

/// Held while strata works in a directory; released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    #[cfg(unix)]
    _file: std::fs::File,
    /// The directory, when taking the lock created it: removed again on release if it is still
    /// empty, so a render that stops early leaves no trace.
    created: Option<PathBuf>,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if let Some(dir) = &self.created {
            // Fails, as it should, unless the directory is empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Who holds a lock that strata waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    /// Its process id, where the system says (Linux's /proc/locks).
    pub(crate) pid: Option<u32>,
}

/// Takes the lock on `dir`, creating the directory when `create` and it is missing. When
/// another process holds it, waits; `waiting` is called once, after a second of waiting, to say
/// so.
pub(crate) fn lock(dir: &Path, create: bool, waiting: &dyn Fn(Holder)) -> std::io::Result<DirLock> {
    let created = if create && std::fs::symlink_metadata(dir).is_err() {
        std::fs::create_dir_all(dir)?;
        Some(dir.to_path_buf())
    } else {
        None
    };
    #[cfg(unix)]
    {
        let file = std::fs::File::open(dir)?;
        let started = Instant::now();
        let mut told = false;
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {
                    return Ok(DirLock {
                        _file: file,
                        created,
                    });
                }
                Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
                Err(e) => return Err(e.into()),
            }
            if !told && started.elapsed() >= QUIET {
                told = true;
                waiting(Holder {
                    pid: holder_of(&file),
                });
            }
            std::thread::sleep(POLL);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (waiting, Instant::now(), QUIET, POLL);
        Ok(DirLock { created })
    }
}

/// The process that holds an flock on `file`, from /proc/locks: `1: FLOCK ADVISORY WRITE
/// <pid> <major>:<minor>:<inode> 0 EOF`, the device numbers in hex.
#[cfg(unix)]
fn holder_of(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = file.metadata().ok()?;
    let dev = meta.dev();
    // glibc's encoding of major and minor in a dev_t.
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    let want = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A waiter's line starts with `1: ->`: the holder's does not.
        let fields = fields.get(1..)?;
        (fields.first() == Some(&"FLOCK") && fields.get(4) == Some(&want.as_str()))
            .then(|| fields.get(3)?.parse().ok())
            .flatten()
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_second_lock_waits_for_the_first_and_is_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), false, &|_| panic!("nothing to wait for")).unwrap();
        let told = AtomicBool::new(false);
        std::thread::scope(|s| {
            let second = s.spawn(|| {
                lock(dir.path(), false, &|h| {
                    assert_eq!(h.pid, Some(std::process::id()));
                    told.store(true, Ordering::SeqCst);
                })
                .unwrap()
            });
            std::thread::sleep(QUIET + Duration::from_millis(500));
            assert!(!second.is_finished(), "the second lock did not wait");
            drop(first);
            second.join().unwrap();
        });
        assert!(told.load(Ordering::SeqCst));
    }

    #[test]
    fn a_directory_the_lock_created_goes_again_when_it_stays_empty() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        drop(lock(&out, true, &|_| {}).unwrap());
        assert!(!out.exists());
        let held = lock(&out, true, &|_| {}).unwrap();
        std::fs::write(out.join("file"), "").unwrap();
        drop(held);
        assert!(out.join("file").exists());
    }
}
