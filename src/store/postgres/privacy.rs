//! The privacy policy's state and the rewrite of stored rows under a new policy, on
//! PostgreSQL.

use postgres::types::ToSql;

use super::{PgStore, Step, statements};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::{PrivacyProgress, PrivacyState, PrivacyStore, StoreError, table};
use crate::timestamp::Timestamp;

impl PrivacyStore for PgStore {
    fn privacy_state(&self, org_id: &str) -> Result<PrivacyState, StoreError> {
        let step = Step::statement("reading the privacy state");
        let state = self.query_opt(step, statements::PRIVACY_STATE, &[&org_id], |r| {
            let pending = PrivacyProgress::from_columns(r.get(2), r.get(3), r.get(4));
            PrivacyState {
                fingerprint: r.get(0),
                applied_at: r
                    .get::<_, Option<time::OffsetDateTime>>(1)
                    .map(Timestamp::from_datetime),
                pending,
            }
        })?;
        Ok(state.unwrap_or_default())
    }

    fn stored_batch(
        &self,
        org_id: &str,
        resource: Resource,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.query(
            Step::statement("reading a batch of stored rows for the privacy policy"),
            &statements::stored_batch(table(resource).name),
            &[&org_id, &after, &i64::from(limit)],
            |r| (r.get(0), r.get(1)),
        )
    }

    fn rewrite_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        progress: &PrivacyProgress,
    ) -> Result<(), StoreError> {
        let spec = table(resource);
        let step = Step::statement("rewriting a batch of rows under the privacy policy");
        self.in_tx(org_id, step, |tx| {
            let types = super::staging::column_types(tx, spec.name)?;
            let update = tx.prepare(&statements::rewrite_row(&spec, &types))?;
            for rec in records {
                let raw = super::staging::jsonb_safe(&rec.raw_json);
                let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org_id, &rec.id, &raw];
                params.extend(rec.columns.iter().map(|c| c as &(dyn ToSql + Sync)));
                tx.execute(&update, &params)?;
            }
            tx.execute(
                statements::SAVE_PRIVACY_PROGRESS,
                &[
                    &org_id,
                    &progress.fingerprint,
                    &progress.resource.name(),
                    &progress.after_id,
                ],
            )?;
            Ok(())
        })
    }

    fn finish_privacy(
        &mut self,
        org_id: &str,
        fingerprint: Option<&str>,
        rewritten: &[Resource],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.in_tx(
            org_id,
            Step::statement("recording the privacy policy applied"),
            |tx| {
                tx.execute(
                    statements::FINISH_PRIVACY,
                    &[&org_id, &fingerprint, &at.datetime()],
                )
            },
        )?;
        let tables: Vec<&str> = rewritten.iter().map(|r| table(*r).name).collect();
        self.vacuum_full(&tables)
    }
}
