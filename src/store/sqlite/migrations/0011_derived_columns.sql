-- What rules each org's typed columns were derived by. When the resource catalogue
-- changes a column or a rule, a run re-derives the columns of the stored rows from their
-- raw_json, locally and resumably (`pending`, `after_id`), so a migration adds a column
-- and never restates a rule in SQL.
CREATE TABLE derived_columns (
    org_id      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    fingerprint TEXT,
    pending     TEXT,
    after_id    TEXT,
    PRIMARY KEY (org_id, resource)
);
