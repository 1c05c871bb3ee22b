//! Per-key sliding-window rate limiting (Cliniko: 200 requests per minute per user).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The window over which requests are counted.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Outcome of asking to serve one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it (it now counts against the window).
    Allowed,
    /// Refuse with 429; a slot frees at this UNIX time (whole seconds, rounded up).
    Limited {
        /// Value for `X-RateLimit-Reset`.
        reset_epoch: u64,
    },
}

/// Sliding windows (60 seconds unless told otherwise) of accepted request times, one per key.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    window: Duration,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key in any 60 seconds.
    pub fn new(per_minute: u32) -> Self {
        Self::with_window(per_minute, WINDOW)
    }

    /// A limiter allowing `limit` requests per key in any `window`.
    pub fn with_window(limit: u32, window: Duration) -> Self {
        RateLimiter {
            per_minute: limit,
            window,
            hits: HashMap::new(),
        }
    }

    /// Decides whether `key` may make a request at `now`. Refused requests do not count.
    pub fn check(&mut self, key: &str, now: Instant) -> Verdict {
        let q = self.hits.entry(key.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() < self.per_minute as usize {
            q.push_back(now);
            return Verdict::Allowed;
        }
        let frees_in = q.front().map_or(Duration::ZERO, |oldest| {
            (*oldest + self.window).saturating_duration_since(now)
        });
        let now_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let at = now_epoch + frees_in;
        let reset_epoch = at.as_secs() + u64::from(at.subsec_nanos() > 0);
        Verdict::Limited { reset_epoch }
    }

    /// Forgets all windows.
    pub fn reset(&mut self) {
        self.hits.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_slides() {
        let mut rl = RateLimiter::new(2);
        let t0 = Instant::now();
        assert_eq!(rl.check("a", t0), Verdict::Allowed);
        assert_eq!(
            rl.check("a", t0 + Duration::from_secs(10)),
            Verdict::Allowed
        );
        assert!(matches!(
            rl.check("a", t0 + Duration::from_secs(20)),
            Verdict::Limited { .. }
        ));
        assert_eq!(
            rl.check("b", t0 + Duration::from_secs(20)),
            Verdict::Allowed
        );
        assert_eq!(
            rl.check("a", t0 + Duration::from_secs(60)),
            Verdict::Allowed
        );
        let Verdict::Limited { reset_epoch } = rl.check("a", t0 + Duration::from_secs(61)) else {
            panic!("expected a limit");
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(reset_epoch >= now && reset_epoch <= now + 60);
    }
}
