-- The `unavailable_blocks` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/unavailable_blocks.rs), checked by tests/schema.rs.
CREATE TABLE IF NOT EXISTS unavailable_blocks (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    practitioner_id     text,
    business_id         text,
    starts_at           timestamptz,
    ends_at             timestamptz,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS unavailable_blocks_by_updated ON unavailable_blocks (org_id, updated_at);
CREATE INDEX IF NOT EXISTS unavailable_blocks_by_start ON unavailable_blocks (org_id, starts_at);
