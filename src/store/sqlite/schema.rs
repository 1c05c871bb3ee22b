//! The SQLite schema and its forward migrations, versioned with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

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

/// Dashboard data: the reference and optional resources' tables, `patients.phone`, and
/// the `patient_activity` view (see docs/dashboard.md).
const V2: &str = r#"
-- Dashboard data: reference tables, optional tables, the patients' phone and the
-- patient_activity view (docs/dashboard.md).
ALTER TABLE patients ADD COLUMN phone TEXT;
-- Same rule as parse.rs: the first Mobile entry, else the first entry with a number.
UPDATE patients SET phone = (
    SELECT n.number FROM (
        SELECT CAST(e.key AS INTEGER) AS pos,
               lower(COALESCE(json_extract(e.value, '$.phone_type'), '')) = 'mobile' AS mobile,
               COALESCE(NULLIF(trim(json_extract(e.value, '$.number')), ''),
                        NULLIF(trim(json_extract(e.value, '$.normalized_number')), '')) AS number
        FROM json_each(patients.raw_json, '$.patient_phone_numbers') AS e
        WHERE e.type = 'object'
    ) AS n
    WHERE n.number IS NOT NULL
    ORDER BY n.mobile DESC, n.pos
    LIMIT 1
)
WHERE json_valid(raw_json);

CREATE TABLE appointment_types (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    name                TEXT,
    category            TEXT,
    color               TEXT,
    duration_in_minutes INTEGER,
    max_attendees       INTEGER,
    show_in_online_bookings INTEGER,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX appointment_types_by_updated ON appointment_types (org_id, updated_at);

CREATE TABLE practitioners (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    first_name          TEXT,
    last_name           TEXT,
    title               TEXT,
    display_name        TEXT,
    designation         TEXT,
    active              INTEGER,
    show_in_online_bookings INTEGER,
    user_id             TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX practitioners_by_updated ON practitioners (org_id, updated_at);

CREATE TABLE businesses (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    business_name       TEXT,
    display_name        TEXT,
    city                TEXT,
    state               TEXT,
    country_code        TEXT,
    time_zone           TEXT,
    time_zone_identifier TEXT,
    show_in_online_bookings INTEGER,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX businesses_by_updated ON businesses (org_id, updated_at);

CREATE TABLE group_appointments (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    starts_at           TEXT,
    ends_at             TEXT,
    practitioner_id     TEXT,
    appointment_type_id TEXT,
    business_id         TEXT,
    max_attendees       INTEGER,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX group_appointments_by_updated ON group_appointments (org_id, updated_at);
CREATE INDEX group_appointments_by_start ON group_appointments (org_id, starts_at);

CREATE TABLE attendees (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    booking_id          TEXT,
    patient_id          TEXT,
    arrived             INTEGER,
    cancelled_at        TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX attendees_by_updated ON attendees (org_id, updated_at);
CREATE INDEX attendees_by_booking ON attendees (org_id, booking_id);
CREATE INDEX attendees_by_patient ON attendees (org_id, patient_id);

CREATE TABLE invoices (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    number              INTEGER,
    issue_date          TEXT,
    status              INTEGER,
    status_description  TEXT,
    total_amount        TEXT,
    net_amount          TEXT,
    tax_amount          TEXT,
    closed_at           TEXT,
    patient_id          TEXT,
    practitioner_id     TEXT,
    business_id         TEXT,
    appointment_id      TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX invoices_by_updated ON invoices (org_id, updated_at);
CREATE INDEX invoices_by_patient ON invoices (org_id, patient_id);
CREATE INDEX invoices_by_appointment ON invoices (org_id, appointment_id);

-- Only appointments that count for activity (not cancelled, archived or deleted
-- upstream), with every column the view reads: its subqueries never touch the table.
CREATE INDEX appointments_for_activity ON appointments
    (org_id, patient_id, starts_at, appointment_type_id, id)
    WHERE cancelled_at IS NULL AND archived_at IS NULL AND deleted_upstream_at IS NULL;
-- The patients the view lists: finding an org's patients reads no row it leaves out.
CREATE INDEX patients_present ON patients (org_id, id)
    WHERE archived_at IS NULL AND deleted_upstream_at IS NULL;

-- One row per patient that is neither archived nor deleted upstream. "Now" is the
-- moment the row is computed (SQLite's clock, UTC); timestamps compare as UTC text.
CREATE VIEW patient_activity AS
SELECT
    p.org_id AS org_id,
    p.id AS patient_id,
    p.first_name AS first_name,
    p.last_name AS last_name,
    p.email AS email,
    p.phone AS phone,
    (SELECT COUNT(*) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')
           AND a.starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS recent_appointment_count,
    (SELECT COUNT(*) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS upcoming_appointment_count,
    (SELECT COUNT(*) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at IS NOT NULL) AS total_appointment_count,
    (SELECT MIN(a.starts_at) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at IS NOT NULL) AS first_appointment_at,
    (SELECT MAX(a.starts_at) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS last_appointment_at,
    (SELECT MIN(a.starts_at) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS next_appointment_at,
    -- Two appointments at the same next start: the one with the lower id.
    (SELECT t.name FROM appointments AS a
     LEFT JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
     ORDER BY a.starts_at, length(a.id), a.id
     LIMIT 1) AS next_appointment_type,
    -- Most appointments by type name; a tie goes to the type booked latest, then to
    -- the name first in alphabetical order.
    (SELECT t.name FROM appointments AS a
     JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at IS NOT NULL AND t.name IS NOT NULL
     GROUP BY t.name
     ORDER BY COUNT(*) DESC, MAX(a.starts_at) DESC, t.name
     LIMIT 1) AS primary_appointment_type,
    -- From the appointments since 30 days ago: none, only future, both, or only past.
    (SELECT CASE
                WHEN COUNT(*) = 0 THEN 'inactive'
                WHEN MIN(a.starts_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now') THEN 'has_upcoming'
                WHEN MAX(a.starts_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now') THEN 'active'
                ELSE 'recent_only'
            END
     FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')) AS activity_status
FROM patients AS p
WHERE p.archived_at IS NULL AND p.deleted_upstream_at IS NULL;
"#;

/// Cheap `status`: partial indexes of the rows not marked deleted upstream, so per-org
/// totals count index entries instead of reading every row; and each run's count of
/// active patients, so `status` reads one number instead of evaluating the view.
const V3: &str = "
CREATE INDEX patients_not_deleted ON patients (org_id) WHERE deleted_upstream_at IS NULL;
CREATE INDEX appointments_not_deleted ON appointments (org_id) WHERE deleted_upstream_at IS NULL;
ALTER TABLE runs ADD COLUMN active_patients INTEGER;
";

/// Cheaper sync: when each route was last read to its end (reference data is polled on
/// its own cadence), which cursor second is known complete and since when by Cliniko's
/// clock (the walk may then start after it), and when each resource was last verified.
/// `full_seen` holds the ids each page of an unfinished full walk saw, one row per page
/// (appended, so a page costs one narrow row instead of rewriting every unchanged row
/// to mark it seen); the walk's end compares them with the table and deletes them.
const V4: &str = "
ALTER TABLE sync_state ADD COLUMN polled_at TEXT;
ALTER TABLE sync_state ADD COLUMN settled_second TEXT;
ALTER TABLE sync_state ADD COLUMN settled_read_at TEXT;
ALTER TABLE sync_state ADD COLUMN last_verify_at TEXT;
CREATE TABLE full_seen (
    org_id   TEXT NOT NULL,
    resource TEXT NOT NULL,
    run_id   INTEGER NOT NULL,
    ids      TEXT NOT NULL
);
CREATE INDEX full_seen_by_walk ON full_seen (org_id, resource, run_id);
";

/// A cheaper write path (issue 16): two indexes that a wider one already serves are
/// dropped. Every appointment insert touched `appointments_by_patient` at a random place
/// (the walk is in `updated_at` order); the queries that look up a patient's
/// appointments all ask for counted ones, which `appointments_for_activity` holds with
/// the same leading columns. `patients_present` had the primary key's columns: the view
/// finds an org's patients through `patients_not_deleted` and reads each row anyway.
/// tests/query_plans.rs asserts that every documented query still uses an index.
const V5: &str = "
DROP INDEX IF EXISTS appointments_by_patient;
DROP INDEX IF EXISTS patients_present;
";

/// The privacy policy (issue 22): the fingerprint of the policy every stored row of an
/// org is under, when it was applied, and a rewrite under a new one in progress.
const V6: &str = "
CREATE TABLE privacy_state (
    org_id           TEXT PRIMARY KEY,
    fingerprint      TEXT,
    applied_at       TEXT,
    pending          TEXT,
    pending_resource TEXT,
    pending_after_id TEXT
);
";

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

/// Writes a new file at `path` with the schema of `version` (at most
/// [`CURRENT_VERSION`]), as the routiq-sync of that version left it, for upgrade tests.
#[doc(hidden)]
pub fn create_at_version(path: &std::path::Path, version: i64) -> Result<(), rusqlite::Error> {
    let conn = Connection::open(path)?;
    let upto = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
    for sql in &MIGRATIONS[..upto] {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", upto as i64)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Records;

    fn phone_after_upgrade(raw_json: &str) -> Option<String> {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO patients (org_id, id, updated_at, raw_json, synced_at)
             VALUES ('o', '1', '2024-01-01T00:00:00Z', ?1, '2024-01-01T00:00:00Z')",
            [raw_json],
        )
        .unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION);
        conn.query_row("SELECT phone FROM patients", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn upgrading_from_v1_fills_the_phone_column_from_raw_json() {
        let home = r#"{"number": "(03) 9999 0000", "phone_type": "Home"}"#;
        let mobile = r#"{"number": " 0400 111 222", "phone_type": "Mobile"}"#;
        let doc = |numbers: &str| format!(r#"{{"id": "1", "patient_phone_numbers": {numbers}}}"#);
        assert_eq!(
            phone_after_upgrade(&doc(&format!("[{home}, {mobile}]"))).as_deref(),
            Some("0400 111 222")
        );
        assert_eq!(
            phone_after_upgrade(&doc(&format!("[{home}]"))).as_deref(),
            Some("(03) 9999 0000")
        );
        assert_eq!(
            phone_after_upgrade(&doc(
                r#"[{"number": "", "normalized_number": "61299990000", "phone_type": "Work"}]"#
            ))
            .as_deref(),
            Some("61299990000")
        );
        assert_eq!(phone_after_upgrade(&doc("[]")), None);
        assert_eq!(phone_after_upgrade(&doc("null")), None);
        assert_eq!(phone_after_upgrade(&doc(r#""0400""#)), None);
        assert_eq!(phone_after_upgrade(r#"{"id": "1"}"#), None);
    }

    #[test]
    fn a_new_database_has_the_view_and_an_empty_org_has_no_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM patient_activity WHERE org_id = 'o'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn reading_a_file_from_before_the_upgrade_migrates_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        create_at_version(&path, 1).unwrap();
        let store = super::super::SqliteStore::open_read_only(&path)
            .unwrap()
            .unwrap();
        assert_eq!(user_version(store.connection()).unwrap(), CURRENT_VERSION);
        assert_eq!(store.active_patients("org_1").unwrap(), 0);
    }
}
