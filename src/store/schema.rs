//! The SQLite schema and its forward migrations, versioned with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = "
CREATE TABLE patients (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    first_name          TEXT,
    last_name           TEXT,
    email               TEXT,
    date_of_birth       TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX patients_by_updated ON patients (org_id, updated_at);

CREATE TABLE appointments (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    starts_at           TEXT,
    ends_at             TEXT,
    cancelled_at        TEXT,
    patient_id          TEXT,
    practitioner_id     TEXT,
    appointment_type_id TEXT,
    business_id         TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX appointments_by_updated ON appointments (org_id, updated_at);
CREATE INDEX appointments_by_patient ON appointments (org_id, patient_id, starts_at);
CREATE INDEX appointments_by_start ON appointments (org_id, starts_at);

CREATE TABLE sync_state (
    org_id        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    cursor          TEXT,
    last_full_at    TEXT,
    full_run_id     INTEGER,
    full_started_at TEXT,
    full_position   TEXT,
    PRIMARY KEY (org_id, resource)
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    org_id      TEXT NOT NULL,
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    api_calls   INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    resources   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_by_org ON runs (org_id, id);
";

/// Indexes that only make reads faster: partial indexes of the rows not marked deleted
/// upstream, so per-org totals (`status`, the end of each run) count index entries
/// instead of reading every row. Created when missing on each read-write open, outside
/// the versioned migrations: a file without them reads the same, so `status` (which
/// never migrates) keeps working on a file this version has not written to yet.
const READ_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS patients_present ON patients (org_id)
    WHERE deleted_upstream_at IS NULL;
CREATE INDEX IF NOT EXISTS appointments_present ON appointments (org_id)
    WHERE deleted_upstream_at IS NULL;
";

/// Creates the [`READ_INDEXES`] that are missing (a no-op once they exist).
pub fn ensure_read_indexes(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(READ_INDEXES)?;
    Ok(())
}

/// Brings the database up to [`CURRENT_VERSION`], refusing files from a newer build.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > CURRENT_VERSION {
        return Err(newer(path, found));
    }
    if found == CURRENT_VERSION {
        return Ok(());
    }
    // Another process may migrate at the same moment: take the write lock first, then
    // re-read the version inside the transaction.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > CURRENT_VERSION {
        return Err(newer(path, found));
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// The schema version stored in the file (0 for a new file).
pub fn user_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn newer(path: &str, found: i64) -> StoreError {
    StoreError::NewerSchema {
        path: path.to_string(),
        found,
        supported: CURRENT_VERSION,
    }
}
