//! Verifying one resource by counts: compare Cliniko's `total_entries` with the local
//! count of rows not marked deleted, narrow a difference down by splitting the id range
//! at local ids, and list only the small parts that still differ.
//!
//! Each counting request (`per_page=1`) also asks for the row at a chosen position in
//! id order, which splits its part a second time for free: one request, three parts.
//! The first request splits the whole table at a position that moves between verifies,
//! so counts that agree overall get a second look at no cost.
//!
//! A listed part repairs the copy: rows found are upserted (without moving any cursor),
//! and local rows absent from the listing become candidates, marked deleted upstream only
//! when a second complete look (by id, at the end) lacks them too. Changes made while
//! the check runs can make counts wrong, never a live row marked: counts only choose
//! what to list. Counts cannot see a part where rows lost locally and rows deleted
//! upstream cancel out; the full walk is the backstop.

use std::collections::HashSet;

use super::OrgContext;
use crate::cliniko::{
    self, ApiError, Endpoint, IdRange, MAX_PER_PAGE, Probe, RangeListing, fetch_ids, routes,
};
use crate::resource::Resource;
use crate::store::{ResourceCounts, Store, StoreError};

/// A part with at most this many rows upstream is listed instead of split further: one
/// page answers what the 1-2 more probes to narrow it would. (Measured: listing parts of
/// up to 300 rows costs the same, 500 costs more; docs/performance-history.md, "Verify
/// against a full walk".)
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
        candidates: Vec::new(),
        counts,
        pages_refused: false,
    };
    let outcome = v.check_all().and_then(|()| v.confirm());
    match outcome {
        Ok(()) => Ok(Ok(())),
        Err(Failure::Api(e)) => Ok(Err(e)),
        Err(Failure::Store(e)) => Err(e),
    }
}

/// Where the first probe asks for a row, as a fraction of the local rows: it moves with
/// their number (golden-ratio steps), so successive verifies of a changing org split at
/// different places, deterministically.
fn root_position(n: u64) -> u64 {
    const PHI_FRAC: f64 = 0.618_033_988_749_894_9;
    let f = (n as f64 * PHI_FRAC).fract();
    ((n as f64 * f) as u64).min(n.saturating_sub(1))
}

struct Verifier<'a, 'c> {
    ctx: &'a OrgContext<'c>,
    store: &'a mut dyn Store,
    resource: Resource,
    routes: &'static [Endpoint],
    full_run: Option<i64>,
    /// Local ids not marked deleted, sorted, as when the check began.
    local: Vec<u64>,
    /// Local ids one complete listing lacked, awaiting a second look.
    candidates: Vec<u64>,
    counts: &'a mut ResourceCounts,
    /// Cliniko refused a probe's page number: the rest of the check counts only.
    pages_refused: bool,
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

    /// Whether a probe can also ask for the row at a position: positions are per route,
    /// so only for a resource with one, and only while Cliniko accepts page numbers.
    fn positions(&self) -> bool {
        self.routes.len() == 1 && !self.pages_refused
    }

    /// Cliniko's count of the resource's rows in `range` over all its routes, and the id
    /// at `position` when [`Self::positions`].
    fn probe(&mut self, range: IdRange, position: Option<u64>) -> Result<Probe, Failure> {
        let position = position.filter(|_| self.positions());
        let mut total = Probe { total: 0, at: None };
        for route in self.routes {
            let p = match cliniko::probe(self.ctx.client, route, range, position) {
                // What Cliniko answers for a page past the end is undocumented: should
                // it refuse one, the count alone still serves, for this probe and the
                // rest of the check (no request is spent on a refusal twice).
                Err(ApiError::Http {
                    status: 400 | 404, ..
                }) if position.is_some() => {
                    self.pages_refused = true;
                    cliniko::probe(self.ctx.client, route, range, None)?
                }
                other => other?,
            };
            total.total += p.total;
            total.at = p.at;
        }
        Ok(total)
    }

    /// The whole id range: one probe, which also splits it at a position that moves
    /// between verifies (a second look at counts that agree overall).
    fn check_all(&mut self) -> Result<(), Failure> {
        let position = root_position(self.local.len() as u64);
        let p = self.probe(IdRange::ALL, Some(position))?;
        self.check_probed(IdRange::ALL, p, position)
    }

    /// Checks `range` given its probe at `position`: split at the row found there.
    fn check_probed(&mut self, range: IdRange, p: Probe, position: u64) -> Result<(), Failure> {
        match p.at.filter(|&at| range.contains(at) && position <= p.total) {
            Some(at) => {
                let (left, right) = split(range, at);
                self.check(left, position)?;
                self.check(right, p.total - position)
            }
            None => self.check(range, p.total),
        }
    }

    /// Compares `range` (holding `remote` rows upstream) and repairs it if it differs.
    fn check(&mut self, range: IdRange, remote: u64) -> Result<(), Failure> {
        let here = self.local_in(range);
        let n = here.len();
        if remote == n as u64 {
            return Ok(());
        }
        if remote <= LIST_AT_MOST || n <= 2 {
            return self.repair(range);
        }
        // One probe of the first part, cut at a local quantile; the rest's count is what
        // it leaves. With a position the probe also splits its part at the row found
        // there: three parts for one request.
        let (cut, inner) = if self.positions() {
            (here[2 * n / 3], Some((n / 3) as u64))
        } else {
            (here[n / 2], None)
        };
        let (first, rest) = split(range, cut);
        let p = self.probe(first, inner)?;
        let rest_remote = match remote.checked_sub(p.total) {
            Some(r) => r,
            // Counts moved while the check ran: count the rest itself; counts only ever
            // decide what gets listed.
            None => self.probe(rest, None)?.total,
        };
        // Without a position the probe found no row, and this is a plain check.
        self.check_probed(first, p, inner.unwrap_or(0))?;
        self.check(rest, rest_remote)
    }

    /// Lists `range` completely, upserting what it finds. Local rows it lacks are
    /// candidates; they are marked deleted only when a second complete listing lacks
    /// them too.
    fn repair(&mut self, range: IdRange) -> Result<(), Failure> {
        let before: Vec<u64> = self.local_in(range).to_vec();
        let seen = self.list(range)?;
        let gone = before.into_iter().filter(|id| !seen.contains(id));
        self.candidates.extend(gone);
        Ok(())
    }

    /// The second look at the candidates, once every part is checked: one request per
    /// route for up to a page of them, by id. What it returns is live (and upserted);
    /// the rest is marked deleted, as two complete listings lack it. A row may have moved
    /// between routes (practitioners) or the first answer may have come from a stale
    /// replica; a row created since lies in neither look's past and is never a candidate
    /// (candidates are local rows), and an edit moves no id.
    fn confirm(&mut self) -> Result<(), Failure> {
        let candidates = std::mem::take(&mut self.candidates);
        for batch in candidates.chunks(MAX_PER_PAGE as usize) {
            let mut found = HashSet::new();
            for route in self.routes {
                let records = fetch_ids(self.ctx.client, route, batch)?;
                found.extend(self.write(&records)?);
            }
            let gone: Vec<u64> = batch
                .iter()
                .copied()
                .filter(|id| !found.contains(id))
                .collect();
            self.mark(&gone)?;
        }
        Ok(())
    }

    /// Marks `gone` deleted upstream.
    fn mark(&mut self, gone: &[u64]) -> Result<(), Failure> {
        if !gone.is_empty() {
            let ids: Vec<String> = gone.iter().map(u64::to_string).collect();
            // Cliniko's clock dates the mark, as it dates the deletion.
            let now = self.ctx.cliniko_now();
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
                seen.extend(self.write(&records)?);
            }
        }
        Ok(seen)
    }

    /// Upserts `records` (without moving any cursor); returns their ids.
    fn write(&mut self, records: &[crate::record::Record]) -> Result<Vec<u64>, Failure> {
        let written = self.store.write_rows(
            self.ctx.org_id,
            self.resource,
            records,
            self.full_run,
            self.ctx.clock.now(),
        )?;
        self.counts.fetched += records.len() as u64;
        self.counts.written += written.written;
        self.counts.archived += written.archived;
        Ok(records.iter().filter_map(|r| r.id.parse().ok()).collect())
    }
}

/// `range` cut at `at`: ids below it, and the rest.
fn split(range: IdRange, at: u64) -> (IdRange, IdRange) {
    (
        IdRange {
            lo: range.lo,
            hi: Some(at),
        },
        IdRange {
            lo: Some(at),
            hi: range.hi,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_split_moves_with_the_row_count_and_stays_in_range() {
        assert_eq!(root_position(0), 0);
        assert_eq!(root_position(1), 0);
        let places: Vec<u64> = (1000..1010).map(root_position).collect();
        assert!(places.iter().zip(1000..).all(|(&p, n)| p < n), "{places:?}");
        // Neighbouring counts split far apart, so rows added between two verifies move
        // the split (golden-ratio steps spread over the whole range).
        let spread = places.iter().max().unwrap() - places.iter().min().unwrap();
        assert!(spread > 500, "{places:?}");
    }
}
