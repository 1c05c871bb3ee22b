//! Client-side rate limiting per API key, shared by every thread that uses the key.
//!
//! Cliniko allows 200 requests per minute per user. Requests are spaced evenly at the
//! configured rate (no bursts), so a sliding or fixed 60-second window on the server
//! side never sees more than the configured number in any minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stretches the spacing by 0.5% (300 ms a minute), so that network jitter (one request
/// reaching Cliniko a little late, the one a minute later on time) cannot put one request
/// too many into a server-side 60 s window when the rate is set to the limit itself.
const JITTER_SLACK: f64 = 1.005;

/// Spaces requests for one API key.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Instant>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute (any positive rate).
    pub fn new(per_minute: f64) -> Self {
        let per_minute = if per_minute.is_finite() && per_minute > 0.0 {
            per_minute
        } else {
            1.0
        };
        RateLimiter {
            interval: Duration::from_secs_f64(60.0 / per_minute * JITTER_SLACK),
            next_slot: Mutex::new(Instant::now()),
        }
    }

    /// Reserves the next request slot and returns how long to wait for it.
    pub fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let slot = (*next).max(now);
        *next = slot + self.interval;
        slot - now
    }

    /// Records that a request leaves now. A thread that woke late for its slot (a busy
    /// host) pushes the next slot back, so that late requests are never followed by ones
    /// closer together than the spacing: a server window sees arrivals, not slots.
    pub fn sent(&self) {
        self.sent_at(Instant::now());
    }

    fn sent_at(&self, at: Instant) {
        let earliest = at + self.interval;
        let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        if *next < earliest {
            *next = earliest;
        }
    }

    /// Holds every user of this key back until `until` (after a 429).
    pub fn pause_until(&self, until: Instant) {
        let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        if *next < until {
            *next = until;
        }
    }
}

/// One limiter per distinct API key, so orgs sharing a key share its budget.
#[derive(Debug, Default)]
pub struct RateLimiters {
    by_key: Mutex<HashMap<String, Arc<RateLimiter>>>,
}

impl RateLimiters {
    /// The limiter for `key`, created at `per_minute` on first use.
    pub fn for_key(&self, key: &crate::secret::ApiKey, per_minute: f64) -> Arc<RateLimiter> {
        // Keys with and without the shard suffix are the same Cliniko user.
        let user = key
            .expose()
            .rsplit_once('-')
            .filter(|(_, s)| crate::secret::is_shard(s))
            .map_or(key.expose(), |(base, _)| base)
            .to_string();
        let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(user)
            .or_insert_with(|| Arc::new(RateLimiter::new(per_minute)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;

    #[test]
    fn slots_are_spaced_evenly() {
        let l = RateLimiter::new(600.0); // one per 100 ms
        assert_eq!(l.reserve(), Duration::ZERO);
        let second = l.reserve();
        let third = l.reserve();
        assert!(second > Duration::from_millis(90) && second <= Duration::from_millis(101));
        assert!(third > Duration::from_millis(190) && third <= Duration::from_millis(201));
    }

    #[test]
    fn a_late_send_pushes_the_next_slot() {
        let l = RateLimiter::new(600.0); // one per 100 ms
        assert_eq!(l.reserve(), Duration::ZERO);
        let slot = *l.next_slot.lock().unwrap();
        let late = slot + Duration::from_millis(80); // the sender woke late
        l.sent_at(late);
        assert_eq!(*l.next_slot.lock().unwrap(), late + l.interval);
        // A send on time leaves the spacing as reserved.
        l.sent_at(slot);
        assert_eq!(*l.next_slot.lock().unwrap(), late + l.interval);
    }

    #[test]
    fn pause_pushes_the_next_slot() {
        let l = RateLimiter::new(6000.0);
        l.pause_until(Instant::now() + Duration::from_secs(2));
        assert!(l.reserve() > Duration::from_millis(1900));
    }

    #[test]
    fn same_user_shares_a_limiter() {
        let ls = RateLimiters::default();
        let a = ls.for_key(&ApiKey::new("abc-au1"), 100.0);
        let b = ls.for_key(&ApiKey::new("abc"), 100.0);
        let c = ls.for_key(&ApiKey::new("xyz-au1"), 100.0);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
