//! `sync`, `full` and `verify`: run the engine for each selected org, up to `--jobs` at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::progress::Bars;
use super::{CommandError, Exit, Globals, SystemClock, cancel_flag, client_settings, key_hint};
use crate::cli::RunArgs;
use crate::cliniko::{Client, RateLimiters};
use crate::config::{Config, OrgConfig};
use crate::engine::{self, Command, OrgContext, OrgReport, OrgResult, PlanOptions, Progress};
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
    // Open (and migrate) once up front: a bad database file stops everything with exit 2.
    drop(store::open(&super::store_location(config))?);

    let jobs = request
        .jobs
        .unwrap_or(config.jobs)
        .clamp(1, orgs.len().max(1));
    let shared = Shared {
        config,
        request,
        clock: SystemClock::new(),
        limiters: RateLimiters::default(),
        cancel: cancel_flag(),
        bars: Bars::new(show_progress),
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
                    reports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, report));
                }
            });
        }
    });
    let mut reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.sort_by_key(|(i, _)| *i);
    Ok(reports.into_iter().map(|(_, r)| r).collect())
}

/// What every worker thread of one run shares.
struct Shared<'a> {
    config: &'a Config,
    request: &'a RunRequest,
    clock: SystemClock,
    limiters: RateLimiters,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    bars: Bars,
}

impl Shared<'_> {
    /// Syncs one org on the calling worker thread, which keeps its own connection in `store`.
    fn sync_one(&self, org: &OrgConfig, store: &mut Option<Box<dyn Store>>) -> OrgReport {
        let Shared {
            config,
            request,
            clock,
            limiters,
            cancel,
            bars,
        } = self;
        if cancel.load(Ordering::Relaxed) {
            return OrgReport::skipped(&org.id, OrgResult::Interrupted);
        }
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
        let store = match store {
            Some(s) => s,
            None => match store::open(&super::store_location(config)) {
                Ok(s) => store.insert(s),
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
        let ctx = OrgContext {
            org_id: &org.id,
            key_hint: &hint,
            client: &client,
            clock,
            progress: bars,
            cancel,
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
        };
        engine::sync_org(&ctx, store.as_mut(), &opts)
    }
}

fn log_report(report: &OrgReport) {
    match report.result {
        OrgResult::Failed(_) | OrgResult::Interrupted => log::error!("{}", report.summary()),
        _ => log::info!("{}", report.summary()),
    }
}
