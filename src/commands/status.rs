//! `status`: each org's last run, cursors, totals and health, as a table, JSON or
//! Prometheus metrics (the `metrics` module).

use std::collections::BTreeMap;
use std::time::Duration;

pub use super::status_report::{
    ACTIVE_PATIENTS, AccountStatus, LastRun, OrgStatus, RunCounts, StatusReport,
};
use super::style::{Colour, Style};
use super::{CommandError, Exit, Globals, output};
use crate::cli::{StatusArgs, StatusFormat};
use crate::config::{Config, parse_duration};
use crate::engine::checked_at;
use crate::engine::clock::{describe_skew, in_future, tolerance_text, within_tolerance};
use crate::resource::Resource;
use crate::store::{self, OrgSnapshot, RunRecord, RunStatus};
use crate::timestamp::Timestamp;

/// Runs `status` from the command line.
pub fn run(globals: &Globals, args: &StatusArgs) -> Result<Exit, CommandError> {
    let config = super::load_config_without_keys(globals)?;
    let max_age = args
        .max_age
        .as_deref()
        .map(|s| {
            parse_duration(s)
                .map_err(|e| CommandError::Usage(format!("--max-age `{s}`: {e} (e.g. 6h, 90m)")))
        })
        .transpose()?;
    // The host clock as the product reads it (a test may shift it).
    let now = crate::engine::Clock::now(&super::SystemClock::new());
    let report = build(&config, &args.org, max_age, now)?;
    match output_format(args) {
        StatusFormat::Json => {
            let text =
                serde_json::to_string_pretty(&report).map_err(|e| CommandError::Other(e.into()))?;
            output::outln!("{text}")?;
        }
        StatusFormat::Openmetrics => output::print(&super::metrics::render(&report))?,
        StatusFormat::Table => {
            output::print(&render_table_styled(&report, now, Style::for_stdout()))?
        }
    }
    Ok(if report.healthy {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// The output format `--json` / `--format` ask for (a table by default).
fn output_format(args: &StatusArgs) -> StatusFormat {
    match (args.json, args.format) {
        (true, _) => StatusFormat::Json,
        (false, Some(f)) => f,
        (false, None) => StatusFormat::Table,
    }
}

/// Gathers the status of the selected orgs (all when `orgs` is empty) at `now`.
pub fn build(
    config: &Config,
    orgs: &[String],
    max_age: Option<Duration>,
    now: Timestamp,
) -> Result<StatusReport, CommandError> {
    // An empty selection is every org.
    let selected = config.select_orgs(orgs)?;
    let location = super::store_location(config);
    let store = store::open_read_only(&location)?;
    // Every selected org's state at once: a constant number of statements.
    let ids: Vec<&str> = selected.iter().map(|o| o.id.as_str()).collect();
    let snapshots = match &store {
        Some(s) => s.snapshots(&ids)?,
        None => ids.iter().map(|_| OrgSnapshot::default()).collect(),
    };
    let mut out = Vec::new();
    for (org, snap) in selected.into_iter().zip(&snapshots) {
        let running = snap.running;
        let state = &snap.state;
        let facts = &snap.facts;
        // A run whose process died shows as the next run will record it.
        let runs: Vec<RunRecord> = snap
            .recent_runs
            .iter()
            .map(|r| r.clone().seen_without_its_lock(running))
            .collect();
        // Times stored while the host clock was ahead are not believed (as `sync` plans).
        let believed = |t: Option<Timestamp>| t.filter(|t| !in_future(*t, now));
        let mut cursors = BTreeMap::new();
        let mut totals = BTreeMap::new();
        let mut oldest_full: Option<Option<Timestamp>> = None;
        let mut oldest_verify: Option<Option<Timestamp>> = None;
        let mut oldest_check: Option<Option<Timestamp>> = None;
        for r in &org.resources {
            let rs = state.resource(*r);
            cursors.insert(r.name().to_string(), rs.cursor.map(|t| t.to_string()));
            totals.insert(r.name().to_string(), snap.present(*r));
            oldest_full = Some(oldest(oldest_full, rs.last_full_at));
            oldest_verify = Some(oldest(oldest_verify, rs.last_verify_at));
            // As `sync` plans it: a resource never walked in full is due a full walk now.
            let checked = rs.last_full_at.map(|f| checked_at(rs.last_verify_at, f));
            oldest_check = Some(oldest(oldest_check, checked));
        }
        // Patients seen in the last 30 days and booked ahead (the patient_activity view),
        // as counted at the end of the org's last successful run.
        let active = snap.last_active_patients.unwrap_or(0);
        totals.insert(ACTIVE_PATIENTS.to_string(), active);
        let last_full = oldest_full.flatten();
        let last_verify = oldest_verify.flatten();
        // Health is judged on the newest finished run; a run in progress does not count.
        let finished = runs.iter().find(|r| r.status != RunStatus::Running);
        let problem = match (state.last_success_at, finished) {
            (None, _) => Some("never synced successfully".to_string()),
            (_, Some(r)) if r.status != RunStatus::Ok && !stopped_by_deadline(r) => Some(format!(
                "last run {}: {}",
                r.status.name(),
                r.error.as_deref().unwrap_or("no details")
            )),
            (Some(t), _) if max_age.is_some() && in_future(t, now) => Some(format!(
                "the last success at {t} lies in the future (the host clock says {now}): its age \
                 cannot be judged; the host clock was ahead when it was stored or is behind now, \
                 and the next successful run corrects it"
            )),
            (Some(t), _) if max_age.is_some_and(|m| now.since(t) > m) => {
                Some(format!("last success at {t} is older than --max-age"))
            }
            _ => None,
        };
        out.push(OrgStatus {
            id: org.id.clone(),
            name: org.name.clone(),
            healthy: problem.is_none(),
            problem,
            sync_running: running,
            last_success_at: state.last_success_at.map(|t| t.to_string()),
            last_full_sync_at: last_full.map(|t| t.to_string()),
            next_due_at: believed(state.last_success_at)
                .map_or(now, |t| t.add(config.min_interval).max(now))
                .to_string(),
            next_full_sync_at: believed(last_full)
                .map_or(now, |t| t.add(config.full_sync_every).max(now))
                .to_string(),
            last_verify_at: last_verify.map(|t| t.to_string()),
            next_verify_at: believed(oldest_check.flatten())
                .map_or(now, |t| t.add(config.verify_every).max(now))
                .to_string(),
            last_run: runs.first().map(last_run),
            cursors,
            totals,
            privacy: super::privacy_report::status(org, snap),
            clock_skew_seconds: facts.clock_skew.map(|(s, _)| s),
            clock_checked_at: facts.clock_skew.map(|(_, at)| at.to_string()),
            cliniko_account: facts.account.as_ref().map(|a| AccountStatus {
                id: a.id.clone(),
                name: a.name.clone(),
            }),
        });
    }
    // Only when every org was asked for: `--org` narrows the report on purpose.
    let not_configured = match (&store, orgs.is_empty()) {
        (Some(s), true) => s
            .stored_orgs()?
            .into_iter()
            .filter(|id| config.org(id).is_none())
            .collect(),
        _ => Vec::new(),
    };
    Ok(StatusReport {
        generated_at: now.to_string(),
        database: location.to_string(),
        healthy: out.iter().all(|o| o.healthy),
        orgs: out,
        not_configured,
    })
}

/// The older of a running minimum and `t`; `None` (never) wins over any time.
fn oldest(so_far: Option<Option<Timestamp>>, t: Option<Timestamp>) -> Option<Timestamp> {
    match (so_far, t) {
        (None, t) => t,
        (Some(Some(a)), Some(b)) => Some(a.min(b)),
        _ => None,
    }
}

fn last_run(r: &RunRecord) -> LastRun {
    LastRun {
        mode: r.mode.clone(),
        status: r.status.name().to_string(),
        started_at: r.started_at.to_string(),
        finished_at: r.finished_at.map(|t| t.to_string()),
        duration_ms: r.duration_ms,
        api_calls: r.api_calls,
        error: r.error.clone(),
        resources: r
            .resources
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    RunCounts {
                        mode: c.mode.clone(),
                        fetched: c.fetched,
                        written: c.written,
                        archived: c.archived,
                        deleted: c.deleted,
                        api_calls: c.api_calls,
                    },
                )
            })
            .collect(),
    }
}

/// "12 min ago" style age of `t` at `now`.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let s = now.since(t).as_secs();
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=172_799 => format!("{}h {}m ago", s / 3600, s % 3600 / 60),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The human table without colours (for logs, pipes and the demo).
pub fn render_table(report: &StatusReport, now: Timestamp) -> String {
    render_table_styled(report, now, Style::Plain)
}

/// The column headings of the human table.
const HEADER: [&str; 10] = [
    "ORG",
    "LAST SUCCESS",
    "MODE",
    "RESULT",
    "PATIENTS",
    "APPTS",
    "ACTIVE",
    "API CALLS",
    "NEXT DUE",
    "RUNNING",
];

/// The human table: one aligned line per org, then one line per unhealthy org saying
/// why, then a summary line. Colours (when `style` has them) never change alignment.
pub fn render_table_styled(report: &StatusReport, now: Timestamp, style: Style) -> String {
    let rows: Vec<[(String, Option<Colour>); 10]> =
        report.orgs.iter().map(|o| table_row(o, now)).collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (w, (text, _)) in widths.iter_mut().zip(row) {
            *w = (*w).max(text.chars().count());
        }
    }
    let line = |cells: &[(String, Option<Colour>)]| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, ((text, colour), width)) in cells.iter().zip(widths).enumerate() {
            let shown = match colour {
                Some(c) => style.paint(*c, text),
                None => text.clone(),
            };
            out.push_str(&shown);
            if i < last {
                let pad = width.saturating_sub(text.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let header = HEADER.map(|h| (h.to_string(), Some(Colour::Bold)));
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(row));
    }
    let unhealthy: Vec<&OrgStatus> = report.orgs.iter().filter(|o| !o.healthy).collect();
    for o in &unhealthy {
        let text = format!("{}: {}", o.id, one_line(&problem_text(o)));
        out.push_str(&format!("{} {}\n", style.paint(Colour::Red, "!"), text));
    }
    for o in &report.orgs {
        if let Some(skew) = o.clock_skew_seconds.filter(|s| !within_tolerance(*s)) {
            let text = format!(
                "{}: {} at its last run (tolerance {}); pruning and purging wait until they agree",
                o.id,
                describe_skew(skew),
                tolerance_text()
            );
            out.push_str(&format!("{} {text}\n", style.paint(Colour::Yellow, "!")));
        }
    }
    for id in &report.not_configured {
        let text = format!(
            "{id}: in the database but not in the config: no longer synced; \
             `routiq-sync forget --org {id}` erases its data"
        );
        out.push_str(&format!("{} {text}\n", style.paint(Colour::Yellow, "!")));
    }
    let total = report.orgs.len();
    let summary = match unhealthy.len() {
        0 if total == 1 => "the org is healthy".to_string(),
        0 => format!("all {total} orgs are healthy"),
        n => format!("{n} of {total} orgs unhealthy"),
    };
    let colour = if unhealthy.is_empty() {
        Colour::Green
    } else {
        Colour::Red
    };
    out.push_str(&style.paint(colour, &summary));
    out.push('\n');
    out
}

/// The cells of one org's line, each with the colour it is shown in.
///
/// Of the records only patients and appointments get columns, so that a line fits 100
/// columns; every resource's count is in `status --json` (`totals`).
fn table_row(o: &OrgStatus, now: Timestamp) -> [(String, Option<Colour>); 10] {
    let ts = |s: &Option<String>| s.as_deref().and_then(Timestamp::parse);
    let total = |name: &str| (o.totals.get(name).map_or("-".into(), u64::to_string), None);
    let next_due = Timestamp::parse(&o.next_due_at).map_or_else(String::new, |t| {
        if t <= now {
            "now".to_string()
        } else {
            format!("in {}", ago(now, t).trim_end_matches(" ago"))
        }
    });
    let last_success = match ts(&o.last_success_at) {
        // Stored while the host clock was ahead (or it is behind now).
        Some(t) if in_future(t, now) => ("in the future".to_string(), Some(Colour::Yellow)),
        Some(t) => (ago(t, now), (!o.healthy).then_some(Colour::Yellow)),
        None => ("never".to_string(), Some(Colour::Red)),
    };
    let (mode, result, calls) = match &o.last_run {
        None => ("-".to_string(), ("-".to_string(), None), "-".to_string()),
        Some(r) => {
            let colour = match r.status.as_str() {
                "ok" => Colour::Green,
                "failed" => Colour::Red,
                "running" => Colour::Cyan,
                _ => Colour::Yellow,
            };
            (
                r.mode.clone(),
                (r.status.clone(), Some(colour)),
                r.api_calls.to_string(),
            )
        }
    };
    let running = if o.sync_running {
        ("yes".to_string(), Some(Colour::Cyan))
    } else {
        ("no".to_string(), Some(Colour::Dim))
    };
    [
        (o.id.clone(), None),
        last_success,
        (mode, None),
        result,
        total(Resource::Patients.name()),
        total(Resource::Appointments.name()),
        total(ACTIVE_PATIENTS),
        (calls, None),
        (next_due, None),
        running,
    ]
}

/// Whether `run` was stopped by its run's deadline: the org was deferred, as `sync`'s
/// exit 0 said, and its health is judged by its last success (and `--max-age`).
fn stopped_by_deadline(run: &RunRecord) -> bool {
    run.status == RunStatus::Interrupted && run.stopped_by_deadline
}

/// Why an org is unhealthy, with the last run's error when the problem does not
/// already say it (an org that never synced may have failed every time).
fn problem_text(o: &OrgStatus) -> String {
    let mut text = o.problem.clone().unwrap_or_else(|| "unhealthy".to_string());
    if let Some(run) = &o.last_run
        && run.status != "ok"
        && let Some(error) = &run.error
        && !text.contains(error.as_str())
    {
        text.push_str(&format!("; last run {}: {error}", run.status));
    }
    text
}

/// `text` with every run of whitespace (newlines included) turned into one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str, healthy: bool, status: Option<&str>) -> OrgStatus {
        OrgStatus {
            id: id.to_string(),
            name: None,
            healthy,
            problem: (!healthy).then(|| "last run failed:\nCliniko rejected the key".to_string()),
            sync_running: false,
            last_success_at: Some("2026-01-01T11:48:00Z".to_string()),
            last_full_sync_at: None,
            next_due_at: "2026-01-01T12:18:00Z".to_string(),
            next_full_sync_at: "2026-01-01T12:00:00Z".to_string(),
            last_verify_at: None,
            next_verify_at: "2026-01-01T12:00:00Z".to_string(),
            last_run: status.map(|s| LastRun {
                mode: "incremental".to_string(),
                status: s.to_string(),
                started_at: "2026-01-01T11:47:00Z".to_string(),
                finished_at: None,
                duration_ms: None,
                api_calls: 2,
                error: None,
                resources: BTreeMap::new(),
            }),
            cursors: BTreeMap::new(),
            totals: [
                ("patients".to_string(), 652),
                ("appointments".to_string(), 1310),
                ("practitioners".to_string(), 9),
            ]
            .into(),
            privacy: super::super::privacy_report::PrivacyStatus {
                fingerprint: None,
                applied_at: None,
                configured_fingerprint: None,
                configured_resources: Vec::new(),
                rewrite_due: false,
                refetch_due: Vec::new(),
                scrub_due: Vec::new(),
            },
            clock_skew_seconds: None,
            clock_checked_at: None,
            cliniko_account: None,
        }
    }

    fn report() -> StatusReport {
        StatusReport {
            generated_at: "2026-01-01T12:00:00Z".to_string(),
            database: "db".to_string(),
            healthy: false,
            orgs: vec![
                org("org_123", true, Some("ok")),
                org("a", false, Some("failed")),
            ],
            not_configured: Vec::new(),
        }
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn table_is_aligned_and_problems_take_one_line_each() {
        let now = Timestamp::parse("2026-01-01T12:00:00Z").unwrap();
        let text = render_table(&report(), now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let col = |line: &str, needle: &str| line.find(needle).unwrap();
        assert_eq!(col(lines[0], "LAST SUCCESS"), col(lines[1], "12 min ago"));
        assert_eq!(col(lines[0], "RESULT"), col(lines[2], "failed"));
        assert_eq!(col(lines[0], "NEXT DUE"), col(lines[1], "in 18 min"));
        assert_eq!(col(lines[0], "PATIENTS"), col(lines[1], "652"));
        assert_eq!(col(lines[0], "APPTS"), col(lines[1], "1310"));
        // Other resources' counts are left to `--json`, so that a line fits 100 columns.
        assert!(!lines[1].contains(" 9 "), "{text}");
        assert!(lines[..3].iter().all(|l| l.len() <= 100), "{text}");
        assert_eq!(lines[3], "! a: last run failed: Cliniko rejected the key");
        assert_eq!(lines[4], "1 of 2 orgs unhealthy");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colours_do_not_move_columns() {
        let now = Timestamp::parse("2026-01-01T12:00:00Z").unwrap();
        let plain = render_table(&report(), now);
        let coloured = render_table_styled(&report(), now, Style::Ansi);
        assert!(coloured.contains("\x1b[32mok\x1b[0m"), "{coloured}");
        assert_eq!(strip_ansi(&coloured), plain);
    }

    #[test]
    fn ages() {
        let now = Timestamp::parse("2026-01-03T12:00:00Z").unwrap();
        let at = |s: &str| ago(Timestamp::parse(s).unwrap(), now);
        assert_eq!(at("2026-01-03T11:59:30Z"), "30s ago");
        assert_eq!(at("2026-01-03T11:48:00Z"), "12 min ago");
        assert_eq!(at("2026-01-03T09:30:00Z"), "2h 30m ago");
        assert_eq!(at("2025-12-30T12:00:00Z"), "4 days ago");
    }
}
