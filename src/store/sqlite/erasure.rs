//! Erasing one org: counting and deleting its rows in every table, leaving none of
//! their bytes in the database file or its WAL.

use rusqlite::TransactionBehavior;

use super::{SqliteStore, statements};
use crate::store::{Erasure, StoreError, org_tables};

impl Erasure for SqliteStore {
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for name in org_tables() {
            let n: i64 = self
                .conn
                .prepare_cached(&statements::count_org_rows(name))?
                .query_row([org_id], |r| r.get(0))?;
            out.push((name, n.max(0) as u64));
        }
        Ok(out)
    }

    fn forget_org(&mut self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::new();
        for name in org_tables() {
            let n = tx
                .prepare_cached(&statements::delete_org_rows(name))?
                .execute([org_id])?;
            out.push((name, n as u64));
        }
        tx.commit()?;
        // Deleted cells were zeroed (`secure_delete`); VACUUM also rewrites whatever an
        // older routiq-sync (without it) left in free space, and the checkpoint empties
        // the WAL, which still held copies of the pages as they were.
        self.scrub(true)?;
        Ok(out)
    }

    fn stored_orgs(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(statements::STORED_ORGS)?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}
