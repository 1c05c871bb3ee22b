-- The `billable_items` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/billable_items.rs), checked by tests/schema.rs.
-- Amounts are exact decimals (`numeric`).
CREATE TABLE IF NOT EXISTS billable_items (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    name                text,
    item_code           text,
    item_type           text,
    price               numeric,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS billable_items_by_updated ON billable_items (org_id, updated_at);
