//! What the run tells the outside world: `log_format` (text or JSON log lines) and the
//! run's heartbeat `ping_url` (an org's own `ping_url` is checked with its `[[org]]`).

use super::org;
use super::problems::Problems;
use super::raw::RawConfig;
use crate::logging::LogFormat;

/// The two settings; `None` where not written (or invalid).
pub(super) struct Monitoring {
    pub log_format: Option<LogFormat>,
    pub ping_url: Option<String>,
}

/// Checks the log format's name and the heartbeat URL's form.
pub(super) fn validate(raw: &RawConfig, problems: &mut Problems) -> Monitoring {
    let log_format = raw.log_format.as_deref().and_then(|text| {
        let format = LogFormat::parse(text);
        if format.is_none() {
            problems.top(
                "log_format",
                format!("is `{text}`; it must be \"text\" or \"json\""),
            );
        }
        format
    });
    let ping_url = raw
        .ping_url
        .as_deref()
        .and_then(|url| match org::http_url(url) {
            Ok(url) => Some(url),
            Err(message) => {
                problems.top("ping_url", message);
                None
            }
        });
    Monitoring {
        log_format,
        ping_url,
    }
}
