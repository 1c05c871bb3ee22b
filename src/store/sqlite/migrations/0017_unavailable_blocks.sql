-- The `unavailable_blocks` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/unavailable_blocks.rs), checked by tests/schema.rs.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE unavailable_blocks (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    practitioner_id     TEXT,
    business_id         TEXT,
    starts_at           TEXT,
    ends_at             TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX unavailable_blocks_by_updated ON unavailable_blocks (org_id, updated_at);
CREATE INDEX unavailable_blocks_by_start ON unavailable_blocks (org_id, starts_at);
