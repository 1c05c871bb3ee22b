//! One module per subcommand, plus what they share: config loading, the system clock,
//! and the exit status.

pub mod check;
pub mod completions;
pub mod demo;
mod progress;
pub mod status;
mod style;
pub mod sync;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::cliniko::{ClientSettings, RetryPolicy, basic_auth};
use crate::config::{self, Config, ConfigError, KeyPolicy, KeySource, LoadOptions, OrgConfig};
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
    for org in &config.orgs {
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
    StoreLocation::Sqlite {
        path: config.database.clone(),
        lock_dir: config.lock_dir.clone(),
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
    }
}

/// The real clock.
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose monotonic readings start now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
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
