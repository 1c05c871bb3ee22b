//! Re-deriving the typed columns of stored rows, on PostgreSQL: one UPDATE per batch
//! (the rows as arrays), writing only the rows whose columns change.

use std::collections::BTreeMap;

use postgres::types::ToSql;

use super::{PgStore, Step};
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{
    DeriveProgress, DerivedColumns, DerivedRow, DerivedState, StoreError, add_state,
};

impl DerivedColumns for PgStore {
    fn derived_state(&self, org_id: &str) -> Result<BTreeMap<Resource, DerivedState>, StoreError> {
        let rows = self.query(
            Step::statement("reading which rules the typed columns were derived by"),
            sql::DERIVED_STATE.get(Postgres),
            &[&org_id],
            |r| (r.get(0), r.get(1), r.get(2), r.get(3)),
        )?;
        let mut states = BTreeMap::new();
        for row in rows {
            add_state(&mut states, row);
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
        let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        let columns: Vec<Vec<Option<&str>>> = (0..resource.spec().columns.len())
            .map(|i| rows.iter().map(|(_, c)| c[i].as_deref()).collect())
            .collect();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org_id, &ids];
        params.extend(columns.iter().map(|c| c as &(dyn ToSql + Sync)));
        let rederive = sql::rederive(Postgres, resource);
        let step = Step::statement("re-deriving a batch of rows' typed columns");
        self.in_tx(org_id, step, |tx| {
            let changed = tx.execute(&rederive, &params)?;
            tx.execute(
                sql::SAVE_DERIVE_PROGRESS.get(Postgres),
                &[
                    &org_id,
                    &resource.name(),
                    &progress.fingerprint,
                    &progress.after_id,
                ],
            )?;
            Ok(changed)
        })
    }

    fn finish_rederive(
        &mut self,
        org_id: &str,
        resource: Resource,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.in_tx(
            org_id,
            Step::statement("recording which rules the typed columns are derived by"),
            |tx| {
                tx.execute(
                    sql::FINISH_DERIVE.get(Postgres),
                    &[&org_id, &resource.name(), &fingerprint],
                )?;
                Ok(())
            },
        )
    }
}
