//! One module per subcommand, plus what they share: config loading, the system clock,
//! and the exit status.

pub mod check;
pub mod completions;
mod deadline;
pub mod demo;
pub mod forget;
mod heartbeat;
mod metrics;
mod output;
mod privacy_report;
mod progress;
mod scrub;
pub mod status;
pub mod status_report;
mod store_probe;
mod style;
pub mod sync;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::cliniko::{ClientSettings, RetryPolicy, basic_auth};
use crate::config::{
    self, Config, ConfigError, Database, KeyPolicy, KeySource, LoadOptions, OrgConfig,
};
use crate::engine::Clock;
use crate::store::StoreLocation;
use crate::timestamp::Timestamp;

/// How a command ended, as the process exit code (see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every org synced or was skipped; or every org is healthy.
    Success = 0,
    /// At least one org failed, or is unhealthy.
    Failure = 1,
    /// Usage or config error: nothing was run.
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// A failure that stops a command before any org is synced.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CommandError {
    /// The exit status this error maps to.
    pub fn exit(&self) -> Exit {
        match self {
            CommandError::Config(_) | CommandError::Usage(_) => Exit::Usage,
            CommandError::Store(e) if e.is_setup_error() => Exit::Usage,
            _ => Exit::Failure,
        }
    }
}

/// Global options every command receives.
#[derive(Debug, Clone)]
pub struct Globals {
    pub config: Option<std::path::PathBuf>,
    pub show_progress: bool,
}

/// Loads the config from the process environment, registers its keys for redaction and
/// logs its warnings.
pub fn load_config(globals: &Globals) -> Result<Config, ConfigError> {
    let config = load_config_quietly(globals)?;
    for w in &config.warnings {
        log::warn!("{w}");
    }
    Ok(config)
}

/// Like [`load_config`], leaving the warnings to the caller.
pub fn load_config_quietly(globals: &Globals) -> Result<Config, ConfigError> {
    load_config_with(globals, KeyPolicy::Required)
}

/// Loads the config for commands that never call Cliniko (`status`): key variables that
/// are not set are allowed, so monitors need not hold the keys.
pub fn load_config_without_keys(globals: &Globals) -> Result<Config, ConfigError> {
    let config = load_config_with(globals, KeyPolicy::Optional)?;
    for w in &config.warnings {
        log::warn!("{w}");
    }
    Ok(config)
}

fn load_config_with(globals: &Globals, keys: KeyPolicy) -> Result<Config, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let config = config::load_with(
        &LoadOptions {
            explicit_path: globals.config.as_deref(),
            env: &env,
        },
        keys,
    )?;
    let mut config = config;
    if let Database::Sqlite(path) = &config.database
        && let Some(warning) = crate::store::probe::readable_warning(path)
    {
        config.warnings.push(warning);
    }
    crate::logging::apply_config_format(config.log_format);
    if let Some(pg) = config.database.postgres() {
        for secret in pg.url.secrets() {
            crate::logging::redact(secret);
        }
    }
    let ping_urls = config.orgs.iter().filter_map(|o| o.ping_url.as_deref());
    for url in config.ping_url.as_deref().into_iter().chain(ping_urls) {
        for password in crate::url_password::passwords(url) {
            crate::logging::redact(&password);
        }
    }
    for org in &config.orgs {
        crate::logging::known_org(&org.id);
        crate::logging::redact(org.api_key.expose());
        crate::logging::redact(&basic_auth(&org.api_key));
    }
    Ok(config)
}

/// Where an org's key comes from, for error messages.
pub fn key_hint(config: &Config, org: &OrgConfig) -> String {
    match &org.key_source {
        KeySource::Env(var) => format!(
            "the key in ${var} (api_key_env of org {} in {})",
            org.id,
            config.path.display()
        ),
        KeySource::Inline => format!("api_key of org {} in {}", org.id, config.path.display()),
    }
}

/// Where the config says the data lives.
pub fn store_location(config: &Config) -> StoreLocation {
    match &config.database {
        Database::Sqlite(path) => StoreLocation::Sqlite {
            path: path.clone(),
            lock_dir: config.lock_dir.clone(),
        },
        Database::Postgres(pg) => StoreLocation::Postgres {
            url: pg.url.clone(),
            schema: pg.schema.clone(),
        },
    }
}

/// The HTTP settings of one org.
pub fn client_settings(config: &Config, org: &OrgConfig) -> ClientSettings {
    ClientSettings {
        label: org.id.clone(),
        base_url: org.base_url.clone(),
        user_agent: config.user_agent.clone(),
        request_timeout: config.request_timeout,
        retry: RetryPolicy {
            attempts: config.retry_attempts,
            max_wait: config.max_wait,
            base_delay: config.retry_delay,
            ..RetryPolicy::default()
        },
        privacy: org.privacy.clone(),
    }
}

/// Shifts the host clock the product reads, for tests of a wrong clock: `+400d`, `-1d`
/// (a duration as the config writes them, with an optional sign). Nothing else reads it.
pub const TEST_CLOCK_OFFSET_ENV: &str = "ROUTIQ_SYNC_TEST_CLOCK_OFFSET";

/// The real clock (shifted by [`TEST_CLOCK_OFFSET_ENV`] when a test sets it).
pub struct SystemClock {
    origin: Instant,
    /// Seconds added to the host's time.
    offset: i64,
}

impl SystemClock {
    /// A clock whose monotonic readings start now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
            offset: std::env::var(TEST_CLOCK_OFFSET_ENV)
                .ok()
                .and_then(|v| parse_offset(&v))
                .unwrap_or(0),
        }
    }
}

/// `+400d` / `-1d` / `90s` as seconds; `None` when it is not a duration.
fn parse_offset(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let d = config::parse_duration(rest).ok()?;
    i64::try_from(d.as_secs()).ok().map(|s| sign * s)
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        match self.offset {
            0 => now,
            s => Timestamp::from_unix(now.unix().saturating_add(s)).unwrap_or(now),
        }
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// The flag set by SIGINT/SIGTERM; checked between pages and during waits.
pub fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use super::*;
    use crate::store::{DbFailure, FailureKind, StoreError};

    fn failure(kind: FailureKind) -> DbFailure {
        DbFailure::new(kind, std::io::Error::other("the driver's words"))
    }

    fn exit_of(e: StoreError) -> Exit {
        CommandError::Store(e).exit()
    }

    #[test]
    fn only_problems_with_the_configured_database_exit_2() {
        let path = || "/x/routiq.db".to_string();
        let pg = || "db.example:5432/routiq".to_string();
        let open = |kind| StoreError::Open {
            path: path(),
            cause: failure(kind),
        };
        let create = |kind| StoreError::CreateDir {
            path: "/x".into(),
            source: io::Error::from(kind),
        };
        // The file the operator pointed us at cannot be used: fix the config.
        for e in [
            open(FailureKind::Setup),
            open(FailureKind::ReadOnly),
            create(io::ErrorKind::PermissionDenied),
            create(io::ErrorKind::NotADirectory),
            StoreError::NotADatabase {
                path: path(),
                detail: "file is not a database".into(),
            },
            StoreError::NewerSchema {
                path: path(),
                found: 9,
                supported: 3,
            },
            StoreError::OlderSchema {
                path: path(),
                found: 1,
                supported: 3,
            },
            StoreError::Unusable {
                target: pg(),
                cause: failure(FailureKind::Setup),
                hint: "; create the database, or fix its name in the URL".into(),
            },
            StoreError::Tls {
                target: pg(),
                detail: "cannot read sslrootcert".into(),
            },
        ] {
            assert_eq!(exit_of(e), Exit::Usage);
        }
        // Transient: another process, the disk, a hiccup. The next run may succeed.
        for e in [
            open(FailureKind::Busy),
            open(FailureKind::DiskFull),
            open(FailureKind::Other),
            create(io::ErrorKind::Other),
            create(io::ErrorKind::StorageFull),
            StoreError::Busy {
                path: path(),
                waited: Duration::from_secs(60),
            },
            StoreError::DiskFull { path: path() },
            StoreError::Failed(failure(FailureKind::Busy)),
            StoreError::Failed(failure(FailureKind::Setup)),
            StoreError::Connect {
                target: pg(),
                cause: failure(FailureKind::Lost),
                hint: String::new(),
            },
            StoreError::Connect {
                target: pg(),
                cause: failure(FailureKind::Setup),
                hint: "; check the user and password".into(),
            },
            StoreError::Server {
                target: pg(),
                cause: failure(FailureKind::Timeout),
            },
            StoreError::Server {
                target: pg(),
                cause: failure(FailureKind::Setup),
            },
            StoreError::LockLost {
                org: "1".into(),
                target: pg(),
            },
        ] {
            assert_eq!(exit_of(e), Exit::Failure);
        }
        assert_eq!(CommandError::Usage("bad flag".into()).exit(), Exit::Usage);
        assert_eq!(
            CommandError::Other(anyhow::anyhow!("cannot start")).exit(),
            Exit::Failure
        );
    }
}
