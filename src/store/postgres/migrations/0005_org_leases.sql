-- The per-org leases that stand for the per-org lock (see `super::lock`): one row per
-- org, taken and renewed on the server's clock. Advisory locks are gone: a session lock
-- taken through a transaction-mode pooler stays with a pooled server connection.
CREATE TABLE org_leases (
    org_id     text PRIMARY KEY,
    token      text NOT NULL,
    holder     text NOT NULL,
    host_key   text NOT NULL,
    pid        bigint NOT NULL,
    pid_start  bigint NOT NULL,
    taken_at   timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
