//! Rewriting an org's `local_offsets` rows on SQLite.

use rusqlite::{TransactionBehavior, params};

use super::{SqliteStore, statements};
use crate::store::StoreError;
use crate::store::local_offsets::{LocalOffsets, offset_spans};
use crate::store::sql::{self, Dialect::Sqlite};

impl LocalOffsets for SqliteStore {
    fn refresh_local_offsets(&mut self, org_id: &str) -> Result<Vec<String>, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let businesses = {
            let mut stmt = tx.prepare_cached(sql::BUSINESS_ZONES.get(Sqlite))?;
            let rows = stmt.query_map([org_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<Vec<(String, Option<String>)>, _>>()?
        };
        let (spans, unknown) = offset_spans(&businesses);
        tx.prepare_cached(&sql::delete_org_rows(Sqlite, "local_offsets"))?
            .execute([org_id])?;
        {
            let mut insert = tx.prepare_cached(statements::INSERT_LOCAL_OFFSET)?;
            for s in &spans {
                insert.execute(params![
                    org_id,
                    s.business_id,
                    s.starts_utc.to_string(),
                    s.ends_utc.to_string(),
                    s.utc_offset_seconds
                ])?;
            }
        }
        tx.commit()?;
        Ok(unknown)
    }
}
