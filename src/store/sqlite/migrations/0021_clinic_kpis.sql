-- Clinic KPIs, part one: the appointment flags, each business's local time offsets and
-- the appointment_kpi_facts view (docs/dashboard.md "Clinic KPIs").
-- Typed columns from the catalogue (src/resource/catalogue/appointments.rs); rows
-- already stored get them when the next run re-derives typed columns from raw_json.
ALTER TABLE appointments ADD COLUMN did_not_arrive INTEGER;
ALTER TABLE appointments ADD COLUMN patient_arrived INTEGER;

-- Each business's UTC offset over time, one row per stretch without a daylight-saving
-- change, 1990 to 2060; rewritten by every run from the businesses' time zones.
-- Timestamps are UTC text, as every other timestamp here.
CREATE TABLE local_offsets (
    org_id             TEXT NOT NULL,
    business_id        TEXT NOT NULL,
    starts_utc         TEXT NOT NULL,
    ends_utc           TEXT NOT NULL,
    utc_offset_seconds INTEGER NOT NULL,
    PRIMARY KEY (org_id, business_id, starts_utc)
);

-- One row per appointment neither archived nor deleted upstream, placed on the local
-- day, ISO week (its Monday) and month of its business's time zone; the flags are 0/1
-- and sum to the KPIs. Dates are 'YYYY-MM-DD' text.
CREATE VIEW appointment_kpi_facts AS
SELECT
    f.org_id AS org_id,
    f.business_id AS business_id,
    f.practitioner_id AS practitioner_id,
    f.patient_id AS patient_id,
    f.appointment_id AS appointment_id,
    f.starts_at AS starts_at,
    f.local_day AS local_day,
    date(f.local_day, '-' || ((CAST(strftime('%w', f.local_day) AS INTEGER) + 6) % 7) || ' days') AS local_week,
    strftime('%Y-%m-01', f.local_day) AS local_month,
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
        date(a.starts_at, o.utc_offset_seconds || ' seconds') AS local_day,
        CASE WHEN a.cancelled_at IS NULL AND a.patient_arrived = 1 THEN 1 ELSE 0 END AS attended,
        CASE WHEN a.cancelled_at IS NOT NULL THEN 1 ELSE 0 END AS cancelled,
        CASE WHEN a.cancelled_at IS NOT NULL
                  AND a.cancelled_at > strftime('%Y-%m-%dT%H:%M:%SZ', a.starts_at, '-24 hours')
             THEN 1 ELSE 0 END AS late_cancelled,
        CASE WHEN a.cancelled_at IS NULL AND a.did_not_arrive = 1 THEN 1 ELSE 0 END AS did_not_arrive
    FROM appointments AS a
    JOIN local_offsets AS o
      ON o.org_id = a.org_id AND o.business_id = a.business_id
     AND a.starts_at >= o.starts_utc AND a.starts_at < o.ends_utc
    WHERE a.archived_at IS NULL AND a.deleted_upstream_at IS NULL
) AS f;
