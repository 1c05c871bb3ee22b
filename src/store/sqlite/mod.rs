//! The SQLite backend: records, per-org sync state and run history in one file, with
//! per-org locks as files under `lock_dir`.
//!
//! Every connection uses WAL and a busy timeout, and every write transaction starts
//! `IMMEDIATE`, so several processes and threads can share one file without
//! `database is locked` errors.

mod derived;
mod erasure;
mod error;
mod local_offsets;
mod open;
mod privacy;
pub mod private;
mod records;
mod runs;
mod schema;
mod snapshot;
mod state;
pub mod statements;
mod upsert;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use schema::{CURRENT_VERSION, create_at_version};

use super::{Locks, OrgGuard, Records, StoreError};
use crate::file_lock::{self, LockOutcome};

/// WAL pages between automatic checkpoints (why: in `SqliteStore::open_with`).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// Page cache of a writing connection, in KiB (why: in `SqliteStore::open_once`).
const CACHE_KIB: i64 = 16 * 1024;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the scrub's checkpoint waits for readers of an older snapshot before it is
/// left for the next run: a dashboard's open transaction must not stall the sync.
const SCRUB_WAIT: Duration = Duration::from_secs(2);

/// An open connection to one SQLite file.
pub struct SqliteStore {
    /// Outside a method, an open transaction on it is one left held by
    /// [`Records::write_route_pages`] with [`super::Commit::Held`]: its pages (rows and
    /// cursors) commit together at the next [`Records::commit_held`], or before any
    /// other write. Every other method commits or rolls back what it begins.
    conn: Connection,
    path: PathBuf,
    /// Where the per-org lock files live (beside the database unless configured).
    lock_dir: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it forward.
    ///
    /// The file holds patient data: a folder created for it is `0700`, and a new file is
    /// created `0600` before SQLite opens it, whatever the umask, so that its `-wal`,
    /// `-shm` and journal (which SQLite gives the database file's mode) are too.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private::create_dir(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        private::create_file(path).map_err(|source| StoreError::CreateFile {
            path: path.to_path_buf(),
            source,
        })?;
        Self::open_with(path, OpenFlags::default(), true, BUSY_TIMEOUT)
    }

    /// Opens an existing database for reading, without creating anything. A file from an
    /// older routiq-sync is first migrated forward, as the next sync would do (after an
    /// upgrade `status` keeps working before that sync). Returns `Ok(None)` when the
    /// file does not exist yet.
    pub fn open_read_only(path: &Path) -> Result<Option<SqliteStore>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        match Self::open_with(path, flags, false, BUSY_TIMEOUT) {
            Err(older @ StoreError::OlderSchema { .. }) => {
                // Migrating needs write access; a user without it (a monitor) is told to
                // let a sync upgrade the file.
                if let Err(e) = Self::open_with(path, OpenFlags::default(), true, BUSY_TIMEOUT) {
                    log::debug!("{}: cannot upgrade it from here: {e}", path.display());
                    return Err(older);
                }
                Self::open_with(path, flags, false, BUSY_TIMEOUT).map(Some)
            }
            Err(e) if cannot_build_shared_memory(&e) && no_wal_content(path) => {
                // A user who may read the file but not create its `-shm` beside it (a
                // monitor, a textfile exporter) cannot open it in WAL mode. With no WAL
                // content every committed row is in the file itself: read it as an
                // unchanging file. (A sync that starts meanwhile writes to a new WAL,
                // which reaches the file only at a checkpoint, far later than this read.)
                log::debug!("{}: reading it without shared memory ({e})", path.display());
                Self::open_with_uri(path, flags).map(Some)
            }
            other => other.map(Some),
        }
    }

    /// Opens `path` read-only as an immutable file (`?immutable=1`): no locks, no
    /// `-shm`, for a user who cannot create one.
    fn open_with_uri(path: &Path, flags: OpenFlags) -> Result<SqliteStore, StoreError> {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let shown = path.display().to_string();
        let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
            .map_err(|e| error::open_error(&shown, e))?;
        let version = schema::user_version(&conn).map_err(|e| error::not_a_database(&shown, e))?;
        if version != CURRENT_VERSION {
            return Err(if version > CURRENT_VERSION {
                StoreError::NewerSchema {
                    path: shown,
                    found: version,
                    supported: CURRENT_VERSION,
                }
            } else {
                StoreError::OlderSchema {
                    path: shown,
                    found: version,
                    supported: CURRENT_VERSION,
                }
            });
        }
        let lock_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            lock_dir,
        })
    }

    /// Opens with `flags`, waiting up to `timeout` for other processes that hold the file
    /// (creating it, switching it to WAL, migrating it).
    fn open_with(
        path: &Path,
        flags: OpenFlags,
        write: bool,
        timeout: Duration,
    ) -> Result<SqliteStore, StoreError> {
        refuse_folder(path)?;
        open::retry_while_busy(path, timeout, !write, |left| {
            Self::open_once(path, flags, write, left)
        })
    }

    /// One attempt of [`SqliteStore::open_with`], whose SQLite busy handler waits `busy`.
    fn open_once(
        path: &Path,
        flags: OpenFlags,
        write: bool,
        busy: Duration,
    ) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|e| error::open_error(&shown, e))?;
        conn.busy_timeout(busy)?;
        // The first real read tells a SQLite file from anything else.
        let version = schema::user_version(&conn).map_err(|e| error::not_a_database(&shown, e))?;
        if version > CURRENT_VERSION {
            return Err(StoreError::NewerSchema {
                path: shown,
                found: version,
                supported: CURRENT_VERSION,
            });
        }
        if write {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| error::not_a_database(&shown, e))?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Deleted and overwritten content is zeroed (freed cells and pages), so that
            // a dropped field, a forgotten org or a purged row leaves no bytes in the
            // file. Costs a write of each freed page; see docs/privacy.md.
            conn.pragma_update(None, "secure_delete", "ON")?;
            // Checkpoint every 10,000 pages (40 MB of WAL) instead of SQLite's 1,000: index
            // pages rewritten by many page commits are copied into the database once per
            // checkpoint, and a full sync of 200,000 records does ~8x fewer fsync pairs.
            // See docs/performance-history.md, "Fixes made".
            conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
            // A held transaction (up to 10,000 rows) dirties more index pages than a
            // small cache holds: they were spilled to the WAL mid-transaction and written
            // again at commit, and read back at the next insert. 16 MiB keeps most of
            // them (first full 2.88x -> under 2.5x the database's bytes) within the
            // 40 MiB RSS budget. See docs/performance-history.md, "The write path".
            conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
            schema::migrate(&mut conn, &shown)?;
        } else if version < CURRENT_VERSION {
            return Err(StoreError::OlderSchema {
                path: shown,
                found: version,
                supported: CURRENT_VERSION,
            });
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let lock_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            lock_dir,
        })
    }

    /// The connection for a write: first commits a held transaction, so the write never
    /// joins (and is never rolled back with) pages left held.
    fn writer(&mut self) -> Result<&mut Connection, StoreError> {
        self.commit_held()?;
        Ok(&mut self.conn)
    }

    /// Whether pages are held uncommitted.
    fn holds(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Drops a held transaction after a failed write: none of its pages are kept, and
    /// none of their cursors moved, so the next run fetches them again.
    fn rollback_held(&mut self) {
        if self.holds() {
            // A failure here leaves nothing to undo: SQLite has already rolled back.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Scrubs the files: `VACUUM` (when `vacuum`) rebuilds the database so that no free
    /// page keeps old bytes, and a checkpoint empties the WAL, which holds copies of the
    /// pages as they were. Readers of an older snapshot (a dashboard's open transaction)
    /// hold the WAL: the checkpoint waits for them only [`SCRUB_WAIT`], not the usual busy
    /// timeout. Returns whether it completed; if not, the caller keeps it due.
    fn scrub(&mut self, vacuum: bool) -> Result<bool, StoreError> {
        self.commit_held()?;
        if vacuum {
            self.conn.execute_batch("VACUUM")?;
        }
        self.conn.busy_timeout(SCRUB_WAIT)?;
        let checkpoint = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(checkpoint? == 0)
    }

    /// Uses `lock_dir` for the per-org lock files.
    pub fn with_lock_dir(mut self, lock_dir: &Path) -> SqliteStore {
        self.lock_dir = lock_dir.to_path_buf();
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw connection, for read-only queries by callers (status, tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs SQLite's own consistency check; `Ok(())` when it reports `ok`.
    pub fn integrity_check(&self) -> Result<(), String> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if result == "ok" { Ok(()) } else { Err(result) }
    }
}

/// Whether this user may write the database file at `path` and create files in its
/// folder: a sync writes the file and keeps its `-wal` and `-shm` beside it.
pub fn writable(path: &Path) -> bool {
    let folder = match path.parent() {
        None => return false,
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
    };
    std::fs::OpenOptions::new().write(true).open(path).is_ok() && may_create_in(folder)
}

/// Whether this process may create files in `dir`, asked of the kernel without creating
/// one.
fn may_create_in(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `access` only reads the NUL-terminated path, which outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// The schema version of the file at `path`, read without changing anything, waiting for
/// other processes as an open does (for `check`).
pub fn probe_version(path: &Path) -> Result<i64, StoreError> {
    let shown = path.display().to_string();
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    refuse_folder(path)?;
    let found = open::retry_while_busy(path, BUSY_TIMEOUT, true, |left| {
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| error::open_error(&shown, e))?;
        conn.busy_timeout(left)?;
        schema::user_version(&conn).map_err(|e| error::not_a_database(&shown, e))
    });
    match found {
        // As `open_read_only` reads it for a user who cannot create the `-shm`.
        Err(e) if cannot_build_shared_memory(&e) && no_wal_content(path) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| error::open_error(&shown, e))?;
            schema::user_version(&conn).map_err(|e| error::not_a_database(&shown, e))
        }
        other => other,
    }
}

/// One file's permissions are all or nothing: no reader of one org alone.
impl crate::store::Readers for SqliteStore {}

impl Locks for SqliteStore {
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
        Ok(match file_lock::try_lock(&self.lock_dir, org_id)? {
            LockOutcome::Acquired(held) => Some(OrgGuard::new(held)),
            LockOutcome::Busy => None,
        })
    }

    fn is_org_running(&self, org_id: &str) -> Result<bool, StoreError> {
        Ok(file_lock::is_held(&self.lock_dir, org_id))
    }

    fn refine(&self, e: StoreError) -> StoreError {
        error::named(e, &self.path, BUSY_TIMEOUT)
    }
}

/// Whether a read-only open failed because the `-shm` file is missing and cannot be
/// created (no write access to the folder).
fn cannot_build_shared_memory(e: &StoreError) -> bool {
    error::sqlite_error(e).is_some_and(|source| {
        source.sqlite_error_code().is_some_and(|c| {
            matches!(
                c,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            )
        })
    })
}

/// Whether the database at `path` has no write-ahead log with content (none, or empty).
fn no_wal_content(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(true, |m| m.len() == 0)
}

/// `path` for a `file:` URI: absolute, with `%`, `?` and `#` (and anything not plain)
/// percent-encoded.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in absolute.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(*b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A folder at the database path is a config mistake; SQLite would report it as a disk
/// I/O error, which reads as transient.
fn refuse_folder(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        return Err(StoreError::NotADatabase {
            path: path.display().to_string(),
            detail: "it is a folder".to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_full_databases_are_named_by_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routiq.db");
        let store = SqliteStore::open(&path).unwrap();
        let sqlite = |code| {
            StoreError::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        let busy = store.refine(sqlite(rusqlite::ffi::SQLITE_BUSY));
        assert_eq!(
            busy.to_string(),
            format!(
                "the database {} stayed busy for 60 s: another process held it (a sync or an \
                 upgrade still running?); try again when it has finished",
                path.display()
            )
        );
        let full = store.refine(sqlite(rusqlite::ffi::SQLITE_FULL));
        assert!(matches!(&full, StoreError::DiskFull { .. }), "{full:?}");
        assert!(
            full.to_string().starts_with(&format!(
                "the disk holding the database {} is full: free space there",
                path.display()
            )),
            "{full}"
        );
        assert!(!full.is_setup_error());
        // Anything else is left as it was.
        let other = store.refine(sqlite(rusqlite::ffi::SQLITE_IOERR));
        assert!(matches!(other, StoreError::Failed(_)));
    }
}
