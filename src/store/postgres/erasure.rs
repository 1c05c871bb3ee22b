//! Erasing one org on PostgreSQL: counting and deleting its rows in every table.

use super::PgStore;
use crate::store::{Erasure, StoreError, org_tables};

impl Erasure for PgStore {
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for name in org_tables() {
            let sql = format!("SELECT COUNT(*) FROM {name} WHERE org_id = $1");
            let n: i64 = self.query_one(&sql, &[&org_id], |r| r.get(0))?;
            out.push((name, n.max(0) as u64));
        }
        Ok(out)
    }

    fn forget_org(&mut self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.in_tx(org_id, |tx| {
            let mut out = Vec::new();
            for name in org_tables() {
                let n = tx.execute(&format!("DELETE FROM {name} WHERE org_id = $1"), &[&org_id])?;
                out.push((name, n));
            }
            Ok(out)
        })
    }

    fn stored_orgs(&self) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT org_id FROM runs UNION SELECT org_id FROM sync_state ORDER BY 1",
            &[],
            |r| r.get(0),
        )
    }
}
