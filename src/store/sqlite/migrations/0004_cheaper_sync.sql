-- Cheaper sync: when each route was last read to its end (reference data is polled on
-- its own cadence), which cursor second is known complete and since when by Cliniko's
-- clock (the walk may then start after it), and when each resource was last verified.
-- `full_seen` holds the ids each page of an unfinished full walk saw, one row per page
-- (appended, so a page costs one narrow row instead of rewriting every unchanged row
-- to mark it seen); the walk's end compares them with the table and deletes them.
ALTER TABLE sync_state ADD COLUMN polled_at TEXT;
ALTER TABLE sync_state ADD COLUMN settled_second TEXT;
ALTER TABLE sync_state ADD COLUMN settled_read_at TEXT;
ALTER TABLE sync_state ADD COLUMN last_verify_at TEXT;
CREATE TABLE full_seen (
    org_id   TEXT NOT NULL,
    resource TEXT NOT NULL,
    run_id   INTEGER NOT NULL,
    ids      TEXT NOT NULL
);
CREATE INDEX full_seen_by_walk ON full_seen (org_id, resource, run_id);
