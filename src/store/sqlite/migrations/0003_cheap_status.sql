-- Cheap `status`: partial indexes of the rows not marked deleted upstream, so per-org
-- totals count index entries instead of reading every row; and each run's count of
-- active patients, so `status` reads one number instead of evaluating the view.
CREATE INDEX patients_not_deleted ON patients (org_id) WHERE deleted_upstream_at IS NULL;
CREATE INDEX appointments_not_deleted ON appointments (org_id) WHERE deleted_upstream_at IS NULL;
ALTER TABLE runs ADD COLUMN active_patients INTEGER;
