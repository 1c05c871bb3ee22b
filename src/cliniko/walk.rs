//! Walking a list route from a cursor to the end without skipping rows that change
//! while the walk is under way.
//!
//! Page numbers shift when data changes (docs/cliniko-api.md, "Page-number walks shift"), so the walk never asks for
//! page N+1. It sorts by `updated_at,id` and re-queries page 1 from the newest
//! `updated_at` seen (`updated_at:>=T`): a row updated mid-walk moves to the end and is
//! met again. Rows at the boundary second are read twice and counted once. When a whole
//! page shares one second (a bulk update), the walk steps inside that second with
//! `updated_at:>=T`, `updated_at:<=T`, `id:>LAST` until it is exhausted, then continues
//! with `updated_at:>T`.
//!
//! A walk may also start after a second (`updated_at:>T`) once that second is settled:
//! read completely at a moment Cliniko's own clock (the `Date` header) was safely past
//! it, so no row stamped with it can still appear. Each page reports when the newest
//! second becomes complete ([`SettledSecond`]), for the store to keep beside the cursor.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::ApiError;
use super::client::Client;
use super::endpoints::Endpoint;
use super::query::{ListQuery, MAX_PER_PAGE};
use crate::record::{Record, SettledSecond, id_order};
use crate::timestamp::Timestamp;

/// Where a walk begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkStart {
    /// Every record (a full sync).
    Beginning,
    /// Records updated at or after the cursor (an incremental sync).
    Since(Timestamp),
    /// Records updated after a settled cursor second (an incremental sync that need not
    /// read that second again).
    After(Timestamp),
}

/// Something that yields a walk's pages one request at a time: one route's [`Walk`], or
/// a resource's routes one after another.
pub trait PageSource {
    /// Whether the last page has been read.
    fn is_complete(&self) -> bool;
    /// Fetches the next page, or `None` once complete.
    fn next_page(&mut self, client: &Client) -> Result<Option<WalkPage>, ApiError>;
}

impl PageSource for Walk {
    fn is_complete(&self) -> bool {
        Walk::is_complete(self)
    }

    fn next_page(&mut self, client: &Client) -> Result<Option<WalkPage>, ApiError> {
        Walk::next_page(self, client)
    }
}

/// One page of a walk.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkPage {
    /// The sync-state key of the route the page came from ([`Endpoint::cursor_key`]).
    pub cursor_key: &'static str,
    /// Every row the page returned, re-read boundary rows included (upserts are idempotent).
    pub records: Vec<Record>,
    /// Rows not already returned earlier in this walk.
    pub new_records: u64,
    /// `total_entries` of the response: the size of the remaining range, for progress.
    pub total_entries: Option<u64>,
    /// Whether this was the last page.
    pub last: bool,
    /// Set when the walk's newest second is now completely read.
    pub settled: Option<SettledSecond>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Rows from `lower` on (`None`: from the beginning); `inclusive` selects `>=` or `>`.
    Range {
        lower: Option<Timestamp>,
        inclusive: bool,
    },
    /// Rows of second `at` with an id above `after_id`.
    Tie { at: Timestamp, after_id: String },
}

impl Phase {
    /// Orders phases along the walk, so a next phase that is not later is caught.
    fn cmp_progress(&self, other: &Phase) -> Ordering {
        // Position of a phase: (second, step within the second, id).
        fn key(p: &Phase) -> (Option<Timestamp>, u8, Option<&str>) {
            match p {
                Phase::Range { lower, inclusive } => (*lower, if *inclusive { 0 } else { 2 }, None),
                Phase::Tie { at, after_id } => (Some(*at), 1, Some(after_id)),
            }
        }
        let (a, b) = (key(self), key(other));
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| match (a.2, b.2) {
                (Some(x), Some(y)) => id_order(x, y),
                _ => Ordering::Equal,
            })
    }
}

/// A walk over one list route.
#[derive(Debug)]
pub struct Walk {
    endpoint: Endpoint,
    window: Option<(Timestamp, Timestamp)>,
    phase: Phase,
    /// The newest second seen so far and the ids seen at it, to count re-reads once.
    boundary: Option<(Timestamp, HashSet<String>)>,
    /// The newest second so far and Cliniko's clock on the page it first topped.
    newest: Option<(Timestamp, Option<Timestamp>)>,
    done: bool,
    per_page: u32,
}

impl Walk {
    /// A walk of `endpoint` from `start`, optionally limited to records whose window
    /// field (appointments: `starts_at`) lies within `window`.
    pub fn new(
        endpoint: Endpoint,
        start: WalkStart,
        window: Option<(Timestamp, Timestamp)>,
    ) -> Walk {
        let (lower, inclusive) = match start {
            WalkStart::Beginning => (None, true),
            WalkStart::Since(t) => (Some(t), true),
            WalkStart::After(t) => (Some(t), false),
        };
        Walk {
            endpoint,
            window: window.filter(|_| endpoint.window_field.is_some()),
            phase: Phase::Range { lower, inclusive },
            boundary: None,
            newest: None,
            done: false,
            per_page: MAX_PER_PAGE,
        }
    }

    /// Overrides the page size (tests use small pages to exercise paging cheaply).
    pub fn with_per_page(mut self, per_page: u32) -> Walk {
        self.per_page = per_page.clamp(1, MAX_PER_PAGE);
        self
    }

    /// Whether the walk has read its last page.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// The query the next page will be fetched with.
    pub fn next_query(&self) -> ListQuery {
        let mut q = ListQuery::new();
        for field in self.endpoint.include_hidden {
            q = q.filter(field, "*", "");
        }
        if let (Some((from, to)), Some(field)) = (self.window, self.endpoint.window_field) {
            q = q
                .filter(field, ">=", &from.to_string())
                .filter(field, "<=", &to.to_string());
        }
        q = match &self.phase {
            Phase::Range { lower: None, .. } => q,
            Phase::Range {
                lower: Some(t),
                inclusive,
            } => q.filter(
                "updated_at",
                if *inclusive { ">=" } else { ">" },
                &t.to_string(),
            ),
            Phase::Tie { at, after_id } => q
                .filter("updated_at", ">=", &at.to_string())
                .filter("updated_at", "<=", &at.to_string())
                .filter("id", ">", after_id),
        };
        q.sort("updated_at,id").per_page(self.per_page)
    }

    /// Fetches the next page, or `None` once the walk is complete.
    pub fn next_page(&mut self, client: &Client) -> Result<Option<WalkPage>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let body = client.list_page(&self.endpoint, &self.next_query())?;
        self.advance(
            body.records,
            body.has_next,
            body.total_entries,
            body.server_time,
        )
        .map(Some)
    }

    /// Takes a fetched page (answered at `server_time` by Cliniko's clock) and decides
    /// the next query; separated from I/O for tests.
    fn advance(
        &mut self,
        records: Vec<Record>,
        has_next: bool,
        total_entries: Option<u64>,
        server_time: Option<Timestamp>,
    ) -> Result<WalkPage, ApiError> {
        let new_records = self.count_new(&records);
        if let Some(top) = records.iter().map(|r| r.updated_at).max()
            && self.newest.is_none_or(|(t, _)| top > t)
        {
            self.newest = Some((top, server_time));
        }
        let more = !records.is_empty() && (has_next || records.len() >= self.per_page as usize);
        if !more {
            // The range (or the bulk second) was read to its end: the newest second is
            // complete, read since the page on which it first appeared.
            let settled = match self.newest {
                Some((second, Some(read_from))) => Some(SettledSecond { second, read_from }),
                _ => None,
            };
            self.done = match &self.phase {
                Phase::Range { .. } => true,
                // The bulk second is exhausted; the walk goes on after it.
                Phase::Tie { at, .. } => {
                    self.phase = Phase::Range {
                        lower: Some(*at),
                        inclusive: false,
                    };
                    false
                }
            };
            return Ok(WalkPage {
                cursor_key: self.endpoint.cursor_key,
                records,
                new_records,
                total_entries,
                last: self.done,
                settled,
            });
        }
        let (max_ts, max_id) = max_key(&records);
        let one_second = records.iter().all(|r| r.updated_at == max_ts);
        let next = if one_second {
            Phase::Tie {
                at: max_ts,
                after_id: max_id,
            }
        } else {
            Phase::Range {
                lower: Some(max_ts),
                inclusive: true,
            }
        };
        if next.cmp_progress(&self.phase) != Ordering::Greater {
            return Err(ApiError::NoProgress(format!(
                "{} returned the same rows again for {:?}; it may not support sorting by updated_at,id",
                self.endpoint.path,
                self.next_query().filters()
            )));
        }
        self.phase = next;
        Ok(WalkPage {
            cursor_key: self.endpoint.cursor_key,
            records,
            new_records,
            total_entries,
            last: false,
            settled: None,
        })
    }

    /// Counts rows not returned before and moves the boundary second forward.
    fn count_new(&mut self, records: &[Record]) -> u64 {
        let mut new = 0;
        for r in records {
            let seen = match &mut self.boundary {
                Some((t, ids)) if *t == r.updated_at => !ids.insert(r.id.clone()),
                Some((t, _)) if *t > r.updated_at => false,
                _ => {
                    self.boundary = Some((r.updated_at, HashSet::from([r.id.clone()])));
                    false
                }
            };
            new += u64::from(!seen);
        }
        new
    }
}

/// The greatest `(updated_at, id)` of a non-empty page.
fn max_key(records: &[Record]) -> (Timestamp, String) {
    let mut best = &records[0];
    for r in &records[1..] {
        if r.updated_at
            .cmp(&best.updated_at)
            .then_with(|| id_order(&r.id, &best.id))
            == Ordering::Greater
        {
            best = r;
        }
    }
    (best.updated_at, best.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::endpoints::endpoint;
    use crate::resource::Resource;

    fn rec(id: u64, ts: i64) -> Record {
        Record::stub(id.to_string(), ts, 4)
    }

    fn walk() -> Walk {
        Walk::new(endpoint(Resource::Patients), WalkStart::Beginning, None).with_per_page(3)
    }

    fn filters(w: &Walk) -> Vec<String> {
        w.next_query()
            .filters()
            .iter()
            .filter(|f| !f.starts_with("archived_at"))
            .cloned()
            .collect()
    }

    #[test]
    fn first_query_includes_hidden_and_sorts() {
        let w = Walk::new(endpoint(Resource::Appointments), WalkStart::Beginning, None);
        let q = w.next_query().encode();
        assert!(
            q.contains("archived_at%3A%2A") && q.contains("cancelled_at%3A%2A"),
            "{q}"
        );
        assert!(
            q.contains("sort=updated_at%2Cid") && q.contains("per_page=100"),
            "{q}"
        );
    }

    #[test]
    fn requeries_from_the_newest_second_and_counts_rereads_once() {
        let mut w = walk();
        let p = w
            .advance(vec![rec(1, 10), rec(2, 11), rec(3, 12)], true, None, None)
            .unwrap();
        assert_eq!(p.new_records, 3);
        assert_eq!(filters(&w), ["updated_at:>=1970-01-01T00:00:12Z"]);
        let p = w
            .advance(vec![rec(3, 12), rec(4, 13)], false, None, None)
            .unwrap();
        assert_eq!(p.new_records, 1);
        assert!(p.last && w.is_complete());
    }

    #[test]
    fn a_page_inside_one_second_walks_by_id_then_moves_on() {
        let mut w = walk();
        w.advance(vec![rec(1, 5), rec(2, 20), rec(3, 20)], true, None, None)
            .unwrap();
        // The next page is entirely second 20: step inside it by id.
        w.advance(vec![rec(2, 20), rec(3, 20), rec(4, 20)], true, None, None)
            .unwrap();
        assert_eq!(
            filters(&w),
            [
                "updated_at:>=1970-01-01T00:00:20Z",
                "updated_at:<=1970-01-01T00:00:20Z",
                "id:>4"
            ]
        );
        let p = w
            .advance(vec![rec(5, 20), rec(6, 20)], false, None, None)
            .unwrap();
        assert_eq!(p.new_records, 2);
        assert!(!p.last, "the tie ended, not the walk");
        assert_eq!(filters(&w), ["updated_at:>1970-01-01T00:00:20Z"]);
        let p = w.advance(vec![rec(7, 21)], false, None, None).unwrap();
        assert!(p.last);
    }

    #[test]
    fn a_server_ignoring_filters_is_caught() {
        let mut w = walk();
        let page = vec![rec(1, 10), rec(2, 10), rec(3, 10)];
        w.advance(page.clone(), true, None, None).unwrap();
        let err = w.advance(page, true, None, None).unwrap_err();
        assert!(matches!(err, ApiError::NoProgress(_)));
    }

    #[test]
    fn the_newest_second_settles_when_read_to_its_end() {
        let at = |s| Some(Timestamp::from_unix(s).unwrap());
        let mut w = walk();
        let p = w
            .advance(
                vec![rec(1, 10), rec(2, 20), rec(3, 20)],
                true,
                None,
                at(100),
            )
            .unwrap();
        assert_eq!(p.settled, None, "second 20 may go on on the next page");
        let p = w
            .advance(
                vec![rec(2, 20), rec(3, 20), rec(4, 20)],
                true,
                None,
                at(101),
            )
            .unwrap();
        assert_eq!(p.settled, None, "inside the bulk second");
        let p = w.advance(vec![rec(5, 20)], false, None, at(102)).unwrap();
        assert_eq!(
            p.settled,
            Some(SettledSecond {
                second: Timestamp::from_unix(20).unwrap(),
                read_from: Timestamp::from_unix(100).unwrap()
            }),
            "the bulk second is exhausted; it was first read at 100"
        );
        let p = w.advance(vec![], false, None, at(103)).unwrap();
        assert!(p.last);
        // A walk after a settled second asks for the rows after it only.
        let w = Walk::new(
            endpoint(Resource::Patients),
            WalkStart::After(Timestamp::from_unix(20).unwrap()),
            None,
        );
        assert_eq!(filters(&w), ["updated_at:>1970-01-01T00:00:20Z"]);
        // Without a Date header nothing settles.
        let mut w = walk();
        let p = w.advance(vec![rec(1, 10)], false, None, None).unwrap();
        assert_eq!(p.settled, None);
    }

    #[test]
    fn empty_first_page_completes() {
        let mut w = walk();
        let p = w.advance(vec![], false, Some(0), None).unwrap();
        assert!(p.last && p.new_records == 0);
    }
}
