//! Each business's UTC offsets over the years dashboards read (every daylight-saving
//! change of its IANA time zone), so the KPI views place appointments on local days with
//! the same SQL on both stores (SQLite knows no time zones).

use jiff::tz::TimeZone;

use super::StoreError;
use crate::timestamp::Timestamp;

/// The first instant covered: 1990-01-01T00:00:00Z.
pub const COVERED_FROM: i64 = 631_152_000;
/// The end of what is covered (exclusive): 2060-01-01T00:00:00Z.
pub const COVERED_UNTIL: i64 = 2_840_140_800;

/// One stretch of a business's time in which its UTC offset does not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetSpan {
    pub business_id: String,
    pub starts_utc: Timestamp,
    /// Exclusive.
    pub ends_utc: Timestamp,
    /// Local time minus UTC.
    pub utc_offset_seconds: i64,
}

/// Writing an org's offsets from its stored businesses.
pub trait LocalOffsets {
    /// Rewrites `org_id`'s `local_offsets` rows from the time zones of its stored
    /// businesses, in one transaction; returns the businesses whose zone is missing or
    /// unknown to the time zone database (their times are counted as UTC).
    fn refresh_local_offsets(&mut self, org_id: &str) -> Result<Vec<String>, StoreError>;
}

/// The stretches covering [`COVERED_FROM`]..[`COVERED_UNTIL`] for every `(id, zone)`
/// business, and the ids whose zone is missing or unknown (one UTC stretch each).
pub fn offset_spans(businesses: &[(String, Option<String>)]) -> (Vec<OffsetSpan>, Vec<String>) {
    let mut spans = Vec::new();
    let mut unknown = Vec::new();
    for (id, zone) in businesses {
        let tz = zone.as_deref().and_then(|z| TimeZone::get(z).ok());
        if tz.is_none() {
            unknown.push(id.clone());
        }
        spans.extend(zone_spans(id, &tz.unwrap_or(TimeZone::UTC)));
    }
    (spans, unknown)
}

fn zone_spans(business_id: &str, tz: &TimeZone) -> Vec<OffsetSpan> {
    let span = |from: i64, until: i64, offset: i32| OffsetSpan {
        business_id: business_id.to_string(),
        starts_utc: at(from),
        ends_utc: at(until),
        utc_offset_seconds: i64::from(offset),
    };
    let mut out = Vec::new();
    let first = jiff::Timestamp::from_second(COVERED_FROM).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let (mut from, mut offset) = (COVERED_FROM, tz.to_offset(first).seconds());
    for change in tz.following(first) {
        let when = change.timestamp().as_second();
        if when >= COVERED_UNTIL {
            break;
        }
        let next = change.offset().seconds();
        // A change of abbreviation only is no change of offset.
        if next != offset {
            out.push(span(from, when, offset));
            (from, offset) = (when, next);
        }
    }
    out.push(span(from, COVERED_UNTIL, offset));
    out
}

fn at(secs: i64) -> Timestamp {
    // Every instant here lies between 1990 and 2060, which Timestamp holds.
    Timestamp::from_unix(secs).unwrap_or_else(Timestamp::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn melbourne_changes_twice_a_year_and_covers_the_span_without_gaps() {
        let (spans, unknown) = offset_spans(&[("b1".into(), Some("Australia/Melbourne".into()))]);
        assert!(unknown.is_empty());
        assert_eq!(spans[0].starts_utc.unix(), COVERED_FROM);
        assert_eq!(spans.last().unwrap().ends_utc.unix(), COVERED_UNTIL);
        for pair in spans.windows(2) {
            assert_eq!(pair[0].ends_utc, pair[1].starts_utc);
            assert_ne!(pair[0].utc_offset_seconds, pair[1].utc_offset_seconds);
        }
        // 2026-04-05T03:00 AEDT (UTC+11) became 02:00 AEST (UTC+10) at 16:00Z the day before.
        let change = spans
            .iter()
            .find(|s| s.starts_utc.to_string() == "2026-04-04T16:00:00Z")
            .unwrap();
        assert_eq!(change.utc_offset_seconds, 36_000);
        assert!(spans.len() > 100);
    }

    #[test]
    fn a_missing_or_unknown_zone_is_utc_and_named() {
        let (spans, unknown) = offset_spans(&[
            ("b1".into(), None),
            ("b2".into(), Some("Mars/Olympus".into())),
        ]);
        assert_eq!(unknown, ["b1", "b2"]);
        assert_eq!(spans.len(), 2);
        assert!(spans.iter().all(|s| s.utc_offset_seconds == 0));
    }
}
