//! How long the store keeps history: `keep_runs` (run history) and
//! `purge_deleted_after` (rows deleted upstream), each a duration or `"never"`.

use std::time::Duration;

use super::problems::Problems;
use super::raw::RawConfig;
use super::{DEFAULT_KEEP_RUNS, DEFAULT_PURGE_DELETED_AFTER, parse_duration};

/// The two retention periods; `None` keeps everything.
pub(super) struct Retention {
    pub keep_runs: Option<Duration>,
    pub purge_deleted_after: Option<Duration>,
}

/// Reads both periods; one that does not parse is a problem and its default stands in.
pub(super) fn validate(raw: &RawConfig, problems: &mut Problems) -> Retention {
    let mut period = |key: &str, value: Option<&str>, default: Duration| match value {
        None => Some(default),
        Some(text) if text.trim() == "never" => None,
        Some(text) => match parse_duration(text) {
            Ok(d) => Some(d),
            Err(message) => {
                problems.top(key, format!("{message}; or \"never\""));
                Some(default)
            }
        },
    };
    Retention {
        keep_runs: period("keep_runs", raw.keep_runs.as_deref(), DEFAULT_KEEP_RUNS),
        purge_deleted_after: period(
            "purge_deleted_after",
            raw.purge_deleted_after.as_deref(),
            DEFAULT_PURGE_DELETED_AFTER,
        ),
    }
}
