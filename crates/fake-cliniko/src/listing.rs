//! Answers a parsed list query from a collection: visibility, index range scans, sorting, paging.

use std::cmp::Ordering;
use std::sync::Arc;

use super::collection::{Collection, IndexKind, Stored, id_key};
use super::endpoints::{Endpoint, FieldType, Scope};
use super::index::Entry;
use super::query::{CmpOp, Cond, Filter, ListQuery, SortKey};
use super::record::{self, FLAG_INACTIVE, Fields};
use super::rng::Rng;

/// One page of a list answer.
#[derive(Debug, Clone, Default)]
pub struct PageRows {
    /// Serialized records of the page, in order.
    pub rows: Vec<Arc<str>>,
    /// Rows matching the query across all pages.
    pub total: usize,
}

/// Which flag bits must be set or clear for a row to be visible.
#[derive(Debug, Clone, Copy, Default)]
struct Visibility {
    mask: u8,
    want: u8,
    impossible: bool,
}

impl Visibility {
    fn require(&mut self, bit: u8, set: bool) {
        let want = if set { bit } else { 0 };
        if self.mask & bit != 0 && self.want & bit != want {
            self.impossible = true;
        }
        self.mask |= bit;
        self.want = (self.want & !bit) | want;
    }

    fn admits(&self, flags: u8) -> bool {
        flags & self.mask == self.want
    }
}

/// Splits the filters into flag constraints (hidden classes, scope) and the rest.
fn visibility<'q>(ep: &Endpoint, filters: &'q [Filter]) -> (Visibility, Vec<&'q Filter>) {
    let mut vis = Visibility::default();
    match ep.scope {
        Scope::All => {}
        Scope::Active => vis.require(FLAG_INACTIVE, false),
        Scope::Inactive => vis.require(FLAG_INACTIVE, true),
    }
    let mut rest = Vec::new();
    for h in ep.hidden {
        let opted_in = filters
            .iter()
            .any(|f| f.field == h.field() && matches!(f.cond, Cond::Any | Cond::Present));
        if !opted_in {
            vis.require(h.flag(), false);
        }
    }
    for f in filters {
        let hidden = ep.hidden.iter().find(|h| h.field() == f.field);
        match (&f.cond, hidden) {
            (Cond::Any, _) => {}
            (Cond::Present, Some(h)) => vis.require(h.flag(), true),
            (Cond::Absent, Some(h)) => vis.require(h.flag(), false),
            _ => rest.push(f),
        }
    }
    (vis, rest)
}

/// Half-open bounds `lo..hi` in the index's `i64` key space.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lo: Option<i64>,
    hi: Option<i64>,
    empty: bool,
}

/// Takes the filters on `field` that an index over it can answer and turns them into bounds.
fn take_bounds(kind: IndexKind, filters: &mut Vec<&Filter>) -> Bounds {
    let field = match kind {
        IndexKind::Updated => "updated_at",
        IndexKind::Created => "created_at",
        IndexKind::Id => "id",
    };
    // Work in i128 so `> i64::MAX`-ish edges cannot overflow.
    let mut lo: Option<i128> = None;
    let mut hi: Option<i128> = None;
    let mut raise = |v: i128| lo = Some(lo.map_or(v, |l| l.max(v)));
    let mut lower = |v: i128| hi = Some(hi.map_or(v, |h| h.min(v)));
    filters.retain(|f| {
        if f.field != field {
            return true;
        }
        let (op, v) = match &f.cond {
            Cond::Time(op, t) => (*op, i128::from(*t)),
            Cond::Num(op, n) => (*op, *n),
            Cond::NumIn(list) if list.len() == 1 => {
                raise(list[0]);
                lower(list[0] + 1);
                return false;
            }
            _ => return true,
        };
        match op {
            CmpOp::Ge => raise(v),
            CmpOp::Gt => raise(v + 1),
            CmpOp::Le => lower(v + 1),
            CmpOp::Lt => lower(v),
        }
        false
    });
    let (dom_lo, dom_hi) = match kind {
        // Rows without a parseable timestamp sit at i64::MIN and fail every comparison.
        IndexKind::Updated | IndexKind::Created => (i128::from(i64::MIN) + 1, i128::from(i64::MAX)),
        IndexKind::Id => (0, i128::from(u64::MAX)),
    };
    let bounded = lo.is_some() || hi.is_some();
    let lo = lo
        .unwrap_or(if bounded { dom_lo } else { i128::MIN })
        .max(dom_lo);
    let hi = hi.unwrap_or(i128::MAX);
    let empty = lo > dom_hi || hi <= lo;
    let to_key = |v: i128| -> i64 {
        match kind {
            IndexKind::Id => id_key(v.clamp(0, i128::from(u64::MAX)) as u64),
            _ => v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        }
    };
    Bounds {
        lo: bounded.then(|| to_key(lo)),
        hi: (hi <= dom_hi).then(|| to_key(hi)),
        empty,
    }
}

/// Which index (if any) yields rows already in the requested order.
fn plan(sort: &[SortKey], shuffle: bool) -> Option<(IndexKind, bool)> {
    let first = sort.first()?;
    if first.field == "id" {
        return Some((IndexKind::Id, first.desc));
    }
    if let [a, b, ..] = sort
        && a.field == "updated_at"
        && b.field == "id"
        && a.desc == b.desc
    {
        return Some((IndexKind::Updated, a.desc));
    }
    if let [a] = sort
        && a.field == "created_at"
        && !a.desc
        && !shuffle
    {
        return Some((IndexKind::Created, false));
    }
    None
}

/// Runs `q` against `coll` as endpoint `ep`. `shuffle_seed` randomises the order of rows
/// that tie on every sort key; without it ties keep insertion order.
pub fn run(
    coll: &mut Collection,
    ep: &Endpoint,
    q: &ListQuery,
    shuffle_seed: Option<u64>,
) -> PageRows {
    coll.prepare();
    let coll = &*coll;
    let (vis, mut rest) = visibility(ep, &q.filters);
    if vis.impossible {
        return PageRows::default();
    }
    let offset = usize::try_from(q.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(q.per_page).unwrap_or(usize::MAX);
    let ids = match plan(&q.sort, shuffle_seed.is_some()) {
        Some((kind, desc)) => {
            let b = take_bounds(kind, &mut rest);
            if b.empty {
                return PageRows::default();
            }
            let slice = coll.sorted_index(kind).range(b.lo, b.hi);
            scan_ordered(coll, slice, desc, vis, &rest, offset, limit)
        }
        None => scan_and_sort(coll, vis, rest, &q.sort, shuffle_seed, offset, limit),
    };
    let rows = ids
        .0
        .iter()
        .filter_map(|id| coll.stored(*id).map(|s| Arc::clone(&s.json)))
        .collect();
    PageRows { rows, total: ids.1 }
}

fn passes(coll: &Collection, e: &Entry, vis: Visibility, rest: &[&Filter]) -> bool {
    vis.admits(e.flags)
        && (rest.is_empty()
            || coll
                .stored(e.id)
                .is_some_and(|s| rest.iter().all(|f| f.matches(s))))
}

/// Pages through index entries already in order; returns the page's ids and the total.
fn scan_ordered(
    coll: &Collection,
    slice: &[Entry],
    desc: bool,
    vis: Visibility,
    rest: &[&Filter],
    offset: usize,
    limit: usize,
) -> (Vec<u64>, usize) {
    if vis.mask == 0 && rest.is_empty() {
        // Every entry in the range matches: the page is a sub-slice, the total its length.
        let n = slice.len();
        let start = offset.min(n);
        let end = start.saturating_add(limit).min(n);
        let ids = if desc {
            slice[n - end..n - start]
                .iter()
                .rev()
                .map(|e| e.id)
                .collect()
        } else {
            slice[start..end].iter().map(|e| e.id).collect()
        };
        return (ids, n);
    }
    let mut total = 0;
    let mut ids = Vec::with_capacity(limit.min(128));
    let mut visit = |e: &Entry| {
        if passes(coll, e, vis, rest) {
            if total >= offset && ids.len() < limit {
                ids.push(e.id);
            }
            total += 1;
        }
    };
    if desc {
        slice.iter().rev().for_each(&mut visit);
    } else {
        slice.iter().for_each(&mut visit);
    }
    (ids, total)
}

/// A sort value; nulls sort after everything ascending (as in PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortVal {
    Bool(bool),
    Int(i128),
    Text(String),
    Null,
}

fn sort_val(s: &Stored, key: &SortKey) -> SortVal {
    let time = |t: i64| {
        if t == i64::MIN {
            SortVal::Null
        } else {
            SortVal::Int(i128::from(t))
        }
    };
    match key.field {
        "updated_at" => return time(s.updated),
        "created_at" => return time(s.created),
        _ => {}
    }
    let Some(v) = s.value(key.field) else {
        return SortVal::Null;
    };
    let parsed = match key.ftype {
        FieldType::DateTime => v
            .as_str()
            .and_then(crate::timestamp::Timestamp::parse)
            .map(|t| SortVal::Int(i128::from(t.unix()))),
        FieldType::Numeric => record::as_int(&v).map(SortVal::Int),
        FieldType::Boolean => v.as_bool().map(SortVal::Bool),
        FieldType::Date | FieldType::String | FieldType::Array => {
            record::as_text(&v).map(SortVal::Text)
        }
    };
    parsed.unwrap_or(SortVal::Null)
}

/// The general path: filter candidates, sort by extracted keys, page.
fn scan_and_sort(
    coll: &Collection,
    vis: Visibility,
    mut rest: Vec<&Filter>,
    sort: &[SortKey],
    shuffle_seed: Option<u64>,
    offset: usize,
    limit: usize,
) -> (Vec<u64>, usize) {
    // An `updated_at` range still narrows the candidates even when it cannot give the order.
    let b = take_bounds(IndexKind::Updated, &mut rest);
    if b.empty {
        return (Vec::new(), 0);
    }
    let candidates = coll.sorted_index(IndexKind::Updated).range(b.lo, b.hi);
    let mut rng = shuffle_seed.map(Rng::new);
    let mut rows: Vec<(Vec<SortVal>, u64, u64)> = candidates
        .iter()
        .filter(|e| passes(coll, e, vis, &rest))
        .filter_map(|e| {
            let s = coll.stored(e.id)?;
            let keys = sort.iter().map(|k| sort_val(s, k)).collect();
            let tie = rng.as_mut().map_or(s.seq, Rng::next_u64);
            Some((keys, tie, e.id))
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        for (i, k) in sort.iter().enumerate() {
            let o = a.0[i].cmp(&b.0[i]);
            let o = if k.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.1.cmp(&b.1)
    });
    let total = rows.len();
    let ids = rows.iter().skip(offset).take(limit).map(|r| r.2).collect();
    (ids, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::find;
    use crate::query::{parse_list_query, parse_pairs};
    use serde_json::json;

    fn coll() -> Collection {
        let mut c = Collection::new("patients");
        c.begin_bulk();
        // ids deliberately of different lengths: string order would differ from numeric.
        for (id, upd, archived) in [
            ("900", "2024-01-02T00:00:00Z", false),
            ("1000", "2024-01-01T00:00:00Z", false),
            ("20", "2024-01-02T00:00:00Z", true),
            ("3", "2024-01-03T00:00:00Z", false),
            ("10000", "2024-01-02T00:00:00Z", false),
        ] {
            let r = json!({
                "id": id, "created_at": "2023-01-01T00:00:00Z", "updated_at": upd,
                "archived_at": if archived { json!("2024-01-02T00:00:00Z") } else { json!(null) },
            });
            c.put(r.as_object().cloned().unwrap());
        }
        c
    }

    fn ids(c: &mut Collection, raw: &str, seed: Option<u64>) -> (Vec<String>, usize) {
        let ep = find("/patients").unwrap();
        let q = parse_list_query(ep, &parse_pairs(raw)).unwrap();
        let page = run(c, ep, &q, seed);
        let ids = page
            .rows
            .iter()
            .map(|j| {
                let v: serde_json::Value = serde_json::from_str(j).unwrap();
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        (ids, page.total)
    }

    #[test]
    fn verify_probes_and_id_lists() {
        let mut c = coll();
        // The row at a position in id order, with the range's count (verify's probe).
        let q = "sort=id&q[]=archived_at:*&q[]=id:>=10&per_page=1&page=3";
        assert_eq!(ids(&mut c, q, None), (vec!["1000".to_string()], 4));
        // Past the end: no row, still the count.
        let q = "sort=id&q[]=archived_at:*&per_page=1&page=9";
        assert_eq!(ids(&mut c, q, None), (vec![], 5));
        // Records by an id list (verify's second look); absent ids are simply missing.
        let q = "sort=id&q[]=archived_at:*&q[]=id:=20,3,7&per_page=100";
        assert_eq!(ids(&mut c, q, None).0, ["3", "20"]);
    }

    #[test]
    fn index_paths_match_general_path() {
        let mut c = coll();
        let (got, total) = ids(&mut c, "sort=updated_at,id", None);
        assert_eq!(got, ["1000", "900", "10000", "3"]);
        assert_eq!(total, 4);
        let (got, _) = ids(&mut c, "sort=updated_at,id&q[]=archived_at:*", None);
        assert_eq!(got, ["1000", "20", "900", "10000", "3"]);
        let (got, _) = ids(
            &mut c,
            "sort=updated_at:desc,id:desc&q[]=archived_at:*&per_page=2&page=2",
            None,
        );
        assert_eq!(got, ["900", "20"]);
        let (got, total) = ids(
            &mut c,
            "sort=updated_at,id&q[]=updated_at:>=2024-01-02T00:00:00Z&q[]=id:>900",
            None,
        );
        assert_eq!(
            (got, total),
            (vec!["10000".to_string()], 1),
            "3 < 900 as integers, though not as strings"
        );
        let (got, _) = ids(
            &mut c,
            "sort=id&q[]=id:>=20&q[]=id:<10000&q[]=archived_at:?",
            None,
        );
        assert_eq!(got, ["20"]);
        let (got, _) = ids(&mut c, "sort=id:desc", None);
        assert_eq!(got, ["10000", "1000", "900", "3"]);
        // Ties on updated_at keep insertion order without shuffling (general path).
        let (got, _) = ids(
            &mut c,
            "sort=updated_at&q[]=updated_at:>2024-01-01T00:00:00Z",
            None,
        );
        assert_eq!(got, ["900", "10000", "3"]);
        // Default created_at order is insertion order for equal created_at.
        let (got, _) = ids(&mut c, "", None);
        assert_eq!(got, ["900", "1000", "3", "10000"]);
        let (got, total) = ids(&mut c, "q[]=archived_at:?&q[]=archived_at:!?", None);
        assert_eq!((got.len(), total), (0, 0));
        let (got, total) = ids(&mut c, "page=3&per_page=2", None);
        assert_eq!((got.len(), total), (0, 4));
    }

    #[test]
    fn shuffle_changes_tie_order_only() {
        let mut c = Collection::new("patients");
        for i in 0..40u64 {
            let r = json!({"id": (1000 + i).to_string(), "created_at": "2023-01-01T00:00:00Z",
                "updated_at": if i < 30 { "2024-01-01T00:00:00Z" } else { "2024-02-01T00:00:00Z" }});
            c.put(r.as_object().cloned().unwrap());
        }
        let (a, _) = ids(&mut c, "sort=updated_at&per_page=100", Some(1));
        let (b, _) = ids(&mut c, "sort=updated_at&per_page=100", Some(2));
        assert_ne!(a, b);
        // Both tie groups are shuffled, but never mixed: the earlier second comes first.
        let group = |v: &[String]| {
            let mut g = v.to_vec();
            g.sort();
            g
        };
        assert_eq!(group(&a[..30]), group(&b[..30]));
        assert_eq!(group(&a[30..]), group(&b[30..]));
        assert!(a[..30].iter().all(|id| id.as_str() < "1030"));
    }
}
