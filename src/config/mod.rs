//! The TOML config file: where it is, what it says, and where each setting came from.
//!
//! [`load`] finds the file ([`locate`]), reads it and hands it to [`parse`], which
//! deserializes it into raw serde structs (`raw.rs`) and validates them into [`Config`].
//! Nothing here reads the process environment or the clock: callers pass an environment
//! lookup in [`LoadOptions`]. Warnings are returned in [`Config::warnings`], not printed.

mod api_keys;
mod database;
mod diagnose;
mod duration;
mod error;
mod locate;
mod monitoring;
mod org;
mod paths;
mod privacy;
mod problems;
mod raw;
mod redact;
mod requests;
mod retention;
mod run_limits;
mod schedule;
mod user_agent;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::de::DeTable;

use crate::resource::Resource;
use crate::secret::ApiKey;

pub use database::{DEFAULT_PG_SCHEMA, Database, PostgresSettings};
pub use duration::{format_duration, parse_duration};
pub use error::{ConfigError, Location, Problem};
pub use locate::{CONFIG_ENV, SYSTEM_CONFIG, locate};
pub use org::is_org_id;

/// Default for `min_interval`: skip an org synced less than this long ago.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// Default for `full_sync_every`: the full walk is the weekly backstop; `verify` checks
/// the copy nightly by counts.
pub const DEFAULT_FULL_SYNC_EVERY: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Default for `verify_every`.
pub const DEFAULT_VERIFY_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Default for `reference_every`.
pub const DEFAULT_REFERENCE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Default for `jobs`: orgs synced at once.
pub const DEFAULT_JOBS: usize = 4;
/// Default for `requests_per_minute`, per API key.
pub const DEFAULT_REQUESTS_PER_MINUTE: f64 = 180.0;
/// Cliniko's documented limit per user; more than this in the config gives a warning.
pub const CLINIKO_REQUESTS_PER_MINUTE: f64 = 200.0;
/// Default for `request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for `retry_attempts`.
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 5;
/// Default for `max_wait`.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(5 * 60);
/// Default for `retry_delay`: the first backoff after a failed request, doubled each time.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Default for `keep_runs`: run history older than this is pruned.
pub const DEFAULT_KEEP_RUNS: Duration = Duration::from_secs(90 * 86_400);
/// Default for `purge_deleted_after`: rows deleted upstream this long ago are removed.
pub const DEFAULT_PURGE_DELETED_AFTER: Duration = Duration::from_secs(30 * 86_400);

/// Names of the top-level settings whose [`Source`] is recorded, in file-documentation order.
pub const SETTINGS: [&str; 19] = [
    "database",
    "lock_dir",
    "user_agent",
    "min_interval",
    "full_sync_every",
    "verify_every",
    "reference_every",
    "jobs",
    "requests_per_minute",
    "request_timeout",
    "retry_attempts",
    "retry_delay",
    "max_wait",
    "appointment_window",
    "max_run_time",
    "log_format",
    "ping_url",
    "keep_runs",
    "purge_deleted_after",
];

/// What [`load`] and [`locate`] need from the caller.
pub struct LoadOptions<'a> {
    /// The `--config` path, if given.
    pub explicit_path: Option<&'a Path>,
    /// Looks up an environment variable (`|k| std::env::var(k).ok()` in production, a map
    /// in tests). Used for the search path, default paths and `api_key_env`.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Where a setting's value came from. The CLI layer may override values from flags or
/// the environment and record that itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Written in the config file.
    File,
    /// Not in the file: the built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::File => "config file",
            Source::Default => "default",
        })
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The store: a SQLite file or a PostgreSQL database.
    pub database: Database,
    /// Folder for per-org lock files (SQLite only); defaults to `locks` beside the
    /// database. Resolved like a SQLite `database` path.
    pub lock_dir: PathBuf,
    /// The User-Agent sent to Cliniko: `Name (email@domain)`.
    pub user_agent: String,
    /// `sync` skips an org whose last success finished less than this long ago.
    pub min_interval: Duration,
    /// `sync` escalates to a full sync when the last full one is older than this.
    pub full_sync_every: Duration,
    /// `sync` escalates to a verify when the last one is older than this.
    pub verify_every: Duration,
    /// `sync` polls reference resources at most this often (unless a record points at
    /// one the store lacks).
    pub reference_every: Duration,
    /// How many orgs are synced at once (at least 1).
    pub jobs: usize,
    /// Request budget per API key per minute (positive; may exceed Cliniko's 200).
    pub requests_per_minute: f64,
    /// Timeout for one HTTP request (more than zero).
    pub request_timeout: Duration,
    /// Attempts per request on 5xx or network errors (at least 1).
    pub retry_attempts: u32,
    /// The longest single wait for a 429 before the org fails.
    pub max_wait: Duration,
    /// The first backoff after a failed request (doubled after each further failure).
    pub retry_delay: Duration,
    /// Limits incremental appointment pulls to this window around now, when set.
    pub appointment_window: Option<AppointmentWindow>,
    /// `sync`/`full` stop cleanly between pages once a run has taken this long.
    pub max_run_time: Option<Duration>,
    /// `log_format` from the file (the flag and `$ROUTIQ_SYNC_LOG_FORMAT` outrank it).
    pub log_format: Option<crate::logging::LogFormat>,
    /// The heartbeat URL for the whole run (`<url>/start`, `<url>`, `<url>/fail`).
    pub ping_url: Option<String>,
    /// Runs older than this are pruned at the end of each run; `None` keeps them all.
    pub keep_runs: Option<Duration>,
    /// Rows deleted upstream longer ago than this are removed; `None` keeps them.
    pub purge_deleted_after: Option<Duration>,
    /// The orgs, in file order; never empty, ids unique.
    pub orgs: Vec<OrgConfig>,
    /// Things worth telling the operator that do not stop a run. Never contain keys.
    pub warnings: Vec<String>,
    /// For each name in [`SETTINGS`], where its value came from.
    pub sources: BTreeMap<&'static str, Source>,
}

/// `appointment_window = { past_days = 7, future_days = 30 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppointmentWindow {
    /// Days before now.
    pub past_days: u32,
    /// Days after now.
    pub future_days: u32,
}

/// Where an org's API key came from (shown by `check`; the key itself never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `api_key = "…"` in the config file.
    Inline,
    /// `api_key_env = "NAME"`: read from this environment variable.
    Env(String),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Inline => f.write_str("inline api_key"),
            KeySource::Env(name) => write!(f, "${name}"),
        }
    }
}

/// One clinic organisation to sync.
#[derive(Debug, Clone)]
pub struct OrgConfig {
    /// Our id for the org: `[A-Za-z0-9_-]+`, unique, case-sensitive.
    pub id: String,
    /// A name for people, if given.
    pub name: Option<String>,
    /// The Cliniko API key (never printed).
    pub api_key: ApiKey,
    /// Where the key came from.
    pub key_source: KeySource,
    /// API base without a trailing `/`: the `base_url` override, else
    /// `https://api.{shard}.cliniko.com/v1` with the shard from `shard` or the key.
    pub base_url: String,
    /// [`Source::File`] when `base_url` or `shard` is written for this org,
    /// [`Source::Default`] when the address comes from the key's shard suffix.
    pub base_url_source: Source,
    /// What to sync, no duplicates, never empty; [`Resource::defaults`] when not listed.
    pub resources: Vec<Resource>,
    /// Whether `resources` was written for this org or is the default set.
    pub resources_source: Source,
    /// The org's own heartbeat URL, if any.
    pub ping_url: Option<String>,
    /// The PostgreSQL roles that may read this org's rows (`dashboard_roles`), each once,
    /// in the order written; empty when none may.
    pub dashboard_roles: Vec<String>,
    /// What is stored of its records: `[privacy.*]` with its own `[org.privacy.*]`
    /// replacing them per resource (empty: everything is stored).
    pub privacy: std::sync::Arc<crate::privacy::OrgPolicy>,
}

impl Config {
    /// The org with this id (exact, case-sensitive match).
    pub fn org(&self, id: &str) -> Option<&OrgConfig> {
        self.orgs.iter().find(|org| org.id == id)
    }

    /// The orgs with these ids, in the order asked, duplicates dropped; every org when
    /// `ids` is empty. Unknown ids give an error listing them and every known id.
    pub fn select_orgs(&self, ids: &[String]) -> Result<Vec<&OrgConfig>, ConfigError> {
        if ids.is_empty() {
            return Ok(self.orgs.iter().collect());
        }
        let mut selected: Vec<&OrgConfig> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for id in ids {
            match self.org(id) {
                Some(org) if !selected.iter().any(|s| s.id == org.id) => selected.push(org),
                Some(_) => {}
                None if !unknown.contains(id) => unknown.push(id.clone()),
                None => {}
            }
        }
        if unknown.is_empty() {
            Ok(selected)
        } else {
            Err(ConfigError::UnknownOrg {
                path: self.path.clone(),
                unknown,
                known: self.orgs.iter().map(|org| org.id.clone()).collect(),
            })
        }
    }

    /// Where a top-level setting (a name in [`SETTINGS`]) came from; `None` for other names.
    pub fn source_of(&self, setting: &str) -> Option<Source> {
        self.sources.get(setting).copied()
    }
}

/// Whether every org's API key must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// A key variable that is not set is a config error (anything that calls Cliniko).
    Required,
    /// A key variable that is not set leaves that org's key empty (`status`, which reads
    /// only the database, works from a shell without the keys).
    Optional,
}

/// Finds, reads, parses and validates the config file.
///
/// On Unix, an inline `api_key` in a file readable by group or others adds a warning.
pub fn load(opts: &LoadOptions<'_>) -> Result<Config, ConfigError> {
    load_with(opts, KeyPolicy::Required)
}

/// [`load`], with a choice about key variables that are not set.
pub fn load_with(opts: &LoadOptions<'_>, keys: KeyPolicy) -> Result<Config, ConfigError> {
    let path = locate(opts)?;
    let read_error = |error| ConfigError::Read {
        path: path.clone(),
        error,
    };
    let text = std::fs::read_to_string(&path).map_err(read_error)?;
    let mode = file_mode(&path).map_err(read_error)?;
    log::debug!("reading config from {}", path.display());
    parse_inner(&text, &path, opts.env, mode, keys)
}

#[cfg(unix)]
fn file_mode(path: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    Ok(Some(std::fs::metadata(path)?.permissions().mode()))
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

/// Parses and validates config text read from `path` (used in messages and to resolve
/// relative paths). Skips the file-permission check; see [`parse_with_mode`].
pub fn parse(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    parse_with_mode(text, path, env, None)
}

/// [`parse`], plus a warning when `file_mode` (Unix permission bits of the file) lets
/// group or others read a file that holds an inline `api_key`.
pub fn parse_with_mode(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    file_mode: Option<u32>,
) -> Result<Config, ConfigError> {
    parse_inner(text, path, env, file_mode, KeyPolicy::Required)
}

fn parse_inner(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    file_mode: Option<u32>,
    keys: KeyPolicy,
) -> Result<Config, ConfigError> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            let redactor = redact::Redactor::new(text, None);
            return Err(
                diagnose::toml_error(path, text, &err, None).map_text(|s| redactor.scrub(s))
            );
        }
    };
    let redactor = redact::Redactor::new(text, Some(doc.get_ref()));
    let scrub = |s: &str| redactor.scrub(s);
    let raw =
        raw::RawConfig::deserialize(toml::Deserializer::from(doc.clone())).map_err(|err| {
            diagnose::toml_error(path, text, &err, Some(doc.get_ref())).map_text(scrub)
        })?;
    let mut config = validate::validate(raw, path, env, file_mode, keys).map_err(|problems| {
        let problems = problems
            .into_iter()
            .map(|p| Problem {
                line: diagnose::line_of(doc.get_ref(), text, &p.key),
                ..p
            })
            .collect();
        ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        }
        .map_text(scrub)
    })?;
    config.warnings = config.warnings.iter().map(|w| scrub(w)).collect();
    Ok(config)
}

/// The value of an environment variable, treating set-but-empty as unset.
fn env_var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|value| !value.is_empty())
}
