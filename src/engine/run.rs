//! The executor: takes the org's lock, plans, walks each resource page by page into the
//! store, reconciles full walks, and records the run.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use super::plan::{Mode, OrgPlan, PlanOptions, ResourcePlan, mode_label, plan_org};
use super::prefetch;
use super::report::{OrgReport, OrgResult};
use super::{Clock, Progress};
use crate::cliniko::{ApiError, Client, ResourceWalk};
use crate::store::{ResourceCounts, RunOutcome, RunStatus, Store, StoreError};

/// What the executor needs for one org, supplied by the command layer.
pub struct OrgContext<'a> {
    pub org_id: &'a str,
    /// Where the org's key comes from, for error messages (`api_key_env = VAR in FILE`).
    pub key_hint: &'a str,
    pub client: &'a Client,
    pub clock: &'a dyn Clock,
    pub progress: &'a dyn Progress,
    pub cancel: &'a AtomicBool,
}

/// How a resource's walk ended, when not normally.
enum Stop {
    Interrupted,
    Failed(String),
    /// The failure also dooms the org's other resources (bad key, rate limit, database).
    Fatal(String),
}

/// Syncs one org: lock, plan, walk, record. Never panics on bad data or I/O; every
/// failure ends up in the report.
pub fn sync_org(ctx: &OrgContext<'_>, store: &mut dyn Store, opts: &PlanOptions) -> OrgReport {
    let _lock = match store.try_lock_org(ctx.org_id) {
        Ok(Some(held)) => held,
        Ok(None) => return OrgReport::skipped(ctx.org_id, OrgResult::SkippedLocked),
        Err(e) => {
            let mut r = OrgReport::skipped(ctx.org_id, OrgResult::Failed(e.to_string()));
            r.mode = "none".into();
            return r;
        }
    };
    let begun = ctx.clock.monotonic();
    match run_locked(ctx, store, opts) {
        Ok(mut report) => {
            report.duration = ctx.clock.monotonic().saturating_sub(begun);
            report
        }
        Err(e) => {
            let mut r = OrgReport::skipped(
                ctx.org_id,
                OrgResult::Failed(format!("database error: {e}")),
            );
            r.mode = "none".into();
            r.api_calls = ctx.client.calls();
            r
        }
    }
}

fn run_locked(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    opts: &PlanOptions,
) -> Result<OrgReport, StoreError> {
    // Holding the lock, any run still marked running is one whose process died.
    let abandoned = store.close_abandoned_runs(ctx.org_id)?;
    if abandoned > 0 {
        log::warn!(
            "{}: an earlier run did not finish (killed or crashed); continuing from its last committed page",
            ctx.org_id
        );
    }
    let state = store.org_state(ctx.org_id)?;
    let now = ctx.clock.now();
    let plans = match plan_org(&state, opts, now) {
        OrgPlan::Skip { next_due_at, .. } => {
            return Ok(OrgReport::skipped(
                ctx.org_id,
                OrgResult::SkippedRecent { next_due_at },
            ));
        }
        OrgPlan::Run(plans) => plans,
    };
    let mode = mode_label(&plans);
    let started_at = now;
    let begun = ctx.clock.monotonic();
    let run_id = store.begin_run(ctx.org_id, mode, started_at)?;
    let calls_before = ctx.client.calls();

    let mut resources = BTreeMap::new();
    let mut result = OrgResult::Ok;
    for plan in &plans {
        log::debug!(
            "{}: {} {} ({})",
            ctx.org_id,
            plan.resource,
            plan.mode.name(),
            plan.reason
        );
        let (counts, stop) = walk_resource(ctx, store, plan, run_id)?;
        resources.insert(plan.resource.name().to_string(), counts);
        match stop {
            None => {}
            Some(Stop::Interrupted) => {
                result = OrgResult::Interrupted;
                break;
            }
            Some(Stop::Failed(e)) if result == OrgResult::Ok => result = OrgResult::Failed(e),
            Some(Stop::Failed(_)) => {}
            Some(Stop::Fatal(e)) => {
                if result == OrgResult::Ok {
                    result = OrgResult::Failed(e);
                }
                break;
            }
        }
    }

    let mut totals = BTreeMap::new();
    for plan in &plans {
        totals.insert(
            plan.resource.name().to_string(),
            store.count_present(ctx.org_id, plan.resource)?,
        );
    }
    // Counted once per run (a few ms) so `status` reads a number instead of the view.
    let active_patients = if result == OrgResult::Ok {
        Some(store.active_patients(ctx.org_id)?)
    } else {
        None
    };
    let api_calls = ctx.client.calls() - calls_before;
    let duration = ctx.clock.monotonic().saturating_sub(begun);
    let (status, error) = match &result {
        OrgResult::Ok => (RunStatus::Ok, None),
        OrgResult::Failed(e) => (RunStatus::Failed, Some(e.clone())),
        _ => (
            RunStatus::Interrupted,
            Some(
                "interrupted by a signal; the next run continues from the last committed page"
                    .into(),
            ),
        ),
    };
    store.finish_run(
        run_id,
        &RunOutcome {
            status,
            finished_at: ctx.clock.now(),
            duration_ms: duration.as_millis() as u64,
            api_calls,
            error,
            resources: resources.clone(),
            active_patients,
        },
    )?;
    Ok(OrgReport {
        org_id: ctx.org_id.to_string(),
        result,
        mode: mode.to_string(),
        resources,
        totals,
        api_calls,
        duration,
    })
}

/// Walks one resource to its end (or to the first failure), writing page by page.
fn walk_resource(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    plan: &ResourcePlan,
    run_id: i64,
) -> Result<(ResourceCounts, Option<Stop>), StoreError> {
    let org = ctx.org_id;
    let resource = plan.resource;
    let calls_before = ctx.client.calls();
    let mut counts = ResourceCounts {
        mode: plan.mode.name().to_string(),
        ..ResourceCounts::default()
    };
    let now = ctx.clock.now();
    // Rows seen by a full walk are marked with the run that started it.
    let full = match plan.mode {
        Mode::Incremental => None,
        Mode::Full { resume: Some(w) } => {
            log::info!(
                "{org}: resuming the unfinished full sync of {resource} from {:?}",
                w.position
            );
            Some((w.run_id, w.started_at))
        }
        Mode::Full { resume: None } => {
            store.begin_full(org, resource, run_id, now)?;
            Some((run_id, now))
        }
    };
    ctx.progress.resource_started(org, resource, plan.mode);
    let walk = ResourceWalk::new(
        plan.routes.iter().map(|r| (r.endpoint, r.start)),
        plan.window,
    );
    let mut stop = None;
    // The next page is fetched and parsed while this one is written (two cores).
    let walk = prefetch::walk_pages::<_, StoreError>(walk, ctx.client, ctx.cancel, |page| {
        match page {
            Ok(page) => {
                let written = store.write_route_page(
                    org,
                    resource,
                    page.cursor_key,
                    &page.records,
                    full.map(|(id, _)| id),
                    ctx.clock.now(),
                )?;
                counts.fetched += page.new_records;
                counts.written += written.written;
                counts.archived += written.archived;
                ctx.progress
                    .page_written(org, resource, counts.fetched, page.total_entries);
            }
            Err(e) => stop = Some(classify(ctx, resource, e)),
        }
        Ok(stop.is_none())
    })?;
    if let (Some((full_run, started_at)), true) = (full, walk.is_complete()) {
        counts.deleted = store.finish_full(org, resource, full_run, started_at, ctx.clock.now())?;
    }
    counts.api_calls = ctx.client.calls() - calls_before;
    Ok((counts, stop))
}

/// Turns an API failure into a message that names the org, the resource and what to do.
fn classify(ctx: &OrgContext<'_>, resource: crate::resource::Resource, e: ApiError) -> Stop {
    let what = format!("{resource}: {e}");
    match e {
        ApiError::Interrupted => Stop::Interrupted,
        ApiError::KeyRejected { .. } => Stop::Fatal(format!("{what}; check {}", ctx.key_hint)),
        ApiError::Forbidden => Stop::Failed(format!(
            "{what}; give that Cliniko user access, or drop `{resource}` from the org's `resources` (key: {})",
            ctx.key_hint
        )),
        ApiError::RateLimited { .. } => Stop::Fatal(what),
        ApiError::Network { .. } | ApiError::Server { .. } => Stop::Fatal(format!(
            "{what}; the cursor stays at the last committed page and the next run retries"
        )),
        ApiError::Http { .. } | ApiError::BadResponse { .. } | ApiError::NoProgress(_) => {
            Stop::Failed(what)
        }
    }
}
