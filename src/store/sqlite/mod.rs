//! The SQLite backend: records, per-org sync state and run history in one file, with
//! per-org locks as files under `lock_dir`.
//!
//! Every connection uses WAL and a busy timeout, and every write transaction starts
//! `IMMEDIATE`, so several processes and threads can share one file without
//! `database is locked` errors.

mod activity;
mod records;
mod runs;
mod schema;
mod state;
mod upsert;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use schema::CURRENT_VERSION;

use super::{
    OrgGuard, OrgState, PageWrite, RunOutcome, RunRecord, SettledSecond, Store, StoreError,
};
use crate::lock::{self, LockOutcome};
use crate::record::Record;
use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// WAL pages between automatic checkpoints (why: in `SqliteStore::open_with`).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// An open connection to one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Where the per-org lock files live (beside the database unless configured).
    lock_dir: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it forward.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Self::open_with(path, OpenFlags::default(), true)
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
        match Self::open_with(path, flags, false) {
            Err(StoreError::OlderSchema { .. }) => {
                drop(Self::open_with(path, OpenFlags::default(), true)?);
                Self::open_with(path, flags, false).map(Some)
            }
            other => other.map(Some),
        }
    }

    fn open_with(path: &Path, flags: OpenFlags, write: bool) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
                path: shown.clone(),
                source,
            })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // The first real read tells a SQLite file from anything else.
        let version = schema::user_version(&conn).map_err(|e| not_a_database(&shown, e))?;
        if version > CURRENT_VERSION {
            return Err(StoreError::NewerSchema {
                path: shown,
                found: version,
                supported: CURRENT_VERSION,
            });
        }
        if write {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| not_a_database(&shown, e))?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Checkpoint every 10,000 pages (40 MB of WAL) instead of SQLite's 1,000: index
            // pages rewritten by many page commits are copied into the database once per
            // checkpoint, and a full sync of 200,000 records does ~8x fewer fsync pairs.
            // See docs/performance.md.
            conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
            schema::migrate(&mut conn, &shown)?;
        } else if version < CURRENT_VERSION {
            return Err(StoreError::OlderSchema {
                path: shown,
                found: version,
                supported: CURRENT_VERSION,
            });
        }
        let lock_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            lock_dir,
        })
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

impl Store for SqliteStore {
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
        Ok(match lock::try_lock(&self.lock_dir, org_id)? {
            LockOutcome::Acquired(held) => Some(OrgGuard::new(held)),
            LockOutcome::Busy => None,
        })
    }

    fn is_org_running(&self, org_id: &str) -> Result<bool, StoreError> {
        Ok(lock::is_held(&self.lock_dir, org_id))
    }

    fn org_state(&self, org_id: &str) -> Result<OrgState, StoreError> {
        SqliteStore::org_state(self, org_id)
    }

    fn begin_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        SqliteStore::begin_full(self, org_id, resource, run_id, started_at)
    }

    fn write_route_page(
        &mut self,
        org_id: &str,
        resource: Resource,
        cursor_key: &str,
        records: &[Record],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError> {
        SqliteStore::write_route_page(
            self, org_id, resource, cursor_key, records, full_run, synced_at,
        )
    }

    fn write_route_pages(
        &mut self,
        org_id: &str,
        resource: Resource,
        pages: &[(&str, &[Record])],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError> {
        SqliteStore::write_route_pages(self, org_id, resource, pages, full_run, synced_at)
    }

    fn finish_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        SqliteStore::finish_full(self, org_id, resource, run_id, started_at, now)
    }

    fn count_present(&self, org_id: &str, resource: Resource) -> Result<u64, StoreError> {
        SqliteStore::count_present(self, org_id, resource)
    }

    fn active_patients(&self, org_id: &str) -> Result<u64, StoreError> {
        SqliteStore::active_patients(self, org_id)
    }

    fn begin_run(
        &mut self,
        org_id: &str,
        mode: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError> {
        SqliteStore::begin_run(self, org_id, mode, started_at)
    }

    fn finish_run(&mut self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError> {
        SqliteStore::finish_run(self, run_id, outcome)
    }

    fn close_abandoned_runs(&mut self, org_id: &str) -> Result<usize, StoreError> {
        SqliteStore::close_abandoned_runs(self, org_id)
    }

    fn last_active_patients(&self, org_id: &str) -> Result<Option<u64>, StoreError> {
        SqliteStore::last_active_patients(self, org_id)
    }

    fn recent_runs(&self, org_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        SqliteStore::recent_runs(self, org_id, limit)
    }

    fn mark_polled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        SqliteStore::mark_polled(self, org_id, cursor_key, at)
    }

    fn record_settled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        settled: SettledSecond,
    ) -> Result<(), StoreError> {
        SqliteStore::record_settled(self, org_id, cursor_key, settled)
    }

    fn present_ids(&self, org_id: &str, resource: Resource) -> Result<Vec<String>, StoreError> {
        SqliteStore::present_ids(self, org_id, resource)
    }

    fn missing_ids(
        &self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        SqliteStore::missing_ids(self, org_id, resource, ids)
    }

    fn write_rows(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError> {
        SqliteStore::write_rows(self, org_id, resource, records, full_run, synced_at)
    }

    fn mark_deleted(
        &mut self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        SqliteStore::mark_deleted(self, org_id, resource, ids, now)
    }

    fn finish_verify(
        &mut self,
        org_id: &str,
        resource: Resource,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        SqliteStore::finish_verify(self, org_id, resource, started_at)
    }
}

fn not_a_database(path: &str, e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(ref f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            StoreError::NotADatabase {
                path: path.to_string(),
                detail: e.to_string(),
            }
        }
        e => StoreError::Open {
            path: path.to_string(),
            source: e,
        },
    }
}
