-- Clinic KPIs, part three: the invoice_kpi_facts view (docs/dashboard.md "Clinic KPIs").
-- One row per invoice neither archived nor deleted upstream nor cancelled (Cliniko's
-- status 30, "Closed"), on the local day, ISO week (its Monday) and month of its issue
-- date (a date of the business's calendar already, so no offset applies), with its
-- total in whole cents (exact: the amount is text as Cliniko sent it).
CREATE OR REPLACE VIEW invoice_kpi_facts AS
SELECT
    i.org_id AS org_id,
    i.id AS invoice_id,
    i.business_id AS business_id,
    i.practitioner_id AS practitioner_id,
    i.patient_id AS patient_id,
    CAST(i.issue_date AS date) AS local_day,
    date_trunc('week', CAST(i.issue_date AS date))::date AS local_week,
    date_trunc('month', CAST(i.issue_date AS date))::date AS local_month,
    round(CAST(i.total_amount AS numeric) * 100)::bigint AS total_cents
FROM invoices AS i
WHERE i.archived_at IS NULL AND i.deleted_upstream_at IS NULL
  AND COALESCE(i.status, 0) <> 30 AND i.issue_date IS NOT NULL;
