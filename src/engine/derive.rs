//! Brings the typed columns of an org's stored rows in line with the resource catalogue,
//! locally, before a run syncs anything: a resource whose column rules differ from the
//! ones the store records is read in batches by id, each row's columns derived again
//! from its `raw_json`, and only rows whose columns change are written, each batch with
//! its position in one transaction. A run killed at any point leaves whole batches and a
//! position, and the next run resumes there. So a migration that adds a column, or a
//! changed rule, never restates the rule in SQL.

use std::sync::atomic::Ordering;

use super::context::OrgContext;
use crate::cliniko::stored_columns;
use crate::resource::Resource;
use crate::store::{DeriveProgress, DerivedRow, Store, StoreError};

/// Rows read and compared per transaction.
const BATCH: u32 = 500;

/// What [`rederive`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rederived {
    /// Rows whose typed columns changed.
    pub changed: u64,
    /// Whether it stopped on the cancel flag before finishing (the next run resumes).
    pub interrupted: bool,
}

/// Re-derives the typed columns of `ctx.org_id`'s rows of every resource whose column
/// rules changed since they were written (or are not recorded yet).
pub(super) fn rederive(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
) -> Result<Rederived, StoreError> {
    let states = store.derived_state(ctx.org_id)?;
    let mut done = Rederived::default();
    for resource in Resource::ALL {
        let target = resource.columns_fingerprint();
        let state = states.get(&resource).cloned().unwrap_or_default();
        if state.fingerprint.as_deref() == Some(target.as_str()) {
            continue;
        }
        if state.fingerprint.is_some() {
            log::info!(
                "{}: the rules of the {} table's typed columns changed; deriving them again \
                 from the stored rows, locally, before syncing",
                ctx.org_id,
                resource.name()
            );
        }
        let mut after = state
            .pending
            .filter(|p| p.fingerprint == target)
            .map(|p| p.after_id);
        loop {
            if ctx.cancel.load(Ordering::Relaxed) {
                done.interrupted = true;
                log::warn!(
                    "{}: stopped deriving the {} table's typed columns again; the next run \
                     resumes after id {}",
                    ctx.org_id,
                    resource.name(),
                    after.as_deref().unwrap_or("(start)")
                );
                return Ok(done);
            }
            let batch = store.stored_batch(ctx.org_id, resource, after.as_deref(), BATCH)?;
            let Some((last, _)) = batch.last() else { break };
            let last = last.clone();
            let rows: Vec<DerivedRow> = batch
                .into_iter()
                .filter_map(|(id, raw)| match stored_columns(resource, &raw) {
                    Ok(columns) => Some((id, columns)),
                    Err(e) => {
                        log::warn!(
                            "{}: {} row {id} cannot be read ({e}); its columns are left as stored",
                            ctx.org_id,
                            resource.name()
                        );
                        None
                    }
                })
                .collect();
            let progress = DeriveProgress {
                fingerprint: target.clone(),
                after_id: last.clone(),
            };
            done.changed += store.rederive_batch(ctx.org_id, resource, &rows, &progress)?;
            after = Some(last);
        }
        store.finish_rederive(ctx.org_id, resource, &target)?;
    }
    if done.changed > 0 {
        log::info!(
            "{}: {} stored row(s) got typed columns derived by the current rules",
            ctx.org_id,
            done.changed
        );
    }
    Ok(done)
}
