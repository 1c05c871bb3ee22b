-- The SQLite schema's version 9: beside the fingerprint, the rules of the policy the
-- stored rows are under (so that a later policy can be compared with them), and the
-- resources a change of policy left needing a fetch from Cliniko (their full walks are
-- forgotten then: the next complete one fetches them): what a new secret or a looser
-- policy cannot bring back from the stored rows.
ALTER TABLE privacy_state ADD COLUMN rules TEXT;
ALTER TABLE privacy_state ADD COLUMN refetch TEXT;
