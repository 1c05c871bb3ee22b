-- Dashboard data: the reference and optional resources' tables, `patients.phone`, and
-- the `patient_activity` view (see docs/dashboard.md).
-- Dashboard data: reference tables, optional tables, the patients' phone and the
-- patient_activity view (docs/dashboard.md).
ALTER TABLE patients ADD COLUMN phone TEXT;
-- Rows already stored get it when the run after this migration re-derives their typed
-- columns from raw_json (the derived_columns table).

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
