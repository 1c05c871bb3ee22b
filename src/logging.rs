//! Log setup: env_logger behind a filter that redacts secrets from every record and
//! keeps progress bars from being torn by log lines.

use std::io::Write;
use std::sync::{Mutex, RwLock};

use indicatif::MultiProgress;
use log::{LevelFilter, Log, Metadata, Record};

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());
static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);

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
        let line = scrub(&format!(
            "{} {:<5} {}",
            crate::timestamp::Timestamp::now(),
            record.level(),
            record.args()
        ));
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
/// then secrets are redacted).
pub fn init(verbosity: i8) {
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
}
