//! One advisory file lock per org, so overlapping runs never sync the same org twice.
//!
//! The lock is `flock`-based (`std::fs::File::try_lock`): the kernel drops it when the
//! process exits for any reason, so a crashed or killed run leaves no stale lock behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock on one org; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct OrgLock {
    _file: File,
    path: PathBuf,
}

impl OrgLock {
    /// Where the lock file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What happened when we tried to take an org's lock.
#[derive(Debug)]
pub enum LockOutcome {
    /// We hold it now.
    Acquired(OrgLock),
    /// Another process (or thread) holds it.
    Busy,
}

/// Why the lock could not even be tried.
#[derive(Debug, thiserror::Error)]
#[error("cannot open lock file {path}: {source} (check that lock_dir exists and is writable)")]
pub struct LockError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// The lock file of `org_id` under `lock_dir`.
pub fn lock_path(lock_dir: &Path, org_id: &str) -> PathBuf {
    lock_dir.join(format!("{org_id}.lock"))
}

/// Tries to take `org_id`'s lock without waiting, creating `lock_dir` if needed.
pub fn try_lock(lock_dir: &Path, org_id: &str) -> Result<LockOutcome, LockError> {
    let path = lock_path(lock_dir, org_id);
    let err = |source| LockError {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(lock_dir).map_err(err)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    // `status` probes the lock for a few microseconds; a few quick retries keep such a
    // probe from making a sync skip the org. A real run holds it for seconds.
    for attempt in 0..PROBE_RETRIES {
        match file.try_lock() {
            Ok(()) => return Ok(LockOutcome::Acquired(OrgLock { _file: file, path })),
            Err(TryLockError::WouldBlock) if attempt + 1 < PROBE_RETRIES => {
                std::thread::sleep(PROBE_PAUSE);
            }
            Err(TryLockError::WouldBlock) => break,
            Err(TryLockError::Error(e)) => return Err(err(e)),
        }
    }
    Ok(LockOutcome::Busy)
}

/// Attempts at a busy lock before giving up, and the pause between them.
const PROBE_RETRIES: u32 = 3;
const PROBE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Whether some process holds `org_id`'s lock right now (a sync is running).
///
/// Probes by taking and immediately releasing a shared lock; never creates files.
pub fn is_held(lock_dir: &Path, org_id: &str) -> bool {
    let Ok(file) = File::open(lock_path(lock_dir, org_id)) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_is_busy_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let first = match try_lock(dir.path(), "org_1").unwrap() {
            LockOutcome::Acquired(l) => l,
            LockOutcome::Busy => panic!("fresh lock busy"),
        };
        assert!(is_held(dir.path(), "org_1"));
        assert!(matches!(
            try_lock(dir.path(), "org_1").unwrap(),
            LockOutcome::Busy
        ));
        assert!(matches!(
            try_lock(dir.path(), "org_2").unwrap(),
            LockOutcome::Acquired(_)
        ));
        drop(first);
        assert!(!is_held(dir.path(), "org_1"));
        assert!(matches!(
            try_lock(dir.path(), "org_1").unwrap(),
            LockOutcome::Acquired(_)
        ));
    }

    #[test]
    fn never_created_lock_is_not_held() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_held(dir.path(), "nobody"));
    }
}
