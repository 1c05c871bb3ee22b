//! Retention at the end of an org's run: old run history is pruned (`keep_runs`) and
//! rows deleted upstream long ago are removed (`purge_deleted_after`).
//!
//! Removed, not stripped: a permanent delete in Cliniko is usually a privacy erasure,
//! and a row kept with only its ids and timestamps would still say that a person was a
//! patient of the clinic.

use std::time::Duration;

use super::run::OrgContext;
use crate::store::{Store, StoreError};

/// How long history and deleted rows are kept; `None` keeps them forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub keep_runs: Option<Duration>,
    pub purge_deleted_after: Option<Duration>,
}

/// Applies `ctx.retention` to `ctx.org_id`. A failure here is a warning: the sync itself
/// already committed.
pub(super) fn apply(ctx: &OrgContext<'_>, store: &mut dyn Store) {
    if let Err(e) = try_apply(ctx, store) {
        log::warn!(
            "{}: pruning old runs or deleted rows failed ({e}); the next run tries again",
            ctx.org_id
        );
    }
}

fn try_apply(ctx: &OrgContext<'_>, store: &mut dyn Store) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    if let Some(keep) = ctx.retention.keep_runs {
        let pruned = store.prune_runs(ctx.org_id, now.sub(keep))?;
        if pruned > 0 {
            log::debug!(
                "{}: pruned {pruned} run(s) older than keep_runs",
                ctx.org_id
            );
        }
    }
    if let Some(after) = ctx.retention.purge_deleted_after {
        let purged: Vec<String> = store
            .purge_deleted(ctx.org_id, now.sub(after))?
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(table, n)| format!("{n} {table}"))
            .collect();
        if !purged.is_empty() {
            log::info!(
                "{}: removed rows deleted upstream longer ago than purge_deleted_after: {}",
                ctx.org_id,
                purged.join(", ")
            );
        }
    }
    Ok(())
}
