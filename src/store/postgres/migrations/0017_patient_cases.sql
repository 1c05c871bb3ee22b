-- The `patient_cases` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/patient_cases.rs), checked by tests/schema.rs.
-- Amounts are exact decimals (`numeric`).
CREATE TABLE IF NOT EXISTS patient_cases (
    org_id                 text NOT NULL,
    id                     text NOT NULL,
    patient_id             text,
    contact_id             text,
    name                   text,
    issue_date             text,
    expiry_date            text,
    closed                 bigint,
    max_sessions           bigint,
    max_invoiceable_amount numeric,
    referral_type          text,
    created_at             timestamptz,
    updated_at             timestamptz NOT NULL,
    archived_at            timestamptz,
    deleted_upstream_at    timestamptz,
    raw_json               jsonb NOT NULL,
    synced_at              timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS patient_cases_by_updated ON patient_cases (org_id, updated_at);
CREATE INDEX IF NOT EXISTS patient_cases_by_patient ON patient_cases (org_id, patient_id);
