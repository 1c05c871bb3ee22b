//! The values the store keeps and returns, the same whichever backend holds them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// The error recorded on a run found still `running` by a later run of its org. All that
/// is known is that its end was never recorded: the process was killed or crashed, or the
/// database could not be written when the run ended (a server outage, a full disk).
pub const ABANDONED_RUN: &str = "the run's end was never recorded: its process was killed or \
                                 crashed, or the database could not be written when it ended \
                                 (an outage, a full disk); the next run continues from the last \
                                 committed page";

/// The error recorded for a run stopped by its deadline.
pub const DEADLINE_TEXT: &str = "stopped between pages because the run's deadline \
     (max_run_time) passed; the next run continues from the last committed page";

/// The `stopped_by` column of a finished run.
pub(crate) fn stopped_by(outcome: &RunOutcome) -> Option<&'static str> {
    match outcome.status {
        RunStatus::Interrupted if outcome.stopped_by_deadline => Some("deadline"),
        RunStatus::Interrupted => Some("signal"),
        _ => None,
    }
}

/// Whether a run was stopped by its deadline: its `stopped_by`, or for a run recorded
/// before that column, its error text.
pub(crate) fn by_deadline(stopped_by: Option<&str>, error: &Option<String>) -> bool {
    match stopped_by {
        Some(reason) => reason == "deadline",
        None => error.as_deref() == Some(DEADLINE_TEXT),
    }
}

/// What writing one page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageWrite {
    /// Rows inserted or replaced by a newer copy.
    pub written: u64,
    /// Of those, rows that are archived or cancelled upstream.
    pub archived: u64,
}

/// What the store remembers about one resource of one org.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceState {
    /// The newest `updated_at` committed for this resource (Cliniko's clock).
    pub cursor: Option<Timestamp>,
    /// When the last complete full walk of this resource started (our clock).
    pub last_full_at: Option<Timestamp>,
    /// A full walk that started but has not reached its end (the process died or failed).
    pub full_in_progress: Option<FullWalkState>,
    /// When a walk of this route last read it to its end (our clock).
    pub polled_at: Option<Timestamp>,
    /// The newest second known to be read completely, and since when (Cliniko's clock).
    pub settled: Option<SettledSecond>,
    /// When the last complete verify (or verifying walk) of the resource started.
    pub last_verify_at: Option<Timestamp>,
}

pub use crate::record::SettledSecond;

/// The columns of one `sync_state` row, as every backend reads them.
#[derive(Debug, Clone, Copy)]
pub struct StateColumns {
    pub cursor: Option<Timestamp>,
    pub last_full_at: Option<Timestamp>,
    pub full_run_id: Option<i64>,
    pub full_started_at: Option<Timestamp>,
    pub full_position: Option<Timestamp>,
    pub polled_at: Option<Timestamp>,
    pub settled_second: Option<Timestamp>,
    pub settled_read_at: Option<Timestamp>,
    pub last_verify_at: Option<Timestamp>,
}

impl From<StateColumns> for ResourceState {
    /// A full walk is in progress when it has both a run and a start; a second is settled
    /// when both the second and the time of its complete read are known.
    fn from(c: StateColumns) -> ResourceState {
        ResourceState {
            cursor: c.cursor,
            last_full_at: c.last_full_at,
            full_in_progress: match (c.full_run_id, c.full_started_at) {
                (Some(run_id), Some(started_at)) => Some(FullWalkState {
                    run_id,
                    started_at,
                    position: c.full_position,
                }),
                _ => None,
            },
            polled_at: c.polled_at,
            settled: match (c.settled_second, c.settled_read_at) {
                (Some(second), Some(read_from)) => Some(SettledSecond { second, read_from }),
                _ => None,
            },
            last_verify_at: c.last_verify_at,
        }
    }
}

/// What the store keeps about an org besides its data and runs: the host clock's skew
/// against Cliniko's at its last run, and the Cliniko account its key answered for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgFacts {
    /// Host clock minus Cliniko's, in seconds, and when that was measured (host clock).
    pub clock_skew: Option<(i64, Timestamp)>,
    pub account: Option<AccountFacts>,
}

/// The Cliniko account an org's key answered for (`GET /settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    pub id: String,
    pub name: Option<String>,
    /// A keyed digest of the API key that answered (never the key itself): a key that
    /// changed is checked again.
    pub key_digest: Option<String>,
}

/// An unfinished full walk, which a later run can resume instead of starting over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullWalkState {
    /// The run that started the walk; the ids it saw are kept under this id.
    pub run_id: i64,
    pub started_at: Timestamp,
    /// The newest `updated_at` the walk has committed, if any page was.
    pub position: Option<Timestamp>,
}

/// What the planner needs to know about one org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgState {
    /// When the last successful run finished.
    pub last_success_at: Option<Timestamp>,
    /// The state of every route, by cursor key ([`Resource::cursor_keys`]): a resource's
    /// main route under its own name, secondary ones such as `practitioners_inactive`.
    pub routes: BTreeMap<String, ResourceState>,
}

impl OrgState {
    /// The state of the route with cursor key `key` (default when never synced).
    pub fn route(&self, key: &str) -> ResourceState {
        self.routes.get(key).copied().unwrap_or_default()
    }

    /// The state of `resource`'s main route.
    pub fn resource(&self, resource: Resource) -> ResourceState {
        self.route(resource.name())
    }

    /// When the last complete full walk of every route of `resource` started: the
    /// oldest of its routes', `None` when any route never completed one.
    pub fn last_full(&self, resource: Resource) -> Option<Timestamp> {
        // `None` sorts first: one route never fully walked makes the resource so.
        resource
            .cursor_keys()
            .iter()
            .map(|key| self.route(key).last_full_at)
            .min()
            .flatten()
    }
}

/// How a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Ok,
    Failed,
    /// Stopped by a signal, or found unfinished by a later run (the process died).
    Interrupted,
}

impl RunStatus {
    /// The name stored in the database and shown in status output.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> RunStatus {
        match s {
            "running" => RunStatus::Running,
            "ok" => RunStatus::Ok,
            "interrupted" => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }
}

/// Per-resource counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCounts {
    /// `full` or `incremental`.
    pub mode: String,
    /// Records received from the API (re-read boundary rows included once).
    pub fetched: u64,
    /// Rows inserted or changed in the database.
    pub written: u64,
    /// Written rows that are archived (or cancelled) upstream.
    #[serde(default)]
    pub archived: u64,
    /// Rows newly marked `deleted_upstream_at` by a full sync's reconciliation.
    #[serde(default)]
    pub deleted: u64,
    /// API requests made for this resource.
    #[serde(default)]
    pub api_calls: u64,
}

/// How a run finished, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub finished_at: Timestamp,
    pub duration_ms: u64,
    pub api_calls: u64,
    pub error: Option<String>,
    pub resources: BTreeMap<String, ResourceCounts>,
    /// Active patients (the `patient_activity` view) when the run ended, if it counted them.
    pub active_patients: Option<u64>,
    /// The run was stopped between pages because its `max_run_time` passed (an
    /// `interrupted` run that is not a failure), recorded as a state, not in its text.
    pub stopped_by_deadline: bool,
}

/// One row of the run history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: i64,
    pub org_id: String,
    pub mode: String,
    pub status: RunStatus,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    pub api_calls: u64,
    pub error: Option<String>,
    pub resources: BTreeMap<String, ResourceCounts>,
    /// See [`RunOutcome::stopped_by_deadline`]; for runs recorded before it was a state,
    /// read from their error text.
    pub stopped_by_deadline: bool,
}

impl RunRecord {
    /// The run as the next run of its org will record it when it is still `running` but
    /// no process holds the org's lock (see `CLOSE_ABANDONED_RUNS`): interrupted, with
    /// [`ABANDONED_RUN`] unless it had an error already.
    pub fn seen_without_its_lock(mut self, lock_held: bool) -> RunRecord {
        if self.status == RunStatus::Running && !lock_held {
            self.status = RunStatus::Interrupted;
            self.error.get_or_insert_with(|| ABANDONED_RUN.to_string());
        }
        self
    }
}
