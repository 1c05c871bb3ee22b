//! The PostgreSQL schema and its forward migrations, versioned in `schema_migrations` and
//! applied in one transaction under an advisory lock (several hosts may upgrade at once).
//!
//! The tables, columns, indexes and `patient_activity` view are those of the SQLite
//! schema, in native types: ids `text`, timestamps `timestamptz`, `raw_json` `jsonb`,
//! counts and flags `bigint`; dates and money stay `text` as Cliniko sends them. Every
//! primary key starts with `org_id`, so the tables can be distributed by org (Citus).

use postgres::Client;

use super::connect::{error_at, quote_ident};
use super::lock::namespaced_key;
use crate::store::StoreError;

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The SQLite schema at its version 3, in one step.
const V1: &str = r#"
CREATE TABLE patients (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    first_name          text,
    last_name           text,
    email               text,
    date_of_birth       text,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    phone               text,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX patients_by_updated ON patients (org_id, updated_at);

CREATE TABLE appointments (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    starts_at           timestamptz,
    ends_at             timestamptz,
    cancelled_at        timestamptz,
    patient_id          text,
    practitioner_id     text,
    appointment_type_id text,
    business_id         text,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX appointments_by_updated ON appointments (org_id, updated_at);
CREATE INDEX appointments_by_patient ON appointments (org_id, patient_id, starts_at);
CREATE INDEX appointments_by_start ON appointments (org_id, starts_at);

CREATE TABLE sync_state (
    org_id          text NOT NULL,
    resource        text NOT NULL,
    cursor          timestamptz,
    last_full_at    timestamptz,
    full_run_id     bigint,
    full_started_at timestamptz,
    full_position   timestamptz,
    polled_at       timestamptz,
    settled_second  timestamptz,
    settled_read_at timestamptz,
    last_verify_at  timestamptz,
    PRIMARY KEY (org_id, resource)
);

-- The ids each page of an unfinished full walk saw (one narrow row per page, so a full
-- walk over unchanged data rewrites no row); its end compares them with the table.
CREATE TABLE full_seen (
    org_id   text NOT NULL,
    resource text NOT NULL,
    run_id   bigint NOT NULL,
    ids      text[] NOT NULL
);
CREATE INDEX full_seen_by_walk ON full_seen (org_id, resource, run_id);

CREATE TABLE runs (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    org_id          text NOT NULL,
    mode            text NOT NULL,
    status          text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    duration_ms     bigint,
    api_calls       bigint NOT NULL DEFAULT 0,
    error           text,
    resources       jsonb NOT NULL DEFAULT '{}',
    active_patients bigint,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX runs_by_org ON runs (org_id, id);

CREATE TABLE appointment_types (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    name                text,
    category            text,
    color               text,
    duration_in_minutes bigint,
    max_attendees       bigint,
    show_in_online_bookings bigint,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX appointment_types_by_updated ON appointment_types (org_id, updated_at);

CREATE TABLE practitioners (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    first_name          text,
    last_name           text,
    title               text,
    display_name        text,
    designation         text,
    active              bigint,
    show_in_online_bookings bigint,
    user_id             text,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX practitioners_by_updated ON practitioners (org_id, updated_at);

CREATE TABLE businesses (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    business_name       text,
    display_name        text,
    city                text,
    state               text,
    country_code        text,
    time_zone           text,
    time_zone_identifier text,
    show_in_online_bookings bigint,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX businesses_by_updated ON businesses (org_id, updated_at);

CREATE TABLE group_appointments (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    starts_at           timestamptz,
    ends_at             timestamptz,
    practitioner_id     text,
    appointment_type_id text,
    business_id         text,
    max_attendees       bigint,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX group_appointments_by_updated ON group_appointments (org_id, updated_at);
CREATE INDEX group_appointments_by_start ON group_appointments (org_id, starts_at);

CREATE TABLE attendees (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    booking_id          text,
    patient_id          text,
    arrived             bigint,
    cancelled_at        timestamptz,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX attendees_by_updated ON attendees (org_id, updated_at);
CREATE INDEX attendees_by_booking ON attendees (org_id, booking_id);
CREATE INDEX attendees_by_patient ON attendees (org_id, patient_id);

CREATE TABLE invoices (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    number              bigint,
    issue_date          text,
    status              bigint,
    status_description  text,
    total_amount        text,
    net_amount          text,
    tax_amount          text,
    closed_at           timestamptz,
    patient_id          text,
    practitioner_id     text,
    business_id         text,
    appointment_id      text,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX invoices_by_updated ON invoices (org_id, updated_at);
CREATE INDEX invoices_by_patient ON invoices (org_id, patient_id);
CREATE INDEX invoices_by_appointment ON invoices (org_id, appointment_id);

CREATE INDEX appointments_for_activity ON appointments
    (org_id, patient_id, starts_at, appointment_type_id, id)
    WHERE cancelled_at IS NULL AND archived_at IS NULL AND deleted_upstream_at IS NULL;
CREATE INDEX patients_present ON patients (org_id, id)
    WHERE archived_at IS NULL AND deleted_upstream_at IS NULL;
CREATE INDEX patients_not_deleted ON patients (org_id) WHERE deleted_upstream_at IS NULL;
CREATE INDEX appointments_not_deleted ON appointments (org_id) WHERE deleted_upstream_at IS NULL;

-- As on SQLite: one row per patient neither archived nor deleted upstream. "Now" is the
-- start of the query's transaction, to the second (as SQLite's); 30 days are 720 hours
-- whatever the session's time zone.
CREATE VIEW patient_activity AS
WITH clock AS (SELECT date_trunc('second', now()) AS now)
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
           AND a.starts_at >= c.now - interval '720 hours'
           AND a.starts_at <= c.now) AS recent_appointment_count,
    (SELECT COUNT(*) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > c.now) AS upcoming_appointment_count,
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
           AND a.starts_at <= c.now) AS last_appointment_at,
    (SELECT MIN(a.starts_at) FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > c.now) AS next_appointment_at,
    -- Two appointments at the same next start: the one with the lower id.
    (SELECT t.name FROM appointments AS a
     LEFT JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at > c.now
     ORDER BY a.starts_at, length(a.id), a.id
     LIMIT 1) AS next_appointment_type,
    -- Most appointments by type name; a tie goes to the type booked latest, then to
    -- the name first in alphabetical order (byte order, as SQLite).
    (SELECT t.name FROM appointments AS a
     JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at IS NOT NULL AND t.name IS NOT NULL
     GROUP BY t.name
     ORDER BY COUNT(*) DESC, MAX(a.starts_at) DESC, t.name COLLATE "C"
     LIMIT 1) AS primary_appointment_type,
    -- From the appointments since 30 days ago: none, only future, both, or only past.
    (SELECT CASE
                WHEN COUNT(*) = 0 THEN 'inactive'
                WHEN MIN(a.starts_at) > c.now THEN 'has_upcoming'
                WHEN MAX(a.starts_at) > c.now THEN 'active'
                ELSE 'recent_only'
            END
     FROM appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.cancelled_at IS NULL AND a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
           AND a.starts_at >= c.now - interval '720 hours') AS activity_status
FROM patients AS p CROSS JOIN clock AS c
WHERE p.archived_at IS NULL AND p.deleted_upstream_at IS NULL;
"#;

/// The SQLite schema's version 5: the indexes it drops, for the same reason (a wider
/// index serves their queries, and each was one more random-order insert per row).
const V2: &str = "
DROP INDEX IF EXISTS appointments_by_patient;
DROP INDEX IF EXISTS patients_present;
";

/// The SQLite schema's version 6: the privacy policy's state per org. (`IF NOT EXISTS`:
/// a schema rolled back to an older version by hand may still have the table.)
const V3: &str = "
CREATE TABLE IF NOT EXISTS privacy_state (
    org_id           text PRIMARY KEY,
    fingerprint      text,
    applied_at       timestamptz,
    pending          text,
    pending_resource text,
    pending_after_id text
);
";

/// The version stored in `schema`, or `None` when it has no routiq-sync tables yet.
pub fn stored_version(
    client: &mut Client,
    schema: &str,
    target: &str,
) -> Result<Option<i64>, StoreError> {
    let table = format!("{}.schema_migrations", quote_ident(schema));
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .map_err(|e| error_at(target, e))?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let version: Option<i32> = client
        .query_one(&format!("SELECT max(version) FROM {table}"), &[])
        .map_err(|e| error_at(target, e))?
        .get(0);
    Ok(Some(i64::from(version.unwrap_or(0))))
}

/// Brings `schema` up to [`CURRENT_VERSION`], creating it if missing; refuses (touching
/// nothing) a schema written by a newer build.
pub fn migrate(client: &mut Client, schema: &str, target: &str) -> Result<(), StoreError> {
    let newer = |found| StoreError::NewerSchema {
        path: format!("{target}, schema {schema}"),
        found,
        supported: CURRENT_VERSION,
    };
    match stored_version(client, schema, target)? {
        Some(v) if v > CURRENT_VERSION => return Err(newer(v)),
        Some(v) if v == CURRENT_VERSION => return Ok(()),
        _ => {}
    }
    let at = |e| error_at(target, e);
    let mut tx = client.transaction().map_err(at)?;
    // One migrator per database and schema at a time; the others wait here, then find
    // the work done.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&namespaced_key("migrate", schema, "")],
    )
    .map_err(at)?;
    let schema_exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .map_err(at)?
        .get(0);
    if !schema_exists {
        tx.batch_execute(&format!("CREATE SCHEMA {}", quote_ident(schema)))
            .map_err(at)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(at)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .map_err(at)?
        .get(0);
    let found = i64::from(found.unwrap_or(0));
    if found > CURRENT_VERSION {
        return Err(newer(found));
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(at)?;
        let version = i32::try_from(from + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(at)?;
    }
    tx.commit().map_err(at)?;
    Ok(())
}
