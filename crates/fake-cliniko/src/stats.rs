//! Per-API-key request statistics and request log, readable while the server runs.

use std::collections::{BTreeMap, HashMap};

/// One answered request, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The key's request number (1-based, counted from start or the last reset).
    pub number: u64,
    /// Request path, e.g. `/v1/patients`.
    pub path: String,
    /// The query string, percent-decoded (`q[]=updated_at:>=2024-01-01T00:00:00Z&page=2`).
    pub query: String,
    /// The status sent.
    pub status: u16,
}

/// What one API key did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyStats {
    /// Requests answered.
    pub requests: u64,
    /// Requests per path.
    pub by_path: BTreeMap<String, u64>,
    /// Requests answered with 429 (rate limit or injected fault).
    pub rate_limited: u64,
    /// Requests per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// The requests in order (the oldest are dropped beyond the configured limit).
    pub log: Vec<LoggedRequest>,
}

impl KeyStats {
    /// Requests to `path` (e.g. `/v1/patients`).
    pub fn path_count(&self, path: &str) -> u64 {
        self.by_path.get(path).copied().unwrap_or(0)
    }

    /// Requests answered with `status`.
    pub fn status_count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// Statistics of every key, plus per-key arrival counters.
#[derive(Debug, Default)]
pub struct StatsBook {
    keys: HashMap<String, KeyStats>,
    arrivals: HashMap<String, u64>,
    log_limit: usize,
}

impl StatsBook {
    /// A book keeping at most `log_limit` log entries per key.
    pub fn new(log_limit: usize) -> Self {
        StatsBook {
            log_limit,
            ..StatsBook::default()
        }
    }

    /// Counts an arriving request of `key`; returns its 1-based number.
    pub fn arrive(&mut self, key: &str) -> u64 {
        let n = self.arrivals.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    /// Records an answered request.
    pub fn record(&mut self, key: &str, entry: LoggedRequest) {
        let s = self.keys.entry(key.to_string()).or_default();
        s.requests += 1;
        *s.by_path.entry(entry.path.clone()).or_insert(0) += 1;
        *s.statuses.entry(entry.status).or_insert(0) += 1;
        if entry.status == 429 {
            s.rate_limited += 1;
        }
        if self.log_limit > 0 {
            if s.log.len() >= self.log_limit {
                let excess = s.log.len() + 1 - self.log_limit;
                s.log.drain(..excess);
            }
            s.log.push(entry);
        }
    }

    /// A snapshot of `key`'s statistics (empty when it made no requests).
    pub fn get(&self, key: &str) -> KeyStats {
        self.keys.get(key).cloned().unwrap_or_default()
    }

    /// Forgets everything (request numbers restart at 1).
    pub fn reset(&mut self) {
        self.keys.clear();
        self.arrivals.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_caps_the_log() {
        let mut b = StatsBook::new(2);
        for (i, status) in [200u16, 429, 200].into_iter().enumerate() {
            let number = b.arrive("k");
            assert_eq!(number, i as u64 + 1);
            b.record(
                "k",
                LoggedRequest {
                    number,
                    path: "/v1/patients".into(),
                    query: String::new(),
                    status,
                },
            );
        }
        let s = b.get("k");
        assert_eq!((s.requests, s.rate_limited, s.status_count(200)), (3, 1, 2));
        assert_eq!(s.path_count("/v1/patients"), 3);
        assert_eq!(
            s.log.iter().map(|l| l.number).collect::<Vec<_>>(),
            vec![2, 3]
        );
        b.reset();
        assert_eq!(b.get("k"), KeyStats::default());
        assert_eq!(b.arrive("k"), 1);
    }
}
