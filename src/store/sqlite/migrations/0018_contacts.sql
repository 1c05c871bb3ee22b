-- The `contacts` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/contacts.rs), checked by tests/schema.rs.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE contacts (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    first_name          TEXT,
    last_name           TEXT,
    company_name        TEXT,
    type                TEXT,
    doctor_type         TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX contacts_by_updated ON contacts (org_id, updated_at);
