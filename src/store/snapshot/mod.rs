//! What `status` and `check` (and so the metrics) read about many orgs at once: each
//! org's sync state, newest runs, recorded facts, privacy state, row counts and whether
//! a run holds its lock, in a constant number of set-based statements whatever the
//! number of orgs (a monitor polls it every minute). The statements ([`statements`]) are
//! written once for both backends.

pub mod statements;

use std::collections::BTreeMap;

use super::{OrgFacts, OrgState, PrivacyState, ResourceState, RunRecord, StoreError, table};
use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// What the store holds about one org, as `status` and `check` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSnapshot {
    pub org_id: String,
    /// Whether a run holds the org's lock now.
    pub running: bool,
    /// Its sync state (as [`super::SyncState::org_state`]).
    pub state: OrgState,
    /// Its newest two runs, newest first, as recorded (see
    /// [`RunRecord::seen_without_its_lock`]).
    pub recent_runs: Vec<RunRecord>,
    /// Its clock check and account (as [`super::SyncState::org_facts`]).
    pub facts: OrgFacts,
    /// Its privacy policy's state (as [`super::PrivacyStore::privacy_state`]).
    pub privacy: PrivacyState,
    /// Rows of each resource not marked deleted upstream (a resource with none is absent).
    pub present: BTreeMap<Resource, u64>,
    /// The active-patient count of its newest successful run that counted them.
    pub last_active_patients: Option<u64>,
}

impl OrgSnapshot {
    /// Rows of `resource` not marked deleted upstream.
    pub fn present(&self, resource: Resource) -> u64 {
        self.present.get(&resource).copied().unwrap_or(0)
    }
}

/// Reading many orgs' [`OrgSnapshot`]s at once.
pub trait Snapshots {
    /// The snapshot of each of `org_ids`, in that order (an org with nothing stored has
    /// the defaults), read in a constant number of statements, in one read transaction.
    fn snapshots(&self, org_ids: &[&str]) -> Result<Vec<OrgSnapshot>, StoreError>;
}

/// One row of [`statements::org_rows`], as a backend decodes it.
pub(crate) struct OrgRow {
    pub org_id: String,
    pub last_success_at: Option<Timestamp>,
    pub last_active_patients: Option<u64>,
    pub facts: OrgFacts,
    /// `None` when the org has no privacy state row (its scrub marks are then not
    /// shown either, as [`super::PrivacyStore::privacy_state`] reads them).
    pub privacy: Option<PrivacyState>,
}

/// What a backend read, put together per org in the order of `org_ids`.
pub(crate) struct Parts {
    pub orgs: Vec<OrgRow>,
    /// `(org_id, cursor key, state)`.
    pub routes: Vec<(String, String, ResourceState)>,
    pub runs: Vec<RunRecord>,
    /// `(table name, org_id, rows)`.
    pub counts: Vec<(String, String, u64)>,
}

impl Parts {
    /// The snapshots of `org_ids`; `running` says whether an org's lock is held.
    pub fn assemble(self, org_ids: &[&str], running: impl Fn(&str) -> bool) -> Vec<OrgSnapshot> {
        let mut by_org: BTreeMap<String, OrgSnapshot> = BTreeMap::new();
        for row in self.orgs {
            let s = by_org.entry(row.org_id.clone()).or_default();
            s.state.last_success_at = row.last_success_at;
            s.last_active_patients = row.last_active_patients;
            s.facts = row.facts;
            s.privacy = row.privacy.unwrap_or_default();
        }
        for (org, key, state) in self.routes {
            by_org
                .entry(org)
                .or_default()
                .state
                .routes
                .insert(key, state);
        }
        for run in self.runs {
            by_org
                .entry(run.org_id.clone())
                .or_default()
                .recent_runs
                .push(run);
        }
        for (name, org, n) in self.counts {
            let resource = Resource::ALL.into_iter().find(|r| table(*r).name == name);
            if let Some(resource) = resource {
                by_org.entry(org).or_default().present.insert(resource, n);
            }
        }
        org_ids
            .iter()
            .map(|id| {
                let mut s = by_org.get(*id).cloned().unwrap_or_default();
                s.org_id = id.to_string();
                s.running = running(id);
                s.recent_runs.sort_by_key(|r| std::cmp::Reverse(r.id));
                s.recent_runs.truncate(2);
                s
            })
            .collect()
    }
}
