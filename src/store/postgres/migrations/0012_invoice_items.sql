-- The `invoice_items` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/invoice_items.rs), checked by tests/schema.rs.
-- Amounts are exact decimals (`numeric`).
CREATE TABLE IF NOT EXISTS invoice_items (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    invoice_id          text,
    product_id          text,
    billable_item_id    text,
    name                text,
    code                text,
    quantity            bigint,
    unit_price          numeric,
    discounted_amount   numeric,
    net_price           numeric,
    total_including_tax numeric,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS invoice_items_by_updated ON invoice_items (org_id, updated_at);
CREATE INDEX IF NOT EXISTS invoice_items_by_invoice ON invoice_items (org_id, invoice_id);
