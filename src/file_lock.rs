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
    _sync: File,
    _running: File,
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

/// The lock file of `org_id` under `lock_dir`: held by the one run syncing the org.
pub fn lock_path(lock_dir: &Path, org_id: &str) -> PathBuf {
    lock_dir.join(format!("{org_id}.lock"))
}

/// The file whose lock tells `status` that `org_id` is syncing. It is separate from
/// [`lock_path`] so that a `status` probe can never make a sync think another run holds
/// the org: the probe holds it for microseconds, and the sync waits that out.
fn running_path(lock_dir: &Path, org_id: &str) -> PathBuf {
    lock_dir.join(format!("{org_id}.running"))
}

/// Tries to take `org_id`'s lock without waiting, creating `lock_dir` if needed.
pub fn try_lock(lock_dir: &Path, org_id: &str) -> Result<LockOutcome, LockError> {
    let path = lock_path(lock_dir, org_id);
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LockError { path, source }
    };
    fs::create_dir_all(lock_dir).map_err(err(lock_dir))?;
    let sync = open_for_lock(&path).map_err(err(&path))?;
    match sync.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(LockOutcome::Busy),
        Err(TryLockError::Error(e)) => return Err(err(&path)(e)),
    }
    // Only the holder of the sync lock takes this one, so the only possible wait is a
    // `status` probe's few microseconds.
    let running_at = running_path(lock_dir, org_id);
    let running = open_for_lock(&running_at).map_err(err(&running_at))?;
    running.lock().map_err(err(&running_at))?;
    Ok(LockOutcome::Acquired(OrgLock {
        _sync: sync,
        _running: running,
        path,
    }))
}

fn open_for_lock(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Whether some process is syncing `org_id` right now.
///
/// Probes by taking and immediately releasing a shared lock on the org's `.running`
/// file (never its sync lock); never creates files.
pub fn is_held(lock_dir: &Path, org_id: &str) -> bool {
    let Ok(file) = File::open(running_path(lock_dir, org_id)) else {
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
    fn a_status_probe_never_makes_a_sync_busy() {
        let dir = tempfile::tempdir().unwrap();
        drop(try_lock(dir.path(), "org_1").unwrap()); // creates the files
        // A probe holding the running file (for longer than any real probe does).
        let probe = File::open(running_path(dir.path(), "org_1")).unwrap();
        probe.try_lock_shared().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(probe);
        });
        assert!(matches!(
            try_lock(dir.path(), "org_1").unwrap(),
            LockOutcome::Acquired(_)
        ));
        release.join().unwrap();
    }

    #[test]
    fn never_created_lock_is_not_held() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_held(dir.path(), "nobody"));
    }
}
