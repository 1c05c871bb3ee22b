-- The `invoice_items` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/invoice_items.rs), checked by tests/schema.rs.
-- Amounts are exact decimals: the digits Cliniko sent, as TEXT.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE invoice_items (
    org_id              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    invoice_id          TEXT,
    product_id          TEXT,
    billable_item_id    TEXT,
    name                TEXT,
    code                TEXT,
    quantity            INTEGER,
    unit_price          TEXT,
    discounted_amount   TEXT,
    net_price           TEXT,
    total_including_tax TEXT,
    created_at          TEXT,
    updated_at          TEXT NOT NULL,
    archived_at         TEXT,
    deleted_upstream_at TEXT,
    raw_json            TEXT NOT NULL,
    synced_at           TEXT NOT NULL,
    seen_full_run       INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX invoice_items_by_updated ON invoice_items (org_id, updated_at);
CREATE INDEX invoice_items_by_invoice ON invoice_items (org_id, invoice_id);
