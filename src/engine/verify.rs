//! Verifying one resource by counts: compare Cliniko's `total_entries` with the local
//! count of rows not marked deleted, narrow a difference down by splitting the id range
//! at local ids, and list only the small parts that still differ.
//!
//! A listed part repairs the copy: rows found are upserted (without moving any cursor),
//! and local rows absent from the listing are marked deleted upstream, but only when a
//! second complete listing lacks them too. Changes made while the check runs can make
//! counts wrong, never a live row marked: counts only choose what to list.

use std::collections::HashSet;

use super::OrgContext;
use crate::cliniko::{self, ApiError, Endpoint, IdRange, MAX_PER_PAGE, RangeListing, routes};
use crate::resource::Resource;
use crate::store::{ResourceCounts, Store, StoreError};

/// A part with at most this many rows upstream is listed instead of split further.
const LIST_AT_MOST: u64 = MAX_PER_PAGE as u64;

/// Why a check stopped.
enum Failure {
    Api(ApiError),
    Store(StoreError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// Checks `resource` of the org against Cliniko and repairs what differs, adding what it
/// fetched, wrote and marked to `counts`. `full_run` is an unfinished full walk of the
/// resource: rows found are marked seen by it. The outer error is the store's, the
/// inner one Cliniko's.
pub(super) fn verify_resource(
    ctx: &OrgContext<'_>,
    store: &mut dyn Store,
    resource: Resource,
    full_run: Option<i64>,
    counts: &mut ResourceCounts,
) -> Result<Result<(), ApiError>, StoreError> {
    let mut local: Vec<u64> = store
        .present_ids(ctx.org_id, resource)?
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    local.sort_unstable();
    let mut v = Verifier {
        ctx,
        store,
        resource,
        routes: routes(resource),
        full_run,
        local,
        counts,
    };
    let outcome = v
        .count(IdRange::ALL)
        .and_then(|total| v.check(IdRange::ALL, total));
    match outcome {
        Ok(()) => Ok(Ok(())),
        Err(Failure::Api(e)) => Ok(Err(e)),
        Err(Failure::Store(e)) => Err(e),
    }
}

struct Verifier<'a, 'c> {
    ctx: &'a OrgContext<'c>,
    store: &'a mut dyn Store,
    resource: Resource,
    routes: &'static [Endpoint],
    full_run: Option<i64>,
    /// Local ids not marked deleted, sorted, as when the check began.
    local: Vec<u64>,
    counts: &'a mut ResourceCounts,
}

impl Verifier<'_, '_> {
    /// The local ids in `range`.
    fn local_in(&self, range: IdRange) -> &[u64] {
        let from = range
            .lo
            .map_or(0, |lo| self.local.partition_point(|&id| id < lo));
        let to = range.hi.map_or(self.local.len(), |hi| {
            self.local.partition_point(|&id| id < hi)
        });
        &self.local[from..to.max(from)]
    }

    /// Cliniko's count of the resource's rows in `range`, over all its routes.
    fn count(&self, range: IdRange) -> Result<u64, Failure> {
        let mut n = 0;
        for route in self.routes {
            n += cliniko::count(self.ctx.client, route, range)?;
        }
        Ok(n)
    }

    /// Compares `range` (holding `remote` rows upstream) and repairs it if it differs.
    fn check(&mut self, range: IdRange, remote: u64) -> Result<(), Failure> {
        let here = self.local_in(range);
        let n = here.len() as u64;
        if remote == n {
            return Ok(());
        }
        if remote <= LIST_AT_MOST || n <= 1 {
            return self.repair(range);
        }
        // Split at the median local id: each half holds about half the local rows.
        let mid = here[here.len() / 2];
        let left = IdRange {
            lo: range.lo,
            hi: Some(mid),
        };
        let right = IdRange {
            lo: Some(mid),
            hi: range.hi,
        };
        let left_remote = self.count(left)?;
        // Without changes upstream the right half holds the rest; if the counts moved
        // meanwhile, the guess only decides what gets listed.
        let right_remote = match remote.checked_sub(left_remote) {
            Some(r) => r,
            None => self.count(right)?,
        };
        self.check(left, left_remote)?;
        self.check(right, right_remote)
    }

    /// Lists `range` completely, upserting what it finds, and marks deleted the local
    /// rows that two complete listings both lack.
    fn repair(&mut self, range: IdRange) -> Result<(), Failure> {
        let before: Vec<u64> = self.local_in(range).to_vec();
        let seen = self.list(range)?;
        let mut gone: Vec<u64> = before.into_iter().filter(|id| !seen.contains(id)).collect();
        if !gone.is_empty() {
            // A row may have moved between routes (practitioners) or the API may have
            // answered from a stale replica: only what a second listing lacks too is gone.
            let again = self.list(range)?;
            gone.retain(|id| !again.contains(id));
        }
        if !gone.is_empty() {
            let ids: Vec<String> = gone.iter().map(u64::to_string).collect();
            let now = self.ctx.clock.now();
            self.counts.deleted +=
                self.store
                    .mark_deleted(self.ctx.org_id, self.resource, &ids, now)?;
        }
        Ok(())
    }

    /// Every id of `range` over the resource's routes, upserting each page as it comes.
    fn list(&mut self, range: IdRange) -> Result<HashSet<u64>, Failure> {
        let mut seen = HashSet::new();
        for route in self.routes {
            let mut listing = RangeListing::new(*route, range);
            while let Some(records) = listing.next_page(self.ctx.client)? {
                let written = self.store.write_rows(
                    self.ctx.org_id,
                    self.resource,
                    &records,
                    self.full_run,
                    self.ctx.clock.now(),
                )?;
                self.counts.fetched += records.len() as u64;
                self.counts.written += written.written;
                self.counts.archived += written.archived;
                seen.extend(records.iter().filter_map(|r| r.id.parse::<u64>().ok()));
            }
        }
        Ok(seen)
    }
}
