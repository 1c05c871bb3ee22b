-- The privacy policy (issue 22): the fingerprint of the policy every stored row of an
-- org is under, when it was applied, and a rewrite under a new one in progress.
CREATE TABLE privacy_state (
    org_id           TEXT PRIMARY KEY,
    fingerprint      TEXT,
    applied_at       TEXT,
    pending          TEXT,
    pending_resource TEXT,
    pending_after_id TEXT
);
