//! The privacy policy's state and the rewrite of stored rows under a new policy.

use rusqlite::{OptionalExtension, ToSql, TransactionBehavior, params, params_from_iter};

use super::SqliteStore;
use crate::record::Record;
use crate::resource::Resource;
use crate::store::sql::{self, ColumnTypes, Dialect::Sqlite};
use crate::store::{
    AppliedPolicy, PrivacyProgress, PrivacyState, PrivacyStore, Refetch, StoreError, table,
};
use crate::timestamp::Timestamp;

impl PrivacyStore for SqliteStore {
    fn privacy_state(&self, org_id: &str) -> Result<PrivacyState, StoreError> {
        let state = self
            .conn
            .prepare_cached(sql::PRIVACY_STATE.get(Sqlite))?
            .query_row([org_id], |r| {
                Ok(PrivacyState {
                    fingerprint: r.get(0)?,
                    applied_at: r
                        .get::<_, Option<String>>(1)?
                        .as_deref()
                        .and_then(Timestamp::parse),
                    pending: PrivacyProgress::from_columns(r.get(2)?, r.get(3)?, r.get(4)?),
                    rules: r.get(5)?,
                    refetch: Refetch::from_column(r.get(6)?),
                    scrub_due: PrivacyState::tables_from_column(r.get(7)?),
                })
            })
            .optional()?;
        Ok(state.unwrap_or_default())
    }

    fn stored_batch(
        &self,
        org_id: &str,
        resource: Resource,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sql::stored_batch(Sqlite, table(resource).name))?;
        let rows = stmt.query_map(params![org_id, after, limit], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rewrite_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        progress: &PrivacyProgress,
    ) -> Result<(), StoreError> {
        let spec = table(resource);
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update =
                tx.prepare_cached(&sql::rewrite_row(Sqlite, &spec, &ColumnTypes::new()))?;
            for rec in records {
                let head: [&dyn ToSql; 3] = [&org_id, &rec.id, &rec.raw_json];
                let columns = rec.columns.iter().map(|c| c as &dyn ToSql);
                update.execute(params_from_iter(head.into_iter().chain(columns)))?;
            }
        }
        // The old values were zeroed as they were replaced (`secure_delete`); VACUUM also
        // clears what a routiq-sync without it left in free pages.
        let replaced = [(spec.name, records.len() as u64)];
        super::erasure::mark_scrub(&tx, org_id, &replaced, true)?;
        tx.prepare_cached(sql::SAVE_PRIVACY_PROGRESS.get(Sqlite))?
            .execute(params![
                org_id,
                progress.fingerprint,
                progress.resource.name(),
                progress.after_id
            ])?;
        tx.commit()?;
        Ok(())
    }

    fn finish_privacy(
        &mut self,
        org_id: &str,
        policy: AppliedPolicy<'_>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(sql::FINISH_PRIVACY.get(Sqlite))?
            .execute(params![
                org_id,
                policy.fingerprint,
                at.to_string(),
                policy.rules,
                policy.refetch.map(Refetch::names),
            ])?;
        // A full walk ended with no time: none done, none under way.
        let mut forget = tx.prepare_cached(sql::END_FULL.get(Sqlite))?;
        for route in policy.refetch.iter().flat_map(|r| r.routes()) {
            forget.execute(params![org_id, route, None::<String>])?;
        }
        drop(forget);
        tx.commit()?;
        Ok(())
    }
}
