-- The PostgreSQL schema's version 7: beside the fingerprint, the rules of the policy the
-- stored rows are under (so that a later policy can be compared with them), and the
-- resources a change of policy left needing a fetch from Cliniko (their full walks are
-- forgotten then: the next complete one fetches them).
ALTER TABLE privacy_state ADD COLUMN IF NOT EXISTS rules text;
ALTER TABLE privacy_state ADD COLUMN IF NOT EXISTS refetch text;
