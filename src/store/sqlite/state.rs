//! Per-org, per-resource sync state: the cursor and when the last full sync finished.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, statements};
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Sqlite};
use crate::store::{
    AccountFacts, OrgFacts, OrgState, ResourceState, SettledSecond, StateColumns, StoreError,
    SyncState,
};
use crate::timestamp::Timestamp;

impl SyncState for SqliteStore {
    /// The stored state of every resource of `org_id` (absent resources have no state).
    fn org_state(&self, org_id: &str) -> Result<OrgState, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql::ORG_STATE.get(Sqlite))?;
        let mut routes = BTreeMap::new();
        let ts = |s: Option<String>| s.as_deref().and_then(Timestamp::parse);
        let rows = stmt.query_map([org_id], |r| {
            let state = ResourceState::from(StateColumns {
                cursor: ts(r.get(1)?),
                last_full_at: ts(r.get(2)?),
                full_run_id: r.get(3)?,
                full_started_at: ts(r.get(4)?),
                full_position: ts(r.get(5)?),
                polled_at: ts(r.get(6)?),
                settled_second: ts(r.get(7)?),
                settled_read_at: ts(r.get(8)?),
                last_verify_at: ts(r.get(9)?),
            });
            Ok((r.get::<_, String>(0)?, state))
        })?;
        for row in rows {
            let (name, state) = row?;
            routes.insert(name, state);
        }
        Ok(OrgState {
            last_success_at: self.last_success_at(org_id)?,
            routes,
        })
    }

    /// Records that run `run_id` starts a fresh full walk of `resource` (of every one of
    /// its routes).
    fn begin_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for key in resource.cursor_keys() {
            tx.prepare_cached(sql::BEGIN_FULL.get(Sqlite))?
                .execute(params![org_id, key, run_id, started_at.to_string()])?;
        }
        super::records::forget_seen(&tx, org_id, resource)?;
        tx.commit()?;
        Ok(())
    }

    /// See [`crate::store::SyncState::mark_polled`].
    fn mark_polled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.set_routes_state(sql::MARK_POLLED.get(Sqlite), org_id, &[cursor_key], at)
    }

    /// See [`crate::store::SyncState::record_settled`].
    fn record_settled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        settled: SettledSecond,
    ) -> Result<(), StoreError> {
        // Evidence for the same second only grows: keep the latest start of a complete read.
        self.conn
            .prepare_cached(sql::RECORD_SETTLED.get(Sqlite))?
            .execute(params![
                org_id,
                cursor_key,
                settled.second.to_string(),
                settled.read_from.to_string()
            ])?;
        Ok(())
    }

    /// See [`crate::store::SyncState::finish_verify`].
    fn finish_verify(
        &mut self,
        org_id: &str,
        resource: Resource,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.set_routes_state(
            sql::FINISH_VERIFY.get(Sqlite),
            org_id,
            resource.cursor_keys(),
            started_at,
        )
    }

    fn org_facts(&self, org_id: &str) -> Result<OrgFacts, StoreError> {
        let row = self
            .conn
            .prepare_cached(sql::ORG_FACTS.get(Sqlite))?
            .query_row([org_id], |r| {
                let checked: Option<String> = r.get(1)?;
                let skew: Option<i64> = r.get(0)?;
                let account: Option<String> = r.get(2)?;
                Ok(OrgFacts {
                    clock_skew: skew.zip(checked.as_deref().and_then(Timestamp::parse)),
                    account: account.map(|id| AccountFacts {
                        id,
                        name: r.get(3).ok().flatten(),
                        key_digest: r.get(4).ok().flatten(),
                    }),
                })
            })
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    fn record_clock_skew(
        &mut self,
        org_id: &str,
        seconds: i64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.writer()?
            .prepare_cached(sql::RECORD_CLOCK_SKEW.get(Sqlite))?
            .execute(params![org_id, seconds, at.to_string()])?;
        Ok(())
    }

    fn record_account(&mut self, org_id: &str, account: &AccountFacts) -> Result<(), StoreError> {
        self.writer()?
            .prepare_cached(sql::RECORD_ACCOUNT.get(Sqlite))?
            .execute(params![
                org_id,
                account.id,
                account.name,
                account.key_digest
            ])?;
        Ok(())
    }
}

impl SqliteStore {
    /// When `org_id`'s last successful run finished.
    fn last_success_at(&self, org_id: &str) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<String> = self
            .conn
            .prepare_cached(sql::LAST_SUCCESS.get(Sqlite))?
            .query_row([org_id], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(at.as_deref().and_then(Timestamp::parse))
    }

    /// Records that the full walk of `resource` (every route of it), started at
    /// `started_at`, reached its end.
    pub(super) fn end_full(
        tx: &rusqlite::Transaction<'_>,
        org_id: &str,
        resource: Resource,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        for key in resource.cursor_keys() {
            set_route_state(tx, sql::END_FULL.get(Sqlite), org_id, key, started_at)?;
        }
        Ok(())
    }

    /// Moves the position of the full walk in progress on the route `cursor_key` forward,
    /// inside the page's transaction.
    pub(super) fn advance_full_position(
        tx: &rusqlite::Connection,
        org_id: &str,
        cursor_key: &str,
        to: Timestamp,
    ) -> Result<(), StoreError> {
        set_route_state(
            tx,
            statements::ADVANCE_FULL_POSITION,
            org_id,
            cursor_key,
            to,
        )
    }

    /// Moves the cursor of the route `cursor_key` forward to `to` (never backwards),
    /// inside the page's transaction.
    pub(super) fn advance_cursor(
        tx: &rusqlite::Connection,
        org_id: &str,
        cursor_key: &str,
        to: Timestamp,
    ) -> Result<(), StoreError> {
        // Timestamps are stored in one fixed-width format, so text order is time order.
        set_route_state(tx, statements::ADVANCE_CURSOR, org_id, cursor_key, to)
    }
}

impl SqliteStore {
    /// Runs one `sync_state` statement for each of `keys`, in one transaction.
    fn set_routes_state(
        &mut self,
        sql: &str,
        org_id: &str,
        keys: &[&str],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for key in keys {
            set_route_state(&tx, sql, org_id, key, at)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Runs one `sync_state` statement taking `(org_id, cursor key, timestamp)` as ?1..?3.
fn set_route_state(
    tx: &rusqlite::Connection,
    sql: &str,
    org_id: &str,
    cursor_key: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    tx.prepare_cached(sql)?
        .execute(params![org_id, cursor_key, at.to_string()])?;
    Ok(())
}
