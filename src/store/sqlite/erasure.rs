//! Erasing one org: counting and deleting its rows in every table, leaving none of
//! their bytes in the database file or its WAL; and the scrub of what deletes and
//! rewrites marked.

use rusqlite::TransactionBehavior;

use super::SqliteStore;
use crate::store::scrub::{Mark, TAKE_SCRUB_DUE, marked};
use crate::store::sql::{self, Dialect::Sqlite};
use crate::store::{Erasure, StoreError, org_tables};

impl Erasure for SqliteStore {
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for name in org_tables() {
            let n: i64 = self
                .conn
                .prepare_cached(&sql::count_org_rows(Sqlite, name))?
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
                .prepare_cached(&sql::delete_org_rows(Sqlite, name))?
                .execute([org_id])?;
            out.push((name, n as u64));
        }
        // Deleted cells were zeroed (`secure_delete`); VACUUM also rewrites whatever an
        // older routiq-sync (without it) left in free space, and the checkpoint empties
        // the WAL, which still held copies of the pages as they were.
        mark_scrub(&tx, org_id, &out, true)?;
        tx.commit()?;
        self.scrub_due()?;
        Ok(out)
    }

    fn scrub_due(&mut self) -> Result<(), StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let marks: Vec<Mark> = tx
            .prepare(TAKE_SCRUB_DUE)?
            .query_map([], |r| {
                Ok(Mark {
                    org_id: r.get(0)?,
                    table: r.get(1)?,
                    vacuum: r.get::<_, i64>(2)? != 0,
                })
            })?
            .collect::<Result<_, _>>()?;
        tx.commit()?;
        let (tables, vacuum) = marked(&marks);
        if tables.is_empty() {
            return Ok(());
        }
        let done = self.scrub(vacuum);
        if !matches!(done, Ok(true)) {
            // Marked again, for the next run (the error, if any, is the one to report).
            let tx = self.conn.transaction()?;
            for m in &marks {
                mark_scrub(&tx, &m.org_id, &[(m.table.as_str(), 1)], m.vacuum)?;
            }
            tx.commit()?;
        }
        if done? {
            return Ok(());
        }
        log::warn!(
            "{}: other connections are reading an older snapshot (a dashboard's open \
             transaction?), so the WAL could not be emptied: copies of deleted or replaced \
             rows stay in {}-wal until the next run scrubs it",
            self.path().display(),
            self.path().display()
        );
        Ok(())
    }

    fn stored_orgs(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql::STORED_ORGS.get(Sqlite))?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}

/// Marks the tables of `deleted` in which `org_id` lost rows for the scrub at the end of
/// the run (`vacuum`: by a rebuild of the file), in the transaction `tx` that deleted them.
pub(super) fn mark_scrub(
    tx: &rusqlite::Transaction<'_>,
    org_id: &str,
    deleted: &[(&str, u64)],
    vacuum: bool,
) -> Result<(), StoreError> {
    let mut mark = tx.prepare_cached(sql::MARK_SCRUB.get(Sqlite))?;
    for (table, _) in deleted.iter().filter(|(_, n)| *n > 0) {
        mark.execute(rusqlite::params![org_id, table, i64::from(vacuum)])?;
    }
    Ok(())
}
