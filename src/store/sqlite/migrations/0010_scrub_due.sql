-- The SQLite schema's version 10: tables whose deleted or replaced rows (of an org) still
-- have to be scrubbed from the files. Marked in the transaction that deleted or replaced them and
-- scrubbed once at the end of the run (`vacuum` 1: the file is rebuilt with VACUUM; 0:
-- emptying the WAL suffices), so that a scrub deferred (readers hold the WAL) or cut
-- short is done by a later run.
CREATE TABLE scrub_due (
    org_id     TEXT NOT NULL,
    table_name TEXT NOT NULL,
    vacuum     INTEGER NOT NULL,
    PRIMARY KEY (org_id, table_name)
);
