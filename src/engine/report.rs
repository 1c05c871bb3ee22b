//! What happened to one org in a run, and the one-line summary printed for it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::store::ResourceCounts;
use crate::timestamp::Timestamp;

/// Why a deferred org was not synced.
const DEFERRED: &str =
    "deferred: the run's max_run_time passed before its turn; it is due on the next run";

/// How an org's turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgResult {
    Ok,
    /// The org failed; the message says what, and what to do.
    Failed(String),
    /// Stopped by a signal between pages.
    Interrupted,
    /// Stopped between pages because the run's `max_run_time` passed (not a failure).
    DeadlinePassed,
    /// Not started: the run's `max_run_time` passed first (due on the next run).
    Deferred,
    /// Synced successfully less than `min_interval` ago.
    SkippedRecent {
        next_due_at: Timestamp,
    },
    /// Another process holds the org's lock.
    SkippedLocked,
}

/// The outcome of one org in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgReport {
    pub org_id: String,
    pub result: OrgResult,
    /// `full`, `incremental`, `mixed`, or `skipped`.
    pub mode: String,
    pub resources: BTreeMap<String, ResourceCounts>,
    /// Rows present (not deleted upstream) per resource after the run.
    pub totals: BTreeMap<String, u64>,
    pub api_calls: u64,
    pub duration: Duration,
    /// The host clock minus Cliniko's (seconds) as the run's last response showed it;
    /// `None` when no response carried a `Date`.
    pub clock_skew: Option<i64>,
}

impl OrgReport {
    /// A report for an org that was not synced. One that failed before anything was
    /// planned (its store could not be opened or locked) was not skipped: its mode is
    /// `none`, and its line says it failed before syncing anything.
    pub fn skipped(org_id: &str, result: OrgResult) -> OrgReport {
        let mode = match result {
            OrgResult::Failed(_) => "none",
            _ => "skipped",
        };
        OrgReport {
            org_id: org_id.to_string(),
            result,
            mode: mode.into(),
            resources: BTreeMap::new(),
            totals: BTreeMap::new(),
            api_calls: 0,
            duration: Duration::ZERO,
            clock_skew: None,
        }
    }

    /// `ok`, `failed`, `interrupted`, `skipped` or `deferred`: the outcome in one word
    /// (log fields, pings).
    pub fn status_name(&self) -> &'static str {
        match self.result {
            OrgResult::Ok => "ok",
            OrgResult::Failed(_) => "failed",
            OrgResult::Interrupted | OrgResult::DeadlinePassed => "interrupted",
            OrgResult::SkippedRecent { .. } | OrgResult::SkippedLocked => "skipped",
            OrgResult::Deferred => "deferred",
        }
    }

    /// What went wrong or why the org stopped, when it did not end ok or skipped.
    pub fn error_text(&self) -> Option<&str> {
        match &self.result {
            OrgResult::Failed(e) => Some(e),
            OrgResult::Interrupted => Some("interrupted by a signal"),
            OrgResult::DeadlinePassed => Some(super::context::DEADLINE_PASSED),
            OrgResult::Deferred => Some(DEFERRED),
            _ => None,
        }
    }

    /// Whether the org counts as failed for the exit code (interrupted runs do too).
    pub fn failed(&self) -> bool {
        matches!(self.result, OrgResult::Failed(_) | OrgResult::Interrupted)
    }

    /// One line for logs, e.g. `org_123 incremental ok: patients 12 fetched, 12 written
    /// (652 total); appointments 23 fetched, 23 written (1310 total); 2 API calls, 0.8s`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} ", self.org_id);
        match &self.result {
            OrgResult::SkippedRecent { next_due_at } => {
                let _ = write!(
                    s,
                    "skipped: synced recently, next due at {next_due_at} (use --force to sync now)"
                );
                return s;
            }
            OrgResult::SkippedLocked => {
                s.push_str("skipped: another routiq-sync run holds its lock");
                return s;
            }
            OrgResult::Deferred => {
                s.push_str(DEFERRED);
                return s;
            }
            OrgResult::DeadlinePassed => {
                let _ = write!(s, "{} stopped by max_run_time: ", self.mode);
            }
            OrgResult::Ok => {
                let _ = write!(s, "{} ok: ", self.mode);
            }
            // Nothing was planned: the store failed before (locking, reading the state).
            OrgResult::Failed(_) if self.mode == "none" => {
                s.push_str("FAILED before syncing anything: ");
            }
            OrgResult::Failed(_) => {
                let _ = write!(s, "{} FAILED: ", self.mode);
            }
            OrgResult::Interrupted => {
                let _ = write!(s, "{} interrupted: ", self.mode);
            }
        }
        // In walk order, not alphabetical.
        let parts: Vec<String> = crate::resource::Resource::ALL
            .iter()
            .filter_map(|r| self.resources.get_key_value(r.name()))
            .map(|(name, c)| {
                let mut p = format!("{name} {} fetched, {} written", c.fetched, c.written);
                if c.archived > 0 {
                    let _ = write!(p, ", {} archived", c.archived);
                }
                if c.deleted > 0 {
                    let _ = write!(p, ", {} deleted upstream", c.deleted);
                }
                if let Some(total) = self.totals.get(name) {
                    let _ = write!(p, " ({total} total)");
                }
                p
            })
            .collect();
        s.push_str(&parts.join(", "));
        if !parts.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(
            s,
            "{} API call{}, {:.1}s",
            self.api_calls,
            if self.api_calls == 1 { "" } else { "s" },
            self.duration.as_secs_f64()
        );
        if let OrgResult::Failed(e) = &self.result {
            let _ = write!(s, ": {e}");
        }
        if let Some(skew) = self
            .clock_skew
            .filter(|s| !super::clock::within_tolerance(*s))
        {
            let _ = write!(
                s,
                "; {} (tolerance {}): deleting by age waits",
                super::clock::describe_skew(skew),
                super::clock::tolerance_text()
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_shape() {
        let mut r = OrgReport::skipped("org_123", OrgResult::Ok);
        r.mode = "incremental".into();
        r.resources.insert(
            "patients".into(),
            ResourceCounts {
                mode: "incremental".into(),
                fetched: 12,
                written: 12,
                ..Default::default()
            },
        );
        r.totals.insert("patients".into(), 652);
        r.api_calls = 2;
        r.duration = Duration::from_millis(812);
        assert_eq!(
            r.summary(),
            "org_123 incremental ok: patients 12 fetched, 12 written (652 total), 2 API calls, 0.8s"
        );
        let early = OrgReport::skipped(
            "bondi",
            OrgResult::Failed("the database /x.db stayed busy for 60 s".into()),
        );
        assert_eq!(
            early.summary(),
            "bondi FAILED before syncing anything: 0 API calls, 0.0s: the database /x.db stayed busy for 60 s"
        );
        // A skew within the tolerance is not mentioned; past it, it is.
        r.clock_skew = Some(-100);
        assert!(!r.summary().contains("clock"));
        r.clock_skew = Some(400 * 86_400);
        assert_eq!(
            r.summary(),
            "org_123 incremental ok: patients 12 fetched, 12 written (652 total), 2 API calls, 0.8s; \
             the host clock is 400 days ahead of Cliniko's (tolerance 2 min): deleting by age waits"
        );
    }
}
