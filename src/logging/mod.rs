//! Log setup: env_logger behind a filter that redacts secrets from every record, writes
//! text or JSON lines, and keeps progress bars from being torn by log lines.

mod json;

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, RwLock};

use indicatif::MultiProgress;
use log::{LevelFilter, Log, Metadata, Record};
use serde_json::Value;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());
static ORGS: RwLock<Vec<String>> = RwLock::new(Vec::new());
static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);
/// 0: text chosen by default, 1: text chosen, 2: JSON chosen (see [`LogFormat`]).
static FORMAT: AtomicU8 = AtomicU8::new(0);

/// The environment variable that picks the log format when `--log-format` is not given.
pub const FORMAT_ENV: &str = "ROUTIQ_SYNC_LOG_FORMAT";

thread_local! {
    /// Structured fields for the record being logged on this thread (see [`with_fields`]).
    static FIELDS: RefCell<Vec<(String, Value)>> = const { RefCell::new(Vec::new()) };
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-01-05T07:00:03Z INFO  message` (the default).
    Text,
    /// One JSON object per line: `ts`, `level`, `msg`, `org`, and structured fields.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }

    /// Parses `text` or `json`.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// Where the log format in effect came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatSource {
    Flag,
    Env,
    Config,
    Default,
}

static FORMAT_SOURCE: AtomicU8 = AtomicU8::new(3);

/// The format in effect.
pub fn format() -> LogFormat {
    if FORMAT.load(Ordering::Relaxed) == 2 {
        LogFormat::Json
    } else {
        LogFormat::Text
    }
}

/// Where [`format()`] came from (`--log-format`, the environment, the config or the default).
pub fn format_source() -> FormatSource {
    match FORMAT_SOURCE.load(Ordering::Relaxed) {
        0 => FormatSource::Flag,
        1 => FormatSource::Env,
        2 => FormatSource::Config,
        _ => FormatSource::Default,
    }
}

fn set_format(format: LogFormat, source: FormatSource) {
    FORMAT.store(
        match format {
            LogFormat::Text => 1,
            LogFormat::Json => 2,
        },
        Ordering::Relaxed,
    );
    FORMAT_SOURCE.store(source as u8, Ordering::Relaxed);
}

/// Applies `log_format` from the config, unless the flag or the environment chose already.
pub fn apply_config_format(format: Option<LogFormat>) {
    if let Some(f) = format
        && format_source() == FormatSource::Default
    {
        set_format(f, FormatSource::Config);
    }
}

/// Logs whatever `log` does on this thread with `fields` attached (JSON lines carry them
/// as keys; text lines ignore them).
pub fn with_fields(fields: Vec<(String, Value)>, log: impl FnOnce()) {
    FIELDS.with(|f| *f.borrow_mut() = fields);
    log();
    FIELDS.with(|f| f.borrow_mut().clear());
}

/// Registers an org id, so JSON lines whose message starts with it carry it as `org`.
pub fn known_org(id: &str) {
    let mut orgs = ORGS.write().unwrap_or_else(|e| e.into_inner());
    if !orgs.iter().any(|x| x == id) {
        orgs.push(id.to_string());
    }
}

/// The registered org a message is about: messages about one org start with `<id>:` or
/// `<id> ` (the longest matching id wins, so `org_1` never claims `org_12`).
fn org_of(msg: &str) -> Option<String> {
    let orgs = ORGS.read().unwrap_or_else(|e| e.into_inner());
    orgs.iter()
        .filter(|id| {
            msg.strip_prefix(id.as_str())
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(' '))
        })
        .max_by_key(|id| id.len())
        .cloned()
}

/// Writes a command-stopping error to stderr in the log format in effect.
pub fn print_error(text: &str) {
    let text = scrub(text);
    let line = match format() {
        LogFormat::Text => format!("routiq-sync: error: {text}"),
        LogFormat::Json => json::line(
            &json::timestamp(time::OffsetDateTime::now_utc()),
            log::Level::Error,
            &text,
            None,
            Vec::new(),
            &scrub,
        ),
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Registers a string that must never reach the log (an API key, an auth header).
pub fn redact(secret: &str) {
    if secret.len() >= 4 {
        let mut s = SECRETS.write().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }
}

/// Replaces every registered secret in `text`.
pub fn scrub(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "[redacted]");
        }
    }
    out
}

/// Routes log lines above `bars` while they are shown; `None` detaches them.
pub fn attach_progress(bars: Option<MultiProgress>) {
    *BARS.lock().unwrap_or_else(|e| e.into_inner()) = bars;
}

struct Redacting {
    inner: env_logger::Logger,
}

impl Log for Redacting {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.inner.matches(record) {
            return;
        }
        let fields = FIELDS.with(|f| std::mem::take(&mut *f.borrow_mut()));
        let line = match format() {
            LogFormat::Text => scrub(&format!(
                "{} {:<5} {}",
                crate::timestamp::Timestamp::now(),
                record.level(),
                record.args()
            )),
            LogFormat::Json => {
                let msg = record.args().to_string();
                let org = fields
                    .iter()
                    .find(|(k, _)| k == "org")
                    .and_then(|(_, v)| v.as_str().map(str::to_string))
                    .or_else(|| org_of(&msg));
                json::line(
                    &json::timestamp(time::OffsetDateTime::now_utc()),
                    record.level(),
                    &msg,
                    org.as_deref(),
                    fields,
                    &scrub,
                )
            }
        };
        let bars = BARS.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bars {
            Some(bars) if !bars.is_hidden() => bars.suspend(|| eprintln!("{line}")),
            _ => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    fn flush(&self) {}
}

/// Installs the logger. `verbosity` is -2..=2 (from -qq to -vv); `RUST_LOG` overrides.
/// HTTP library internals stay at warnings unless `RUST_LOG` asks for them (and even
/// then secrets are redacted). The format is `flag`, else `$ROUTIQ_SYNC_LOG_FORMAT`,
/// else text until [`apply_config_format`]; a bad variable value is returned as an error
/// (the logger is installed in text format all the same).
pub fn init(verbosity: i8, flag: Option<LogFormat>) -> Result<(), String> {
    let env = std::env::var(FORMAT_ENV).ok().filter(|v| !v.is_empty());
    let mut result = Ok(());
    match (flag, env) {
        (Some(f), _) => set_format(f, FormatSource::Flag),
        (None, Some(v)) => match LogFormat::parse(&v) {
            Some(f) => set_format(f, FormatSource::Env),
            None => {
                result = Err(format!(
                    "${FORMAT_ENV} is `{v}`; it must be `text` or `json` (or unset)"
                ))
            }
        },
        (None, None) => {}
    }
    let level = match verbosity {
        i8::MIN..=-2 => LevelFilter::Error,
        -1 => LevelFilter::Warn,
        0 => LevelFilter::Info,
        1 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(level)
        .filter_module("ureq", LevelFilter::Warn)
        .filter_module("ureq_proto", LevelFilter::Warn)
        .filter_module("rustls", LevelFilter::Warn)
        .filter_module("tiny_http", LevelFilter::Warn);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    let inner = builder.build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Redacting { inner })).is_ok() {
        log::set_max_level(max);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_scrubbed() {
        redact("sekrit-key-au1");
        assert_eq!(
            scrub("GET with sekrit-key-au1 now"),
            "GET with [redacted] now"
        );
        redact("ab"); // too short to redact meaningfully
        assert_eq!(scrub("abc"), "abc");
    }

    #[test]
    fn org_prefix_names_the_longest_known_org() {
        known_org("org_1");
        known_org("org_12");
        assert_eq!(org_of("org_12: retrying").as_deref(), Some("org_12"));
        assert_eq!(org_of("org_1 incremental ok").as_deref(), Some("org_1"));
        assert_eq!(org_of("org_123 nope"), None);
        assert_eq!(org_of("reading config"), None);
    }
}
