//! The history of sync runs on PostgreSQL.

use postgres::Row;
use postgres::types::ToSql;

use super::PgStore;
use super::Step;
use super::connect::{begin_sql, connect, error_at};
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{ABANDONED_RUN, RunLog, RunOutcome, RunRecord, RunStatus, StoreError};
use crate::timestamp::Timestamp;
use crate::watchdog::Bound;

impl RunLog for PgStore {
    fn begin_run(
        &mut self,
        org_id: &str,
        mode: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError> {
        // A write: it never joins pages held open.
        self.write(Step::statement("recording the run's start"), |client| {
            Ok(client
                .query_one(
                    sql::BEGIN_RUN.get(Postgres),
                    &[&org_id, &mode, &started_at.datetime()],
                )?
                .get(0))
        })
    }

    fn finish_run(&mut self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError> {
        let resources =
            serde_json::to_string(&outcome.resources).unwrap_or_else(|_| "{}".to_string());
        let stopped = crate::store::stopped_by(outcome);
        let finish = sql::FINISH_RUN.get(Postgres);
        let params: &[&(dyn ToSql + Sync)] = &[
            &run_id,
            &outcome.status.name(),
            &outcome.finished_at.datetime(),
            &(outcome.duration_ms as i64),
            &(outcome.api_calls as i64),
            &outcome.error,
            &resources,
            &outcome.active_patients.map(|n| n as i64),
            &stopped,
        ];
        match self.execute(Step::statement("recording the run's end"), finish, params) {
            // The session ended (a server restart, `pg_terminate_backend`, a proxy): most
            // often the very failure being recorded. A new session records it while the
            // server takes one; only this run's own row is written, so no lock is needed.
            // If none can be had, the next run closes the row as abandoned.
            Err(_) if self.client.borrow().is_closed() => {
                // Declared first, so it also covers the new session's close.
                let _watch = self.watch(
                    Step::statement("recording the run's end on a new session"),
                    None,
                );
                let mut session = connect(&self.url)?;
                session
                    .batch_execute(&begin_sql(&self.schema, Bound::Statement))
                    .and_then(|()| session.execute(finish, params))
                    .and_then(|_| session.batch_execute("COMMIT"))
                    .map_err(|e| error_at(&self.target, e))?;
            }
            done => {
                done?;
            }
        }
        Ok(())
    }

    fn close_abandoned_runs(&mut self, org_id: &str) -> Result<usize, StoreError> {
        let n = self.execute_for_org(
            org_id,
            Step::statement("closing runs left abandoned"),
            sql::CLOSE_ABANDONED_RUNS.get(Postgres),
            &[&org_id, &ABANDONED_RUN],
        )?;
        Ok(n as usize)
    }

    fn last_active_patients(&self, org_id: &str) -> Result<Option<u64>, StoreError> {
        let step = Step::statement("reading the last active patient count");
        self.query_opt(
            step,
            sql::LAST_ACTIVE_PATIENTS.get(Postgres),
            &[&org_id],
            |r| r.get::<_, i64>(0).max(0) as u64,
        )
    }

    fn recent_runs(&self, org_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.query(
            Step::statement("reading recent runs"),
            sql::RECENT_RUNS.get(Postgres),
            &[&org_id, &i64::from(limit)],
            read_run,
        )
    }

    fn prune_runs(&mut self, org_id: &str, before: Timestamp) -> Result<u64, StoreError> {
        self.execute_for_org(
            org_id,
            Step::bulk("pruning old run history"),
            sql::PRUNE_RUNS.get(Postgres),
            &[&org_id, &before.datetime()],
        )
    }
}

impl PgStore {
    /// When `org_id`'s last successful run finished.
    pub fn last_success_at(&self, org_id: &str) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .query_opt(
                Step::statement("reading the last success"),
                sql::LAST_SUCCESS.get(Postgres),
                &[&org_id],
                |r| r.get::<_, Option<time::OffsetDateTime>>(0),
            )?
            .flatten()
            .map(Timestamp::from_datetime))
    }
}

pub(super) fn read_run(r: &Row) -> RunRecord {
    let ts = |i: usize| {
        r.get::<_, Option<time::OffsetDateTime>>(i)
            .map(Timestamp::from_datetime)
    };
    let resources: String = r.get(9);
    let error: Option<String> = r.get(8);
    RunRecord {
        id: r.get(0),
        org_id: r.get(1),
        mode: r.get(2),
        status: RunStatus::parse(r.get(3)),
        // started_at is NOT NULL; the epoch would mark a damaged row.
        started_at: ts(4).unwrap_or(Timestamp::EPOCH),
        finished_at: ts(5),
        duration_ms: r.get::<_, Option<i64>>(6).map(|v| v.max(0) as u64),
        api_calls: r.get::<_, i64>(7).max(0) as u64,
        resources: serde_json::from_str(&resources).unwrap_or_default(),
        stopped_by_deadline: crate::store::by_deadline(
            r.get::<_, Option<String>>(10).as_deref(),
            &error,
        ),
        error,
    }
}
