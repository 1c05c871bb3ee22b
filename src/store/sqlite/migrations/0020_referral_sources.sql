-- The `referral_sources` table (opt-in): its typed columns are the resource
-- catalogue's (src/resource/catalogue/referral_sources.rs), checked by tests/schema.rs.
-- `seen_full_run` is the legacy column every SQLite record table has (the end of a
-- full walk still reads it).
CREATE TABLE referral_sources (
    org_id                  TEXT NOT NULL,
    id                      TEXT NOT NULL,
    patient_id              TEXT,
    referral_source_type_id TEXT,
    referrer_type           TEXT,
    referrer_id             TEXT,
    subcategory             TEXT,
    created_at              TEXT,
    updated_at              TEXT NOT NULL,
    archived_at             TEXT,
    deleted_upstream_at     TEXT,
    raw_json                TEXT NOT NULL,
    synced_at               TEXT NOT NULL,
    seen_full_run           INTEGER,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX referral_sources_by_updated ON referral_sources (org_id, updated_at);
CREATE INDEX referral_sources_by_patient ON referral_sources (org_id, patient_id);
