//! Retention at the end of an org's run: old run history is pruned (`keep_runs`) and
//! rows deleted upstream long ago are removed (`purge_deleted_after`).
//!
//! Both delete by age on the host clock, so both wait while that clock disagrees with
//! Cliniko's by more than [`super::clock::CLOCK_TOLERANCE`] (or could not be compared): a clock a year
//! ahead would otherwise erase rows deleted upstream yesterday.
//!
//! Removed, not stripped: a permanent delete in Cliniko is usually a privacy erasure,
//! and a row kept with only its ids and timestamps would still say that a person was a
//! patient of the clinic.

use super::clock::{CLOCK_TOLERANCE, ClockSkew, tolerance_text};
use super::context::OrgContext;
use crate::store::{Store, StoreError};

/// Applies `ctx.retention` to `ctx.org_id` when `skew` (this run's measurement) shows
/// the host clock agrees with Cliniko's. A failure here is a warning: the sync itself
/// already committed.
pub(super) fn apply(ctx: &OrgContext<'_>, store: &mut dyn Store, skew: Option<ClockSkew>) {
    let r = ctx.retention;
    if r.keep_runs.is_none() && r.purge_deleted_after.is_none() {
        return;
    }
    let doubt = match skew {
        None => Some(
            "no response of this run carried Cliniko's clock (a `Date` header) to check the host clock against"
                .to_string(),
        ),
        Some(s) if !s.within_tolerance() => Some(format!(
            "{} (tolerance {})",
            s.describe(),
            tolerance_text()
        )),
        Some(_) => None,
    };
    if let Some(why) = doubt {
        log::warn!(
            "{}: not pruning old runs nor removing rows deleted upstream: {why}; they wait for a run whose host clock agrees with Cliniko's",
            ctx.org_id
        );
        return;
    }
    if let Err(e) = try_apply(ctx, store) {
        log::warn!(
            "{}: pruning old runs or deleted rows failed ({e}); the next run tries again",
            ctx.org_id
        );
    }
}

fn try_apply(ctx: &OrgContext<'_>, store: &mut dyn Store) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    // The clocks agree now: a mark dated in the future was stamped while the host clock
    // was ahead (by a routiq-sync that stamped marks with it). Dated now instead, its
    // purge waits `purge_deleted_after` from today, not from that future date.
    let repaired = store.repair_future_marks(ctx.org_id, now.add(CLOCK_TOLERANCE), now)?;
    if repaired > 0 {
        log::warn!(
            "{}: {repaired} row(s) were marked deleted upstream at a time still in the future \
             (the host clock was ahead when they were marked); re-marked as deleted now, so \
             purge_deleted_after counts from now",
            ctx.org_id
        );
    }
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
