//! Plans and runs one org's sync: a pure plan ([`plan`]) plus an executor ([`sync_org`]).
//!
//! The engine never reads the environment or the clock: time comes from a [`Clock`], and
//! progress goes out through a [`Progress`], both supplied by the command layer.

pub mod clock;
mod context;
mod derive;
pub mod plan;
mod prefetch;
mod privacy;
mod report;
mod retention;
mod run;
mod verify;

use std::time::Duration;

pub use context::Retention;
pub use context::{DEADLINE_PASSED, OrgContext};
pub use plan::{
    Command, Mode, OrgPlan, PlanOptions, ResourcePlan, RoutePlan, checked_at, mode_label, plan_org,
};
pub use report::{OrgReport, OrgResult};
pub use run::sync_org;

use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// The engine's only source of time.
pub trait Clock: Sync {
    /// The current UTC time.
    fn now(&self) -> Timestamp;
    /// A monotonic reading, for durations.
    fn monotonic(&self) -> Duration;
}

/// Receives progress while orgs sync (progress bars on a terminal; nothing under cron).
pub trait Progress: Sync {
    /// A resource's walk starts.
    fn resource_started(&self, _org: &str, _resource: Resource, _mode: Mode) {}
    /// A page was written; `fetched` counts this walk so far, `remaining` is the
    /// API's `total_entries` for the rest of the range when it sends one.
    fn page_written(
        &self,
        _org: &str,
        _resource: Resource,
        _fetched: u64,
        _remaining: Option<u64>,
    ) {
    }
    /// The org is done (synced, skipped or failed).
    fn org_finished(&self, _report: &OrgReport) {}
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
