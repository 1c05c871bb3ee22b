//! The history of sync runs: one row per org per run, with counts, API calls and errors.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::{RunOutcome, RunRecord, RunStatus, StoreError};
use crate::timestamp::Timestamp;

const RUN_COLUMNS: &str =
    "id, org_id, mode, status, started_at, finished_at, duration_ms, api_calls, error, resources";

impl SqliteStore {
    /// Records the start of a run and returns its id.
    pub fn begin_run(
        &mut self,
        org_id: &str,
        mode: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO runs (org_id, mode, status, started_at) VALUES (?1, ?2, 'running', ?3)",
            )?
            .execute(params![org_id, mode, started_at.to_string()])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how run `run_id` ended.
    pub fn finish_run(&mut self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError> {
        let resources =
            serde_json::to_string(&outcome.resources).unwrap_or_else(|_| "{}".to_string());
        self.conn
            .prepare_cached(
                "UPDATE runs SET status = ?2, finished_at = ?3, duration_ms = ?4, api_calls = ?5,
                 error = ?6, resources = ?7, active_patients = ?8 WHERE id = ?1",
            )?
            .execute(params![
                run_id,
                outcome.status.name(),
                outcome.finished_at.to_string(),
                outcome.duration_ms as i64,
                outcome.api_calls as i64,
                outcome.error,
                resources,
                outcome.active_patients.map(|n| n as i64),
            ])?;
        Ok(())
    }

    /// Marks runs of `org_id` still shown as running as interrupted. Call only while
    /// holding the org's lock: then no other process can be running them.
    pub fn close_abandoned_runs(&mut self, org_id: &str) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE runs SET status = 'interrupted',
                 error = COALESCE(error, 'the process ended before the run finished (killed or crashed); the next run continues from the last committed page')
                 WHERE org_id = ?1 AND status = 'running'",
            )?
            .execute([org_id])?)
    }

    /// The newest run of `org_id`, if any.
    pub fn last_run(&self, org_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row([org_id], read_run)
            .optional()?)
    }

    /// The active-patient count of `org_id`'s newest successful run that counted them.
    pub fn last_active_patients(&self, org_id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT active_patients FROM runs
                 WHERE org_id = ?1 AND status = 'ok' AND active_patients IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([org_id], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|n| n.max(0) as u64))
    }

    /// The newest `limit` runs of `org_id`, newest first.
    pub fn recent_runs(&self, org_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![org_id, limit], read_run)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn read_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let ts = |s: Option<String>| s.as_deref().and_then(Timestamp::parse);
    let resources: String = r.get(9)?;
    Ok(RunRecord {
        id: r.get(0)?,
        org_id: r.get(1)?,
        mode: r.get(2)?,
        status: RunStatus::parse(&r.get::<_, String>(3)?),
        // A started_at we wrote ourselves always parses; the epoch marks a damaged row.
        started_at: ts(r.get(4)?).unwrap_or(Timestamp::from_unix(0).unwrap_or_else(Timestamp::now)),
        finished_at: ts(r.get(5)?),
        duration_ms: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0) as u64),
        api_calls: r.get::<_, i64>(7)?.max(0) as u64,
        error: r.get(8)?,
        resources: serde_json::from_str(&resources).unwrap_or_default(),
    })
}
