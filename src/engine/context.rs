//! What the executor is given for one org, and the words it records for a deadline stop:
//! shared by the executor (`run`), its report and retention, so none of them imports
//! another for it.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::{Clock, Progress};
use crate::cliniko::Client;

/// What the executor needs for one org, supplied by the command layer.
pub struct OrgContext<'a> {
    pub org_id: &'a str,
    /// Where the org's key comes from, for error messages (`api_key_env = VAR in FILE`).
    pub key_hint: &'a str,
    /// A keyed digest of the org's API key (never the key): a key that changed since the
    /// org's account was recorded is checked against it again.
    pub key_digest: &'a str,
    pub client: &'a Client,
    pub clock: &'a dyn Clock,
    pub progress: &'a dyn Progress,
    pub cancel: &'a AtomicBool,
    /// Set together with `cancel` when the run's `max_run_time` passed: the stop is then
    /// recorded as the deadline's, not a signal's.
    pub deadline_passed: &'a AtomicBool,
    /// What to prune at the end of the org's run.
    pub retention: Retention,
    /// The org's privacy policy: stored rows are brought under it before the run syncs.
    pub privacy: &'a crate::privacy::OrgPolicy,
    /// The database roles that may read the org's rows (its `dashboard_roles`).
    pub dashboard_roles: &'a [String],
}

impl OrgContext<'_> {
    /// Cliniko's clock now, as this org's responses showed it (see
    /// [`super::clock::cliniko_now`]).
    pub fn cliniko_now(&self) -> crate::timestamp::Timestamp {
        super::clock::cliniko_now(self.client.server_date().as_ref(), self.clock.now())
    }
}

/// The error recorded for a run stopped by its deadline.
pub const DEADLINE_PASSED: &str = crate::store::DEADLINE_TEXT;

/// How long history and deleted rows are kept; `None` keeps them forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub keep_runs: Option<Duration>,
    pub purge_deleted_after: Option<Duration>,
}
