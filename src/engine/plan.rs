//! The pure planning step: given an org's stored state, the options and `now`, decide
//! whether to skip the org and how to sync each resource. No I/O, no clock.

use std::time::Duration;

use crate::cliniko::WalkStart;
use crate::config::AppointmentWindow;
use crate::resource::Resource;
use crate::store::{FullWalkState, OrgState};
use crate::timestamp::Timestamp;

/// Which command asked for the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `sync`: incremental where possible, skipping recently synced orgs.
    Sync,
    /// `full`: a fresh full walk of every selected resource, now.
    Full,
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
    pub appointment_window: Option<AppointmentWindow>,
}

/// How one resource is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Records updated since the cursor.
    Incremental,
    /// Every record, then reconciliation of what was not seen. `resume` continues an
    /// unfinished walk from its position instead of starting over.
    Full { resume: Option<FullWalkState> },
}

impl Mode {
    /// `full` or `incremental`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Incremental => "incremental",
            Mode::Full { .. } => "full",
        }
    }
}

/// The plan for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePlan {
    pub resource: Resource,
    pub mode: Mode,
    /// Where the walk starts.
    pub start: WalkStart,
    /// Limit on `starts_at` (incremental appointment pulls with a configured window).
    pub window: Option<(Timestamp, Timestamp)>,
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

/// The run's mode label: `full`, `incremental`, or `mixed` when resources differ.
pub fn mode_label(plans: &[ResourcePlan]) -> &'static str {
    let full = plans
        .iter()
        .filter(|p| matches!(p.mode, Mode::Full { .. }))
        .count();
    match full {
        0 => "incremental",
        n if n == plans.len() => "full",
        _ => "mixed",
    }
}

/// Decides what to do for one org.
pub fn plan_org(state: &OrgState, opts: &PlanOptions, now: Timestamp) -> OrgPlan {
    if let (Command::Sync, false, Some(last)) = (opts.command, opts.force, state.last_success_at) {
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

fn plan_resource(
    resource: Resource,
    state: &OrgState,
    opts: &PlanOptions,
    now: Timestamp,
) -> ResourcePlan {
    let rs = state.resources.get(&resource).copied().unwrap_or_default();
    let full = |resume: Option<FullWalkState>, reason: String| ResourcePlan {
        resource,
        mode: Mode::Full { resume },
        start: match resume.and_then(|w| w.position) {
            Some(position) => WalkStart::Since(position),
            None => WalkStart::Beginning,
        },
        window: None,
        reason,
    };
    if opts.command == Command::Full {
        return full(None, "full sync requested".into());
    }
    // An unfinished walk younger than the full-sync period is resumed, not restarted.
    let resumable = rs
        .full_in_progress
        .filter(|w| now.since(w.started_at) < opts.full_sync_every);
    let Some(cursor) = rs.cursor else {
        return full(resumable, "no cursor yet".into());
    };
    match rs.last_full_at {
        None => return full(resumable, "never fully synced".into()),
        Some(last) if now.since(last) >= opts.full_sync_every => {
            return full(
                resumable,
                format!("last full sync at {last} is older than full_sync_every"),
            );
        }
        Some(_) => {}
    }
    let window = match (resource, opts.appointment_window) {
        (Resource::Appointments, Some(w)) => {
            Some((now.sub(days(w.past_days)), now.add(days(w.future_days))))
        }
        _ => None,
    };
    ResourcePlan {
        resource,
        mode: Mode::Incremental,
        start: WalkStart::Since(cursor),
        window,
        reason: format!("changes since {cursor}"),
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
            appointment_window: None,
        }
    }

    fn synced(last_success: &str, cursor: &str, last_full: &str) -> OrgState {
        let rs = ResourceState {
            cursor: Some(ts(cursor)),
            last_full_at: Some(ts(last_full)),
            full_in_progress: None,
        };
        OrgState {
            last_success_at: Some(ts(last_success)),
            resources: [(Resource::Patients, rs), (Resource::Appointments, rs)].into(),
        }
    }

    fn modes(plan: &OrgPlan) -> Vec<&'static str> {
        match plan {
            OrgPlan::Run(p) => p.iter().map(|r| r.mode.name()).collect(),
            OrgPlan::Skip { .. } => vec!["skip"],
        }
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
        assert_eq!(p[0].start, WalkStart::Beginning);
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
        assert_eq!(p[0].start, WalkStart::Since(ts("2026-01-01T09:59:00Z")));
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
        if let Some(rs) = state.resources.get_mut(&Resource::Patients) {
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
        assert_eq!(p[0].start, WalkStart::Beginning);
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
            resources: [(
                Resource::Patients,
                ResourceState {
                    cursor: Some(ts("2025-06-01T00:00:00Z")),
                    last_full_at: None,
                    full_in_progress: Some(walk),
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
        assert_eq!(p[0].start, WalkStart::Since(ts("2025-06-01T00:00:00Z")));
        // A day later the stale walk is started over.
        let OrgPlan::Run(p) = plan_org(&state, &o, ts("2026-01-02T09:00:00Z")) else {
            panic!("skipped")
        };
        assert_eq!(p[0].mode, Mode::Full { resume: None });
    }
}
