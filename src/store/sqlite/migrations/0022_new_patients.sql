-- Clinic KPIs, part two: the new_patient_facts view (docs/dashboard.md "Clinic KPIs").
-- One row per patient whose first appointment (the earliest neither cancelled, archived
-- nor deleted upstream; the lower id on a tie) is placed by appointment_kpi_facts: that
-- appointment's business, practitioner and local periods, and how many appointments the
-- patient attended from its start for 90 days (2160 hours), itself included.
CREATE VIEW new_patient_facts AS
SELECT
    f.org_id AS org_id,
    f.patient_id AS patient_id,
    f.business_id AS business_id,
    f.practitioner_id AS practitioner_id,
    f.appointment_id AS first_appointment_id,
    f.starts_at AS first_starts_at,
    f.local_day AS local_day,
    f.local_week AS local_week,
    f.local_month AS local_month,
    (SELECT COUNT(*) FROM appointments AS b
     WHERE b.org_id = f.org_id AND b.patient_id = f.patient_id
       AND b.cancelled_at IS NULL AND b.archived_at IS NULL AND b.deleted_upstream_at IS NULL
       AND b.patient_arrived = 1
       AND b.starts_at >= f.starts_at
       AND b.starts_at < strftime('%Y-%m-%dT%H:%M:%SZ', f.starts_at, '+2160 hours')) AS attended_within_90_days
FROM appointment_kpi_facts AS f
WHERE f.cancelled = 0 AND f.patient_id IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM appointments AS e
    WHERE e.org_id = f.org_id AND e.patient_id = f.patient_id
      AND e.cancelled_at IS NULL AND e.archived_at IS NULL AND e.deleted_upstream_at IS NULL
      AND (e.starts_at < f.starts_at
           OR (e.starts_at = f.starts_at
               AND (length(e.id) < length(f.appointment_id)
                    OR (length(e.id) = length(f.appointment_id) AND e.id < f.appointment_id)))));
