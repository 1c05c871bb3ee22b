//! The pure planning step: given an org's stored state, the options and `now`, decide
//! whether to skip the org and how to sync each resource. No I/O, no clock.

use std::time::Duration;

use super::clock::{human_duration, in_future};
use crate::cliniko::{Endpoint, WalkStart, routes};
use crate::config::AppointmentWindow;
use crate::resource::Resource;
use crate::store::{FullWalkState, OrgState, Refetch, ResourceState};
use crate::timestamp::Timestamp;

/// Which command asked for the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `sync`: incremental where possible, skipping recently synced orgs.
    Sync,
    /// `full`: a fresh full walk of every selected resource, now.
    Full,
    /// `verify`: check the copy against Cliniko's counts and repair what differs.
    Verify,
}

/// How far Cliniko's clock must be past a second before no row stamped with it can
/// still appear (transactions that commit late); after that the walk may start after it.
pub const SETTLE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// When a resource was last checked against Cliniko, given its last verify (of every
/// route; `None` if any route was never verified) and its last full walk: a full walk
/// checks as much as a verify does. `status` reports the next verify from this too.
pub fn checked_at(last_verify: Option<Timestamp>, last_full: Timestamp) -> Timestamp {
    last_verify.map_or(last_full, |v| v.max(last_full))
}

/// Everything besides stored state that shapes a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub command: Command,
    /// Ignore `min_interval`.
    pub force: bool,
    /// The resources to sync, in order.
    pub resources: Vec<Resource>,
    pub min_interval: Duration,
    pub full_sync_every: Duration,
    /// `sync` adds a verify when the last one (or full walk) is older than this.
    pub verify_every: Duration,
    /// `sync` polls reference resources at most this often...
    pub reference_every: Duration,
    /// ...unless they were named on the command line (`--resource practitioners`).
    pub poll_reference: bool,
    pub appointment_window: Option<AppointmentWindow>,
    /// Resources a change of privacy policy left to fetch again: `sync` walks each in
    /// full until a full walk started after the change completes, and is not skipped as
    /// recent meanwhile.
    pub refetch: Option<Refetch>,
}

/// How one resource is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Records updated since the cursor.
    Incremental,
    /// Every record, then reconciliation of what was not seen. `resume` continues an
    /// unfinished walk from its position instead of starting over.
    Full { resume: Option<FullWalkState> },
    /// No walk: only the count check of [`ResourcePlan::verify`].
    Verify,
}

impl Mode {
    /// `full`, `incremental` or `verify`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Incremental => "incremental",
            Mode::Full { .. } => "full",
            Mode::Verify => "verify",
        }
    }
}

/// Where the walk of one list route starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePlan {
    pub endpoint: Endpoint,
    pub start: WalkStart,
}

/// The plan for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePlan {
    pub resource: Resource,
    pub mode: Mode,
    /// Each of the resource's list routes (most have one), walked in this order, each
    /// from its own start.
    pub routes: Vec<RoutePlan>,
    /// Limit on `starts_at` (incremental appointment pulls with a configured window).
    pub window: Option<(Timestamp, Timestamp)>,
    /// After the walk (if any), the resource is verified: by counts after an incremental
    /// walk or none; a full walk is itself the check.
    pub verify: bool,
    /// Reference data not due: walked only if a record synced in this run points at an
    /// id the store lacks.
    pub on_demand: bool,
    /// Why this mode, for logs.
    pub reason: String,
}

/// The decision for one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgPlan {
    /// Synced less than `min_interval` ago.
    Skip {
        last_success_at: Timestamp,
        next_due_at: Timestamp,
    },
    Run(Vec<ResourcePlan>),
}

/// The run's mode label: `full`, `incremental`, `verify`, or `mixed` when resources
/// differ. Reference data is left out when there is other data (it is read whole by
/// every verify, being one page).
pub fn mode_label(plans: &[ResourcePlan]) -> &'static str {
    let core: Vec<&ResourcePlan> = plans
        .iter()
        .filter(|p| !p.resource.is_reference())
        .collect();
    let plans: Vec<&ResourcePlan> = if core.is_empty() {
        plans.iter().collect()
    } else {
        core
    };
    let full = plans
        .iter()
        .filter(|p| matches!(p.mode, Mode::Full { .. }))
        .count();
    match full {
        0 if plans.iter().any(|p| p.verify) => "verify",
        0 => "incremental",
        n if n == plans.len() => "full",
        _ => "mixed",
    }
}

/// The stored host-clock times of `state` that lie in the future at `now` (past
/// [`super::clock::CLOCK_TOLERANCE`]): written while the host clock was ahead, they are
/// treated as unknown by [`plan_org`]. One warning for them all (a clock that was ahead
/// wrote every time of every route), saying how many of each kind and how far ahead;
/// `None` when there are none.
pub fn future_times(state: &OrgState, now: Timestamp) -> Option<String> {
    let future = |t: &Option<Timestamp>| t.filter(|t| in_future(*t, now));
    let routes = |time: fn(&ResourceState) -> Option<Timestamp>| -> Vec<Timestamp> {
        state
            .routes
            .values()
            .filter_map(|rs| future(&time(rs)))
            .collect()
    };
    let kinds: [(&str, Vec<Timestamp>); 5] = [
        (
            "the last success",
            future(&state.last_success_at).into_iter().collect(),
        ),
        ("last full sync", routes(|rs| rs.last_full_at)),
        ("last verify", routes(|rs| rs.last_verify_at)),
        ("last poll", routes(|rs| rs.polled_at)),
        (
            "unfinished full sync's start",
            routes(|rs| rs.full_in_progress.map(|w| w.started_at)),
        ),
    ];
    let latest = kinds.iter().flat_map(|(_, ts)| ts).max()?;
    let count: usize = kinds.iter().map(|(_, ts)| ts.len()).sum();
    let named: Vec<String> = kinds
        .iter()
        .filter(|(_, ts)| !ts.is_empty())
        .map(|(what, ts)| match (*what, ts.len()) {
            ("the last success", _) => what.to_string(),
            (what, 1) => format!("1 route's {what}"),
            (what, n) => format!("{n} routes' {what}"),
        })
        .collect();
    Some(format!(
        "{count} stored time(s) lie in the future, up to {} ahead of the host clock ({}): \
         was the host clock ahead when they were stored? They are treated as unknown, and \
         the next successful runs store times that replace them",
        human_duration(latest.since(now)),
        named.join(", ")
    ))
}

/// `state` with every host-clock time that lies in the future at `now` made unknown:
/// an org whose last success seems to come later than now is due, a resource whose last
/// full sync does is due a full sync, and so on. The next successful run stores times
/// from the host clock as it is then, which corrects them.
fn trusted(state: &OrgState, now: Timestamp) -> OrgState {
    let keep = |t: Option<Timestamp>| t.filter(|t| !in_future(*t, now));
    OrgState {
        last_success_at: keep(state.last_success_at),
        routes: state
            .routes
            .iter()
            .map(|(key, rs)| {
                let rs = ResourceState {
                    last_full_at: keep(rs.last_full_at),
                    last_verify_at: keep(rs.last_verify_at),
                    polled_at: keep(rs.polled_at),
                    full_in_progress: rs
                        .full_in_progress
                        .filter(|w| !in_future(w.started_at, now)),
                    ..*rs
                };
                (key.clone(), rs)
            })
            .collect(),
    }
}

/// Decides what to do for one org. Stored times that lie in the future count as
/// unknown ([`future_times`] names them).
pub fn plan_org(state: &OrgState, opts: &PlanOptions, now: Timestamp) -> OrgPlan {
    let state = &trusted(state, now);
    let refetch_due = opts.resources.iter().any(|r| refetch_due(*r, state, opts));
    if let (Command::Sync, false, Some(last)) = (opts.command, opts.force, state.last_success_at)
        && !refetch_due
    {
        let next_due_at = last.add(opts.min_interval);
        if now < next_due_at {
            return OrgPlan::Skip {
                last_success_at: last,
                next_due_at,
            };
        }
    }
    OrgPlan::Run(
        opts.resources
            .iter()
            .map(|&r| plan_resource(r, state, opts, now))
            .collect(),
    )
}

/// Whether `sync` must walk `resource` in full to fetch again what a change of privacy
/// policy left behind.
fn refetch_due(resource: Resource, state: &OrgState, opts: &PlanOptions) -> bool {
    opts.command == Command::Sync
        && opts
            .refetch
            .as_ref()
            .is_some_and(|r| r.due(resource, state))
}

fn plan_resource(
    resource: Resource,
    state: &OrgState,
    opts: &PlanOptions,
    now: Timestamp,
) -> ResourcePlan {
    let endpoints = routes(resource);
    let states: Vec<ResourceState> = endpoints
        .iter()
        .map(|e| state.route(e.cursor_key))
        .collect();
    let plan = |mode: Mode, starts: Vec<WalkStart>, window, reason: String| ResourcePlan {
        resource,
        mode,
        verify: false,
        on_demand: false,
        routes: endpoints
            .iter()
            .zip(starts)
            .map(|(e, start)| RoutePlan {
                endpoint: *e,
                start,
            })
            .collect(),
        window,
        reason,
    };
    let full = |resume: Option<FullWalkState>, reason: String| {
        let starts = states
            .iter()
            .map(
                |s| match resume.and(s.full_in_progress).and_then(|w| w.position) {
                    Some(position) => WalkStart::Since(position),
                    None => WalkStart::Beginning,
                },
            )
            .collect();
        plan(Mode::Full { resume }, starts, None, reason)
    };
    if opts.command == Command::Full {
        return full(None, "full sync requested".into());
    }
    // An unfinished walk younger than the full-sync period is resumed, not restarted.
    // Every route of the resource began it together, so all must still be in it.
    let resumable = states[0]
        .full_in_progress
        .filter(|w| now.since(w.started_at) < opts.full_sync_every)
        .filter(|w| {
            states
                .iter()
                .all(|s| s.full_in_progress.is_some_and(|o| o.run_id == w.run_id))
        });
    let Some(last) = state.last_full(resource) else {
        // A refetch due forgot every full walk (done and under way): this one starts
        // after the change.
        let reason = if refetch_due(resource, state, opts) {
            "the privacy policy changed in a way the stored rows cannot follow: fetching \
             them again"
        } else if states.iter().any(|s| s.cursor.is_none()) {
            "no cursor yet"
        } else {
            "never fully synced"
        };
        return full(resumable, reason.into());
    };
    if now.since(last) >= opts.full_sync_every {
        return full(
            resumable,
            format!("last full sync at {last} is older than full_sync_every"),
        );
    }
    let last_check = checked_at(
        states.iter().map(|s| s.last_verify_at).min().flatten(),
        last,
    );
    let verify = match opts.command {
        Command::Verify => Some("verify requested".to_string()),
        _ if now.since(last_check) >= opts.verify_every => Some(format!(
            "last verify at {last_check} is older than verify_every"
        )),
        _ => None,
    };
    if let (true, Some(why)) = (resource.is_reference(), &verify) {
        // Reference data is small (a page per route): a verify reads it whole, which
        // both polls it and reconciles it.
        return ResourcePlan {
            verify: true,
            ..full(resumable, format!("{why}; reference data is read whole"))
        };
    }
    if let (Command::Verify, Some(why)) = (opts.command, &verify) {
        return ResourcePlan {
            verify: true,
            ..plan(Mode::Verify, Vec::new(), None, why.clone())
        };
    }
    let window = match (resource, opts.appointment_window) {
        (Resource::Appointments, Some(w)) => {
            Some((now.sub(days(w.past_days)), now.add(days(w.future_days))))
        }
        _ => None,
    };
    // A route without a cursor after a complete full walk was empty then: it is read
    // from the beginning (one request while it stays empty).
    let starts: Vec<WalkStart> = states.iter().map(incremental_start).collect();
    let since = |s: &ResourceState| {
        s.cursor
            .map_or("the beginning (empty so far)".to_string(), |c| {
                c.to_string()
            })
    };
    let reason = match states.as_slice() {
        [one] => format!("changes since {}", since(one)),
        _ => endpoints
            .iter()
            .zip(&states)
            .map(|(e, s)| format!("{}: changes since {}", e.path, since(s)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut p = plan(Mode::Incremental, starts, window, reason);
    p.verify = verify.is_some();
    if let Some(why) = verify {
        p.reason = format!("{}; then verify ({why})", p.reason);
    }
    if resource.is_reference() && !opts.poll_reference {
        let polled = states.iter().map(|s| s.polled_at).min().flatten();
        if let Some(at) = polled.filter(|at| now.since(*at) < opts.reference_every) {
            p.on_demand = true;
            p.reason = format!(
                "reference data polled at {at}, due again at {}; polled now only if a record points at an id the store lacks",
                at.add(opts.reference_every)
            );
        }
    }
    p
}

/// Where an incremental walk of a route starts: after its cursor second once that was
/// read completely at least [`SETTLE_MARGIN`] after it (by Cliniko's clock), else at it.
fn incremental_start(s: &ResourceState) -> WalkStart {
    match (s.cursor, s.settled) {
        (Some(c), Some(st)) if st.second == c && st.read_from >= c.add(SETTLE_MARGIN) => {
            WalkStart::After(c)
        }
        (Some(c), _) => WalkStart::Since(c),
        (None, _) => WalkStart::Beginning,
    }
}

fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ResourceState;

    const HOUR: Duration = Duration::from_secs(3600);

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn opts(command: Command) -> PlanOptions {
        PlanOptions {
            command,
            force: false,
            resources: vec![Resource::Patients, Resource::Appointments],
            min_interval: Duration::from_secs(30 * 60),
            full_sync_every: 24 * HOUR,
            verify_every: 24 * HOUR,
            reference_every: 24 * HOUR,
            poll_reference: false,
            appointment_window: None,
            refetch: None,
        }
    }

    fn synced(last_success: &str, cursor: &str, last_full: &str) -> OrgState {
        let rs = ResourceState {
            cursor: Some(ts(cursor)),
            last_full_at: Some(ts(last_full)),
            ..ResourceState::default()
        };
        OrgState {
            last_success_at: Some(ts(last_success)),
            routes: [
                ("patients".to_string(), rs),
                ("appointments".to_string(), rs),
            ]
            .into(),
        }
    }

    fn modes(plan: &OrgPlan) -> Vec<&'static str> {
        match plan {
            OrgPlan::Run(p) => p.iter().map(|r| r.mode.name()).collect(),
            OrgPlan::Skip { .. } => vec!["skip"],
        }
    }

    #[test]
    fn a_refetch_after_a_policy_change_walks_its_resource_in_full_even_when_recent() {
        // Synced a minute ago; the change forgot the patients' full walk.
        let mut state = synced(
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
        );
        state.routes.get_mut("patients").unwrap().last_full_at = None;
        let now = ts("2026-01-01T00:01:00Z");
        let o = PlanOptions {
            refetch: Some(Refetch {
                resources: vec![Resource::Patients],
            }),
            ..opts(Command::Sync)
        };
        let plan = plan_org(&state, &o, now);
        assert_eq!(modes(&plan), ["full", "incremental"]);
        let OrgPlan::Run(plans) = &plan else {
            unreachable!()
        };
        assert!(
            plans[0].reason.starts_with("the privacy policy changed"),
            "{}",
            plans[0].reason
        );
        // Once a full walk completed, it is an ordinary recent org again.
        let done = synced(
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:30Z",
        );
        assert_eq!(modes(&plan_org(&done, &o, now)), ["skip"]);
        // `verify` plans as always: a resource whose full walk is unknown gets one.
        let verify = PlanOptions {
            command: Command::Verify,
            ..o.clone()
        };
        let OrgPlan::Run(plans) = plan_org(&state, &verify, now) else {
            unreachable!()
        };
        assert_eq!(plans[0].reason, "never fully synced");
    }

    #[test]
    fn never_synced_org_gets_a_full_walk_from_the_beginning() {
        let plan = plan_org(
            &OrgState::default(),
            &opts(Command::Sync),
            ts("2026-01-01T00:00:00Z"),
        );
        assert_eq!(modes(&plan), ["full", "full"]);
        let OrgPlan::Run(p) = plan else {
            unreachable!()
        };
        assert_eq!(p[0].routes[0].start, WalkStart::Beginning);
        assert_eq!(mode_label(&p), "full");
    }

    #[test]
    fn recent_success_is_skipped_unless_forced() {
        let state = synced(
            "2026-01-01T10:00:00Z",
            "2026-01-01T09:59:00Z",
            "2026-01-01T02:00:00Z",
        );
        let now = ts("2026-01-01T10:29:59Z");
        assert_eq!(
            plan_org(&state, &opts(Command::Sync), now),
            OrgPlan::Skip {
                last_success_at: ts("2026-01-01T10:00:00Z"),
                next_due_at: ts("2026-01-01T10:30:00Z")
            }
        );
        let forced = PlanOptions {
            force: true,
            ..opts(Command::Sync)
        };
        assert_eq!(
            modes(&plan_org(&state, &forced, now)),
            ["incremental", "incremental"]
        );
        // Exactly at the interval the org is due again.
        assert_eq!(
            modes(&plan_org(
                &state,
                &opts(Command::Sync),
                ts("2026-01-01T10:30:00Z")
            )),
            ["incremental", "incremental"]
        );
    }

    #[test]
    fn incremental_starts_at_the_cursor_with_the_appointment_window() {
        let state = synced(
            "2026-01-01T10:00:00Z",
            "2026-01-01T09:59:00Z",
            "2026-01-01T02:00:00Z",
        );
        let o = PlanOptions {
            appointment_window: Some(AppointmentWindow {
                past_days: 7,
                future_days: 30,
            }),
            ..opts(Command::Sync)
        };
        let OrgPlan::Run(p) = plan_org(&state, &o, ts("2026-01-01T12:00:00Z")) else {
            panic!("skipped")
        };
        assert_eq!(
            p[0].routes[0].start,
            WalkStart::Since(ts("2026-01-01T09:59:00Z"))
        );
        assert_eq!(p[0].window, None, "patients have no window");
        assert_eq!(
            p[1].window,
            Some((ts("2025-12-25T12:00:00Z"), ts("2026-01-31T12:00:00Z")))
        );
        assert_eq!(mode_label(&p), "incremental");
    }

    #[test]
    fn escalates_to_full_once_a_day() {
        let state = synced(
            "2026-01-02T01:00:00Z",
            "2026-01-02T00:59:00Z",
            "2026-01-01T02:00:00Z",
        );
        assert_eq!(
            modes(&plan_org(
                &state,
                &opts(Command::Sync),
                ts("2026-01-02T01:59:59Z")
            )),
            ["incremental", "incremental"]
        );
        let plan = plan_org(&state, &opts(Command::Sync), ts("2026-01-02T02:00:00Z"));
        assert_eq!(modes(&plan), ["full", "full"]);
    }

    #[test]
    fn full_command_ignores_interval_and_unfinished_walks() {
        let mut state = synced(
            "2026-01-01T10:00:00Z",
            "2026-01-01T09:59:00Z",
            "2026-01-01T09:00:00Z",
        );
        if let Some(rs) = state.routes.get_mut("patients") {
            rs.full_in_progress = Some(FullWalkState {
                run_id: 7,
                started_at: ts("2026-01-01T09:00:00Z"),
                position: Some(ts("2025-06-01T00:00:00Z")),
            });
        }
        let OrgPlan::Run(p) = plan_org(&state, &opts(Command::Full), ts("2026-01-01T10:01:00Z"))
        else {
            panic!("skipped")
        };
        assert_eq!(p[0].mode, Mode::Full { resume: None });
        assert_eq!(p[0].routes[0].start, WalkStart::Beginning);
    }

    #[test]
    fn an_unfinished_full_walk_is_resumed_from_its_position() {
        let walk = FullWalkState {
            run_id: 7,
            started_at: ts("2026-01-01T09:00:00Z"),
            position: Some(ts("2025-06-01T00:00:00Z")),
        };
        let state = OrgState {
            last_success_at: None,
            routes: [(
                "patients".to_string(),
                ResourceState {
                    cursor: Some(ts("2025-06-01T00:00:00Z")),
                    last_full_at: None,
                    full_in_progress: Some(walk),
                    ..ResourceState::default()
                },
            )]
            .into(),
        };
        let o = PlanOptions {
            resources: vec![Resource::Patients],
            ..opts(Command::Sync)
        };
        let OrgPlan::Run(p) = plan_org(&state, &o, ts("2026-01-01T09:30:00Z")) else {
            panic!("skipped")
        };
        assert_eq!(p[0].mode, Mode::Full { resume: Some(walk) });
        assert_eq!(
            p[0].routes[0].start,
            WalkStart::Since(ts("2025-06-01T00:00:00Z"))
        );
        // A day later the stale walk is started over.
        let OrgPlan::Run(p) = plan_org(&state, &o, ts("2026-01-02T09:00:00Z")) else {
            panic!("skipped")
        };
        assert_eq!(p[0].mode, Mode::Full { resume: None });
    }

    fn route_state(cursor: Option<&str>, last_full: Option<&str>) -> ResourceState {
        ResourceState {
            cursor: cursor.map(ts),
            last_full_at: last_full.map(ts),
            ..ResourceState::default()
        }
    }

    fn practitioners(state: &OrgState, now: &str) -> ResourcePlan {
        let o = PlanOptions {
            resources: vec![Resource::Practitioners],
            ..opts(Command::Sync)
        };
        match plan_org(state, &o, ts(now)) {
            OrgPlan::Run(mut p) => p.remove(0),
            OrgPlan::Skip { .. } => panic!("skipped"),
        }
    }

    #[test]
    fn each_route_of_a_resource_starts_at_its_own_cursor() {
        let state = OrgState {
            routes: [
                (
                    "practitioners".to_string(),
                    route_state(Some("2026-01-01T08:00:00Z"), Some("2026-01-01T02:00:00Z")),
                ),
                (
                    "practitioners_inactive".to_string(),
                    route_state(Some("2025-03-01T00:00:00Z"), Some("2026-01-01T02:00:00Z")),
                ),
            ]
            .into(),
            ..OrgState::default()
        };
        let p = practitioners(&state, "2026-01-01T10:00:00Z");
        assert_eq!(p.mode, Mode::Incremental);
        let starts: Vec<_> = p
            .routes
            .iter()
            .map(|r| (r.endpoint.path, r.start))
            .collect();
        assert_eq!(
            starts,
            [
                (
                    "/practitioners",
                    WalkStart::Since(ts("2026-01-01T08:00:00Z"))
                ),
                (
                    "/practitioners/inactive",
                    WalkStart::Since(ts("2025-03-01T00:00:00Z"))
                )
            ]
        );
    }

    #[test]
    fn a_route_empty_at_the_last_full_sync_is_read_from_the_beginning() {
        let mut state = OrgState {
            routes: [
                (
                    "practitioners".to_string(),
                    route_state(Some("2026-01-01T08:00:00Z"), Some("2026-01-01T02:00:00Z")),
                ),
                (
                    "practitioners_inactive".to_string(),
                    route_state(None, Some("2026-01-01T02:00:00Z")),
                ),
            ]
            .into(),
            ..OrgState::default()
        };
        let p = practitioners(&state, "2026-01-01T10:00:00Z");
        assert_eq!(p.mode, Mode::Incremental);
        assert_eq!(p.routes[1].start, WalkStart::Beginning);
        // A route that never finished a full walk makes the whole resource full.
        state
            .routes
            .insert("practitioners_inactive".into(), route_state(None, None));
        let p = practitioners(&state, "2026-01-01T10:00:00Z");
        assert_eq!(p.mode, Mode::Full { resume: None });
        assert!(p.routes.iter().all(|r| r.start == WalkStart::Beginning));
    }

    #[test]
    fn an_unfinished_multi_route_walk_resumes_every_route_from_its_position() {
        let walk = |position: Option<&str>| FullWalkState {
            run_id: 9,
            started_at: ts("2026-01-01T09:00:00Z"),
            position: position.map(ts),
        };
        let in_walk = |position: Option<&str>| ResourceState {
            cursor: position.map(ts),
            last_full_at: None,
            full_in_progress: Some(walk(position)),
            ..ResourceState::default()
        };
        let mut state = OrgState {
            routes: [
                (
                    "practitioners".to_string(),
                    in_walk(Some("2025-12-01T00:00:00Z")),
                ),
                ("practitioners_inactive".to_string(), in_walk(None)),
            ]
            .into(),
            ..OrgState::default()
        };
        let p = practitioners(&state, "2026-01-01T09:30:00Z");
        assert_eq!(
            p.mode,
            Mode::Full {
                resume: Some(walk(Some("2025-12-01T00:00:00Z")))
            }
        );
        assert_eq!(
            p.routes[0].start,
            WalkStart::Since(ts("2025-12-01T00:00:00Z"))
        );
        assert_eq!(p.routes[1].start, WalkStart::Beginning);
        // A route outside that walk (another run) means starting over.
        let mut other = in_walk(None);
        other.full_in_progress = Some(FullWalkState {
            run_id: 8,
            ..walk(None)
        });
        state.routes.insert("practitioners_inactive".into(), other);
        let p = practitioners(&state, "2026-01-01T09:30:00Z");
        assert_eq!(p.mode, Mode::Full { resume: None });
        assert!(p.routes.iter().all(|r| r.start == WalkStart::Beginning));
    }

    fn one(state: &OrgState, resource: Resource, command: Command, now: &str) -> ResourcePlan {
        let o = PlanOptions {
            resources: vec![resource],
            ..opts(command)
        };
        match plan_org(state, &o, ts(now)) {
            OrgPlan::Run(mut p) => p.remove(0),
            OrgPlan::Skip { .. } => panic!("skipped"),
        }
    }

    fn with_route(key: &str, rs: ResourceState) -> OrgState {
        OrgState {
            routes: [(key.to_string(), rs)].into(),
            ..OrgState::default()
        }
    }

    #[test]
    fn reference_data_waits_for_its_cadence_and_is_read_whole_by_verify() {
        let polled = |at: &str| ResourceState {
            polled_at: Some(ts(at)),
            ..route_state(Some("2026-01-01T08:00:00Z"), Some("2026-01-01T02:00:00Z"))
        };
        let state = with_route("appointment_types", polled("2026-01-01T09:00:00Z"));
        let p = one(
            &state,
            Resource::AppointmentTypes,
            Command::Sync,
            "2026-01-01T12:00:00Z",
        );
        assert_eq!(p.mode, Mode::Incremental);
        assert!(p.on_demand, "polled 3h ago: only on demand");
        let p = one(
            &state,
            Resource::AppointmentTypes,
            Command::Sync,
            "2026-01-02T09:00:00Z",
        );
        assert!(!p.on_demand, "a day later it is due");
        // Never polled (a database from before this version): due.
        let state = with_route(
            "appointment_types",
            route_state(Some("2026-01-01T08:00:00Z"), Some("2026-01-01T02:00:00Z")),
        );
        let p = one(
            &state,
            Resource::AppointmentTypes,
            Command::Sync,
            "2026-01-01T12:00:00Z",
        );
        assert!(!p.on_demand);
        // Patients are never on demand.
        let state = with_route("patients", polled("2026-01-01T09:00:00Z"));
        assert!(
            !one(
                &state,
                Resource::Patients,
                Command::Sync,
                "2026-01-01T12:00:00Z"
            )
            .on_demand
        );
        // verify reads reference data whole and checks other data by counts.
        let state = with_route("appointment_types", polled("2026-01-01T09:00:00Z"));
        let p = one(
            &state,
            Resource::AppointmentTypes,
            Command::Verify,
            "2026-01-01T12:00:00Z",
        );
        assert_eq!((p.mode, p.verify), (Mode::Full { resume: None }, true));
        let state = with_route("patients", polled("2026-01-01T09:00:00Z"));
        let p = one(
            &state,
            Resource::Patients,
            Command::Verify,
            "2026-01-01T12:00:00Z",
        );
        assert_eq!((p.mode, p.verify), (Mode::Verify, true));
        assert_eq!(mode_label(&[p]), "verify");
    }

    #[test]
    fn sync_adds_a_verify_when_verify_every_passed_since_the_last_check() {
        let mut rs = route_state(Some("2026-01-01T08:00:00Z"), Some("2026-01-01T02:00:00Z"));
        let o = PlanOptions {
            full_sync_every: 7 * 24 * HOUR,
            resources: vec![Resource::Patients],
            ..opts(Command::Sync)
        };
        let plan =
            |rs: ResourceState, now: &str| match plan_org(&with_route("patients", rs), &o, ts(now))
            {
                OrgPlan::Run(mut p) => p.remove(0),
                OrgPlan::Skip { .. } => panic!("skipped"),
            };
        let p = plan(rs, "2026-01-02T01:59:59Z");
        assert_eq!((p.mode, p.verify), (Mode::Incremental, false));
        let p = plan(rs, "2026-01-02T02:00:00Z");
        assert_eq!((p.mode, p.verify), (Mode::Incremental, true));
        assert_eq!(mode_label(std::slice::from_ref(&p)), "verify");
        rs.last_verify_at = Some(ts("2026-01-02T03:00:00Z"));
        assert!(!plan(rs, "2026-01-03T02:59:59Z").verify);
        assert!(plan(rs, "2026-01-03T03:00:00Z").verify);
        // A week after the last full walk, the full walk comes back.
        assert_eq!(
            plan(rs, "2026-01-08T02:00:00Z").mode,
            Mode::Full { resume: None }
        );
    }

    #[test]
    fn stored_times_in_the_future_are_unknown_and_named() {
        // Written while the host clock was 400 days ahead; the clock is right again.
        let future = "2028-01-07T09:32:42Z";
        let mut state = synced(future, "2026-01-01T09:59:00Z", future);
        for rs in state.routes.values_mut() {
            rs.last_verify_at = Some(ts(future));
        }
        let now = ts("2026-12-03T10:00:00Z");
        let plan = plan_org(&state, &opts(Command::Sync), now);
        assert_eq!(modes(&plan), ["full", "full"], "due, and due a full sync");
        assert_eq!(
            future_times(&state, now).as_deref(),
            Some(
                "5 stored time(s) lie in the future, up to 400 days ahead of the host clock \
                 (the last success, 2 routes' last full sync, 2 routes' last verify): was the \
                 host \
                 clock ahead when they were stored? They are treated as unknown, and the next \
                 successful runs store times that replace them"
            )
        );
        // Within the tolerance (2 min) a time ahead of now is believed.
        let soon = synced(
            "2026-12-03T10:02:00Z",
            "2026-12-03T09:59:00Z",
            "2026-12-03T02:00:00Z",
        );
        assert!(future_times(&soon, now).is_none());
        assert_eq!(modes(&plan_org(&soon, &opts(Command::Sync), now)), ["skip"]);
        // verify_every and reference_every treat a future verify or poll as never.
        let rs = ResourceState {
            last_verify_at: Some(ts(future)),
            polled_at: Some(ts(future)),
            ..route_state(Some("2026-12-03T08:00:00Z"), Some("2026-12-03T02:00:00Z"))
        };
        let p = one(
            &with_route("patients", rs),
            Resource::Patients,
            Command::Sync,
            "2026-12-03T10:00:00Z",
        );
        assert_eq!((p.mode, p.verify), (Mode::Incremental, false));
        let p = one(
            &with_route("appointment_types", rs),
            Resource::AppointmentTypes,
            Command::Sync,
            "2026-12-03T10:00:00Z",
        );
        assert!(!p.on_demand, "a poll in the future is no poll: due now");
        let o = PlanOptions {
            verify_every: 4 * HOUR,
            resources: vec![Resource::Patients],
            ..opts(Command::Sync)
        };
        let OrgPlan::Run(p) = plan_org(&with_route("patients", rs), &o, now) else {
            panic!("skipped")
        };
        assert!(
            p[0].verify,
            "a verify in the future is no verify: the full walk's age counts"
        );
    }

    #[test]
    fn a_settled_cursor_second_is_not_read_again() {
        let cursor = "2026-01-01T08:00:00Z";
        let settled = |read_from: &str| ResourceState {
            settled: Some(crate::store::SettledSecond {
                second: ts(cursor),
                read_from: ts(read_from),
            }),
            ..route_state(Some(cursor), Some("2026-01-01T02:00:00Z"))
        };
        let start = |rs| {
            one(
                &with_route("patients", rs),
                Resource::Patients,
                Command::Sync,
                "2026-01-01T12:00:00Z",
            )
            .routes[0]
                .start
        };
        assert_eq!(
            start(settled("2026-01-01T08:04:59Z")),
            WalkStart::Since(ts(cursor))
        );
        assert_eq!(
            start(settled("2026-01-01T08:05:00Z")),
            WalkStart::After(ts(cursor))
        );
        // Evidence about an older second says nothing about the cursor's.
        let mut rs = settled("2026-01-01T09:00:00Z");
        rs.cursor = Some(ts("2026-01-01T08:30:00Z"));
        assert_eq!(start(rs), WalkStart::Since(ts("2026-01-01T08:30:00Z")));
    }
}
