//! How hard Cliniko is asked: `jobs` (orgs synced at once), `requests_per_minute`,
//! `request_timeout`, `retry_attempts`, `retry_delay` and `max_wait`.

use std::path::Path;
use std::time::Duration;

use super::duration::setting;
use super::problems::Problems;
use super::raw::RawConfig;
use super::{
    CLINIKO_REQUESTS_PER_MINUTE, DEFAULT_JOBS, DEFAULT_MAX_WAIT, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_DELAY, format_duration,
};

/// The request settings, each its default when not written (or when it is invalid).
pub(super) struct Requests {
    pub jobs: usize,
    pub requests_per_minute: f64,
    pub request_timeout: Duration,
    pub retry_attempts: u32,
    pub max_wait: Duration,
    pub retry_delay: Duration,
}

/// Checks the request settings; values that work but invite trouble (more than Cliniko's
/// limit, a `max_wait` shorter than its window) are warnings naming `path`.
pub(super) fn validate(
    raw: &RawConfig,
    path: &Path,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Requests {
    let request_timeout = setting(
        "request_timeout",
        raw.request_timeout.as_deref(),
        DEFAULT_REQUEST_TIMEOUT,
        problems,
    );
    let max_wait = setting(
        "max_wait",
        raw.max_wait.as_deref(),
        DEFAULT_MAX_WAIT,
        problems,
    );
    let retry_delay = setting(
        "retry_delay",
        raw.retry_delay.as_deref(),
        DEFAULT_RETRY_DELAY,
        problems,
    );
    if request_timeout.is_zero() {
        problems.top(
            "request_timeout",
            "must be more than zero, e.g. request_timeout = \"30s\"",
        );
    }

    let jobs = match raw.jobs {
        None => DEFAULT_JOBS,
        Some(n) => match usize::try_from(n) {
            Ok(n) if n >= 1 => n,
            _ => {
                problems.top(
                    "jobs",
                    format!("is {n}; it must be at least 1 (orgs synced at once), e.g. jobs = 4"),
                );
                DEFAULT_JOBS
            }
        },
    };

    let requests_per_minute = raw
        .requests_per_minute
        .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
    if !(requests_per_minute.is_finite() && requests_per_minute > 0.0) {
        problems.top(
            "requests_per_minute",
            format!(
                "is {requests_per_minute}; it must be a positive number (requests per API key \
                 per minute), e.g. requests_per_minute = 180"
            ),
        );
    } else if requests_per_minute > CLINIKO_REQUESTS_PER_MINUTE {
        warnings.push(format!(
            "{}: requests_per_minute = {requests_per_minute} is above Cliniko's documented \
             limit of {CLINIKO_REQUESTS_PER_MINUTE} per user; expect 429 responses unless \
             your limit was raised or a proxy allows more",
            path.display()
        ));
    }

    let retry_attempts = match raw.retry_attempts {
        None => DEFAULT_RETRY_ATTEMPTS,
        Some(n) => match u32::try_from(n) {
            Ok(n) if n >= 1 => n,
            _ => {
                problems.top(
                    "retry_attempts",
                    format!("is {n}; it must be a whole number from 1 (no retries) up, e.g. retry_attempts = 5"),
                );
                DEFAULT_RETRY_ATTEMPTS
            }
        },
    };

    if max_wait < Duration::from_secs(60) {
        warnings.push(format!(
            "{}: max_wait = {} is shorter than Cliniko's one-minute rate-limit window; an org \
             may fail on a 429 that would have cleared by waiting",
            path.display(),
            format_duration(max_wait)
        ));
    }

    Requests {
        jobs,
        requests_per_minute,
        request_timeout,
        retry_attempts,
        max_wait,
        retry_delay,
    }
}
