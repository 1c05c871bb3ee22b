//! Query-string decoding and list-request parsing: `q[]` filters, `page`, `per_page`, `sort`.

use serde_json::Value;

use super::endpoints::{Endpoint, FieldType};
use super::record::{self, Fields};
use crate::timestamp::Timestamp;

/// Largest `per_page` Cliniko accepts.
pub const MAX_PER_PAGE: u64 = 100;
/// `per_page` when the request does not say.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// Why a list request was rejected with 400; the text goes in `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(msg.into()))
}

/// Decodes `%XX` escapes and `+` (space) in one query-string component. Invalid escapes are
/// kept as they are; invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    // `+` first: an escaped plus (`%2B`) must stay a plus.
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits a raw query string (without `?`) into decoded `(name, value)` pairs.
pub fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    fn holds<T: Ord>(self, a: &T, b: &T) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
        }
    }
}

/// One parsed filter condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `*`: any value, null included.
    Any,
    /// `?`: the field is set.
    Present,
    /// `!?`: the field is null (or missing, or `""`).
    Absent,
    /// DateTime comparison against UNIX seconds.
    Time(CmpOp, i64),
    /// Date equality against a `YYYY-MM-DD` pattern where `*` matches any character.
    DateMatch(String),
    /// Date ordering comparison against `YYYY-MM-DD`.
    Date(CmpOp, String),
    /// Numeric `=` with one or more values (`practitioner_id:=1,2,3`).
    NumIn(Vec<i128>),
    /// Numeric `!=`.
    NumNe(i128),
    /// Numeric ordering comparison.
    Num(CmpOp, i128),
    /// String `=` (exact).
    StrEq(String),
    /// String `!=`.
    StrNe(String),
    /// String `~`: contains, case-insensitive (stored lowercased).
    Contains(String),
    /// String `~~`: `%` wildcard match, case-insensitive (stored lowercased).
    Like(String),
    /// Boolean `=` or `!=`.
    Bool {
        /// `true` for `=`, `false` for `!=`.
        equal: bool,
        /// The value compared with.
        value: bool,
    },
    /// Array `~`: the array holds this value.
    ArrayHas(String),
}

/// A `q[]` filter: field and condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The field name (as listed in the endpoint table).
    pub field: &'static str,
    /// The field's type.
    pub ftype: FieldType,
    /// The condition.
    pub cond: Cond,
}

/// One sort column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// Column name.
    pub field: &'static str,
    /// The column's type (decides how values compare).
    pub ftype: FieldType,
    /// Descending.
    pub desc: bool,
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// 1-based page number.
    pub page: u64,
    /// Rows per page (1..=100).
    pub per_page: u64,
    /// ANDed filters.
    pub filters: Vec<Filter>,
    /// Sort columns, most significant first (never empty).
    pub sort: Vec<SortKey>,
}

impl ListQuery {
    /// Rows skipped before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// Parses the decoded query parameters of a list request for endpoint `ep`.
pub fn parse_list_query(
    ep: &Endpoint,
    params: &[(String, String)],
) -> Result<ListQuery, QueryError> {
    let mut page = 1;
    let mut per_page = DEFAULT_PER_PAGE;
    let mut filters = Vec::new();
    let mut sort_spec: Option<&str> = None;
    let mut order_desc = false;
    for (name, value) in params {
        match name.as_str() {
            "q[]" => filters.push(parse_filter(ep, value)?),
            "page" => {
                page = match value.trim().parse::<u64>() {
                    Ok(p) if p >= 1 => p,
                    _ => return err(format!("page must be a positive integer, got `{value}`")),
                }
            }
            "per_page" => {
                per_page = match value.trim().parse::<u64>() {
                    Ok(p) if (1..=MAX_PER_PAGE).contains(&p) => p,
                    _ => {
                        return err(format!(
                            "per_page must be an integer from 1 to {MAX_PER_PAGE}, got `{value}`"
                        ));
                    }
                }
            }
            "sort" => sort_spec = Some(value.as_str()),
            "order" => {
                order_desc = match value.trim() {
                    "asc" | "" => false,
                    "desc" => true,
                    other => return err(format!("order must be asc or desc, got `{other}`")),
                }
            }
            other => {
                return err(format!(
                    "Unknown query parameter `{other}`. Supported: q[], page, per_page, sort, order."
                ));
            }
        }
    }
    let sort = parse_sort(ep, sort_spec.unwrap_or(""), order_desc)?;
    Ok(ListQuery {
        page,
        per_page,
        filters,
        sort,
    })
}

fn parse_sort(ep: &Endpoint, spec: &str, order_desc: bool) -> Result<Vec<SortKey>, QueryError> {
    let mut keys = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (col, desc) = match part.split_once(':') {
            Some((c, "desc")) => (c, true),
            Some((c, "asc")) => (c, false),
            Some((_, d)) => return err(format!("Invalid sort direction `{d}`: use asc or desc")),
            None => (part, order_desc),
        };
        match (ep.field_name(col), ep.field_type(col)) {
            (Some(field), Some(ftype)) if ftype != FieldType::Array => {
                keys.push(SortKey { field, ftype, desc });
            }
            _ => return err(format!("Invalid sort column `{col}`")),
        }
    }
    if keys.is_empty() {
        keys.push(SortKey {
            field: "created_at",
            ftype: FieldType::DateTime,
            desc: order_desc,
        });
    }
    Ok(keys)
}

/// Splits an operator off the front of `rest`, trying the longest spellings first.
fn split_op<'a>(rest: &'a str, ops: &[&'static str]) -> Option<(&'static str, &'a str)> {
    ops.iter()
        .find(|op| rest.starts_with(**op))
        .map(|op| (*op, &rest[op.len()..]))
}

const ALL_OPS: [&str; 12] = [
    "!?", "!=", ">=", "<=", "~~", ">", "<", "=", "~", "?", "*", "!",
];

/// Parses one `q[]` value (`FIELD:OPERATORVALUE`) for endpoint `ep`.
pub fn parse_filter(ep: &Endpoint, raw: &str) -> Result<Filter, QueryError> {
    let Some((field, rest)) = raw.split_once(':') else {
        return err(format!(
            "Invalid filter `{raw}`: expected FIELD:OPERATORVALUE, e.g. updated_at:>=2014-08-30T18:00:00Z"
        ));
    };
    let (Some(name), Some(ftype)) = (ep.field_name(field), ep.field_type(field)) else {
        return err("This column is not searchable.");
    };
    let Some((op, value)) = split_op(rest, &ALL_OPS) else {
        return err(format!("Invalid filter `{raw}`: missing operator"));
    };
    let bad_op = || {
        err(format!(
            "Invalid filter `{raw}`: operator `{op}` is not supported for {field} ({ftype:?})"
        ))
    };
    let bad_value = |what: &str| err(format!("Invalid filter `{raw}`: {what}"));
    let cmp = match op {
        ">" => Some(CmpOp::Gt),
        ">=" => Some(CmpOp::Ge),
        "<" => Some(CmpOp::Lt),
        "<=" => Some(CmpOp::Le),
        _ => None,
    };
    // Operators without a value.
    if matches!(op, "?" | "!?" | "*") {
        if !value.is_empty() {
            return bad_value("`?`, `!?` and `*` take no value");
        }
        let ok = match op {
            "*" => ftype == FieldType::DateTime,
            _ => !matches!(ftype, FieldType::Boolean | FieldType::Array),
        };
        if !ok {
            return bad_op();
        }
        let cond = match op {
            "*" => Cond::Any,
            "?" => Cond::Present,
            _ => Cond::Absent,
        };
        return Ok(Filter {
            field: name,
            ftype,
            cond,
        });
    }
    let cond = match ftype {
        FieldType::DateTime => {
            let Some(c) = cmp else { return bad_op() };
            match parse_time(value) {
                Some(t) => Cond::Time(c, t),
                None => {
                    return bad_value("expected a UTC date-time like 2014-08-30T18:00:00Z");
                }
            }
        }
        FieldType::Date => {
            if !valid_date_pattern(value, op == "=") {
                return bad_value("expected a date like 2014-08-30 (`*` wildcards only with `=`)");
            }
            match (op, cmp) {
                ("=", _) => Cond::DateMatch(value.to_string()),
                (_, Some(c)) => Cond::Date(c, value.to_string()),
                _ => return bad_op(),
            }
        }
        FieldType::Numeric => {
            let int = |s: &str| s.trim().parse::<i128>().ok();
            match (op, cmp) {
                ("=", _) => {
                    let list: Option<Vec<i128>> = value.split(',').map(int).collect();
                    match list {
                        Some(l) if !l.is_empty() => Cond::NumIn(l),
                        _ => return bad_value("expected an integer or a comma-separated list"),
                    }
                }
                ("!=", _) => match int(value) {
                    Some(n) => Cond::NumNe(n),
                    None => return bad_value("expected an integer"),
                },
                (_, Some(c)) => match int(value) {
                    Some(n) => Cond::Num(c, n),
                    None => return bad_value("expected an integer"),
                },
                _ => return bad_op(),
            }
        }
        FieldType::String => match op {
            "=" => Cond::StrEq(value.to_string()),
            "!=" => Cond::StrNe(value.to_string()),
            "~" => Cond::Contains(value.to_lowercase()),
            "~~" => Cond::Like(value.to_lowercase()),
            _ => return bad_op(),
        },
        FieldType::Boolean => {
            let v = match value {
                "true" => true,
                "false" => false,
                _ => return bad_value("expected true or false"),
            };
            match op {
                "=" => Cond::Bool {
                    equal: true,
                    value: v,
                },
                "!=" => Cond::Bool {
                    equal: false,
                    value: v,
                },
                _ => return bad_op(),
            }
        }
        FieldType::Array => match op {
            "~" => Cond::ArrayHas(value.to_string()),
            _ => return bad_op(),
        },
    };
    Ok(Filter {
        field: name,
        ftype,
        cond,
    })
}

fn parse_time(s: &str) -> Option<i64> {
    // Cliniko wants UTC `...Z`; an offset that arrived with `+` decoded to a space fails here.
    if s.contains(' ') || !s.contains('T') {
        return None;
    }
    Timestamp::parse(s).map(Timestamp::unix)
}

fn valid_date_pattern(s: &str, wildcards: bool) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit() || (wildcards && *c == b'*'),
        })
}

fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Filter {
    /// Whether `rec` passes this filter.
    pub fn matches<F: Fields + ?Sized>(&self, rec: &F) -> bool {
        let owned = rec.value(self.field);
        let v: Option<&Value> = owned.as_deref();
        match &self.cond {
            Cond::Any => true,
            Cond::Present => v.is_some(),
            Cond::Absent => v.is_none(),
            Cond::Time(op, t) => v
                .and_then(Value::as_str)
                .and_then(Timestamp::parse)
                .is_some_and(|x| op.holds(&x.unix(), t)),
            Cond::DateMatch(p) => date_text(v).is_some_and(|d| {
                d.len() == p.len() && d.bytes().zip(p.bytes()).all(|(a, b)| b == b'*' || a == b)
            }),
            Cond::Date(op, d) => date_text(v).is_some_and(|x| op.holds(&x, &d.as_str())),
            Cond::NumIn(list) => v
                .and_then(record::as_int)
                .is_some_and(|n| list.contains(&n)),
            Cond::NumNe(x) => v.and_then(record::as_int).is_some_and(|n| n != *x),
            Cond::Num(op, x) => v.and_then(record::as_int).is_some_and(|n| op.holds(&n, x)),
            Cond::StrEq(s) => v.and_then(record::as_text).is_some_and(|t| t == *s),
            Cond::StrNe(s) => v.and_then(record::as_text).is_some_and(|t| t != *s),
            Cond::Contains(s) => v
                .and_then(record::as_text)
                .is_some_and(|t| t.to_lowercase().contains(s.as_str())),
            Cond::Like(p) => v
                .and_then(record::as_text)
                .is_some_and(|t| like(&t.to_lowercase(), p)),
            Cond::Bool { equal, value } => {
                let b = match v {
                    Some(Value::Bool(b)) => Some(*b),
                    Some(Value::String(s)) => s.parse().ok(),
                    _ => None,
                };
                b.is_some_and(|b| (b == *value) == *equal)
            }
            Cond::ArrayHas(x) => match v {
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|i| record::as_text(i).is_some_and(|t| t == *x)),
                _ => false,
            },
        }
    }
}

fn date_text(v: Option<&Value>) -> Option<&str> {
    v?.as_str().map(|s| s.get(..10).unwrap_or(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::find;
    use serde_json::json;

    fn q(ep: &str, raw: &str) -> Result<ListQuery, QueryError> {
        parse_list_query(find(ep).unwrap(), &parse_pairs(raw))
    }

    #[test]
    fn decoding() {
        assert_eq!(
            percent_decode("q%5B%5D=updated_at%3A%3E%3D2024-01-01T00%3A00%3A00Z"),
            "q[]=updated_at:>=2024-01-01T00:00:00Z"
        );
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        let pairs = parse_pairs("q%5B%5D=a%3A%3D1&page=2&flag");
        assert_eq!(pairs[0], ("q[]".into(), "a:=1".into()));
        assert_eq!(pairs[2], ("flag".into(), String::new()));
    }

    #[test]
    fn parses_and_rejects() {
        let lq = q(
            "/patients",
            "q[]=updated_at:>=2024-01-01T00:00:00Z&per_page=100&sort=updated_at,id:desc",
        )
        .unwrap();
        assert_eq!(lq.per_page, 100);
        assert_eq!(lq.filters[0].cond, Cond::Time(CmpOp::Ge, 1_704_067_200));
        assert_eq!((lq.sort[0].field, lq.sort[0].desc), ("updated_at", false));
        assert_eq!((lq.sort[1].field, lq.sort[1].desc), ("id", true));
        let default = q("/patients", "").unwrap();
        assert_eq!(
            (default.page, default.per_page, default.sort[0].field),
            (1, 50, "created_at")
        );
        for bad in [
            "per_page=101",
            "per_page=0",
            "page=0",
            "updated_since=2024-01-01T00:00:00Z",
            "q[]=cancelled_at:*",
            "q[]=updated_at:=2024-01-01T00:00:00Z",
            "q[]=updated_at:>=yesterday",
            "q[]=updated_at:>=2024-01-01T00:00:00 10:00",
            "q[]=id:>abc",
            "q[]=first_name",
            "q[]=first_name:>a",
            "sort=starts_at",
            "order=sideways",
        ] {
            assert!(q("/patients", bad).is_err(), "{bad}");
        }
        assert_eq!(
            q("/patients", "q[]=cancelled_at:*").unwrap_err().0,
            "This column is not searchable."
        );
        assert!(
            q(
                "/individual_appointments",
                "q[]=cancelled_at:*&sort=starts_at:desc"
            )
            .is_ok()
        );
        assert!(q("/individual_appointments", "q[]=practitioner_id:=1,2,3").is_ok());
        assert!(q("/patients", "q[]=date_of_birth:=****-05-**").is_ok());
    }

    #[test]
    fn matching() {
        let rec = json!({
            "id": "1000000000000000010",
            "first_name": "Brian",
            "email": null,
            "updated_at": "2024-01-01T00:00:00Z",
            "date_of_birth": "1990-05-26",
            "practitioner": {"links": {"self": "https://x/v1/practitioners/7"}},
            "patient_ids": ["1", "2"],
            "did_not_arrive": false,
        });
        let rec = rec.as_object().unwrap();
        let ep = find("/individual_appointments").unwrap();
        let pt = find("/patients").unwrap();
        let bk = find("/bookings").unwrap();
        let yes = |ep, f: &str| parse_filter(ep, f).unwrap().matches(rec);
        assert!(yes(pt, "first_name:~bri"));
        assert!(yes(pt, "first_name:~~b%n"));
        assert!(!yes(pt, "first_name:~~b%x"));
        assert!(yes(pt, "email:!?"));
        assert!(!yes(pt, "email:?"));
        assert!(yes(pt, "date_of_birth:=****-05-**"));
        assert!(yes(pt, "date_of_birth:<2000-01-01"));
        assert!(yes(pt, "id:>999999999999999999"));
        assert!(yes(pt, "id:>=1000000000000000010"));
        assert!(!yes(pt, "id:>1000000000000000010"));
        assert!(yes(ep, "practitioner_id:=3,7"));
        assert!(yes(ep, "updated_at:<2024-01-01T00:00:01Z"));
        assert!(yes(bk, "patient_ids:~2"));
        assert!(yes(bk, "did_not_arrive:=false"));
        assert!(yes(bk, "did_not_arrive:!=true"));
    }
}
