//! Writing pages of records (upsert, cursor advance, full-sync reconciliation) and
//! counting them.

use rusqlite::{ToSql, TransactionBehavior, params, params_from_iter};

use super::upsert::upsert_sql;
use super::{SqliteStore, statements};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Sqlite};
use crate::store::{Commit, PageWrite, Records, StoreError, table};
use crate::timestamp::Timestamp;

impl Records for SqliteStore {
    fn write_route_pages(
        &mut self,
        org_id: &str,
        resource: Resource,
        pages: &[(&str, &[Record])],
        full_run: Option<i64>,
        synced_at: Timestamp,
        commit: Commit,
    ) -> Result<PageWrite, StoreError> {
        if !self.holds() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let written = write_pages(&self.conn, org_id, resource, pages, full_run, synced_at);
        match (written, commit) {
            (Err(e), _) => {
                self.rollback_held();
                Err(e)
            }
            (Ok(w), Commit::Now) => self.commit_held().map(|()| w),
            (Ok(w), Commit::Held) => Ok(w),
        }
    }

    fn commit_held(&mut self) -> Result<(), StoreError> {
        if !self.holds() {
            return Ok(());
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.rollback_held();
            return Err(e.into());
        }
        Ok(())
    }

    /// Ends a full walk of `resource` that reached the last page of every route without
    /// error: rows the walk did not see are marked `deleted_upstream_at = now` (never
    /// removed), and the resource's last full sync becomes `started_at` (when the walk
    /// began, since changes made after that were seen by it only if they moved past its
    /// position). Returns how many rows were marked.
    fn finish_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        load_seen(&tx, org_id, resource, run_id)?;
        // The unseen ids come from the primary key's index alone (a covering scan); only
        // their rows are read. Rows marked in `seen_full_run` by this walk were seen too
        // (a walk begun by an older routiq-sync and finished by this one).
        let marked = tx
            .prepare_cached(&statements::mark_unseen(table(resource).name))?
            .execute(params![org_id, run_id, now.to_string()])? as u64;
        tx.execute_batch("DROP TABLE temp.full_seen_ids")?;
        forget_seen(&tx, org_id, resource)?;
        SqliteStore::end_full(&tx, org_id, resource, started_at)?;
        tx.commit()?;
        Ok(marked)
    }

    /// See [`crate::store::Records::write_rows`].
    fn write_rows(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = upsert_rows(&tx, org_id, resource, records, full_run, synced_at)?;
        tx.commit()?;
        Ok(result)
    }

    /// See [`crate::store::Records::mark_deleted`].
    fn mark_deleted(
        &mut self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut marked = 0;
        {
            let mut stmt = tx.prepare_cached(&sql::mark_deleted(Sqlite, table(resource).name))?;
            let now = now.to_string();
            for id in ids {
                marked += stmt.execute(params![org_id, id, now])? as u64;
            }
        }
        tx.commit()?;
        Ok(marked)
    }

    /// See [`crate::store::Records::present_ids`].
    fn present_ids(&self, org_id: &str, resource: Resource) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sql::present_ids(Sqlite, table(resource).name))?;
        let ids = stmt.query_map([org_id], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// See [`crate::store::Records::missing_ids`].
    fn missing_ids(
        &self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&statements::is_present(table(resource).name))?;
        let mut missing = Vec::new();
        for id in ids {
            if !stmt.query_row(params![org_id, id], |r| r.get::<_, bool>(0))? {
                missing.push(id.clone());
            }
        }
        Ok(missing)
    }

    /// Rows of `resource` for `org_id` not marked deleted upstream.
    fn count_present(&self, org_id: &str, resource: Resource) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(&sql::count_present(Sqlite, table(resource).name))?
            .query_row([org_id], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Patients of `org_id` seen in the last 30 days and booked in the future (the
    /// view's `activity_status = 'active'`), as of the query, when the host clock (the
    /// view's `'now'`) agrees with Cliniko's.
    fn active_patients(
        &self,
        org_id: &str,
        host_clock_agrees: bool,
    ) -> Result<Option<u64>, StoreError> {
        if !host_clock_agrees {
            return Ok(None);
        }
        let n: i64 = self
            .conn
            .prepare_cached(sql::ACTIVE_PATIENTS.get(Sqlite))?
            .query_row([org_id], |r| r.get(0))?;
        Ok(Some(n.max(0) as u64))
    }

    fn repair_future_marks(
        &mut self,
        org_id: &str,
        later_than: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        for resource in Resource::ALL {
            n += tx
                .prepare_cached(&sql::repair_future_marks(Sqlite, table(resource).name))?
                .execute(params![org_id, now.to_string(), later_than.to_string()])?
                as u64;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Removes `org_id`'s rows marked deleted upstream before `before`, table by table,
    /// in one transaction (timestamps are fixed-width UTC text, so text order is time order).
    fn purge_deleted(
        &mut self,
        org_id: &str,
        before: Timestamp,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let tx = self
            .writer()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::new();
        for resource in Resource::ALL {
            let name = table(resource).name;
            let n = tx
                .prepare_cached(&sql::purge_deleted(Sqlite, name))?
                .execute(params![org_id, before.to_string()])?;
            out.push((name, n as u64));
        }
        // The cells were zeroed as they were deleted (`secure_delete`); the WAL still
        // holds the pages as they were until it is checkpointed and emptied.
        super::erasure::mark_scrub(&tx, org_id, &out, false)?;
        tx.commit()?;
        Ok(out)
    }
}

/// Upserts `pages` and advances their routes' cursors, inside the caller's transaction.
fn write_pages(
    conn: &rusqlite::Connection,
    org_id: &str,
    resource: Resource,
    pages: &[(&str, &[Record])],
    full_run: Option<i64>,
    synced_at: Timestamp,
) -> Result<PageWrite, StoreError> {
    let mut result = PageWrite::default();
    for (cursor_key, records) in pages {
        let w = upsert_rows(conn, org_id, resource, records, full_run, synced_at)?;
        result.written += w.written;
        result.archived += w.archived;
        if let Some(newest) = records.iter().map(|r| r.updated_at).max() {
            SqliteStore::advance_cursor(conn, org_id, cursor_key, newest)?;
            if full_run.is_some() {
                SqliteStore::advance_full_position(conn, org_id, cursor_key, newest)?;
            }
        }
    }
    Ok(result)
}

/// Upserts `records` inside `tx`. Rows seen by the full walk `full_run` are recorded
/// in `full_seen` (one row for the page): unchanged rows are not written at all.
fn upsert_rows(
    tx: &rusqlite::Connection,
    org_id: &str,
    resource: Resource,
    records: &[Record],
    full_run: Option<i64>,
    synced_at: Timestamp,
) -> Result<PageWrite, StoreError> {
    let spec = table(resource);
    let mut result = PageWrite::default();
    let mut upsert = tx.prepare_cached(&upsert_sql(&spec))?;
    let synced = synced_at.to_string();
    for rec in records {
        let created = rec.created_at.map(|t| t.to_string());
        let updated = rec.updated_at.to_string();
        let archived = rec.archived_at.map(|t| t.to_string());
        // Borrowed, not copied: raw_json is most of a row's bytes.
        let head: [&dyn ToSql; 5] = [&org_id, &rec.id, &created, &updated, &archived];
        let tail: [&dyn ToSql; 3] = [&rec.raw_json, &synced, &rec.filtered];
        let columns = rec.columns.iter().map(|c| c as &dyn ToSql);
        let values = head.into_iter().chain(columns).chain(tail);
        if upsert.execute(params_from_iter(values))? > 0 {
            result.written += 1;
            result.archived += u64::from(rec.hidden);
        }
    }
    if let (Some(run), false) = (full_run, records.is_empty()) {
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        tx.prepare_cached(sql::INSERT_SEEN.get(Sqlite))?
            .execute(params![org_id, resource.name(), run, ids.join(",")])?;
    }
    Ok(result)
}

/// Drops the seen ids of every full walk of `resource` (one ended, or a new one begins).
pub(super) fn forget_seen(
    tx: &rusqlite::Transaction<'_>,
    org_id: &str,
    resource: Resource,
) -> Result<(), StoreError> {
    tx.prepare_cached(sql::FORGET_SEEN.get(Sqlite))?
        .execute(params![org_id, resource.name()])?;
    Ok(())
}

/// Loads the ids the full walk `run_id` of `resource` recorded as seen into the
/// connection's temporary table `full_seen_ids`, so the walk's end compares them with
/// the records in SQL: the client never holds the walk's ids (peak memory stays the
/// same whatever the org's size).
fn load_seen(
    tx: &rusqlite::Transaction<'_>,
    org_id: &str,
    resource: Resource,
    run_id: i64,
) -> Result<(), StoreError> {
    tx.execute_batch(statements::CREATE_SEEN_IDS)?;
    let mut pages = tx.prepare_cached(statements::LOAD_SEEN)?;
    let mut insert = tx.prepare(statements::INSERT_SEEN_ID)?;
    let mut rows = pages.query(params![org_id, resource.name(), run_id])?;
    while let Some(row) = rows.next()? {
        let ids: String = row.get(0)?;
        for id in ids.split(',') {
            insert.execute([id])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RunLog, SyncState};

    fn rec(id: &str, ts: i64) -> Record {
        Record::stub(id, ts, table(Resource::Patients).columns.len())
    }

    #[test]
    fn totals_count_an_index_of_rows_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = SqliteStore::open(&path).unwrap();
        let page = [rec("1", 10), rec("2", 20), rec("3", 30)];
        let w = write(&mut store, &page, None, Commit::Now).unwrap();
        assert_eq!(w.written, 3);
        store
            .connection()
            .execute(
                "UPDATE patients SET deleted_upstream_at = 'x' WHERE id = '2'",
                [],
            )
            .unwrap();
        assert_eq!(store.count_present("org_1", Resource::Patients).unwrap(), 2);
        let plan: String = store
            .connection()
            .query_row(
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM patients
                 WHERE org_id = 'org_1' AND deleted_upstream_at IS NULL",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("patients_not_deleted"), "{plan}");
    }

    #[test]
    fn a_full_walk_over_unchanged_rows_writes_one_narrow_row_per_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let now = Timestamp::from_unix(1_700_000_000).unwrap();
        let rows: Vec<Record> = (1..=6).map(|i| rec(&i.to_string(), 10 * i)).collect();
        store
            .begin_full("org_1", Resource::Patients, 1, now)
            .unwrap();
        for page in rows.chunks(3) {
            write(&mut store, page, Some(1), Commit::Now).unwrap();
        }
        assert_eq!(
            store
                .finish_full("org_1", Resource::Patients, 1, now, now)
                .unwrap(),
            0
        );
        // The second walk: two pages, nothing changed, one row gone upstream.
        store
            .begin_full("org_1", Resource::Patients, 2, now)
            .unwrap();
        let before = store.connection().total_changes();
        for page in [&rows[0..3], &rows[3..5]] {
            let w = write(&mut store, page, Some(2), Commit::Now).unwrap();
            assert_eq!(w.written, 0);
        }
        assert_eq!(
            store.connection().total_changes() - before,
            2 + 2,
            "per page: one full_seen row and the sync_state position, no record row"
        );
        assert_eq!(
            store
                .finish_full("org_1", Resource::Patients, 2, now, now)
                .unwrap(),
            1
        );
        let gone: String = store
            .connection()
            .query_row(
                "SELECT id FROM patients WHERE deleted_upstream_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(gone, "6");
        let left: i64 = store
            .connection()
            .query_row("SELECT COUNT(*) FROM full_seen", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "the walk's end forgets what it saw");
    }

    /// Rows and cursors as another connection (a `status`, another host's job) sees them.
    fn seen_by_others(path: &std::path::Path) -> (i64, Option<String>) {
        let other = rusqlite::Connection::open(path).unwrap();
        let rows = other
            .query_row("SELECT COUNT(*) FROM patients", [], |r| r.get(0))
            .unwrap();
        let cursor = other
            .query_row(
                "SELECT cursor FROM sync_state WHERE resource = 'patients'",
                [],
                |r| r.get(0),
            )
            .ok();
        (rows, cursor)
    }

    /// A new database in a temp dir (kept alive by the returned guard).
    fn fresh_store() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&path).unwrap();
        (dir, path, store)
    }

    /// Writes `page` of org_1's patients, read from their main route.
    fn write(
        store: &mut SqliteStore,
        page: &[Record],
        full_run: Option<i64>,
        commit: Commit,
    ) -> Result<PageWrite, StoreError> {
        let now = Timestamp::from_unix(1_700_000_000).unwrap();
        let pages = [("patients", page)];
        store.write_route_pages("org_1", Resource::Patients, &pages, full_run, now, commit)
    }

    fn hold(store: &mut SqliteStore, page: &[Record]) -> Result<PageWrite, StoreError> {
        write(store, page, None, Commit::Held)
    }

    #[test]
    fn held_pages_commit_together_with_their_cursors() {
        let (_dir, path, mut store) = fresh_store();
        hold(&mut store, &[rec("1", 10), rec("2", 20)]).unwrap();
        hold(&mut store, &[rec("3", 30)]).unwrap();
        assert_eq!(
            seen_by_others(&path),
            (0, None),
            "nothing is visible before the commit"
        );
        store.commit_held().unwrap();
        let (rows, cursor) = seen_by_others(&path);
        assert_eq!(rows, 3);
        assert_eq!(cursor, Some(Timestamp::from_unix(30).unwrap().to_string()));
        store.commit_held().unwrap();
    }

    #[test]
    fn any_other_write_commits_held_pages_first() {
        let (_dir, path, mut store) = fresh_store();
        hold(&mut store, &[rec("1", 10)]).unwrap();
        let now = Timestamp::from_unix(1_700_000_000).unwrap();
        store
            .mark_polled("org_1", "appointment_types", now)
            .unwrap();
        assert_eq!(seen_by_others(&path).0, 1);
        hold(&mut store, &[rec("2", 20)]).unwrap();
        store.begin_run("org_1", "sync", now).unwrap();
        assert_eq!(seen_by_others(&path).0, 2);
    }

    #[test]
    fn a_failed_write_keeps_none_of_the_held_pages_nor_their_cursors() {
        let (_dir, path, mut store) = fresh_store();
        hold(&mut store, &[rec("1", 10)]).unwrap();
        let mut bad = rec("2", 20);
        bad.columns.clear(); // too few values for the statement's parameters
        assert!(hold(&mut store, &[bad]).is_err());
        assert_eq!(seen_by_others(&path), (0, None));
        // The store is usable again, with no transaction left open.
        hold(&mut store, &[rec("3", 30)]).unwrap();
        store.commit_held().unwrap();
        assert_eq!(seen_by_others(&path).0, 1);
        assert!(store.connection().is_autocommit());
    }

    #[test]
    fn held_pages_not_committed_when_the_store_closes_are_dropped_like_a_crash() {
        let (_dir, path, mut store) = fresh_store();
        write(&mut store, &[rec("1", 10)], None, Commit::Now).unwrap();
        hold(&mut store, &[rec("2", 20)]).unwrap();
        drop(store);
        let (rows, cursor) = seen_by_others(&path);
        assert_eq!(rows, 1);
        assert_eq!(cursor, Some(Timestamp::from_unix(10).unwrap().to_string()));
    }
}
