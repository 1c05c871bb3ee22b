//! `sync`, `full` and `verify`: run the engine for each selected org, up to `--jobs` at
//! once, with the run's deadline (`deadline.rs`) and heartbeat pings (`heartbeat.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::deadline::RunStop;
use super::heartbeat::Heartbeats;
use super::progress::Bars;
use super::{CommandError, Exit, Globals, SystemClock, cancel_flag, client_settings, key_hint};
use crate::cli::RunArgs;
use crate::cliniko::{Client, RateLimiters};
use crate::config::{Config, OrgConfig};
use crate::engine::{
    self, Command, OrgContext, OrgReport, OrgResult, PlanOptions, Progress, Retention,
};
use crate::resource::Resource;
use crate::store::{self, Store};

/// What to run, independent of clap.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub command: Command,
    pub force: bool,
    /// Empty: every org.
    pub orgs: Vec<String>,
    /// Empty: each org's configured resources.
    pub resources: Vec<Resource>,
    pub jobs: Option<usize>,
    /// `--max-run-time`; `None`: `max_run_time` from the config, if any.
    pub max_run_time: Option<Duration>,
}

impl RunRequest {
    /// Builds a request from `sync`/`full` arguments.
    pub fn from_args(command: Command, args: &RunArgs, force: bool) -> RunRequest {
        RunRequest {
            command,
            force,
            orgs: if args.orgs.all {
                Vec::new()
            } else {
                args.orgs.org.clone()
            },
            resources: args
                .resource
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
            jobs: args.jobs.map(usize::from),
            max_run_time: args.max_run_time,
        }
    }
}

/// Runs `sync` or `full` from the command line.
pub fn run(globals: &Globals, request: &RunRequest) -> Result<Exit, CommandError> {
    let config = super::load_config(globals)?;
    let reports = run_with_config(&config, request, globals.show_progress)?;
    Ok(if reports.iter().any(OrgReport::failed) {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// Syncs the requested orgs of `config` and returns one report per org, in config order.
pub fn run_with_config(
    config: &Config,
    request: &RunRequest,
    show_progress: bool,
) -> Result<Vec<OrgReport>, CommandError> {
    // An empty selection is every org.
    let orgs = config.select_orgs(&request.orgs)?;
    let command = match request.command {
        Command::Sync => "sync",
        Command::Full => "full",
        Command::Verify => "verify",
    };
    crate::watchdog::set_last_words(Heartbeats::last_words_before_start(config, command));
    // Open (and migrate) once up front: a bad database file or a newer schema stops
    // everything with exit 2. A server that cannot be reached is a run-time failure:
    // every org tries, and fails with the reason.
    match store::open(&super::store_location(config)) {
        Ok(store) => drop(store),
        Err(e) if e.is_setup_error() => return Err(e.into()),
        Err(e) => log::debug!("opening the store failed, each org will report it: {e}"),
    }

    let jobs = request
        .jobs
        .unwrap_or(config.jobs)
        .clamp(1, orgs.len().max(1));
    let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
    let heartbeats = Heartbeats::start(config, &ids);
    crate::watchdog::set_last_words(heartbeats.last_words(command));
    let clock = Arc::new(SystemClock::new());
    let stop = RunStop::start(
        cancel_flag(),
        request.max_run_time.or(config.max_run_time),
        clock.clone(),
    );
    let shared = Shared {
        config,
        request,
        clock,
        limiters: RateLimiters::default(),
        stop: &stop,
        bars: Bars::new(show_progress),
        heartbeats: &heartbeats,
    };
    let next = AtomicUsize::new(0);
    let reports: Mutex<Vec<(usize, OrgReport)>> = Mutex::new(Vec::new());

    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut store = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(org) = orgs.get(i) else { break };
                    let report = shared.sync_one(org, &mut store);
                    log_report(&report);
                    shared.bars.org_finished(&report);
                    shared.heartbeats.org_finished(&report);
                    reports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, report));
                }
            });
        }
    });
    let stopped = stop.cancel.load(Ordering::Acquire);
    drop(shared);
    drop(stop);
    let mut reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<OrgReport> = reports.into_iter().map(|(_, r)| r).collect();
    // Once for every org's deletes and rewrites; a stopped run, or one where every org
    // failed (the database may be down), leaves it to the next.
    if !stopped && reports.iter().any(|r| !r.failed()) {
        super::scrub::after_run(config);
    }
    heartbeats.finish(command, &reports);
    Ok(reports)
}

/// What every worker thread of one run shares.
struct Shared<'a> {
    config: &'a Config,
    request: &'a RunRequest,
    clock: Arc<SystemClock>,
    limiters: RateLimiters,
    stop: &'a RunStop,
    bars: Bars,
    heartbeats: &'a Heartbeats,
}

impl Shared<'_> {
    /// Syncs one org on the calling worker thread, which keeps its own connection in `store`.
    fn sync_one(&self, org: &OrgConfig, store: &mut Option<Box<dyn Store>>) -> OrgReport {
        let Shared {
            config,
            request,
            clock,
            limiters,
            stop,
            bars,
            heartbeats,
        } = self;
        let cancel = &stop.cancel;
        // Acquire: see `RunStop::start` (the deadline flag is set before `cancel`).
        if cancel.load(Ordering::Acquire) {
            let why = if stop.deadline_passed() {
                OrgResult::Deferred
            } else {
                OrgResult::Interrupted
            };
            return OrgReport::skipped(&org.id, why);
        }
        heartbeats.org_started(&org.id);
        let resources: Vec<Resource> = org
            .resources
            .iter()
            .copied()
            .filter(|r| request.resources.is_empty() || request.resources.contains(r))
            .collect();
        if resources.is_empty() {
            return OrgReport::skipped(
                &org.id,
                OrgResult::Failed(format!(
                    "none of the requested resources is enabled for org {} (its resources: {})",
                    org.id,
                    org.resources
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        // Each worker thread keeps its own connection.
        let slot = store;
        let store = match slot {
            Some(s) => s,
            None => match store::open(&super::store_location(config)) {
                Ok(s) => slot.insert(s),
                Err(e) => return OrgReport::skipped(&org.id, OrgResult::Failed(e.to_string())),
            },
        };
        let client = Client::new(
            &org.api_key,
            client_settings(config, org),
            limiters.for_key(&org.api_key, config.requests_per_minute),
            cancel.clone(),
        );
        let hint = key_hint(config, org);
        let digest = org.api_key.digest(&org.id);
        let ctx = OrgContext {
            org_id: &org.id,
            key_hint: &hint,
            key_digest: &digest,
            client: &client,
            clock: clock.as_ref(),
            progress: bars,
            cancel,
            deadline_passed: &stop.deadline_passed,
            retention: Retention {
                keep_runs: config.keep_runs,
                purge_deleted_after: config.purge_deleted_after,
            },
            privacy: &org.privacy,
            dashboard_roles: &org.dashboard_roles,
        };
        let opts = PlanOptions {
            command: request.command,
            force: request.force,
            resources,
            min_interval: config.min_interval,
            full_sync_every: config.full_sync_every,
            verify_every: config.verify_every,
            reference_every: config.reference_every,
            poll_reference: !request.resources.is_empty(),
            appointment_window: config.appointment_window,
            refetch: None,
        };
        let report = engine::sync_org(&ctx, store.as_mut(), &opts);
        if report.failed() {
            // The failure may have been the connection itself (a server restart, a cut
            // network): the worker's next org opens a fresh one.
            *slot = None;
        }
        report
    }
}

/// Logs an org's summary line; JSON lines also carry its parts as fields.
fn log_report(report: &OrgReport) {
    crate::logging::with_fields(summary_fields(report), || match report.result {
        OrgResult::Failed(_) | OrgResult::Interrupted => log::error!("{}", report.summary()),
        OrgResult::DeadlinePassed | OrgResult::Deferred => log::warn!("{}", report.summary()),
        _ => log::info!("{}", report.summary()),
    });
}

/// `org`, `mode`, `status`, `resources`, `api_calls`, `duration_ms`, `error`.
fn summary_fields(report: &OrgReport) -> Vec<(String, serde_json::Value)> {
    use serde_json::{Value, json};
    let resources: serde_json::Map<String, Value> = report
        .resources
        .iter()
        .map(|(name, c)| {
            let counts = json!({
                "fetched": c.fetched,
                "written": c.written,
                "archived": c.archived,
                "deleted": c.deleted,
            });
            (name.clone(), counts)
        })
        .collect();
    let error = report.error_text().map_or(Value::Null, Value::from);
    [
        ("org", Value::from(report.org_id.as_str())),
        ("mode", Value::from(report.mode.as_str())),
        ("status", Value::from(report.status_name())),
        ("resources", Value::Object(resources)),
        ("api_calls", Value::from(report.api_calls)),
        (
            "duration_ms",
            Value::from(u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX)),
        ),
        ("error", error),
        (
            "clock_skew_seconds",
            report.clock_skew.map_or(Value::Null, Value::from),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
