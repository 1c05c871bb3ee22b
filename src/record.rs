//! One Cliniko record as it is written to the store: key fields, extracted columns, raw
//! JSON; and the evidence a walk gives that a second of them was read completely.

use crate::timestamp::Timestamp;

/// Evidence that every row of one `updated_at` second has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledSecond {
    /// The second.
    pub second: Timestamp,
    /// Cliniko's clock (the response `Date`) when the walk that read it began reading it:
    /// every row stamped with `second` that existed then was read.
    pub read_from: Timestamp,
}

/// A record parsed from an API page, ready to upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Cliniko's id, always a decimal string (never a float).
    pub id: String,
    pub created_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub archived_at: Option<Timestamp>,
    /// Whether the record is hidden upstream by default (archived, or cancelled appointment).
    pub hidden: bool,
    /// Resource-specific columns, in the order the store's table declares them.
    pub columns: Vec<Option<String>>,
    /// The record exactly as Cliniko sent it (its text in the page), unknown fields
    /// included; under a privacy policy, what the policy lets through.
    pub raw_json: String,
    /// Whether a privacy policy shaped `raw_json`: then a newer copy that differs from
    /// the stored one only in `updated_at` (a change upstream only in a dropped field)
    /// is not written.
    pub filtered: bool,
}

impl Record {
    /// The shared builder of records for tests and benchmarks: `id` updated at
    /// `updated_unix` (seconds), nothing else set, `columns` empty typed columns (the
    /// table's column count: `store::table(resource).columns.len()`), raw JSON
    /// `{"id":"ID"}`. Panics when `updated_unix` is outside the timestamp range (a
    /// caller's mistake, never data).
    pub fn stub(id: impl Into<String>, updated_unix: i64, columns: usize) -> Record {
        let id = id.into();
        Record {
            raw_json: format!("{{\"id\":\"{id}\"}}"),
            id,
            created_at: None,
            updated_at: Timestamp::from_unix(updated_unix)
                .unwrap_or_else(|| panic!("Record::stub: {updated_unix} is out of range")),
            archived_at: None,
            hidden: false,
            columns: vec![None; columns],
            filtered: false,
        }
    }

    /// The record with `raw_json` replaced.
    pub fn with_raw_json(mut self, raw_json: impl Into<String>) -> Record {
        self.raw_json = raw_json.into();
        self
    }
}

/// Orders Cliniko ids (64-bit integers sent as strings) numerically, not as text.
pub fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => (a.len(), a).cmp(&(b.len(), b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn ids_compare_numerically() {
        assert_eq!(id_order("9", "10"), Ordering::Less);
        assert_eq!(
            id_order("1665207664587580802", "1665207664587580802"),
            Ordering::Equal
        );
        assert_eq!(id_order("200", "1000"), Ordering::Less);
    }
}
