//! `status --format openmetrics`: the [`StatusReport`] of `status --json` as gauges in
//! the Prometheus text exposition format (also valid OpenMetrics: it ends with `# EOF`).
//!
//! Every per-org family has one series per org; a time or count the JSON shows as
//! `null` (never synced, no cursor, a run still going) is `0` here, so an alert on
//! `time() - routiq_sync_last_success_timestamp_seconds` fires for an org never synced.

use std::fmt::Write as _;

use super::status_report::{ACTIVE_PATIENTS, OrgStatus, StatusReport};
use crate::timestamp::Timestamp;

/// One metric family: name, help text, and its samples (`labels`, value).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn org(&mut self, org: &OrgStatus, value: f64) {
        self.samples.push((vec![("org", org.id.clone())], value));
    }
}

/// Seconds since the epoch of an RFC 3339 text, `0` for none.
fn epoch(t: Option<&str>) -> f64 {
    t.and_then(Timestamp::parse)
        .map_or(0.0, |t| t.unix() as f64)
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// The per-run record kinds, in the order the summary line names them.
const KINDS: [&str; 4] = ["fetched", "written", "archived", "deleted"];

/// Renders `report` as exposition text.
pub fn render(report: &StatusReport) -> String {
    let mut generated = Family::new(
        "routiq_sync_status_timestamp_seconds",
        "When this status was generated (UNIX seconds).",
    );
    generated
        .samples
        .push((Vec::new(), epoch(Some(&report.generated_at))));
    let mut healthy = Family::new(
        "routiq_sync_healthy",
        "1 when the org is healthy (last run ok, synced at least once, within --max-age), else 0.",
    );
    let mut running = Family::new(
        "routiq_sync_running",
        "1 while a sync of the org is running, else 0.",
    );
    let mut last_success = Family::new(
        "routiq_sync_last_success_timestamp_seconds",
        "When the org's last successful run finished (UNIX seconds; 0 if never).",
    );
    let mut last_full = Family::new(
        "routiq_sync_last_full_sync_timestamp_seconds",
        "The oldest last full sync among the org's resources (UNIX seconds; 0 if one never had one).",
    );
    let mut next_due = Family::new(
        "routiq_sync_next_due_timestamp_seconds",
        "When a plain sync will next do work for the org (UNIX seconds).",
    );
    let mut next_full = Family::new(
        "routiq_sync_next_full_sync_timestamp_seconds",
        "When sync will next escalate to a full sync (UNIX seconds).",
    );
    let mut run_started = Family::new(
        "routiq_sync_last_run_timestamp_seconds",
        "When the org's newest run started (UNIX seconds; 0 if none).",
    );
    let mut run_finished = Family::new(
        "routiq_sync_last_run_finished_timestamp_seconds",
        "When the org's newest run finished (UNIX seconds; 0 if none or still running).",
    );
    let mut duration = Family::new(
        "routiq_sync_last_run_duration_seconds",
        "How long the org's newest run took (0 if none or still running).",
    );
    let mut calls = Family::new(
        "routiq_sync_last_run_api_calls",
        "Cliniko API requests the org's newest run made.",
    );
    let mut ok = Family::new(
        "routiq_sync_last_run_ok",
        "1 when the org's newest run ended ok, else 0.",
    );
    let mut status = Family::new(
        "routiq_sync_last_run_status",
        "1 for the status of the org's newest run (ok, failed, interrupted, running).",
    );
    let mut run_records = Family::new(
        "routiq_sync_last_run_records",
        "Records of each resource the org's newest run fetched, wrote, saw archived, or marked deleted upstream.",
    );
    let mut records = Family::new(
        "routiq_sync_records",
        "Rows of each resource in the database, not counting rows deleted upstream.",
    );
    let mut active = Family::new(
        "routiq_sync_active_patients",
        "Active patients of the org as counted at the end of its last successful run.",
    );
    let mut cursor = Family::new(
        "routiq_sync_cursor_timestamp_seconds",
        "The newest updated_at of each resource the database has committed (UNIX seconds; 0 if none).",
    );
    let mut skew = Family::new(
        "routiq_sync_clock_skew_seconds",
        "The host clock minus Cliniko's (its Date header) at the org's last run that reached Cliniko, in seconds; positive: the host is ahead. No sample until one was measured. Past 120 s (either way) pruning and purging wait.",
    );

    for o in &report.orgs {
        if let Some(s) = o.clock_skew_seconds {
            skew.org(o, s as f64);
        }
        healthy.org(o, flag(o.healthy));
        running.org(o, flag(o.sync_running));
        last_success.org(o, epoch(o.last_success_at.as_deref()));
        last_full.org(o, epoch(o.last_full_sync_at.as_deref()));
        next_due.org(o, epoch(Some(&o.next_due_at)));
        next_full.org(o, epoch(Some(&o.next_full_sync_at)));
        let run = o.last_run.as_ref();
        run_started.org(o, epoch(run.map(|r| r.started_at.as_str())));
        run_finished.org(o, epoch(run.and_then(|r| r.finished_at.as_deref())));
        duration.org(
            o,
            run.and_then(|r| r.duration_ms).unwrap_or(0) as f64 / 1000.0,
        );
        calls.org(o, run.map_or(0, |r| r.api_calls) as f64);
        ok.org(o, flag(run.is_some_and(|r| r.status == "ok")));
        if let Some(r) = run {
            status.samples.push((
                vec![("org", o.id.clone()), ("status", r.status.clone())],
                1.0,
            ));
            for (resource, c) in &r.resources {
                for (kind, n) in KINDS
                    .iter()
                    .zip([c.fetched, c.written, c.archived, c.deleted])
                {
                    run_records.samples.push((
                        vec![
                            ("org", o.id.clone()),
                            ("resource", resource.clone()),
                            ("kind", kind.to_string()),
                        ],
                        n as f64,
                    ));
                }
            }
        }
        for (resource, n) in o.totals.iter().filter(|(k, _)| *k != ACTIVE_PATIENTS) {
            records.samples.push((
                vec![("org", o.id.clone()), ("resource", resource.clone())],
                *n as f64,
            ));
        }
        active.org(
            o,
            o.totals.get(ACTIVE_PATIENTS).copied().unwrap_or(0) as f64,
        );
        for (resource, at) in &o.cursors {
            cursor.samples.push((
                vec![("org", o.id.clone()), ("resource", resource.clone())],
                epoch(at.as_deref()),
            ));
        }
    }

    let mut out = String::new();
    for family in [
        generated,
        healthy,
        running,
        last_success,
        last_full,
        next_due,
        next_full,
        run_started,
        run_finished,
        duration,
        calls,
        ok,
        status,
        run_records,
        records,
        active,
        cursor,
        skew,
    ] {
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for (labels, value) in &family.samples {
            out.push_str(family.name);
            if !labels.is_empty() {
                let inner: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = write!(out, "{{{}}}", inner.join(","));
            }
            let _ = writeln!(out, " {value}");
        }
    }
    out.push_str("# EOF\n");
    out
}

/// HELP text escapes `\` and newlines.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Label values escape `\`, `"` and newlines.
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_plain_numbers_and_labels_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(format!("{}", 812_f64 / 1000.0), "0.812");
        assert_eq!(format!("{}", 1_767_225_600_f64), "1767225600");
        assert_eq!(epoch(Some("1970-01-01T00:01:00Z")), 60.0);
        assert_eq!(epoch(None), 0.0);
    }
}
