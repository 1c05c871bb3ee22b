-- The SQLite schema's version 8: the privacy policy's state per org. (`IF NOT EXISTS`:
-- a schema rolled back to an older version by hand may still have the table.)
CREATE TABLE IF NOT EXISTS privacy_state (
    org_id           text PRIMARY KEY,
    fingerprint      text,
    applied_at       timestamptz,
    pending          text,
    pending_resource text,
    pending_after_id text
);
