-- The SQLite schema's version 7: per-org facts (the clock skew at the last run, the
-- Cliniko account the key answered for), and why an interrupted run stopped.
CREATE TABLE IF NOT EXISTS org_facts (
    org_id             text PRIMARY KEY,
    clock_skew_seconds bigint,
    clock_checked_at   timestamptz,
    account_id         text,
    account_name       text,
    key_digest         text
);
-- Why an interrupted run stopped ('deadline' or 'signal'), as a state.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS stopped_by text;
