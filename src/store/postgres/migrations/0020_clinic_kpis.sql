-- Clinic KPIs, part one: the appointment flags, each business's local time offsets and
-- the appointment_kpi_facts view (docs/dashboard.md "Clinic KPIs").
-- Typed columns from the catalogue (src/resource/catalogue/appointments.rs); rows
-- already stored get them when the next run re-derives typed columns from raw_json.
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS did_not_arrive bigint;
ALTER TABLE appointments ADD COLUMN IF NOT EXISTS patient_arrived bigint;

-- Each business's UTC offset over time, one row per stretch without a daylight-saving
-- change, 1990 to 2060; rewritten by every run from the businesses' time zones. The
-- same table as on SQLite, so the KPI SQL is the same on both stores.
CREATE TABLE IF NOT EXISTS local_offsets (
    org_id             text NOT NULL,
    business_id        text NOT NULL,
    starts_utc         timestamptz NOT NULL,
    ends_utc           timestamptz NOT NULL,
    utc_offset_seconds bigint NOT NULL,
    PRIMARY KEY (org_id, business_id, starts_utc)
);

-- One row per appointment neither archived nor deleted upstream, placed on the local
-- day, ISO week (its Monday) and month of its business's time zone; the flags are 0/1
-- and sum to the KPIs. Dates are of type date.
CREATE OR REPLACE VIEW appointment_kpi_facts AS
SELECT
    f.org_id AS org_id,
    f.business_id AS business_id,
    f.practitioner_id AS practitioner_id,
    f.patient_id AS patient_id,
    f.appointment_id AS appointment_id,
    f.starts_at AS starts_at,
    f.local_starts::date AS local_day,
    date_trunc('week', f.local_starts)::date AS local_week,
    date_trunc('month', f.local_starts)::date AS local_month,
    1 AS booked,
    f.attended AS attended,
    f.cancelled AS cancelled,
    f.late_cancelled AS late_cancelled,
    f.did_not_arrive AS did_not_arrive
FROM (
    SELECT
        a.org_id AS org_id,
        a.business_id AS business_id,
        a.practitioner_id AS practitioner_id,
        a.patient_id AS patient_id,
        a.id AS appointment_id,
        a.starts_at AS starts_at,
        (a.starts_at AT TIME ZONE 'UTC') + o.utc_offset_seconds * interval '1 second' AS local_starts,
        CASE WHEN a.cancelled_at IS NULL AND a.patient_arrived = 1 THEN 1 ELSE 0 END AS attended,
        CASE WHEN a.cancelled_at IS NOT NULL THEN 1 ELSE 0 END AS cancelled,
        CASE WHEN a.cancelled_at IS NOT NULL
                  AND a.cancelled_at > a.starts_at - interval '24 hours'
             THEN 1 ELSE 0 END AS late_cancelled,
        CASE WHEN a.cancelled_at IS NULL AND a.did_not_arrive = 1 THEN 1 ELSE 0 END AS did_not_arrive
    FROM appointments AS a
    JOIN local_offsets AS o
      ON o.org_id = a.org_id AND o.business_id = a.business_id
     AND a.starts_at >= o.starts_utc AND a.starts_at < o.ends_utc
    WHERE a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
) AS f;
