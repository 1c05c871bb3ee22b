-- A cheaper write path (issue 16): two indexes that a wider one already serves are
-- dropped. Every appointment insert touched `appointments_by_patient` at a random place
-- (the walk is in `updated_at` order); the queries that look up a patient's
-- appointments all ask for counted ones, which `appointments_for_activity` holds with
-- the same leading columns. `patients_present` had the primary key's columns: the view
-- finds an org's patients through `patients_not_deleted` and reads each row anyway.
-- tests/query_plans.rs asserts that every documented query still uses an index.
DROP INDEX IF EXISTS appointments_by_patient;
DROP INDEX IF EXISTS patients_present;
