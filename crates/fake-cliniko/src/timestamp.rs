//! The fake's clock values: UTC whole seconds, written as Cliniko writes them.
//!
//! The fake keeps its own rather than borrowing the client's: what it serves must not
//! depend on how the client reads time, or a mistake there would go unseen.

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// An instant in whole seconds since the UNIX epoch, within years 0..=9999 (so it formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Cliniko's wire format: `2016-07-22T15:10:08Z`.
const CLINIKO: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// An HTTP `Date` header's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

impl Timestamp {
    /// The machine's time, to the second.
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }

    /// `secs` after the epoch, or `None` outside the years it can write.
    pub fn from_unix(secs: i64) -> Option<Self> {
        let year = OffsetDateTime::from_unix_timestamp(secs).ok()?.year();
        (0..=9999).contains(&year).then_some(Timestamp(secs))
    }

    /// Seconds since the epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// Reads an RFC 3339 date-time (any offset; a fraction is dropped), as Cliniko accepts
    /// in filters and as records hold.
    pub fn parse(s: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
        Self::from_unix(t.unix_timestamp())
    }

    /// The instant `d` later.
    #[allow(clippy::should_implement_trait)] // takes a std Duration, saturating
    pub fn add(self, d: Duration) -> Self {
        let later = self
            .0
            .saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self::from_unix(later).unwrap_or(self)
    }

    /// The value of an HTTP `Date` header.
    pub fn to_http_date(self) -> String {
        self.write(IMF_FIXDATE)
    }

    fn write(self, format: &[BorrowedFormatItem<'_>]) -> String {
        // `from_unix` admits only years 0..=9999, which both formats can write.
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(format).ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write(CLINIKO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_any_offset_and_writes_clinikos_format() {
        let t = Timestamp::parse("2016-07-23T01:10:08.750+10:00").unwrap();
        assert_eq!(t.to_string(), "2016-07-22T15:10:08Z");
        assert_eq!(t.to_http_date(), "Fri, 22 Jul 2016 15:10:08 GMT");
        assert_eq!(t.add(Duration::from_secs(60)).unix(), t.unix() + 60);
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
