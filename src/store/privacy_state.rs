//! What the store records about the privacy policy of each org: the fingerprint of the
//! policy every stored row was last brought under, and a rewrite in progress (batches by
//! id, each committed with its position, so a killed rewrite resumes where it stopped).

use crate::record::Record;
use crate::resource::Resource;
use crate::timestamp::Timestamp;

use super::StoreError;

/// The stored state of one org's policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivacyState {
    /// The fingerprint of the policy applied to every stored row; `None`: no policy.
    pub fingerprint: Option<String>,
    /// When it was applied (our clock).
    pub applied_at: Option<Timestamp>,
    /// A rewrite under another policy begun and not finished.
    pub pending: Option<PrivacyProgress>,
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
    /// id; nothing else changes) and records `progress`, in one transaction.
    fn rewrite_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        progress: &PrivacyProgress,
    ) -> Result<(), StoreError>;

    /// Records that every stored row of `org_id` is under `fingerprint` (as of `at`) and
    /// ends the rewrite; then makes the replaced values gone from the files (SQLite:
    /// VACUUM and an emptied WAL; PostgreSQL: VACUUM FULL of the rewritten tables).
    fn finish_privacy(
        &mut self,
        org_id: &str,
        fingerprint: Option<&str>,
        rewritten: &[Resource],
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
