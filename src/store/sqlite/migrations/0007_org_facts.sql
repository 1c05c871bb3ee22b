-- Per-org facts besides the data (issue 23): the host clock's skew against Cliniko's
-- at the org's last run, and the Cliniko account its key answered for.
CREATE TABLE org_facts (
    org_id             TEXT PRIMARY KEY,
    clock_skew_seconds INTEGER,
    clock_checked_at   TEXT,
    account_id         TEXT,
    account_name       TEXT,
    key_digest         TEXT
);
-- Why an interrupted run stopped ('deadline' or 'signal'), as a state.
ALTER TABLE runs ADD COLUMN stopped_by TEXT;
