-- The PostgreSQL schema's version 8: tables whose deleted or replaced rows (of an org)
-- still have to be scrubbed from the files (VACUUM FULL). Marked in the transaction that deleted or
-- replaced them and rewritten once at the end of the run, however many orgs marked them,
-- so that a rewrite that failed or was cut short is done by a later run. (`vacuum` is
-- SQLite's distinction between a rebuilt file and an emptied WAL; here every mark is a
-- table rewrite.)
CREATE TABLE IF NOT EXISTS scrub_due (
    org_id     text NOT NULL,
    table_name text NOT NULL,
    vacuum     bigint NOT NULL,
    PRIMARY KEY (org_id, table_name)
);
