-- The `contacts` table (opt-in, reference data): its typed columns are the resource
-- catalogue's (src/resource/catalogue/contacts.rs), checked by tests/schema.rs.
CREATE TABLE IF NOT EXISTS contacts (
    org_id              text NOT NULL,
    id                  text NOT NULL,
    first_name          text,
    last_name           text,
    company_name        text,
    type                text,
    doctor_type         text,
    created_at          timestamptz,
    updated_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    deleted_upstream_at timestamptz,
    raw_json            jsonb NOT NULL,
    synced_at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS contacts_by_updated ON contacts (org_id, updated_at);
