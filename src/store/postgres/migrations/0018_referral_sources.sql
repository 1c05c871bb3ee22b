-- The `referral_sources` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/referral_sources.rs), checked by tests/schema.rs.
CREATE TABLE IF NOT EXISTS referral_sources (
    org_id                  text NOT NULL,
    id                      text NOT NULL,
    patient_id              text,
    referral_source_type_id text,
    referrer_type           text,
    referrer_id             text,
    subcategory             text,
    created_at              timestamptz,
    updated_at              timestamptz NOT NULL,
    archived_at             timestamptz,
    deleted_upstream_at     timestamptz,
    raw_json                jsonb NOT NULL,
    synced_at               timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX IF NOT EXISTS referral_sources_by_updated ON referral_sources (org_id, updated_at);
CREATE INDEX IF NOT EXISTS referral_sources_by_patient ON referral_sources (org_id, patient_id);
