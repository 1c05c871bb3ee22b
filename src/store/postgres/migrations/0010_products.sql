-- The `products` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/products.rs), checked by tests/schema.rs.
-- Amounts are exact decimals (`numeric`).
CREATE TABLE IF NOT EXISTS products (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    name                text,
    item_code           text,
    price_ex_tax        numeric,
    price_including_tax numeric,
    cost_price          numeric,
    stock_level         bigint,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS products_by_updated ON products (org_id, updated_at);
