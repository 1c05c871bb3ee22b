//! Reading the `patient_activity` view: how many patients of an org are active.

use super::SqliteStore;
use crate::store::StoreError;

impl SqliteStore {
    /// Patients of `org_id` seen in the last 30 days and booked in the future (the
    /// view's `activity_status = 'active'`), as of the query.
    pub fn active_patients(&self, org_id: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM patient_activity
                 WHERE org_id = ?1 AND activity_status = 'active'",
            )?
            .query_row([org_id], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }
}
