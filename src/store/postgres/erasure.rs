//! Erasing one org on PostgreSQL: counting and deleting its rows in every table, then
//! rewriting the tables so that the deleted rows' bytes are gone from their files.

use super::{PgStore, Step, statements};
use crate::store::{Erasure, StoreError, org_tables};

impl Erasure for PgStore {
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for name in org_tables() {
            let sql = statements::count_org_rows(name);
            let step = Step::bulk("counting the org's rows");
            let n: i64 = self.query_one(step, &sql, &[&org_id], |r| r.get(0))?;
            out.push((name, n.max(0) as u64));
        }
        Ok(out)
    }

    /// Deletes, then rewrites every table that lost rows (`VACUUM FULL`), so that none of
    /// the org's bytes stay in the tables' files.
    fn forget_org(&mut self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let out = self.in_tx(org_id, Step::bulk("deleting the org's rows"), |tx| {
            let mut out = Vec::new();
            for name in org_tables() {
                let n = tx.execute(&statements::delete_org_rows(name), &[&org_id])?;
                out.push((name, n));
            }
            Ok(out)
        })?;
        self.vacuum_where_deleted(&out)?;
        Ok(out)
    }

    fn stored_orgs(&self) -> Result<Vec<String>, StoreError> {
        let step = Step::statement("listing the stored orgs");
        self.query(step, statements::STORED_ORGS, &[], |r| r.get(0))
    }
}
