-- The `billable_items` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/billable_items.rs), checked by tests/schema.rs.
-- Amounts are exact decimals: the digits Cliniko sent, as TEXT.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE billable_items (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    name                TEXT,
    item_code           TEXT,
    item_type           TEXT,
    price               TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX billable_items_by_updated ON billable_items (org_id, updated_at);
