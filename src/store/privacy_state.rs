//! What the store records about the privacy policy of each org: the fingerprint and the
//! rules of the policy every stored row was last brought under, the resources a change
//! left to fetch again from Cliniko, and a rewrite in progress (batches by id, each
//! committed with its position, so a killed rewrite resumes where it stopped).

use crate::record::Record;
use crate::resource::Resource;
use crate::timestamp::Timestamp;

use super::{OrgState, StoreError};

/// The stored state of one org's policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivacyState {
    /// The fingerprint of the policy applied to every stored row; `None`: no policy.
    pub fingerprint: Option<String>,
    /// When it was applied (our clock).
    pub applied_at: Option<Timestamp>,
    /// A rewrite under another policy begun and not finished.
    pub pending: Option<PrivacyProgress>,
    /// The rules of the applied policy (`OrgPolicy::rules_text`); `None`: no policy, or
    /// applied by a release that did not record them.
    pub rules: Option<String>,
    /// Resources whose stored rows the local rewrite could not bring under the policy.
    pub refetch: Option<Refetch>,
    /// The tables whose files may still hold bytes of rows this org's rewrites or
    /// deletes replaced: scrubbed at the end of the run (see `scrub_due`), or at the next
    /// run's end when the scrub was deferred or failed. In table order.
    pub scrub_due: Vec<String>,
}

impl PrivacyState {
    /// [`PrivacyState::scrub_due`] from its column: the table names, comma-separated, in
    /// any order.
    pub fn tables_from_column(column: Option<String>) -> Vec<String> {
        let column = column.unwrap_or_default();
        super::known_tables(column.split(','))
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// Resources to fetch again from Cliniko since a change of policy: values an older policy
/// dropped, cut or hashed under another secret cannot be recovered from the rows.
/// Recording it forgets their full walks (done and under way), so that the next complete
/// one, which starts after the change, is what brings them under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refetch {
    pub resources: Vec<Resource>,
}

impl Refetch {
    /// Whether `resource` still waits for its full walk in `state`.
    pub fn due(&self, resource: Resource, state: &OrgState) -> bool {
        self.resources.contains(&resource) && state.last_full(resource).is_none()
    }

    /// The resources of `synced` (those an org syncs) still waiting, in order.
    pub fn pending(&self, state: &OrgState, synced: &[Resource]) -> Vec<Resource> {
        synced
            .iter()
            .copied()
            .filter(|r| self.due(*r, state))
            .collect()
    }

    /// The refetch stored in its column (comma-separated resource names), as both
    /// backends keep it.
    pub(crate) fn from_column(resources: Option<String>) -> Option<Refetch> {
        let resources = resources?
            .split(',')
            .filter_map(|name| name.parse().ok())
            .collect();
        Some(Refetch { resources })
    }

    /// The resource names for the `refetch` column.
    pub fn names(&self) -> String {
        self.resources
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The cursor keys of every route of its resources, whose full walks it forgets.
    pub fn routes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.resources
            .iter()
            .flat_map(|r| r.cursor_keys().iter().copied())
    }
}

/// What [`PrivacyStore::finish_privacy`] records: the policy now applied.
#[derive(Debug, Clone, Copy)]
pub struct AppliedPolicy<'a> {
    /// Its fingerprint (`None`: no rules).
    pub fingerprint: Option<&'a str>,
    /// Its rules, as canonical text.
    pub rules: Option<&'a str>,
    /// What is left to fetch again, if anything.
    pub refetch: Option<&'a Refetch>,
}

/// How far a rewrite got: every row of the resources before `resource` (in
/// [`Resource::ALL`] order) and of `resource` up to `after_id` (in the store's id order)
/// is under the policy `fingerprint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyProgress {
    pub fingerprint: String,
    pub resource: Resource,
    pub after_id: String,
}

impl PrivacyProgress {
    /// The progress stored in the three pending columns (fingerprint, resource name,
    /// last id), as both backends keep it; `None` unless all three hold a value.
    pub(crate) fn from_columns(
        fingerprint: Option<String>,
        resource: Option<String>,
        after_id: Option<String>,
    ) -> Option<PrivacyProgress> {
        Some(PrivacyProgress {
            fingerprint: fingerprint?,
            resource: resource?.parse().ok()?,
            after_id: after_id?,
        })
    }
}

/// Reading and rewriting stored rows under a new policy, without Cliniko.
pub trait PrivacyStore {
    /// The state of `org_id`'s policy (all `None` when never recorded).
    fn privacy_state(&self, org_id: &str) -> Result<PrivacyState, StoreError>;

    /// Up to `limit` `(id, raw_json)` of `resource` rows of `org_id` with ids after
    /// `after` (all from the first when `None`), in the store's id order.
    fn stored_batch(
        &self,
        org_id: &str,
        resource: Resource,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Replaces the `raw_json` and resource columns of the stored rows `records` (by
    /// id; nothing else changes) and records `progress`, in one transaction, which also
    /// marks the table for [`super::Erasure::scrub_due`] when a row was replaced.
    fn rewrite_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        progress: &PrivacyProgress,
    ) -> Result<(), StoreError>;

    /// Records that every stored row of `org_id` is under `policy` (as of `at`; but for
    /// its refetch, whose resources' full walks it forgets) and ends the rewrite, in one
    /// transaction.
    fn finish_privacy(
        &mut self,
        org_id: &str,
        policy: AppliedPolicy<'_>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
