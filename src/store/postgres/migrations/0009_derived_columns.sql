-- The PostgreSQL schema's version 9: what rules each org's typed columns were derived
-- by. When the resource catalogue changes a column or a rule, a run re-derives the
-- columns of the stored rows from their raw_json, locally and resumably (`pending`,
-- `after_id`), so a migration adds a column and never restates a rule in SQL.
CREATE TABLE IF NOT EXISTS derived_columns (
    org_id      text NOT NULL,
    resource    text NOT NULL,
    fingerprint text,
    pending     text,
    after_id    text,
    PRIMARY KEY (org_id, resource)
);
