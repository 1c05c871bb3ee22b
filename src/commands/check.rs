//! `check`: validates the config, shows each setting with where it came from, the
//! resolved paths, and probes each org's API key with one cheap request (`GET /user`).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{CommandError, Exit, Globals, cancel_flag, key_hint};
use crate::cli::CheckArgs;
use crate::cliniko::{ApiError, Client, ClientSettings, RateLimiters, RetryPolicy};
use crate::config::{
    CONFIG_ENV, Config, Database, KeySource, OrgConfig, SYSTEM_CONFIG, Source, format_duration,
};
use crate::engine::clock::{ClockSkew, tolerance_text};
use crate::file_lock;
use crate::logging::FormatSource;
use crate::store::probe::{FileProbe, SchemaVersion, file_schema, probe_file};
use crate::store::{FailureKind, OrgSnapshot, StoreError};

/// The longest a probe request may take: an unreachable host must not hold `check` up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The route probed: cheap, read-only, and answered for any valid key.
const PROBE_PATH: &str = "/user";

/// How one org's probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Cliniko accepted the key; how long the request took.
    Ok(Duration),
    /// Cliniko answered 401/403: the key is wrong, revoked or lacks access.
    Rejected(String),
    /// No answer: DNS, connection or timeout failures.
    Unreachable(String),
    /// An answer, but not a usable one (5xx, 404, a redirect, a rate limit, bad JSON).
    Error(String),
}

impl Probe {
    /// `ok`, `rejected`, `unreachable` or `error`.
    pub fn label(&self) -> &'static str {
        match self {
            Probe::Ok(_) => "ok",
            Probe::Rejected(_) => "rejected",
            Probe::Unreachable(_) => "unreachable",
            Probe::Error(_) => "error",
        }
    }

    fn describe(&self) -> String {
        match self {
            Probe::Ok(took) => format!(
                "ok: key accepted (GET {PROBE_PATH} answered in {} ms)",
                took.as_millis()
            ),
            Probe::Rejected(why) | Probe::Unreachable(why) | Probe::Error(why) => {
                format!("{}: {why}", self.label())
            }
        }
    }
}

/// Runs `check` from the command line.
pub fn run(globals: &Globals, args: &CheckArgs) -> Result<Exit, CommandError> {
    let env = |name: &str| std::env::var(name).ok();
    let config = super::load_config_quietly(globals)?;
    let orgs = config.select_orgs(&args.org)?;

    let (header, paths_ok) = describe_config(&config, globals.config.is_some(), &env);
    emit(&header)?;
    // What the store recorded per org, read once (read-only; a store that cannot be read
    // is described under Paths above).
    let store = crate::store::open_read_only(&super::store_location(&config))
        .ok()
        .flatten();
    let ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
    let stored: Option<Result<Vec<OrgSnapshot>, String>> = store
        .as_ref()
        .map(|s| s.snapshots(&ids).map_err(|e| e.to_string()));
    emit(&privacy_section(&config, &orgs, stored.as_ref()))?;
    emit(&format!(
        "\nProbing {} org{} with GET {PROBE_PATH}...\n",
        orgs.len(),
        if orgs.len() == 1 { "" } else { "s" }
    ))?;
    let probed = probe_all(&config, &orgs);
    let probes: Vec<Probe> = probed.iter().map(|(p, _)| p.clone()).collect();
    let mut out = String::new();
    let mut clock_warnings = 0;
    for (i, (org, (probe, skew))) in orgs.iter().zip(&probed).enumerate() {
        let snapshot = match &stored {
            Some(Ok(all)) => all.get(i),
            _ => None,
        };
        let running = snapshot.is_some_and(|s| s.running);
        out.push_str(&describe_org(&config, running, org, probe));
        if let Some(stored) = &stored {
            let account = match stored.as_ref().map(|all| &all[i].facts.account) {
                Ok(Some(a)) => format!(
                    "Cliniko account {}{} (recorded by a sync; a key that answers for another account fails the org)",
                    a.id,
                    a.name
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
                Ok(None) => "not recorded yet: the next sync records it".to_string(),
                Err(e) => format!("cannot be read from the database: {e}"),
            };
            let _ = writeln!(out, "  account    {account}");
        }
        if let Some(skew) = skew {
            let ok = skew.within_tolerance();
            clock_warnings += usize::from(!ok);
            let _ = writeln!(
                out,
                "  clock      {}{} (Date header of the probe; tolerance {}){}",
                if ok { "" } else { "WARNING: " },
                skew.describe(),
                tolerance_text(),
                if ok {
                    ""
                } else {
                    "; until they agree, sync prunes no run history and purges no deleted rows: \
                     fix the host's time (NTP)"
                }
            );
        }
    }
    if let Some(store) = &store {
        let gone: Vec<String> = store
            .stored_orgs()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| config.org(id).is_none())
            .collect();
        if !gone.is_empty() {
            out.push_str("\nIn the database but not in the config (no longer synced)\n");
            for id in &gone {
                let _ = writeln!(
                    out,
                    "  ! org {id}: `routiq-sync forget --org {id}` erases its data"
                );
            }
        }
    }
    let failed: Vec<String> = orgs
        .iter()
        .zip(&probes)
        .filter(|(_, p)| !matches!(p, Probe::Ok(_)))
        .map(|(o, p)| format!("{} {}", o.id, p.label()))
        .collect();
    out.push('\n');
    let passed = failed.is_empty() && paths_ok;
    if passed {
        let _ = writeln!(
            out,
            "check passed: {} of {} orgs ok{}",
            orgs.len(),
            orgs.len(),
            match clock_warnings {
                0 => String::new(),
                n => format!(" ({n} with a clock warning)"),
            }
        );
    } else {
        let mut reasons = failed;
        if !paths_ok {
            reasons.push("a path problem (see Paths above)".to_string());
        }
        let _ = writeln!(out, "check FAILED: {}", reasons.join(", "));
    }
    emit(&out)?;
    Ok(if passed { Exit::Success } else { Exit::Failure })
}

/// The privacy policy of each org: configured, and what the stored rows are under
/// (`stored`: each org's snapshot, or why they could not be read; none without a store).
fn privacy_section(
    config: &Config,
    orgs: &[&OrgConfig],
    stored: Option<&Result<Vec<OrgSnapshot>, String>>,
) -> String {
    let mut out = String::from("\nPrivacy\n");
    // `check` changes nothing: a file from an older routiq-sync is not migrated here.
    if let Database::Sqlite(path) = &config.database
        && path.exists()
        && file_schema(path).is_ok_and(SchemaVersion::is_older)
    {
        for org in orgs {
            let _ = writeln!(
                out,
                "  {}  the database is from an older routiq-sync; the next sync records \
                 the policy",
                org.id
            );
        }
        return out;
    }
    let nothing = OrgSnapshot::default();
    for (i, org) in orgs.iter().enumerate() {
        let snapshot = match stored {
            Some(Ok(all)) => &all[i],
            Some(Err(e)) => {
                let _ = writeln!(out, "  {}  cannot read the policy's state: {e}", org.id);
                continue;
            }
            None => &nothing,
        };
        let status = super::privacy_report::status(org, snapshot);
        out.push_str(&super::privacy_report::describe(org, &status));
    }
    out
}

/// Prints `text` to stdout now (the probes that follow may take a few seconds), scrubbed
/// of secrets.
fn emit(text: &str) -> Result<(), CommandError> {
    super::output::print(&crate::logging::scrub(text))
}

/// The config file, every setting with its source, warnings and the resolved paths;
/// and whether the paths are usable.
fn describe_config(
    config: &Config,
    from_flag: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, bool) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Config file  {}\n  found via  {}",
        config.path.display(),
        config_origin(config, from_flag, env)
    );
    out.push_str("\nSettings\n");
    let rows = setting_rows(config, env);
    let name_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_w = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (name, value, source) in &rows {
        let _ = writeln!(out, "  {name:<name_w$}  {value:<value_w$}  ({source})");
    }
    if !config.warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in &config.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    let Database::Sqlite(path) = &config.database else {
        let Some(pg) = config.database.postgres() else {
            return (out, false);
        };
        let (text, ok) = super::store_probe::describe(pg, &readers(config));
        out.push_str(&text);
        return (out, ok);
    };
    let (db_state, db_ok) = database_state(path);
    let (lock_state, lock_ok) = lock_dir_state(&config.lock_dir);
    let _ = write!(
        out,
        "\nPaths\n  database  {}\n            {db_state}\n  lock_dir  {}\n            {lock_state}\n",
        path.display(),
        config.lock_dir.display()
    );
    (out, db_ok && lock_ok)
}

/// Each role of the orgs' `dashboard_roles`, once, in the order first named, with the
/// orgs it is to read.
fn readers(config: &Config) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for org in &config.orgs {
        for role in &org.dashboard_roles {
            match out.iter_mut().find(|(r, _)| r == role) {
                Some((_, orgs)) => orgs.push(org.id.clone()),
                None => out.push((role.clone(), vec![org.id.clone()])),
            }
        }
    }
    out
}

/// How the config file was found.
fn config_origin(config: &Config, from_flag: bool, env: &dyn Fn(&str) -> Option<String>) -> String {
    if from_flag {
        return "the --config flag".to_string();
    }
    if env(CONFIG_ENV).is_some_and(|v| !v.is_empty()) {
        return format!("${CONFIG_ENV} (environment)");
    }
    if config.path == Path::new(SYSTEM_CONFIG) {
        "the search path: the system-wide default".to_string()
    } else {
        "the search path: the per-user default ($XDG_CONFIG_HOME or ~/.config)".to_string()
    }
}

/// `(setting, value, where it came from)` for every top-level setting, plus the log level.
fn setting_rows(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<(&'static str, String, String)> {
    let source = |name: &str| match config.source_of(name) {
        Some(Source::File) => "config file".to_string(),
        _ => "default".to_string(),
    };
    let database_source = match (&config.database, config.source_of("database")) {
        (Database::Postgres(pg), _) => match &pg.url_env {
            Some(var) => format!("${var} (environment), named by database_url_env"),
            None => "config file".to_string(),
        },
        (_, Some(Source::File)) => "config file".to_string(),
        _ if env("XDG_DATA_HOME").is_some_and(|d| Path::new(&d).is_absolute()) => {
            "default, under $XDG_DATA_HOME".to_string()
        }
        _ => "default, under $HOME/.local/share".to_string(),
    };
    let lock_source = match (&config.database, config.source_of("lock_dir")) {
        (Database::Postgres(_), _) => "not used with PostgreSQL: leases on the server".to_string(),
        (_, Some(Source::File)) => "config file".to_string(),
        _ => "default: `locks` beside the database".to_string(),
    };
    let window = match config.appointment_window {
        Some(w) => format!(
            "{{ past_days = {}, future_days = {} }}",
            w.past_days, w.future_days
        ),
        None => "not set (every changed appointment)".to_string(),
    };
    let level = log::max_level().to_string().to_ascii_lowercase();
    let level_source = if env("RUST_LOG").is_some_and(|v| !v.is_empty()) {
        "$RUST_LOG (environment)"
    } else if log::max_level() != log::LevelFilter::Info {
        "-v/-q flag"
    } else {
        "default"
    };
    vec![
        ("database", config.database.to_string(), database_source),
        (
            "lock_dir",
            config.lock_dir.display().to_string(),
            lock_source,
        ),
        (
            "user_agent",
            config.user_agent.clone(),
            source("user_agent"),
        ),
        (
            "min_interval",
            format_duration(config.min_interval),
            source("min_interval"),
        ),
        (
            "full_sync_every",
            format_duration(config.full_sync_every),
            source("full_sync_every"),
        ),
        (
            "verify_every",
            format_duration(config.verify_every),
            source("verify_every"),
        ),
        (
            "reference_every",
            format_duration(config.reference_every),
            source("reference_every"),
        ),
        ("jobs", config.jobs.to_string(), source("jobs")),
        (
            "requests_per_minute",
            config.requests_per_minute.to_string(),
            source("requests_per_minute"),
        ),
        (
            "request_timeout",
            format_duration(config.request_timeout),
            source("request_timeout"),
        ),
        (
            "retry_attempts",
            config.retry_attempts.to_string(),
            source("retry_attempts"),
        ),
        (
            "retry_delay",
            format_duration(config.retry_delay),
            source("retry_delay"),
        ),
        (
            "max_wait",
            format_duration(config.max_wait),
            source("max_wait"),
        ),
        ("appointment_window", window, source("appointment_window")),
        (
            "max_run_time",
            config
                .max_run_time
                .map_or("not set (no deadline)".to_string(), format_duration),
            source("max_run_time"),
        ),
        (
            "ping_url",
            config.ping_url.as_deref().map_or_else(
                || "not set (no heartbeat pings)".to_string(),
                super::heartbeat::display_url,
            ),
            source("ping_url"),
        ),
        (
            "keep_runs",
            config
                .keep_runs
                .map_or("never".to_string(), format_duration),
            source("keep_runs"),
        ),
        (
            "purge_deleted_after",
            config
                .purge_deleted_after
                .map_or("never".to_string(), format_duration),
            source("purge_deleted_after"),
        ),
        ("log level", level, level_source.to_string()),
        (
            "log_format",
            crate::logging::format().name().to_string(),
            log_format_source().to_string(),
        ),
    ]
}

/// Where the log format in effect came from.
fn log_format_source() -> &'static str {
    match crate::logging::format_source() {
        FormatSource::Flag => "--log-format flag",
        FormatSource::Env => "$ROUTIQ_SYNC_LOG_FORMAT (environment)",
        FormatSource::Config => "config file",
        FormatSource::Default => "default",
    }
}

/// What is at the database path, read-only; `false` when a sync could not use it.
fn database_state(path: &Path) -> (String, bool) {
    let (schema, writable) = match probe_file(path) {
        FileProbe::Missing { folder_missing } => {
            let folder = if folder_missing {
                " (and its folder)"
            } else {
                ""
            };
            return (
                format!("not created yet: the first sync creates it{folder}"),
                true,
            );
        }
        FileProbe::Unexaminable(e) => return (format!("cannot be examined: {e}"), false),
        FileProbe::Unreadable => {
            return (
                "PROBLEM: this user may not read it (permission denied): give the user running \
                 routiq-sync read access (sync needs write access too) with chmod/chown, or run as \
                 the file's owner"
                    .to_string(),
                false,
            );
        }
        FileProbe::Found { schema, writable } => (schema, writable),
    };
    let (text, ok) = schema_state(schema);
    if ok && !writable {
        return (
            format!(
                "{text}; readable but not writable by this user: `status` works, `sync` needs \
                 write access to the file and its folder (for its -wal and -shm files)"
            ),
            true,
        );
    }
    (text, ok)
}

/// The schema version of the database file, as `check` shows it.
fn schema_state(schema: Result<SchemaVersion, StoreError>) -> (String, bool) {
    match schema {
        Ok(v) if v.is_newer() => (
            format!(
                "PROBLEM: schema version {} is newer than this routiq-sync supports \
                 ({}); upgrade routiq-sync",
                v.found, v.current
            ),
            false,
        ),
        Ok(v) if v.is_older() => (
            format!(
                "exists, schema version {}: the next sync upgrades it to {}",
                v.found, v.current
            ),
            true,
        ),
        Ok(v) => (
            format!("exists, schema version {} (current)", v.found),
            true,
        ),
        Err(e @ StoreError::Busy { .. }) => (format!("PROBLEM: {e}"), false),
        Err(StoreError::Open { cause, .. }) if cause.kind() == FailureKind::ReadOnly => (
            format!(
                "PROBLEM: this user cannot read it ({cause}): reading a database in WAL mode \
                 needs its -shm file, which is missing and may not be created in its folder \
                 by this user; give the user write access to the folder, or run a sync as \
                 the file's owner (which leaves the -shm in place)"
            ),
            false,
        ),
        Err(StoreError::NotADatabase { detail, .. }) => (not_sqlite(&detail), false),
        Err(StoreError::Open { cause, .. }) => (not_sqlite(&cause.to_string()), false),
        Err(e) => (not_sqlite(&e.to_string()), false),
    }
}

fn not_sqlite(detail: &str) -> String {
    format!(
        "PROBLEM: cannot be read as a SQLite database ({detail}); point `database` at another file"
    )
}

/// What is at the lock folder; `false` when locks cannot be taken there.
fn lock_dir_state(path: &Path) -> (String, bool) {
    if path.is_dir() {
        ("exists".to_string(), true)
    } else if path.exists() {
        (
            "PROBLEM: exists but is not a folder; set lock_dir to a folder".to_string(),
            false,
        )
    } else {
        (
            "not created yet: the first sync creates it".to_string(),
            true,
        )
    }
}

/// One org's block: where its key and address come from, its lock, and the probe.
/// `running`: the store says a run holds the org's lease (on PostgreSQL; false when the
/// store could not be read, which is reported once, above).
fn describe_org(config: &Config, running: bool, org: &OrgConfig, probe: &Probe) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\norg {}{}",
        org.id,
        org.name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    let key = match &org.key_source {
        KeySource::Env(var) => format!("from ${var} (environment)"),
        KeySource::Inline => "inline api_key in the config file".to_string(),
    };
    let base_source = match org.base_url_source {
        Source::File => "config file".to_string(),
        Source::Default => format!("default for the key's shard, {}", org.api_key.shard()),
    };
    let resources: Vec<&str> = org.resources.iter().map(|r| r.name()).collect();
    let resources_source = match org.resources_source {
        Source::File => "config file",
        Source::Default => "default",
    };
    let held = |yes: bool| {
        if yes {
            " (held now: a sync of this org is running)"
        } else {
            ""
        }
    };
    let lock_line = match &config.database {
        Database::Sqlite(_) => {
            let lock_path = file_lock::lock_path(&config.lock_dir, &org.id);
            let held = held(file_lock::is_held(&config.lock_dir, &org.id));
            format!("  lock file  {}{held}", lock_path.display())
        }
        Database::Postgres(_) => format!("  lock       lease on the server{}", held(running)),
    };
    let _ = writeln!(out, "  api key    {key}");
    let _ = writeln!(out, "  base_url   {} ({base_source})", org.base_url);
    let _ = writeln!(
        out,
        "  resources  {} ({resources_source})",
        resources.join(", ")
    );
    if let Some(url) = &org.ping_url {
        let _ = writeln!(
            out,
            "  ping_url   {} (config file)",
            super::heartbeat::display_url(url)
        );
    }
    let _ = writeln!(out, "{lock_line}");
    let mut probe_text = probe.describe();
    if let Probe::Rejected(_) = probe {
        let _ = write!(probe_text, "; check {}", key_hint(config, org));
    }
    let _ = writeln!(out, "  probe      {probe_text}");
    out
}

/// A probe's result and the host clock's skew against its answer's `Date`.
type Probed = (Probe, Option<ClockSkew>);

/// Probes every org, up to `jobs` at once; results (with the host clock's skew against
/// the answer's `Date`) in the order of `orgs`.
fn probe_all(config: &Config, orgs: &[&OrgConfig]) -> Vec<Probed> {
    let limiters = RateLimiters::default();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Probed)>> = Mutex::new(Vec::new());
    let workers = config.jobs.clamp(1, orgs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(org) = orgs.get(i) else { break };
                    let probe = probe_org(config, org, &limiters);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, probe));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, p)| p).collect()
}

/// Sends one `GET /user` with the org's key: one retry, a short timeout, no 429 waits.
fn probe_org(
    config: &Config,
    org: &OrgConfig,
    limiters: &RateLimiters,
) -> (Probe, Option<ClockSkew>) {
    let client = Client::new(
        &org.api_key,
        probe_settings(config, org),
        limiters.for_key(&org.api_key, config.requests_per_minute),
        cancel_flag(),
    );
    let began = Instant::now();
    let probe = classify(client.probe(PROBE_PATH), began.elapsed());
    let now = crate::engine::Clock::now(&super::SystemClock::new());
    let skew = client
        .server_date()
        .map(|d| ClockSkew::from_sample(now, &d));
    (probe, skew)
}

/// The client settings for a probe: the org's address and the configured User-Agent,
/// with few attempts and a short timeout so a dead host answers in seconds.
fn probe_settings(config: &Config, org: &OrgConfig) -> ClientSettings {
    let mut settings = super::client_settings(config, org);
    settings.request_timeout = settings.request_timeout.min(PROBE_TIMEOUT);
    settings.retry = RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_millis(500),
        max_wait: Duration::from_secs(5),
        // The first 429 ends the probe: `check` should not wait out a rate limit.
        max_rate_limited: 0,
    };
    settings
}

/// Sorts a probe's result into ok / rejected / unreachable / error.
fn classify(result: Result<(), ApiError>, took: Duration) -> Probe {
    match result {
        Ok(()) => Probe::Ok(took),
        Err(ApiError::KeyRejected { status }) => Probe::Rejected(format!(
            "Cliniko refused the key (HTTP {status}): it is wrong, revoked, or its user lacks access"
        )),
        Err(ApiError::Forbidden) => Probe::Rejected(
            "Cliniko refused access (HTTP 403): the key's user lacks permission, or the key was revoked"
                .to_string(),
        ),
        Err(e @ ApiError::Network { .. }) => Probe::Unreachable(format!(
            "{e}; check base_url (or the shard) and the network"
        )),
        Err(e @ ApiError::Http { .. }) => {
            Probe::Error(format!("{e}; check base_url (or the shard)"))
        }
        Err(e) => Probe::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_results_are_sorted_into_four_kinds() {
        let took = Duration::from_millis(12);
        assert_eq!(classify(Ok(()), took), Probe::Ok(took));
        let rejected = classify(Err(ApiError::KeyRejected { status: 401 }), took);
        assert_eq!(rejected.label(), "rejected");
        assert!(rejected.describe().contains("HTTP 401"));
        let down = classify(
            Err(ApiError::Network {
                detail: "connection failed".into(),
                attempts: 2,
            }),
            took,
        );
        assert_eq!(down.label(), "unreachable");
        let server = classify(
            Err(ApiError::Server {
                status: 503,
                attempts: 2,
            }),
            took,
        );
        assert_eq!(server.label(), "error");
        assert_eq!(
            Probe::Ok(took).describe(),
            "ok: key accepted (GET /user answered in 12 ms)"
        );
    }

    #[test]
    fn paths() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/x.db");
        let (text, ok) = database_state(&db);
        assert!(ok && text.contains("and its folder"), "{text}");
        let junk = dir.path().join("junk.db");
        std::fs::write(
            &junk,
            "this is not sqlite, just some text that is long enough",
        )
        .unwrap();
        let (text, ok) = database_state(&junk);
        assert!(!ok && text.contains("PROBLEM"), "{text}");
        let (_, ok) = lock_dir_state(&junk);
        assert!(!ok);
        let (text, ok) = lock_dir_state(dir.path());
        assert!(ok && text == "exists");
    }
}
