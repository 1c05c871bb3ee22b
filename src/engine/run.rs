//! The executor: takes the org's lock, plans, walks each resource page by page into the
//! store, reconciles full walks, and records the run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use super::clock::ClockSkew;
use super::context::{DEADLINE_PASSED, OrgContext};
use super::plan::{self, Command, Mode, OrgPlan, PlanOptions, ResourcePlan, mode_label, plan_org};
use super::prefetch::{self, Flow};
use super::report::{OrgReport, OrgResult};
use super::retention;
use super::verify;
use crate::cliniko::{ApiError, ResourceWalk, WalkPage};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::{
    AccountFacts, Commit, OrgState, ResourceCounts, RunOutcome, RunStatus, Store, StoreError,
};

/// How a resource's walk ended, when not normally.
enum Stop {
    Interrupted,
    Failed(String),
    /// The failure also dooms the org's other resources (bad key, rate limit, database).
    Fatal(String),
}

/// What a run that the store failed records and reports: the store's own message (which
/// names the database and says what to do), and once that the next run continues.
fn store_failure(e: &StoreError) -> String {
    let text = e.to_string();
    if text.contains("next run") {
        text
    } else {
        format!("{text}; the next run continues from the last committed page")
    }
}

/// Syncs one org: lock, plan, walk, record. Never panics on bad data or I/O; every
/// failure ends up in the report.
pub fn sync_org(ctx: &OrgContext<'_>, store: &mut dyn Store, opts: &PlanOptions) -> OrgReport {
    let _lock = match store.try_lock_org(ctx.org_id) {
        Ok(Some(held)) => held,
        Ok(None) => return OrgReport::skipped(ctx.org_id, OrgResult::SkippedLocked),
        Err(e) => {
            let e = store.refine(e).to_string();
            record_failure(ctx, store, "none", &e);
            return OrgReport::skipped(ctx.org_id, OrgResult::Failed(e));
        }
    };
    let begun = ctx.clock.monotonic();
    // Set once planned, so a run the database cut short reports its mode.
    let mut mode = "none";
    let mut recorded = false;
    let outcome = run_locked(ctx, store, opts, &mut mode, &mut recorded);
    let mut report = match outcome.map_err(|e| store.refine(e)) {
        Ok(report) => report,
        Err(e) => {
            let error = store_failure(&e);
            if !recorded {
                record_failure(ctx, store, mode, &error);
            }
            let mut r = OrgReport::skipped(ctx.org_id, OrgResult::Failed(error));
            r.mode = mode.into();
            r.api_calls = ctx.client.calls();
            r
        }
    };
    report.duration = ctx.clock.monotonic().saturating_sub(begun);
    report
}

/// Records a failure that came before the org's run row (taking its lock, bringing stored
/// rows under the privacy policy, reading the org's state) as a failed run, so that `status`, the
/// metrics and the alerts see it; best effort, as the database may be what failed.
fn record_failure(ctx: &OrgContext<'_>, store: &mut dyn Store, mode: &str, error: &str) {
    let now = ctx.clock.now();
    let recorded = store.begin_run(ctx.org_id, mode, now).and_then(|run_id| {
        let outcome = failed_run(ctx, 0, ctx.client.calls(), error.to_string());
        store.finish_run(run_id, &outcome)
    });
    if let Err(e) = recorded {
        log::debug!("{}: cannot record the failed run: {e}", ctx.org_id);
    }
}

/// The record of a run that failed with `error`, ending now, with nothing counted.
fn failed_run(ctx: &OrgContext<'_>, duration_ms: u64, api_calls: u64, error: String) -> RunOutcome {
    RunOutcome {
        status: RunStatus::Failed,
        finished_at: ctx.clock.now(),
        duration_ms,
        api_calls,
        error: Some(error),
        resources: BTreeMap::new(),
        active_patients: None,
        stopped_by_deadline: false,
    }
}

/// The run under the org's lock. `recorded` is set once its run row exists (a failure
/// after that is recorded in it).
fn run_locked(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    opts: &PlanOptions,
    planned_mode: &mut &'static str,
    recorded: &mut bool,
) -> Result<OrgReport, StoreError> {
    // Holding the lock, any run still marked running is one whose process died. Said
    // once this run knows what it does next (it may be skipped as recent).
    let abandoned = store.close_abandoned_runs(ctx.org_id)? > 0;
    // Who may read the org follows the config at every run, skipped or not.
    store.apply_readers(ctx.org_id, ctx.dashboard_roles)?;
    let note_abandoned = |next: &str| {
        if abandoned {
            log::warn!(
                "{}: an earlier run's end was never recorded (its process was killed or crashed, or the database could not be written when it ended); recorded it as interrupted; {next}",
                ctx.org_id
            );
        }
    };
    // `verify` checks the stored rows against the policy (and fails on a breach) rather
    // than fixing them; the other commands bring them under it first. Local and free of
    // API calls, so even a run then skipped as recent does it.
    // What a policy change left to fetch again (verify changes no row: none).
    let mut refetch = None;
    let breach = if opts.command == Command::Verify {
        match super::privacy::violations(ctx, ctx.privacy, store)? {
            (0, _) => None,
            (n, fields) => Some(format!(
                "{n} stored record(s) hold fields the privacy policy forbids ({}); run \
                 `routiq-sync sync --org {}` to rewrite them under the policy, then verify again",
                fields.join(", "),
                ctx.org_id
            )),
        }
    } else {
        let (applied, in_force) = super::privacy::apply(ctx, ctx.privacy, store)?;
        if applied.is_some_and(|a| a.interrupted)
            || super::derive::rederive(ctx, store)?.interrupted
        {
            note_abandoned("the next run continues from its last committed page");
            return Ok(OrgReport::skipped(ctx.org_id, OrgResult::Interrupted));
        }
        refetch = in_force;
        None
    };
    let state = store.org_state(ctx.org_id)?;
    let opts = &PlanOptions {
        refetch,
        ..opts.clone()
    };
    let now = ctx.clock.now();
    if let Some(warning) = plan::future_times(&state, now) {
        log::warn!("{}: {warning}", ctx.org_id);
    }
    let plans = match plan_org(&state, opts, now) {
        OrgPlan::Skip { next_due_at, .. } => {
            note_abandoned(
                "this run skips the org (synced recently); the next due run continues from its \
                 last committed page",
            );
            return Ok(OrgReport::skipped(
                ctx.org_id,
                OrgResult::SkippedRecent { next_due_at },
            ));
        }
        OrgPlan::Run(plans) => {
            note_abandoned("continuing from its last committed page");
            plans
        }
    };
    let mode = mode_label(&plans);
    *planned_mode = mode;
    let started_at = now;
    let begun = ctx.clock.monotonic();
    let calls_before = ctx.client.calls();
    let run_id = store.begin_run(ctx.org_id, mode, started_at)?;
    *recorded = true;
    // A breach fails the run from the start, so the run record says so (and `status`,
    // the metric and the alert that read it), not only the exit code.
    let result = match breach {
        Some(breach) => {
            log::error!("{}: {breach}", ctx.org_id);
            OrgResult::Failed(breach)
        }
        None => OrgResult::Ok,
    };
    run_recorded(
        ctx,
        store,
        &plans,
        &state,
        result,
        (run_id, mode),
        (calls_before, begun),
    )
    .map_err(|e| {
        let e = store.refine(e);
        // Recorded as failed (best effort: the database is what failed), not left
        // `running` for the next run to call killed.
        let outcome = failed_run(
            ctx,
            ctx.clock.monotonic().saturating_sub(begun).as_millis() as u64,
            ctx.client.calls() - calls_before,
            store_failure(&e),
        );
        if let Err(again) = store.finish_run(run_id, &outcome) {
            log::debug!("{}: cannot record the failed run: {again}", ctx.org_id);
        }
        e
    })
}

/// The body of a recorded run: walks the planned resources, counts, and finishes the
/// run record. `result` is what the run already is (failed by a privacy breach found
/// before it began); the walks' failures are added to it.
fn run_recorded(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    plans: &[ResourcePlan],
    state: &OrgState,
    mut result: OrgResult,
    (run_id, mode): (i64, &str),
    (calls_before, begun): (u64, std::time::Duration),
) -> Result<OrgReport, StoreError> {
    let mut resources = BTreeMap::new();
    // Reference ids named by records of this run, collected only while some reference
    // resource waits on demand.
    let mut named = plans
        .iter()
        .any(|p| p.on_demand)
        .then(BTreeMap::<Resource, BTreeSet<String>>::new);
    // Before any data is written: the key must answer for the org's Cliniko account.
    let account_stop = check_account(ctx, store)?;
    let account_ok = account_stop.is_none();
    let mut going = merge_stop(ctx, &mut result, account_stop);
    for plan in plans.iter().filter(|p| !p.on_demand) {
        if !going {
            break;
        }
        let (counts, stop) = run_plan(ctx, store, plan, run_id, state, named.as_mut())?;
        resources.insert(plan.resource.name().to_string(), counts);
        going = merge_stop(ctx, &mut result, stop);
        if !going {
            break;
        }
    }
    for plan in plans.iter().filter(|p| p.on_demand) {
        if !going {
            break;
        }
        let ids: Vec<String> = named
            .as_ref()
            .and_then(|n| n.get(&plan.resource))
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        let missing = store.missing_ids(ctx.org_id, plan.resource, &ids)?;
        let Some(first) = missing.first() else {
            continue;
        };
        log::info!(
            "{}: {} {} id(s) named by synced records are not in the store (e.g. {first}); polling {} now",
            ctx.org_id,
            missing.len(),
            plan.resource,
            plan.resource
        );
        let (counts, stop) = run_plan(ctx, store, plan, run_id, state, None)?;
        resources.insert(plan.resource.name().to_string(), counts);
        going = merge_stop(ctx, &mut result, stop);
    }

    // The KPI views read local days through each business's offsets: rewritten from
    // the stored businesses every run (a few hundred rows each), so a business added
    // or moved to another zone is placed right from this run on.
    let unknown_zones = store.refresh_local_offsets(ctx.org_id)?;
    if let Some(first) = unknown_zones.first() {
        log::warn!(
            "{}: {} business(es) have no time zone this build knows (e.g. {first}); \
             their appointments are counted on UTC days until Cliniko names a known zone",
            ctx.org_id,
            unknown_zones.len()
        );
    }

    let mut totals = BTreeMap::new();
    for plan in plans {
        totals.insert(
            plan.resource.name().to_string(),
            store.count_present(ctx.org_id, plan.resource)?,
        );
    }
    // Cliniko's clock, from the newest response: how far the host's may be trusted.
    let skew = ctx
        .client
        .server_date()
        .map(|d| ClockSkew::from_sample(ctx.clock.now(), &d));
    // Counted once per run (a few ms) so `status` reads a number instead of the view;
    // not where the view would count by a host clock that disagrees with Cliniko's
    // (`status` then shows the last count).
    let active_patients = if result == OrgResult::Ok {
        store.active_patients(ctx.org_id, skew.is_some_and(|s| s.within_tolerance()))?
    } else {
        None
    };
    let api_calls = ctx.client.calls() - calls_before;
    let duration = ctx.clock.monotonic().saturating_sub(begun);
    let (status, error) = match &result {
        OrgResult::Ok => (RunStatus::Ok, None),
        OrgResult::Failed(e) => (RunStatus::Failed, Some(e.clone())),
        OrgResult::DeadlinePassed => (RunStatus::Interrupted, Some(DEADLINE_PASSED.into())),
        _ => (
            RunStatus::Interrupted,
            Some(
                "interrupted by a signal; the next run continues from the last committed page"
                    .into(),
            ),
        ),
    };
    // Pages still held commit first, on their own: a failing commit is reported as
    // such, and the run is then recorded failed (not left `running`).
    store.commit_held()?;
    if let Some(skew) = skew {
        store.record_clock_skew(ctx.org_id, skew.seconds, skew.measured_at)?;
    }
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
            stopped_by_deadline: result == OrgResult::DeadlinePassed,
        },
    )?;
    if account_ok {
        retention::apply(ctx, store, skew);
    }
    Ok(OrgReport {
        org_id: ctx.org_id.to_string(),
        result,
        mode: mode.to_string(),
        resources,
        totals,
        api_calls,
        duration,
        clock_skew: skew.map(|s| s.seconds),
    })
}

/// Checks that the org's key answers for the Cliniko account its stored data came from
/// (`GET /settings`), and records that account. Asked only on the org's first run and
/// when the key changed since it was recorded (its digest differs): a key belongs to one
/// user of one account for good, so an unchanged key needs no request, and a quiet
/// sync keeps its one request per route. `Some` stops the org before any write.
fn check_account(ctx: &OrgContext<'_>, store: &mut dyn Store) -> Result<Option<Stop>, StoreError> {
    let org = ctx.org_id;
    let recorded = store.org_facts(org)?.account;
    if recorded
        .as_ref()
        .is_some_and(|a| a.key_digest.as_deref() == Some(ctx.key_digest))
    {
        return Ok(None);
    }
    let account = match ctx.client.account() {
        Ok(account) => account,
        Err(ApiError::Interrupted) => return Ok(Some(Stop::Interrupted)),
        Err(e @ ApiError::KeyRejected { .. }) => {
            return Ok(Some(Stop::Fatal(format!(
                "/settings: {e}; check {}",
                ctx.key_hint
            ))));
        }
        Err(e) => {
            return Ok(match &recorded {
                // A new key for an org with data: no write until it is known to be the
                // same account's.
                Some(r) => Some(Stop::Fatal(format!(
                    "the API key changed since the last sync and Cliniko's account for it could not be read (GET /settings: {e}), so it is not known to belong to Cliniko account {}; nothing was written, and the next run checks again",
                    describe(r)
                ))),
                None => {
                    log::warn!(
                        "{org}: cannot read which Cliniko account the key belongs to (GET /settings: {e}); syncing without recording it, and the next run asks again"
                    );
                    None
                }
            });
        }
    };
    if let Some(r) = recorded.as_ref().filter(|r| r.id != account.id) {
        return Ok(Some(Stop::Fatal(format!(
            "the API key answers for Cliniko account {account}, but org {org}'s data came from Cliniko account {}: nothing was written. If keys were swapped, put org {org}'s own clinic's key in {hint}; if this org really moved to another Cliniko account, erase its old data first with `routiq-sync forget --org {org}`",
            describe(r),
            hint = ctx.key_hint,
        ))));
    }
    if recorded.is_none() {
        log::info!("{org}: the API key belongs to Cliniko account {account}; recorded");
    }
    store.record_account(
        org,
        &AccountFacts {
            id: account.id,
            name: account.name,
            key_digest: Some(ctx.key_digest.to_string()),
        },
    )?;
    Ok(None)
}

/// `123 (Bondi Physio)`, or the bare id.
fn describe(a: &AccountFacts) -> String {
    match &a.name {
        Some(name) => format!("{} ({name})", a.id),
        None => a.id.clone(),
    }
}

/// Folds one resource's stop into the org's result; `false` when the org must stop.
fn merge_stop(ctx: &OrgContext<'_>, result: &mut OrgResult, stop: Option<Stop>) -> bool {
    match stop {
        None => true,
        Some(Stop::Interrupted) => {
            // Acquire on the stop flag: the deadline watcher sets `deadline_passed` before
            // it releases `cancel`, so a stop it caused is never taken for a signal.
            let deadline =
                ctx.cancel.load(Ordering::Acquire) && ctx.deadline_passed.load(Ordering::Relaxed);
            *result = if deadline {
                OrgResult::DeadlinePassed
            } else {
                OrgResult::Interrupted
            };
            false
        }
        Some(Stop::Failed(e)) => {
            add_failure(result, e);
            true
        }
        Some(Stop::Fatal(e)) => {
            add_failure(result, e);
            false
        }
    }
}

/// Adds a resource's failure to the org's result: every failing resource is named (one
/// `; `-separated message each), not only the first.
fn add_failure(result: &mut OrgResult, e: String) {
    match result {
        OrgResult::Ok => *result = OrgResult::Failed(e),
        OrgResult::Failed(earlier) => {
            earlier.push_str("; ");
            earlier.push_str(&e);
        }
        _ => {}
    }
}

/// Carries out one resource's plan: its walk (if any), then its verify (if planned).
fn run_plan(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    plan: &ResourcePlan,
    run_id: i64,
    state: &OrgState,
    named: Option<&mut BTreeMap<Resource, BTreeSet<String>>>,
) -> Result<(ResourceCounts, Option<Stop>), StoreError> {
    log::debug!(
        "{}: {} {} ({})",
        ctx.org_id,
        plan.resource,
        plan.mode.name(),
        plan.reason
    );
    let started_at = ctx.clock.now();
    let (mut counts, stop) = match plan.mode {
        Mode::Verify => (ResourceCounts::default(), None),
        _ => walk_resource(ctx, store, plan, run_id, named)?,
    };
    if stop.is_some() || !plan.verify {
        return Ok((counts, stop));
    }
    if !matches!(plan.mode, Mode::Full { .. }) {
        let calls_before = ctx.client.calls();
        // Rows it finds are seen by an unfinished full walk, so its end keeps them.
        let full_run = state
            .resource(plan.resource)
            .full_in_progress
            .map(|w| w.run_id);
        let checked = verify::verify_resource(ctx, store, plan.resource, full_run, &mut counts);
        counts.api_calls += ctx.client.calls() - calls_before;
        counts.mode = "verify".into();
        if let Err(e) = checked? {
            return Ok((counts, Some(classify(ctx, plan.resource, e))));
        }
    }
    store.finish_verify(ctx.org_id, plan.resource, started_at)?;
    Ok((counts, None))
}

/// Walks one resource to its end (or to the first failure), writing page by page.
/// Reference ids its rows name are added to `named`.
fn walk_resource(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    plan: &ResourcePlan,
    run_id: i64,
    named: Option<&mut BTreeMap<Resource, BTreeSet<String>>>,
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
        Mode::Incremental | Mode::Verify => None,
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
    let mut batch = Batch::default();
    let mut sink = Sink {
        ctx,
        store,
        resource,
        full,
        counts: &mut counts,
        named,
    };
    // Later pages are fetched and parsed while earlier ones are written (two cores).
    // Pages that arrive within a second of each other are written together; while they
    // keep arriving faster than [`BATCH_PAGES`] a second, the store keeps one transaction
    // open across batches (up to a limit), and a slower walk commits every batch.
    let walk = prefetch::walk_pages::<_, StoreError>(walk, ctx.client, ctx.cancel, |event| {
        let (flow, commit) = match event {
            Some(Ok(page)) => {
                if batch.pages.is_empty() {
                    batch.since = ctx.clock.monotonic();
                }
                batch.pages.push(page);
                let age = ctx.clock.monotonic().saturating_sub(batch.since);
                if age >= BATCH_AGE {
                    (Flow::Next, Commit::Now)
                } else if batch.pages.len() < BATCH_PAGES {
                    // Hold it: more may come within the batch's second.
                    return Ok(Flow::Within(BATCH_AGE - age));
                } else {
                    (Flow::Next, Commit::Held)
                }
            }
            // The pages before the failure are good: they commit.
            Some(Err(e)) => {
                stop = Some(classify(ctx, resource, e));
                (Flow::Stop, Commit::Now)
            }
            // Nothing more came within the batch's second (a slow or paced walk).
            None => (Flow::Next, Commit::Now),
        };
        batch.flush(&mut sink, commit)?;
        // Never wait on the network for long with a transaction held: if no page comes
        // within the batch's second, the `None` above commits it.
        Ok(match flow {
            Flow::Next if batch.held_rows > 0 => Flow::Within(BATCH_AGE),
            flow => flow,
        })
    })?;
    batch.flush(&mut sink, Commit::Now)?;
    if let (Some((full_run, started_at)), true) = (full, walk.is_complete()) {
        counts.deleted =
            store.finish_full(org, resource, full_run, started_at, ctx.cliniko_now())?;
    }
    if walk.is_complete() && resource.is_reference() {
        for key in resource.cursor_keys() {
            store.mark_polled(org, key, now)?;
        }
    }
    counts.api_calls = ctx.client.calls() - calls_before;
    Ok((counts, stop))
}

/// Pages written together at most, and the longest a page waits for others: pages
/// arriving faster than one a second are written together; a slower (paced, rate
/// limited) walk still commits every page within a second of receiving it.
const BATCH_PAGES: usize = 10;
const BATCH_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// Rows one held transaction takes at most, and the longest it stays open. Each commit
/// rewrites every index page its rows dirtied, and the indexes are in random order with
/// respect to the walk, so fewer, larger commits write far fewer bytes; the limits bound
/// what a kill loses (fetched again by the next run) and how long other writers of the
/// same file wait.
const HOLD_ROWS: usize = 10_000;
const HOLD_AGE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where a walk's batches go: the org's store, the resource and the full walk (its run
/// and start) they belong to, and what they add to the counts and the reference ids named.
struct Sink<'w, 'c> {
    ctx: &'w OrgContext<'c>,
    store: &'w mut dyn Store,
    resource: Resource,
    full: Option<(i64, crate::timestamp::Timestamp)>,
    counts: &'w mut ResourceCounts,
    named: Option<&'w mut BTreeMap<Resource, BTreeSet<String>>>,
}

/// Pages received but not yet written, and what the store holds uncommitted.
#[derive(Default)]
struct Batch {
    pages: Vec<WalkPage>,
    /// When the first of them arrived (monotonic).
    since: std::time::Duration,
    /// Rows written into the store's held transaction, and when it began (monotonic).
    held_rows: usize,
    held_since: std::time::Duration,
}

impl Batch {
    /// Writes the pages into the store's transaction, with what they settled, then
    /// records the reference ids they name and reports progress. The transaction
    /// commits unless `commit` is [`Commit::Held`] and it is within its limits.
    fn flush(&mut self, to: &mut Sink<'_, '_>, commit: Commit) -> Result<(), StoreError> {
        let Sink {
            ctx,
            ref mut store,
            resource,
            full,
            ref mut counts,
            ref mut named,
        } = *to;
        let org = ctx.org_id;
        if !self.pages.is_empty() {
            let pages: Vec<(&str, &[Record])> = self
                .pages
                .iter()
                .map(|p| (p.cursor_key, p.records.as_slice()))
                .collect();
            let written = store.write_route_pages(
                org,
                resource,
                &pages,
                full.map(|(id, _)| id),
                ctx.clock.now(),
                Commit::Held,
            )?;
            if self.held_rows == 0 {
                self.held_since = self.since;
            }
            self.held_rows += pages.iter().map(|(_, r)| r.len().max(1)).sum::<usize>();
            counts.written += written.written;
            counts.archived += written.archived;
            for page in self.pages.drain(..) {
                if let Some(s) = page.settled {
                    // In the same transaction: what a page settled commits with its rows.
                    store.record_settled(org, page.cursor_key, s)?;
                }
                if let Some(named) = named.as_deref_mut() {
                    collect_references(resource, &page.records, named);
                }
                counts.fetched += page.new_records;
                ctx.progress
                    .page_written(org, resource, counts.fetched, page.total_entries);
            }
        }
        let age = ctx.clock.monotonic().saturating_sub(self.held_since);
        let hold = commit == Commit::Held && self.held_rows < HOLD_ROWS && age < HOLD_AGE;
        if self.held_rows > 0 && !hold {
            store.commit_held()?;
            self.held_rows = 0;
        }
        Ok(())
    }
}

/// Adds the reference ids (`practitioner_id`, ...) that `records` of `resource` name.
fn collect_references(
    resource: Resource,
    records: &[Record],
    named: &mut BTreeMap<Resource, BTreeSet<String>>,
) {
    for (i, column) in resource.spec().columns.iter().enumerate() {
        let Some(target) = column.references() else {
            continue;
        };
        let ids = named.entry(target).or_default();
        for r in records {
            // Nearly every id is in the set already: copy only the new ones.
            if let Some(Some(id)) = r.columns.get(i)
                && !ids.contains(id)
            {
                ids.insert(id.clone());
            }
        }
    }
}

/// Turns an API failure into a message that names the org, the resource and what to do.
fn classify(ctx: &OrgContext<'_>, resource: Resource, e: ApiError) -> Stop {
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
        ApiError::Http { .. }
        | ApiError::BadResponse { .. }
        | ApiError::BadRecord { .. }
        | ApiError::NoProgress(_) => Stop::Failed(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failing_resource_is_named() {
        let mut result = OrgResult::Ok;
        add_failure(&mut result, "patients: HTTP 403".into());
        add_failure(&mut result, "appointments: HTTP 403".into());
        assert_eq!(
            result,
            OrgResult::Failed("patients: HTTP 403; appointments: HTTP 403".into())
        );
    }

    #[test]
    fn a_store_failure_says_once_that_the_next_run_continues() {
        let full = StoreError::DiskFull {
            path: "/var/lib/routiq/routiq.db".into(),
        };
        assert_eq!(
            store_failure(&full),
            "the disk holding the database /var/lib/routiq/routiq.db is full: free space \
             there (a sync grows the file, and its -wal beside it), or point `database` at a \
             disk with room; nothing after the last committed page was lost; the next run \
             continues from the last committed page"
        );
        let pg = StoreError::Server {
            target: "db:5432".into(),
            cause: crate::store::DbFailure::new(
                crate::store::FailureKind::Lost,
                std::io::Error::other("connection reset"),
            ),
        };
        let text = store_failure(&pg);
        assert_eq!(text.matches("next run").count(), 1, "{text}");
    }
}
