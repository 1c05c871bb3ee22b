//! Many orgs' snapshots for `status` and `check` on SQLite: the shared statements of
//! `store::snapshot`, in one read transaction, and the lock files asked once per org
//! (no statement).

use rusqlite::Row;

use super::SqliteStore;
use crate::file_lock;
use crate::store::snapshot::statements::{self as snapshot, Dialect};
use crate::store::snapshot::{OrgRow, OrgSnapshot, Parts, Snapshots};
use crate::store::{
    AccountFacts, OrgFacts, PrivacyProgress, PrivacyState, Refetch, ResourceState, StateColumns,
    StoreError,
};
use crate::timestamp::Timestamp;

impl Snapshots for SqliteStore {
    fn snapshots(&self, org_ids: &[&str]) -> Result<Vec<OrgSnapshot>, StoreError> {
        // A JSON array of strings, which `json_each` reads (a list of strings always
        // serializes).
        let ids = serde_json::to_string(org_ids).unwrap_or_default();
        // Every statement sees the same commit; pages held open (none while `status`
        // runs) are read as their transaction sees them.
        let own = self.conn.is_autocommit();
        if own {
            self.conn.execute_batch("BEGIN")?;
        }
        let parts = self.read_parts(&ids);
        if own {
            self.conn
                .execute_batch(if parts.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        }
        Ok(parts?.assemble(org_ids, |org| file_lock::is_held(&self.lock_dir, org)))
    }
}

impl SqliteStore {
    fn read_parts(&self, ids: &str) -> Result<Parts, StoreError> {
        let d = Dialect::Sqlite;
        Ok(Parts {
            orgs: self.collect(&snapshot::org_rows(d), ids, org_row)?,
            routes: self.collect(&snapshot::state_rows(d), ids, route_row)?,
            runs: self.collect(&snapshot::recent_runs(d), ids, super::runs::read_run)?,
            counts: self.collect(&snapshot::present_counts(d), ids, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
            })?,
        })
    }

    /// Every row of `sql` (whose one parameter is `ids`), read by `read`.
    fn collect<T>(
        &self,
        sql: &str,
        ids: &str,
        read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([ids], read)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn ts(s: Option<String>) -> Option<Timestamp> {
    s.as_deref().and_then(Timestamp::parse)
}

/// One row of [`snapshot::org_rows`].
fn org_row(r: &Row<'_>) -> rusqlite::Result<OrgRow> {
    let skew: Option<i64> = r.get(3)?;
    let account: Option<String> = r.get(5)?;
    let has_privacy = r.get::<_, Option<String>>(8)?.is_some();
    Ok(OrgRow {
        org_id: r.get(0)?,
        last_success_at: ts(r.get(1)?),
        last_active_patients: r.get::<_, Option<i64>>(2)?.map(|n| n.max(0) as u64),
        facts: OrgFacts {
            clock_skew: skew.zip(ts(r.get(4)?)),
            account: account.map(|id| AccountFacts {
                id,
                name: r.get(6).ok().flatten(),
                key_digest: r.get(7).ok().flatten(),
            }),
        },
        privacy: if has_privacy {
            Some(PrivacyState {
                fingerprint: r.get(9)?,
                applied_at: ts(r.get(10)?),
                pending: PrivacyProgress::from_columns(r.get(11)?, r.get(12)?, r.get(13)?),
                rules: r.get(14)?,
                refetch: Refetch::from_column(r.get(15)?),
                scrub_due: PrivacyState::tables_from_column(r.get(16)?),
            })
        } else {
            None
        },
    })
}

/// One row of [`snapshot::state_rows`].
fn route_row(r: &Row<'_>) -> rusqlite::Result<(String, String, ResourceState)> {
    let state = ResourceState::from(StateColumns {
        cursor: ts(r.get(2)?),
        last_full_at: ts(r.get(3)?),
        full_run_id: r.get(4)?,
        full_started_at: ts(r.get(5)?),
        full_position: ts(r.get(6)?),
        polled_at: ts(r.get(7)?),
        settled_second: ts(r.get(8)?),
        settled_read_at: ts(r.get(9)?),
        last_verify_at: ts(r.get(10)?),
    });
    Ok((r.get(0)?, r.get(1)?, state))
}
