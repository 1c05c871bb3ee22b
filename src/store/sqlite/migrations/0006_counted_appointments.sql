-- The counted-appointment rule, written once: appointments not cancelled, not archived
-- and not deleted upstream. patient_activity reads its appointments through this view,
-- and dashboards may too. The view is inlined into each query, so the partial index
-- appointments_for_activity (whose WHERE is this rule) still serves it; tests/query_plans.rs
-- checks the plans.
CREATE VIEW counted_appointments AS
SELECT org_id, id, patient_id, practitioner_id, appointment_type_id, business_id,
       starts_at, ends_at
FROM appointments
WHERE cancelled_at IS NULL AND archived_at IS NULL AND deleted_upstream_at IS NULL;

-- patient_activity as before (same columns, same rows), on counted_appointments.
DROP VIEW patient_activity;

-- One row per patient that is neither archived nor deleted upstream. "Now" is the
-- moment the row is computed (SQLite's clock, UTC); timestamps compare as UTC text.
CREATE VIEW patient_activity AS
SELECT
    p.org_id AS org_id,
    p.id AS patient_id,
    p.first_name AS first_name,
    p.last_name AS last_name,
    p.email AS email,
    p.phone AS phone,
    (SELECT COUNT(*) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')
           AND a.starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS recent_appointment_count,
    (SELECT COUNT(*) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS upcoming_appointment_count,
    (SELECT COUNT(*) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at IS NOT NULL) AS total_appointment_count,
    (SELECT MIN(a.starts_at) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at IS NOT NULL) AS first_appointment_at,
    (SELECT MAX(a.starts_at) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS last_appointment_at,
    (SELECT MIN(a.starts_at) FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AS next_appointment_at,
    -- Two appointments at the same next start: the one with the lower id.
    (SELECT t.name FROM counted_appointments AS a
     LEFT JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
     ORDER BY a.starts_at, length(a.id), a.id
     LIMIT 1) AS next_appointment_type,
    -- Most appointments by type name; a tie goes to the type booked latest, then to
    -- the name first in alphabetical order.
    (SELECT t.name FROM counted_appointments AS a
     JOIN appointment_types AS t ON t.org_id = a.org_id AND t.id = a.appointment_type_id
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at IS NOT NULL AND t.name IS NOT NULL
     GROUP BY t.name
     ORDER BY COUNT(*) DESC, MAX(a.starts_at) DESC, t.name
     LIMIT 1) AS primary_appointment_type,
    -- From the appointments since 30 days ago: none, only future, both, or only past.
    (SELECT CASE
                WHEN COUNT(*) = 0 THEN 'inactive'
                WHEN MIN(a.starts_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now') THEN 'has_upcoming'
                WHEN MAX(a.starts_at) > strftime('%Y-%m-%dT%H:%M:%SZ', 'now') THEN 'active'
                ELSE 'recent_only'
            END
     FROM counted_appointments AS a
     WHERE a.org_id = p.org_id AND a.patient_id = p.id
           AND a.starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')) AS activity_status
FROM patients AS p
WHERE p.archived_at IS NULL AND p.deleted_upstream_at IS NULL;
