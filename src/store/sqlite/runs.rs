//! The history of sync runs: one row per org per run, with counts, API calls and errors.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::sql::{self, Dialect::Sqlite};
use crate::store::{ABANDONED_RUN, RunLog, RunOutcome, RunRecord, RunStatus, StoreError};
use crate::timestamp::Timestamp;

impl RunLog for SqliteStore {
    /// Records the start of a run and returns its id.
    fn begin_run(
        &mut self,
        org_id: &str,
        mode: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError> {
        Ok(self
            .writer()?
            .prepare_cached(sql::BEGIN_RUN.get(Sqlite))?
            .query_row(params![org_id, mode, started_at.to_string()], |r| r.get(0))?)
    }

    /// Records how run `run_id` ended.
    fn finish_run(&mut self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError> {
        let resources =
            serde_json::to_string(&outcome.resources).unwrap_or_else(|_| "{}".to_string());
        self.writer()?
            .prepare_cached(sql::FINISH_RUN.get(Sqlite))?
            .execute(params![
                run_id,
                outcome.status.name(),
                outcome.finished_at.to_string(),
                outcome.duration_ms as i64,
                outcome.api_calls as i64,
                outcome.error,
                resources,
                outcome.active_patients.map(|n| n as i64),
                crate::store::stopped_by(outcome),
            ])?;
        Ok(())
    }

    /// Marks runs of `org_id` still shown as running as interrupted. Call only while
    /// holding the org's lock: then no other process can be running them.
    fn close_abandoned_runs(&mut self, org_id: &str) -> Result<usize, StoreError> {
        Ok(self
            .writer()?
            .prepare_cached(sql::CLOSE_ABANDONED_RUNS.get(Sqlite))?
            .execute(params![org_id, ABANDONED_RUN])?)
    }

    /// The active-patient count of `org_id`'s newest successful run that counted them.
    fn last_active_patients(&self, org_id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::LAST_ACTIVE_PATIENTS.get(Sqlite))?
            .query_row([org_id], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|n| n.max(0) as u64))
    }

    /// The newest `limit` runs of `org_id`, newest first.
    fn recent_runs(&self, org_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql::RECENT_RUNS.get(Sqlite))?;
        let rows = stmt.query_map(params![org_id, limit], read_run)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes old finished runs of `org_id`, keeping its newest run and newest ok run.
    fn prune_runs(&mut self, org_id: &str, before: Timestamp) -> Result<u64, StoreError> {
        let n = self
            .writer()?
            .prepare_cached(sql::PRUNE_RUNS.get(Sqlite))?
            .execute(params![org_id, before.to_string()])?;
        Ok(n as u64)
    }
}

pub(super) fn read_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let ts = |s: Option<String>| s.as_deref().and_then(Timestamp::parse);
    let resources: String = r.get(9)?;
    let error: Option<String> = r.get(8)?;
    Ok(RunRecord {
        id: r.get(0)?,
        org_id: r.get(1)?,
        mode: r.get(2)?,
        status: RunStatus::parse(&r.get::<_, String>(3)?),
        // A started_at we wrote ourselves always parses; the epoch marks a damaged row.
        started_at: ts(r.get(4)?).unwrap_or(Timestamp::EPOCH),
        finished_at: ts(r.get(5)?),
        duration_ms: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0) as u64),
        api_calls: r.get::<_, i64>(7)?.max(0) as u64,
        resources: serde_json::from_str(&resources).unwrap_or_default(),
        stopped_by_deadline: crate::store::by_deadline(
            r.get::<_, Option<String>>(10)?.as_deref(),
            &error,
        ),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunStatus;

    fn run(store: &mut SqliteStore, org: &str, started: i64, status: RunStatus) -> i64 {
        let at = Timestamp::from_unix(started).unwrap();
        let id = store.begin_run(org, "full", at).unwrap();
        let outcome = RunOutcome {
            status,
            finished_at: at,
            duration_ms: 1,
            api_calls: 1,
            error: None,
            resources: Default::default(),
            active_patients: None,
            stopped_by_deadline: false,
        };
        store.finish_run(id, &outcome).unwrap();
        id
    }

    #[test]
    fn a_deadline_stop_is_a_state_and_an_abandoned_run_says_what_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let at = Timestamp::from_unix(1_000).unwrap();
        let stopped = |deadline: bool| RunOutcome {
            status: RunStatus::Interrupted,
            finished_at: at,
            duration_ms: 1,
            api_calls: 1,
            // Any text: the state is what counts.
            error: Some("stopped".into()),
            resources: Default::default(),
            active_patients: None,
            stopped_by_deadline: deadline,
        };
        for deadline in [true, false] {
            let id = store.begin_run("a", "full", at).unwrap();
            store.finish_run(id, &stopped(deadline)).unwrap();
            let run = &store.recent_runs("a", 1).unwrap()[0];
            assert_eq!(run.stopped_by_deadline, deadline);
        }
        // A row from before the column: read from its text, as before.
        let id = store.begin_run("a", "full", at).unwrap();
        store
            .connection()
            .execute(
                "UPDATE runs SET status = 'interrupted', error = ?2 WHERE id = ?1",
                params![id, crate::store::DEADLINE_TEXT],
            )
            .unwrap();
        assert!(store.recent_runs("a", 1).unwrap()[0].stopped_by_deadline);
        // A run still marked running when the next takes the lock.
        store.begin_run("b", "full", at).unwrap();
        assert_eq!(store.close_abandoned_runs("b").unwrap(), 1);
        let run = &store.recent_runs("b", 1).unwrap()[0];
        assert_eq!(run.status, RunStatus::Interrupted);
        assert_eq!(
            run.error.as_deref(),
            Some(
                "the run's end was never recorded: its process was killed or crashed, or the \
                 database could not be written when it ended (an outage, a full disk); the \
                 next run continues from the last committed page"
            )
        );
    }

    #[test]
    fn pruning_keeps_the_newest_run_and_newest_success_and_running_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let cutoff = Timestamp::from_unix(1_000).unwrap();
        // Only failures: just the newest stays.
        for t in [1, 2, 3] {
            run(&mut store, "a", t, RunStatus::Failed);
        }
        assert_eq!(store.prune_runs("a", cutoff).unwrap(), 2);
        assert_eq!(store.recent_runs("a", 10).unwrap().len(), 1);
        // ok, ok, failed, running: the running one (the newest run) and the second ok
        // (the newest success) stay; the first ok and the failure go.
        let first_ok = run(&mut store, "b", 1, RunStatus::Ok);
        let last_ok = run(&mut store, "b", 2, RunStatus::Ok);
        run(&mut store, "b", 3, RunStatus::Failed);
        let running = store
            .begin_run("b", "full", Timestamp::from_unix(4).unwrap())
            .unwrap();
        assert_eq!(store.prune_runs("b", cutoff).unwrap(), 2);
        let left: Vec<i64> = store
            .recent_runs("b", 10)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(left, [running, last_ok]);
        assert!(!left.contains(&first_ok));
        // Other orgs are never touched.
        assert_eq!(store.recent_runs("a", 10).unwrap().len(), 1);
    }
}
