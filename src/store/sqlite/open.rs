//! Opening a file that other processes may be creating, switching to WAL or migrating at
//! the same moment: the waits SQLite's busy handler does not do.
//!
//! The busy handler covers most lock waits, but not all of an open. Switching a new file
//! to WAL upgrades a read lock to a write lock, and SQLite answers `SQLITE_BUSY` at once
//! rather than wait (waiting there could deadlock) while any other connection reads the
//! file; a first read can meet a WAL being recovered (`SQLITE_BUSY_RECOVERY`,
//! `SQLITE_PROTOCOL`); a read-only connection cannot build a missing `-shm` index
//! (`SQLITE_READONLY_CANTINIT`). All of these pass once the other process is done, so the
//! whole open is tried again, on a fresh connection, until the busy timeout runs out.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{ErrorCode, ffi};

use crate::store::StoreError;

/// The first pause between attempts; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// Runs `attempt` until it succeeds or fails for a reason other than another process
/// holding the file, for at most `timeout`; then [`StoreError::Busy`]. `attempt` gets the
/// time left, for its connection's own busy timeout.
pub(super) fn retry_while_busy<T>(
    path: &Path,
    timeout: Duration,
    read_only: bool,
    mut attempt: impl FnMut(Duration) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let start = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        match attempt(left.max(Duration::from_millis(1))) {
            Err(e) if is_busy(&e, read_only) => {
                let left = timeout.saturating_sub(start.elapsed());
                if left.is_zero() {
                    log::debug!("{}: still busy after {timeout:?}: {e}", path.display());
                    return Err(StoreError::Busy {
                        path: path.display().to_string(),
                        waited: timeout,
                    });
                }
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => return other,
        }
    }
}

/// Whether `e` means another connection holds the file for now.
fn is_busy(e: &StoreError, read_only: bool) -> bool {
    if let StoreError::Busy { .. } = e {
        return true;
    }
    let Some(code) = super::error::sqlite_error(e).and_then(rusqlite::Error::sqlite_error) else {
        return false;
    };
    matches!(
        code.code,
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::FileLockingProtocolFailed
    ) || (read_only
        && matches!(
            code.extended_code,
            ffi::SQLITE_READONLY_CANTINIT | ffi::SQLITE_READONLY_RECOVERY
        ))
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, OpenFlags};

    use super::super::SqliteStore;
    use super::*;

    /// A rollback-journal file under an exclusive lock (nobody can even read it), and the
    /// connection holding it.
    fn held_file(dir: &tempfile::TempDir) -> (std::path::PathBuf, Connection) {
        let path = dir.path().join("held.db");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("BEGIN EXCLUSIVE; CREATE TABLE t (x);")
            .unwrap();
        (path, holder)
    }

    #[test]
    fn a_file_held_longer_than_the_timeout_is_busy_not_a_setup_error() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _holder) = held_file(&dir);
        let short = Duration::from_millis(200);
        for (flags, write) in [
            (OpenFlags::default(), true),
            (OpenFlags::SQLITE_OPEN_READ_ONLY, false),
        ] {
            let err = SqliteStore::open_with(&path, flags, write, short)
                .err()
                .expect("busy");
            assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
            assert!(!err.is_setup_error());
            let text = err.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("another process held it"), "{text}");
        }
    }

    #[test]
    fn an_open_waits_for_a_holder_that_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let (path, holder) = held_file(&dir);
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            holder.execute_batch("COMMIT").unwrap();
        });
        SqliteStore::open_with(&path, OpenFlags::default(), true, Duration::from_secs(60))
            .expect("opens once the holder commits");
        release.join().unwrap();
    }

    #[test]
    fn other_failures_are_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let mut attempts = 0;
        let err = retry_while_busy(dir.path(), Duration::from_secs(60), false, |_| {
            attempts += 1;
            SqliteStore::open_with(dir.path(), OpenFlags::default(), true, Duration::ZERO)
        })
        .err()
        .expect("a folder is no database");
        assert_eq!(attempts, 1);
        assert!(err.is_setup_error(), "{err:?}");
    }
}
