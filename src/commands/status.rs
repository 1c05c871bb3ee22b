//! `status`: each org's last run, cursors, totals and health, as a table or JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::{CommandError, Exit, Globals};
use crate::cli::StatusArgs;
use crate::config::{Config, parse_duration};
use crate::lock;
use crate::store::{RunRecord, RunStatus, Store};
use crate::timestamp::Timestamp;

/// The key in `totals` counting active patients (not a resource).
const ACTIVE_PATIENTS: &str = "active_patients";

/// The whole `status --json` document (field names are a public interface).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub generated_at: String,
    pub database: String,
    pub healthy: bool,
    pub orgs: Vec<OrgStatus>,
}

/// One org in `status --json`.
#[derive(Debug, Serialize)]
pub struct OrgStatus {
    pub id: String,
    pub name: Option<String>,
    pub healthy: bool,
    /// Why the org is unhealthy (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub sync_running: bool,
    pub last_success_at: Option<String>,
    /// The oldest last full sync among the org's resources (null if one never had one).
    pub last_full_sync_at: Option<String>,
    /// When a plain `sync` will next do work for this org.
    pub next_due_at: String,
    /// When `sync` will next escalate to a full sync.
    pub next_full_sync_at: String,
    pub last_run: Option<LastRun>,
    pub cursors: BTreeMap<String, Option<String>>,
    pub totals: BTreeMap<String, u64>,
}

/// The newest run of an org.
#[derive(Debug, Serialize)]
pub struct LastRun {
    pub mode: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub api_calls: u64,
    pub error: Option<String>,
    pub resources: BTreeMap<String, RunCounts>,
}

/// Per-resource counts of a run.
#[derive(Debug, Serialize)]
pub struct RunCounts {
    pub mode: String,
    pub fetched: u64,
    pub written: u64,
    pub archived: u64,
    pub deleted: u64,
    pub api_calls: u64,
}

/// Runs `status` from the command line.
pub fn run(globals: &Globals, args: &StatusArgs) -> Result<Exit, CommandError> {
    let config = super::load_config(globals)?;
    let max_age = args
        .max_age
        .as_deref()
        .map(|s| {
            parse_duration(s)
                .map_err(|e| CommandError::Usage(format!("--max-age `{s}`: {e} (e.g. 6h, 90m)")))
        })
        .transpose()?;
    let report = build(&config, &args.org, max_age, Timestamp::now())?;
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CommandError::Other(e.into()))?;
        println!("{text}");
    } else {
        print!("{}", render_table(&report, Timestamp::now()));
    }
    Ok(if report.healthy {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Gathers the status of the selected orgs (all when `orgs` is empty) at `now`.
pub fn build(
    config: &Config,
    orgs: &[String],
    max_age: Option<Duration>,
    now: Timestamp,
) -> Result<StatusReport, CommandError> {
    let selected = if orgs.is_empty() {
        config.orgs.iter().collect()
    } else {
        config.select_orgs(orgs)?
    };
    let store = Store::open_read_only(&config.database)?;
    let mut out = Vec::new();
    for org in selected {
        let running = lock::is_held(&config.lock_dir, &org.id);
        let (state, runs) = match &store {
            Some(s) => (s.org_state(&org.id)?, s.recent_runs(&org.id, 2)?),
            None => (Default::default(), Vec::new()),
        };
        let mut cursors = BTreeMap::new();
        let mut totals = BTreeMap::new();
        let mut oldest_full: Option<Option<Timestamp>> = None;
        for r in &org.resources {
            let rs = state.resources.get(r).copied().unwrap_or_default();
            cursors.insert(r.name().to_string(), rs.cursor.map(|t| t.to_string()));
            let total = match &store {
                Some(s) => s.count_present(&org.id, *r)?,
                None => 0,
            };
            totals.insert(r.name().to_string(), total);
            oldest_full = Some(match (oldest_full, rs.last_full_at) {
                (None, t) => t,
                (Some(Some(a)), Some(b)) => Some(a.min(b)),
                _ => None,
            });
        }
        // Patients seen in the last 30 days and booked ahead (the patient_activity view).
        let active = match &store {
            Some(s) => s.active_patients(&org.id)?,
            None => 0,
        };
        totals.insert(ACTIVE_PATIENTS.to_string(), active);
        let last_full = oldest_full.flatten();
        // Health is judged on the newest finished run; a run in progress does not count.
        let finished = runs
            .iter()
            .find(|r| r.status != RunStatus::Running || !running);
        let problem = match (state.last_success_at, finished) {
            (None, _) => Some("never synced successfully".to_string()),
            (_, Some(r)) if r.status != RunStatus::Ok => Some(format!(
                "last run {}: {}",
                r.status.name(),
                r.error.as_deref().unwrap_or("no details")
            )),
            (Some(t), _) if max_age.is_some_and(|m| now.since(t) > m) => {
                Some(format!("last success at {t} is older than --max-age"))
            }
            _ => None,
        };
        out.push(OrgStatus {
            id: org.id.clone(),
            name: org.name.clone(),
            healthy: problem.is_none(),
            problem,
            sync_running: running,
            last_success_at: state.last_success_at.map(|t| t.to_string()),
            last_full_sync_at: last_full.map(|t| t.to_string()),
            next_due_at: state
                .last_success_at
                .map_or(now, |t| t.add(config.min_interval).max(now))
                .to_string(),
            next_full_sync_at: last_full
                .map_or(now, |t| t.add(config.full_sync_every).max(now))
                .to_string(),
            last_run: runs.first().map(last_run),
            cursors,
            totals,
        });
    }
    Ok(StatusReport {
        generated_at: now.to_string(),
        database: config.database.display().to_string(),
        healthy: out.iter().all(|o| o.healthy),
        orgs: out,
    })
}

fn last_run(r: &RunRecord) -> LastRun {
    LastRun {
        mode: r.mode.clone(),
        status: r.status.name().to_string(),
        started_at: r.started_at.to_string(),
        finished_at: r.finished_at.map(|t| t.to_string()),
        duration_ms: r.duration_ms,
        api_calls: r.api_calls,
        error: r.error.clone(),
        resources: r
            .resources
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    RunCounts {
                        mode: c.mode.clone(),
                        fetched: c.fetched,
                        written: c.written,
                        archived: c.archived,
                        deleted: c.deleted,
                        api_calls: c.api_calls,
                    },
                )
            })
            .collect(),
    }
}

/// "12 min ago" style age of `t` at `now`.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let s = now.since(t).as_secs();
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=172_799 => format!("{}h {}m ago", s / 3600, s % 3600 / 60),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The human table: one line per org, errors on their own line below.
pub fn render_table(report: &StatusReport, now: Timestamp) -> String {
    let header = [
        "ORG",
        "LAST SUCCESS",
        "MODE",
        "RESULT",
        "RECORDS",
        "ACTIVE",
        "API CALLS",
        "NEXT DUE",
        "RUNNING",
    ];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for o in &report.orgs {
        let ts = |s: &Option<String>| s.as_deref().and_then(Timestamp::parse);
        let records = o
            .totals
            .iter()
            .filter(|(k, _)| *k != ACTIVE_PATIENTS)
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let next_due = Timestamp::parse(&o.next_due_at).map_or_else(String::new, |t| {
            if t <= now {
                "now".to_string()
            } else {
                format!("in {}", ago(now, t).trim_end_matches(" ago"))
            }
        });
        rows.push([
            o.id.clone(),
            ts(&o.last_success_at).map_or("never".into(), |t| ago(t, now)),
            o.last_run.as_ref().map_or("-".into(), |r| r.mode.clone()),
            o.last_run.as_ref().map_or("-".into(), |r| r.status.clone()),
            records,
            o.totals
                .get(ACTIVE_PATIENTS)
                .map_or("-".into(), u64::to_string),
            o.last_run
                .as_ref()
                .map_or("-".into(), |r| r.api_calls.to_string()),
            next_due,
            if o.sync_running {
                "yes".into()
            } else {
                "no".into()
            },
        ]);
    }
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
            + "\n"
    };
    let mut out = line(&header.map(str::to_string));
    for (o, r) in report.orgs.iter().zip(&rows) {
        out.push_str(&line(r));
        if let Some(p) = &o.problem {
            out.push_str(&format!("  ! {}: {p}\n", o.id));
        }
    }
    out
}
