-- The SQLite schema's version 5: the indexes it drops, for the same reason (a wider
-- index serves their queries, and each was one more random-order insert per row).
DROP INDEX IF EXISTS appointments_by_patient;
DROP INDEX IF EXISTS patients_present;
