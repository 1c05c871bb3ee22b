-- The `daily_availabilities` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/daily_availabilities.rs), checked by tests/schema.rs.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE daily_availabilities (
    org_id               TEXT NOT NULL,
    id                   TEXT NOT NULL,
    practitioner_id      TEXT,
    business_id          TEXT,
    day_of_week          INTEGER,
    time_zone_identifier TEXT,
    created_at           TEXT,
    updated_at           TEXT NOT NULL,
    archived_at          TEXT,
    deleted_upstream_at  TEXT,
    raw_json             TEXT NOT NULL,
    synced_at            TEXT NOT NULL,
    seen_full_run        INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX daily_availabilities_by_updated ON daily_availabilities (org_id, updated_at);
