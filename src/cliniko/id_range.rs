//! Counting and listing the records of a route within an id range, for `verify`.
//!
//! A count is one request with `per_page=1`: Cliniko's `total_entries` is the number of
//! rows matching the filters (docs/cliniko-api.md, "Paging"), and the walk's hidden-record filters
//! make archived and cancelled rows count. A listing pages through the range by id
//! (`sort=id`, then `id:>LAST`): ids never change, so rows updated while it runs cannot
//! shift it and every row present for the whole listing is returned.

use super::ApiError;
use super::client::Client;
use super::endpoints::Endpoint;
use super::query::{ListQuery, MAX_PER_PAGE};
use crate::record::Record;

/// Ids `lo <= id < hi` (numerically); `None` leaves that side open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdRange {
    pub lo: Option<u64>,
    pub hi: Option<u64>,
}

impl IdRange {
    /// Every id.
    pub const ALL: IdRange = IdRange { lo: None, hi: None };

    /// Whether `id` lies in the range.
    pub fn contains(&self, id: u64) -> bool {
        self.lo.is_none_or(|lo| id >= lo) && self.hi.is_none_or(|hi| id < hi)
    }

    /// The filters on `endpoint` that select this range, hidden records included.
    fn query(&self, endpoint: &Endpoint) -> ListQuery {
        let mut q = ListQuery::new();
        for field in endpoint.include_hidden {
            q = q.filter(field, "*", "");
        }
        if let Some(lo) = self.lo {
            q = q.filter("id", ">=", &lo.to_string());
        }
        if let Some(hi) = self.hi {
            q = q.filter("id", "<", &hi.to_string());
        }
        q
    }
}

/// What one counting request tells about a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Records of the range upstream.
    pub total: u64,
    /// The id at the position asked for (0-based, in id order), when the range has a
    /// record there: exactly that many records of the range have smaller ids.
    pub at: Option<u64>,
}

/// How many records `endpoint` has in `range`, and the id at `position` in id order,
/// by one 1-row request: the count is `total_entries`, the row is page `position + 1`
/// of one row each. Without a position the request asks for the first page.
pub fn probe(
    client: &Client,
    endpoint: &Endpoint,
    range: IdRange,
    position: Option<u64>,
) -> Result<Probe, ApiError> {
    let mut q = range.query(endpoint).sort("id").per_page(1);
    if let Some(p) = position {
        q = q.page(p + 1);
    }
    let body = client.list_page(endpoint, &q)?;
    let total = body.total_entries.ok_or_else(|| ApiError::BadResponse {
        detail: match &body.total_entries_sent {
            Some(sent) => format!(
                "{} sent total_entries {sent}, which is not a count of records; verify needs one, use `full` instead",
                endpoint.path
            ),
            None => format!(
                "{} sent no total_entries, which verify needs; use `full` instead",
                endpoint.path
            ),
        },
        attempts: 1,
    })?;
    let at = match position {
        Some(_) => body.records.first().and_then(|r| r.id.parse().ok()),
        None => None,
    };
    Ok(Probe { total, at })
}

/// The records of `endpoint` among `ids` (at most [`MAX_PER_PAGE`] of them), hidden
/// ones included, by one request with an id-list filter (`id:=1,2,3`).
pub fn fetch_ids(
    client: &Client,
    endpoint: &Endpoint,
    ids: &[u64],
) -> Result<Vec<Record>, ApiError> {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    let q = IdRange::ALL
        .query(endpoint)
        .filter("id", "=", &list.join(","))
        .sort("id")
        .per_page(MAX_PER_PAGE);
    Ok(client.list_page(endpoint, &q)?.records)
}

/// A listing of every record of one route within an id range, page by page.
#[derive(Debug)]
pub struct RangeListing {
    endpoint: Endpoint,
    range: IdRange,
    after: Option<u64>,
    done: bool,
    per_page: u32,
}

impl RangeListing {
    /// A listing of `endpoint`'s records in `range`.
    pub fn new(endpoint: Endpoint, range: IdRange) -> RangeListing {
        RangeListing {
            endpoint,
            range,
            after: None,
            done: false,
            per_page: MAX_PER_PAGE,
        }
    }

    /// The query of the next page.
    pub fn next_query(&self) -> ListQuery {
        let mut q = self.range.query(&self.endpoint);
        if let Some(after) = self.after {
            q = q.filter("id", ">", &after.to_string());
        }
        q.sort("id").per_page(self.per_page)
    }

    /// The next page's records, or `None` once complete.
    pub fn next_page(&mut self, client: &Client) -> Result<Option<Vec<Record>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let body = client.list_page(&self.endpoint, &self.next_query())?;
        let last = body.records.iter().filter_map(|r| r.id.parse().ok()).max();
        let full = body.records.len() >= self.per_page as usize;
        match last {
            Some(last) if full || body.has_next => {
                if self.after.is_some_and(|a| last <= a) {
                    return Err(ApiError::NoProgress(format!(
                        "{} returned the same ids again for {:?}; it may not support sorting by id",
                        self.endpoint.path,
                        self.next_query().filters()
                    )));
                }
                self.after = Some(last);
            }
            _ => self.done = true,
        }
        Ok(Some(body.records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::endpoints::endpoint;
    use crate::resource::Resource;

    #[test]
    fn ranges_are_half_open_and_filter_hidden_rows_in() {
        let r = IdRange {
            lo: Some(10),
            hi: Some(20),
        };
        assert!(r.contains(10) && r.contains(19) && !r.contains(20) && !r.contains(9));
        assert!(IdRange::ALL.contains(0));
        let mut l = RangeListing::new(endpoint(Resource::Appointments), r);
        assert_eq!(
            l.next_query().filters(),
            ["archived_at:*", "cancelled_at:*", "id:>=10", "id:<20"]
        );
        l.after = Some(15);
        assert_eq!(l.next_query().filters().last().unwrap(), "id:>15");
    }
}
