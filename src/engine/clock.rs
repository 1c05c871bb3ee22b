//! How far the host's clock is trusted: its skew against Cliniko's clock (the `Date`
//! header of its responses), and stored host-clock times that lie in the future.
//!
//! Deleting by age (purge, run-history pruning) waits while the host clock disagrees
//! with Cliniko's by more than [`CLOCK_TOLERANCE`]; a stored time later than now by more
//! than it is treated as unknown (see [`super::plan::future_times`]).

use std::time::Duration;

use crate::cliniko::ServerDate;
use crate::timestamp::Timestamp;

/// How far the host clock may differ from Cliniko's before it is doubted. Wide enough
/// for a `Date` header's one-second resolution, a slow response and an NTP-disciplined
/// clock's drift; far narrower than any retention period or interval it guards.
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(120);

/// The host clock minus Cliniko's (positive: the host is ahead), as one response showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew {
    pub seconds: i64,
    /// When it was measured, by the host clock.
    pub measured_at: Timestamp,
}

impl ClockSkew {
    /// The skew shown by `sample`, read at `now` (host clock). Cliniko stamped the
    /// response somewhere between sending and receiving: its `Date` is compared with the
    /// host time half a round trip before the response arrived.
    pub fn from_sample(now: Timestamp, sample: &ServerDate) -> ClockSkew {
        let before = i64::try_from(since_stamped(sample).as_millis()).unwrap_or(i64::MAX);
        let host_ms = now.unix().saturating_mul(1000).saturating_sub(before);
        let cliniko_ms = sample.date.unix().saturating_mul(1000);
        let diff = host_ms.saturating_sub(cliniko_ms);
        ClockSkew {
            // Rounded to the nearest second, as the header's resolution allows.
            seconds: (diff + diff.signum() * 500) / 1000,
            measured_at: now,
        }
    }

    /// Whether the host clock agrees with Cliniko's within [`CLOCK_TOLERANCE`].
    pub fn within_tolerance(&self) -> bool {
        within_tolerance(self.seconds)
    }

    /// e.g. `the host clock is 400 days ahead of Cliniko's`.
    pub fn describe(&self) -> String {
        describe_skew(self.seconds)
    }
}

/// How long ago Cliniko stamped `sample`'s `Date`: somewhere between sending the request
/// and receiving the answer, so half a round trip before it arrived.
fn since_stamped(sample: &ServerDate) -> Duration {
    sample.age + sample.round_trip / 2
}

/// Cliniko's clock now, by its newest `Date` header (`sample`) and the time since; the
/// host's clock (`host_now`) when no response carried one. What a deletion mark is
/// stamped with: a host clock that is wrong then cannot date it (a mark a year ahead
/// would hold an erasure back a year).
pub fn cliniko_now(sample: Option<&ServerDate>, host_now: Timestamp) -> Timestamp {
    sample.map_or(host_now, |s| s.date.add(since_stamped(s)))
}

/// Whether a skew of `seconds` is within [`CLOCK_TOLERANCE`].
pub fn within_tolerance(seconds: i64) -> bool {
    seconds.unsigned_abs() <= CLOCK_TOLERANCE.as_secs()
}

/// `the host clock is 400 days ahead of Cliniko's` / `... 3 min behind ...` /
/// `... agrees with Cliniko's (2 s ahead)`.
pub fn describe_skew(seconds: i64) -> String {
    let amount = human(seconds.unsigned_abs());
    let side = if seconds >= 0 { "ahead" } else { "behind" };
    if within_tolerance(seconds) {
        format!("the host clock agrees with Cliniko's ({amount} {side})")
    } else if seconds > 0 {
        format!("the host clock is {amount} ahead of Cliniko's")
    } else {
        format!("the host clock is {amount} behind Cliniko's")
    }
}

/// The tolerance as shown to people: `2 min`.
pub fn tolerance_text() -> String {
    human(CLOCK_TOLERANCE.as_secs())
}

/// Whether a stored host-clock time `t` lies in the future at `now`, past the tolerance.
pub fn in_future(t: Timestamp, now: Timestamp) -> bool {
    t > now.add(CLOCK_TOLERANCE)
}

/// `d` in words: `45 s`, `3 min`, `5 h`, `400 days`.
pub fn human_duration(d: Duration) -> String {
    human(d.as_secs())
}

/// `45 s`, `3 min`, `5 h`, `400 days` (to the nearest whole unit: a skew measured as a
/// second short of a day is a day).
fn human(secs: u64) -> String {
    let round = |unit: u64| (secs + unit / 2) / unit;
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7_199 => format!("{} min", round(60)),
        7_200..=172_799 => format!("{} h", round(3600)),
        _ => format!("{} days", round(86_400)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn skew_allows_for_the_round_trip_and_the_age_of_the_reading() {
        let sample = ServerDate {
            date: ts("2026-01-01T12:00:00Z"),
            age: Duration::from_millis(1_000),
            round_trip: Duration::from_millis(2_000),
        };
        // Read 1 s after it arrived, after a 2 s round trip: stamped 2 s before `now`.
        let skew = ClockSkew::from_sample(ts("2026-01-01T12:00:02Z"), &sample);
        assert_eq!(skew.seconds, 0);
        let ahead = ClockSkew::from_sample(ts("2027-02-05T12:00:02Z"), &sample);
        assert_eq!(ahead.seconds, 400 * 86_400);
        assert!(!ahead.within_tolerance());
        assert_eq!(
            ahead.describe(),
            "the host clock is 400 days ahead of Cliniko's"
        );
        let behind = ClockSkew::from_sample(ts("2025-12-31T12:00:02Z"), &sample);
        assert_eq!(behind.seconds, -86_400);
        assert_eq!(behind.describe(), "the host clock is 24 h behind Cliniko's");
        // A second either way (the header's resolution) does not change the words.
        assert_eq!(
            describe_skew(-86_399),
            "the host clock is 24 h behind Cliniko's"
        );
        assert_eq!(
            describe_skew(400 * 86_400 - 1),
            "the host clock is 400 days ahead of Cliniko's"
        );
    }

    #[test]
    fn tolerance_is_two_minutes_either_way() {
        assert!(within_tolerance(120) && within_tolerance(-120));
        assert!(!within_tolerance(121) && !within_tolerance(-121));
        assert_eq!(tolerance_text(), "2 min");
        assert_eq!(
            describe_skew(-3),
            "the host clock agrees with Cliniko's (3 s behind)"
        );
        let now = ts("2026-01-01T12:00:00Z");
        assert!(!in_future(ts("2026-01-01T12:02:00Z"), now));
        assert!(in_future(ts("2026-01-01T12:02:01Z"), now));
    }
}
