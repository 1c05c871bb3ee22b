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
