-- The `daily_availabilities` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/daily_availabilities.rs), checked by tests/schema.rs.
CREATE TABLE IF NOT EXISTS daily_availabilities (
    org_id               text NOT NULL,
    id                   text NOT NULL,
    practitioner_id      text,
    business_id          text,
    day_of_week          bigint,
    time_zone_identifier text,
    created_at           timestamptz,
    updated_at           timestamptz NOT NULL,
    archived_at          timestamptz,
    deleted_upstream_at  timestamptz,
    raw_json             jsonb NOT NULL,
    synced_at            timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS daily_availabilities_by_updated ON daily_availabilities (org_id, updated_at);
