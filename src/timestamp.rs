//! UTC timestamps in Cliniko's wire format (`YYYY-MM-DDTHH:MM:SSZ`), the only format stored.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// A UTC instant with whole-second precision, as Cliniko sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

const WIRE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

impl Timestamp {
    /// 1970-01-01T00:00:00Z, which marks a damaged stored time.
    pub const EPOCH: Timestamp = Timestamp(OffsetDateTime::UNIX_EPOCH);

    /// The current time, truncated to the second. Only the outer layers call this; the
    /// engine receives `now` as an argument.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Converts any offset date-time to UTC, dropping sub-second precision.
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        let utc = dt.to_offset(UtcOffset::UTC);
        Timestamp(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// Seconds since the UNIX epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .map(Timestamp)
    }

    /// Seconds since the UNIX epoch.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Parses an RFC 3339 date-time (any offset, optional fraction) into UTC seconds.
    pub fn parse(s: &str) -> Option<Self> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    /// The instant `d` later (saturating at the far future).
    #[allow(clippy::should_implement_trait)] // takes a std Duration, saturating
    pub fn add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(time::Duration::seconds(secs_i64(d))))
    }

    /// The instant `d` earlier.
    #[allow(clippy::should_implement_trait)] // takes a std Duration, saturating
    pub fn sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(time::Duration::seconds(secs_i64(d))))
    }

    /// How long after `earlier` this is, or zero when it is not later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_secs(u64::try_from(self.unix() - earlier.unix()).unwrap_or(0))
    }

    /// The underlying `time` value.
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// The IMF-fixdate of an HTTP `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.
    pub fn to_http_date(self) -> String {
        self.0
            .format(HTTP_DATE)
            .unwrap_or_else(|_| self.to_string())
    }

    /// Parses an HTTP `Date` header (IMF-fixdate).
    pub fn parse_http_date(s: &str) -> Option<Self> {
        time::PrimitiveDateTime::parse(s.trim(), HTTP_DATE)
            .ok()
            .map(|dt| Timestamp(dt.assume_utc()))
    }
}

const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

fn secs_i64(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Formatting a valid UTC date-time with a fixed description cannot fail for years
        // 0..=9999; outside that range fall back to RFC 3339.
        match self.0.format(WIRE) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s).ok_or_else(|| format!("`{s}` is not an RFC 3339 UTC timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip_and_normalisation() {
        let t = Timestamp::parse("2016-07-22T15:10:08Z").unwrap();
        assert_eq!(t.to_string(), "2016-07-22T15:10:08Z");
        let t2 = Timestamp::parse("2016-07-23T01:10:08.750+10:00").unwrap();
        assert_eq!(t2, t);
        assert!(Timestamp::parse("").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn arithmetic() {
        let t = Timestamp::from_unix(1_000).unwrap();
        assert_eq!(t.add(Duration::from_secs(60)).unix(), 1_060);
        assert_eq!(t.sub(Duration::from_secs(60)).unix(), 940);
        assert_eq!(
            t.add(Duration::from_secs(5)).since(t),
            Duration::from_secs(5)
        );
        assert_eq!(t.since(t.add(Duration::from_secs(5))), Duration::ZERO);
    }

    #[test]
    fn http_dates_round_trip() {
        let t = Timestamp::parse("1994-11-06T08:49:37Z").unwrap();
        assert_eq!(t.to_http_date(), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(Timestamp::parse_http_date(&t.to_http_date()), Some(t));
        assert_eq!(Timestamp::parse_http_date("yesterday"), None);
    }
}
