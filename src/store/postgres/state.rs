//! Per-org, per-route sync state on PostgreSQL: cursors and full walks.

use std::collections::BTreeMap;

use postgres::types::ToSql;

use super::{PgStore, Step};
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{
    AccountFacts, OrgFacts, OrgState, ResourceState, SettledSecond, StateColumns, StoreError,
    SyncState,
};
use crate::timestamp::Timestamp;

impl SyncState for PgStore {
    fn org_state(&self, org_id: &str) -> Result<OrgState, StoreError> {
        let step = Step::statement("reading the org's sync state");
        let rows = self.query(step, sql::ORG_STATE.get(Postgres), &[&org_id], |r| {
            let ts = |i: usize| {
                r.get::<_, Option<time::OffsetDateTime>>(i)
                    .map(Timestamp::from_datetime)
            };
            let state = ResourceState::from(StateColumns {
                cursor: ts(1),
                last_full_at: ts(2),
                full_run_id: r.get(3),
                full_started_at: ts(4),
                full_position: ts(5),
                polled_at: ts(6),
                settled_second: ts(7),
                settled_read_at: ts(8),
                last_verify_at: ts(9),
            });
            (r.get::<_, String>(0), state)
        })?;
        let routes: BTreeMap<String, ResourceState> = rows.into_iter().collect();
        Ok(OrgState {
            last_success_at: self.last_success_at(org_id)?,
            routes,
        })
    }

    fn begin_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        let keys: Vec<&str> = resource.cursor_keys().to_vec();
        // Forgetting the ids an earlier walk saw touches as many rows as it saw.
        self.in_tx(org_id, Step::bulk("starting a full walk"), |tx| {
            tx.execute(
                sql::BEGIN_FULL.get(Postgres),
                &[&org_id, &keys, &run_id, &started_at.datetime()],
            )?;
            // The ids an earlier, unfinished walk saw are no evidence for this one.
            tx.execute(sql::FORGET_SEEN.get(Postgres), &[&org_id, &resource.name()])?;
            Ok(())
        })
    }

    fn mark_polled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute_for_org(
            org_id,
            Step::statement("recording a poll"),
            sql::MARK_POLLED.get(Postgres),
            &[&org_id, &cursor_key, &at.datetime()],
        )?;
        Ok(())
    }

    fn record_settled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        settled: SettledSecond,
    ) -> Result<(), StoreError> {
        // Evidence for the same second only grows: keep the latest start of a complete read.
        let settle = sql::RECORD_SETTLED.get(Postgres);
        let (second, read_from) = (settled.second.datetime(), settled.read_from.datetime());
        let params: [&(dyn ToSql + Sync); 4] = [&org_id, &cursor_key, &second, &read_from];
        if self.holds(org_id) {
            // With the pages held open: what a page settled commits with its rows.
            let step = Step::statement("recording a settled second");
            self.in_held(org_id, step, |client, prepared| {
                let statement = prepared.get(client, settle)?;
                client.execute(&statement, &params)
            })?;
        } else {
            let step = Step::statement("recording a settled second");
            self.execute_for_org(org_id, step, settle, &params)?;
        }
        Ok(())
    }

    fn finish_verify(
        &mut self,
        org_id: &str,
        resource: Resource,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        let keys: Vec<&str> = resource.cursor_keys().to_vec();
        self.execute_for_org(
            org_id,
            Step::statement("recording a verify"),
            sql::FINISH_VERIFY.get(Postgres),
            &[&org_id, &keys, &started_at.datetime()],
        )?;
        Ok(())
    }

    fn org_facts(&self, org_id: &str) -> Result<OrgFacts, StoreError> {
        let step = Step::statement("reading the org's facts");
        let facts = self.query_opt(step, sql::ORG_FACTS.get(Postgres), &[&org_id], |r| {
            let skew: Option<i64> = r.get(0);
            let checked = r
                .get::<_, Option<time::OffsetDateTime>>(1)
                .map(Timestamp::from_datetime);
            OrgFacts {
                clock_skew: skew.zip(checked),
                account: r.get::<_, Option<String>>(2).map(|id| AccountFacts {
                    id,
                    name: r.get(3),
                    key_digest: r.get(4),
                }),
            }
        })?;
        Ok(facts.unwrap_or_default())
    }

    fn record_clock_skew(
        &mut self,
        org_id: &str,
        seconds: i64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.execute_for_org(
            org_id,
            Step::statement("recording the clock check"),
            sql::RECORD_CLOCK_SKEW.get(Postgres),
            &[&org_id, &seconds, &at.datetime()],
        )?;
        Ok(())
    }

    fn record_account(&mut self, org_id: &str, account: &AccountFacts) -> Result<(), StoreError> {
        self.execute_for_org(
            org_id,
            Step::statement("recording the Cliniko account"),
            sql::RECORD_ACCOUNT.get(Postgres),
            &[&org_id, &account.id, &account.name, &account.key_digest],
        )?;
        Ok(())
    }
}
