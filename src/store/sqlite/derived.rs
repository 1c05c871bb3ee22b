//! Re-deriving the typed columns of stored rows, on SQLite: one UPDATE per row that
//! changes, in one transaction per batch.

use std::collections::BTreeMap;

use rusqlite::{ToSql, TransactionBehavior, params, params_from_iter};

use super::SqliteStore;
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Sqlite};
use crate::store::{
    DeriveProgress, DerivedColumns, DerivedRow, DerivedState, StoreError, add_state,
};

impl DerivedColumns for SqliteStore {
    fn derived_state(&self, org_id: &str) -> Result<BTreeMap<Resource, DerivedState>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql::DERIVED_STATE.get(Sqlite))?;
        let rows = stmt.query_map([org_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        let mut states = BTreeMap::new();
        for row in rows {
            add_state(&mut states, row?);
        }
        Ok(states)
    }

    fn rederive_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        rows: &[DerivedRow],
        progress: &DeriveProgress,
    ) -> Result<u64, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        {
            let mut update = tx.prepare_cached(&sql::rederive(Sqlite, resource))?;
            for (id, columns) in rows {
                let head: [&dyn ToSql; 2] = [&org_id, id];
                let values = columns.iter().map(|c| c as &dyn ToSql);
                changed += update.execute(params_from_iter(head.into_iter().chain(values)))? as u64;
            }
        }
        tx.prepare_cached(sql::SAVE_DERIVE_PROGRESS.get(Sqlite))?
            .execute(params![
                org_id,
                resource.name(),
                progress.fingerprint,
                progress.after_id
            ])?;
        tx.commit()?;
        Ok(changed)
    }

    fn finish_rederive(
        &mut self,
        org_id: &str,
        resource: Resource,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.writer()?
            .prepare_cached(sql::FINISH_DERIVE.get(Sqlite))?
            .execute(params![org_id, resource.name(), fingerprint])?;
        Ok(())
    }
}
