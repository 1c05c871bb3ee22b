//! When to try a request again and how long to wait: backoff with jitter, and the waits
//! a 429 asks for (`X-RateLimit-Reset`, else `Retry-After`).

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::timestamp::Timestamp;

/// Bounds on retrying one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request for 5xx, timeouts, network errors and unreadable bodies.
    pub attempts: u32,
    /// The first backoff; doubled after each failure.
    pub base_delay: Duration,
    /// The longest backoff between two attempts.
    pub max_delay: Duration,
    /// The longest single wait a 429 may impose before the org fails as rate limited.
    pub max_wait: Duration,
    /// How many 429s in a row one request may meet before the org fails.
    pub max_rate_limited: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_wait: Duration::from_secs(300),
            max_rate_limited: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `failures + 1`: `base * 2^(failures-1)`, capped, ±20%.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        jitter(exp.min(self.max_delay), 0.2)
    }
}

/// How long a 429 response asks us to wait, from its headers, measured against the
/// server's own `Date` when it sends one (so a skewed local clock does not matter).
/// `None` when no header says.
pub fn rate_limit_wait(
    reset: Option<&str>,
    retry_after: Option<&str>,
    server_date: Option<&str>,
) -> Option<Duration> {
    let now = server_date
        .and_then(parse_http_date)
        .unwrap_or_else(unix_now);
    if let Some(reset) = reset.and_then(|r| r.trim().parse::<i64>().ok()) {
        return Some(Duration::from_secs(u64::try_from(reset - now).unwrap_or(0)));
    }
    let retry_after = retry_after?.trim();
    if let Ok(secs) = retry_after.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    parse_http_date(retry_after).map(|at| Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to UNIX seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    Timestamp::parse_http_date(s).map(Timestamp::unix)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `d` scaled by a random factor in `[1 - spread, 1 + spread]`.
pub fn jitter(d: Duration, spread: f64) -> Duration {
    d.mul_f64(1.0 - spread + 2.0 * spread * random_unit())
}

/// A uniform number in `[0, 1)` from a per-thread xorshift generator; jitter only needs
/// requests of different threads and processes not to line up.
fn random_unit() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let here = &nanos as *const u64 as u64;
    (nanos ^ here.rotate_left(32) ^ u64::from(std::process::id())) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_header_is_measured_against_server_date() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let now = parse_http_date(date).unwrap();
        let wait = rate_limit_wait(Some(&(now + 42).to_string()), None, Some(date));
        assert_eq!(wait, Some(Duration::from_secs(42)));
        // A reset in the past means "go now".
        let wait = rate_limit_wait(Some(&(now - 5).to_string()), None, Some(date));
        assert_eq!(wait, Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_seconds_and_date() {
        assert_eq!(
            rate_limit_wait(None, Some("7"), None),
            Some(Duration::from_secs(7))
        );
        let wait = rate_limit_wait(
            None,
            Some("Sun, 06 Nov 1994 08:50:37 GMT"),
            Some("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(wait, Some(Duration::from_secs(60)));
        assert_eq!(rate_limit_wait(None, None, None), None);
        assert_eq!(rate_limit_wait(None, Some("soon"), None), None);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let p = RetryPolicy::default();
        let first = p.backoff(1);
        let third = p.backoff(3);
        assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200));
        assert!(third >= Duration::from_millis(3200) && third <= Duration::from_millis(4800));
        assert!(p.backoff(30) <= Duration::from_secs(36));
    }
}
