//! Which catalogue rules each org's typed columns were derived by (the statements both
//! backends run to record it are in [`super::sql`]); the re-derivation itself (one
//! batch of rows at a time, only rows whose columns change) is each backend's own.

use std::collections::BTreeMap;

use super::StoreError;
use crate::resource::{Resource, Source, Spec};

/// What the store records of one resource's typed columns for an org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DerivedState {
    /// The column rules every stored row was derived by (`None`: not known yet).
    pub fingerprint: Option<String>,
    /// A re-derivation under way: the rules it applies and the last id it did.
    pub pending: Option<DeriveProgress>,
}

/// How far a re-derivation of one resource's rows got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveProgress {
    pub fingerprint: String,
    pub after_id: String,
}

impl DeriveProgress {
    /// From the `pending` and `after_id` columns (both set, or no progress).
    pub(crate) fn from_columns(pending: Option<String>, after_id: Option<String>) -> Option<Self> {
        Some(DeriveProgress {
            fingerprint: pending?,
            after_id: after_id?,
        })
    }
}

/// One stored row's typed columns as the catalogue derives them now, in table order.
pub type DerivedRow = (String, Vec<Option<String>>);

/// Re-deriving the typed columns of stored rows from their `raw_json`.
pub trait DerivedColumns {
    /// What is recorded for each of `org_id`'s resources (a resource with nothing
    /// recorded is absent).
    fn derived_state(&self, org_id: &str) -> Result<BTreeMap<Resource, DerivedState>, StoreError>;

    /// Writes the typed columns of `rows` (by id) where they differ from what is stored
    /// (nothing else changes), and records `progress`, in one transaction. Returns how
    /// many rows changed.
    fn rederive_batch(
        &mut self,
        org_id: &str,
        resource: Resource,
        rows: &[DerivedRow],
        progress: &DeriveProgress,
    ) -> Result<u64, StoreError>;

    /// Records that every stored row of `resource` is derived by `fingerprint`.
    fn finish_rederive(
        &mut self,
        org_id: &str,
        resource: Resource,
        fingerprint: &str,
    ) -> Result<(), StoreError>;
}

/// The value a column is set to from `new` (its new value's SQL): a column whose rule
/// needs the route the row came by keeps its stored value when the record alone says
/// nothing (the route is not stored).
pub(crate) fn assigned(spec: &Spec, column: usize, new: &str) -> String {
    let c = &spec.columns[column];
    match c.source {
        Source::Rule(rule) if rule.needs_route() => format!("COALESCE({new}, {})", c.name),
        _ => new.to_string(),
    }
}

/// Folds a row of [`super::sql::DERIVED_STATE`] into `states` (a name no resource has is skipped).
pub(crate) fn add_state(
    states: &mut BTreeMap<Resource, DerivedState>,
    (resource, fingerprint, pending, after_id): (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
) {
    if let Ok(resource) = resource.parse::<Resource>() {
        states.insert(
            resource,
            DerivedState {
                fingerprint,
                pending: DeriveProgress::from_columns(pending, after_id),
            },
        );
    }
}
