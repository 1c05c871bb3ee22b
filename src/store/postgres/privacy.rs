//! The privacy policy's state and the rewrite of stored rows under a new policy, on
//! PostgreSQL.

use postgres::types::ToSql;

use super::{PgStore, Step};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{
    AppliedPolicy, PrivacyProgress, PrivacyState, PrivacyStore, Refetch, StoreError, table,
};
use crate::timestamp::Timestamp;

impl PrivacyStore for PgStore {
    fn privacy_state(&self, org_id: &str) -> Result<PrivacyState, StoreError> {
        let step = Step::statement("reading the privacy state");
        let state = self.query_opt(step, sql::PRIVACY_STATE.get(Postgres), &[&org_id], |r| {
            let time = |i| {
                r.get::<_, Option<time::OffsetDateTime>>(i)
                    .map(Timestamp::from_datetime)
            };
            PrivacyState {
                fingerprint: r.get(0),
                applied_at: time(1),
                pending: PrivacyProgress::from_columns(r.get(2), r.get(3), r.get(4)),
                rules: r.get(5),
                refetch: Refetch::from_column(r.get(6)),
                scrub_due: PrivacyState::tables_from_column(r.get(7)),
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
            &sql::stored_batch(Postgres, table(resource).name),
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
            let update = tx.prepare(&sql::rewrite_row(Postgres, &spec, &types))?;
            for rec in records {
                let raw = super::staging::jsonb_safe(&rec.raw_json);
                let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org_id, &rec.id, &raw];
                params.extend(rec.columns.iter().map(|c| c as &(dyn ToSql + Sync)));
                tx.execute(&update, &params)?;
            }
            super::erasure::mark_scrub(tx, org_id, &[(spec.name, records.len() as u64)])?;
            tx.execute(
                sql::SAVE_PRIVACY_PROGRESS.get(Postgres),
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
        policy: AppliedPolicy<'_>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let refetch = policy.refetch.map(Refetch::names);
        self.in_tx(
            org_id,
            Step::statement("recording the privacy policy applied"),
            |tx| {
                tx.execute(
                    sql::FINISH_PRIVACY.get(Postgres),
                    &[
                        &org_id,
                        &policy.fingerprint,
                        &at.datetime(),
                        &policy.rules,
                        &refetch,
                    ],
                )?;
                // A full walk ended with no time: none done, none under way.
                let routes: Vec<&str> = policy.refetch.iter().flat_map(|r| r.routes()).collect();
                let none: Option<time::OffsetDateTime> = None;
                tx.execute(sql::END_FULL.get(Postgres), &[&org_id, &routes, &none])?;
                Ok(())
            },
        )
    }
}
