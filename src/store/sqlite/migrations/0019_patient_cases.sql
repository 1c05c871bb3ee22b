-- The `patient_cases` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/patient_cases.rs), checked by tests/schema.rs.
-- Amounts are exact decimals: the digits Cliniko sent, as TEXT.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE patient_cases (
    org_id                 TEXT NOT NULL,
    id                     TEXT NOT NULL,
    patient_id             TEXT,
    contact_id             TEXT,
    name                   TEXT,
    issue_date             TEXT,
    expiry_date            TEXT,
    closed                 INTEGER,
    max_sessions           INTEGER,
    max_invoiceable_amount TEXT,
    referral_type          TEXT,
    created_at             TEXT,
    updated_at             TEXT NOT NULL,
    archived_at            TEXT,
    deleted_upstream_at    TEXT,
    raw_json               TEXT NOT NULL,
    synced_at              TEXT NOT NULL,
    seen_full_run          INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX patient_cases_by_updated ON patient_cases (org_id, updated_at);
CREATE INDEX patient_cases_by_patient ON patient_cases (org_id, patient_id);
