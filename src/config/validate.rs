//! Checks the top-level settings of a [`RawConfig`] and builds the validated [`Config`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::database;
use super::error::Problem;
use super::problems::Problems;
use super::raw::{RawConfig, RawWindow};
use super::{
    AppointmentWindow, CLINIKO_REQUESTS_PER_MINUTE, Config, DEFAULT_FULL_SYNC_EVERY, DEFAULT_JOBS,
    DEFAULT_KEEP_RUNS, DEFAULT_MAX_WAIT, DEFAULT_MIN_INTERVAL, DEFAULT_PURGE_DELETED_AFTER,
    DEFAULT_REFERENCE_EVERY, DEFAULT_REQUEST_TIMEOUT, DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_DELAY, DEFAULT_VERIFY_EVERY, Database, KeySource,
    SETTINGS, Source, format_duration, org, parse_duration, paths, privacy,
};

/// Validates everything; on failure returns every problem found, not just the first.
pub(super) fn validate(
    raw: RawConfig,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    file_mode: Option<u32>,
    keys: super::KeyPolicy,
) -> Result<Config, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    let sources = sources(&raw);

    let database = database::validate(
        database::RawDatabase {
            database: raw.database.as_deref(),
            url_env: raw.database_url_env.as_deref(),
            pg_schema: raw.pg_schema.as_deref(),
        },
        path,
        env,
        file_mode,
        &mut problems,
        &mut warnings,
    );
    let lock_dir = match (raw.lock_dir.as_deref(), &database) {
        (Some(value), _) => paths::resolve(value, path, env).unwrap_or_else(|message| {
            problems.top("lock_dir", message);
            PathBuf::new()
        }),
        (None, Database::Sqlite(file)) => paths::default_lock_dir(file),
        // Not used: PostgreSQL locks are advisory locks on the server.
        (None, Database::Postgres(_)) => PathBuf::new(),
    };

    let user_agent = match raw.user_agent {
        None => {
            problems.top(
                "user_agent",
                format!("missing; {UA_RULE}, e.g. user_agent = \"Routiq Sync (ops@example.com)\""),
            );
            String::new()
        }
        Some(ua) => {
            if let Err(why) = check_user_agent(&ua) {
                problems.top("user_agent", format!("`{ua}` {why}; {UA_RULE}"));
            }
            ua.trim().to_string()
        }
    };

    let mut duration = |key: &str, value: Option<String>, default: Duration| match value {
        None => default,
        Some(text) => parse_duration(&text).unwrap_or_else(|message| {
            problems.top(key, message);
            default
        }),
    };
    let min_interval = duration("min_interval", raw.min_interval, DEFAULT_MIN_INTERVAL);
    let full_sync_every = duration(
        "full_sync_every",
        raw.full_sync_every,
        DEFAULT_FULL_SYNC_EVERY,
    );
    let verify_every = duration("verify_every", raw.verify_every, DEFAULT_VERIFY_EVERY);
    let reference_every = duration(
        "reference_every",
        raw.reference_every,
        DEFAULT_REFERENCE_EVERY,
    );
    let request_timeout = duration(
        "request_timeout",
        raw.request_timeout,
        DEFAULT_REQUEST_TIMEOUT,
    );
    let max_wait = duration("max_wait", raw.max_wait, DEFAULT_MAX_WAIT);
    let retry_delay = duration("retry_delay", raw.retry_delay, DEFAULT_RETRY_DELAY);
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

    let appointment_window = raw
        .appointment_window
        .and_then(|window| check_window(window, &mut problems));

    let max_run_time = raw
        .max_run_time
        .as_deref()
        .and_then(|text| match parse_duration(text) {
            Ok(d) if d.is_zero() => {
                problems.top(
                    "max_run_time",
                    "must be more than zero, e.g. max_run_time = \"50m\" (or remove it)",
                );
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                problems.top("max_run_time", message);
                None
            }
        });
    let mut retention = |key: &str, value: Option<&str>, default: Duration| match value {
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
    let keep_runs = retention("keep_runs", raw.keep_runs.as_deref(), DEFAULT_KEEP_RUNS);
    let purge_deleted_after = retention(
        "purge_deleted_after",
        raw.purge_deleted_after.as_deref(),
        DEFAULT_PURGE_DELETED_AFTER,
    );
    let log_format = raw.log_format.as_deref().and_then(|text| {
        let format = crate::logging::LogFormat::parse(text);
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

    let global_rules = privacy::rules("privacy", raw.privacy, None, &mut problems);
    privacy::check_var(
        "hash_secret_env",
        raw.hash_secret_env.as_deref(),
        None,
        &mut problems,
    );
    let orgs = match raw.org {
        Some(mut raw_orgs) if !raw_orgs.is_empty() => {
            let mut own = Vec::new();
            for (i, org) in raw_orgs.iter_mut().enumerate() {
                let id = org.id.clone();
                let key = format!("org[{i}].hash_secret_env");
                let var = org.hash_secret_env.take();
                privacy::check_var(&key, var.as_deref(), id.as_deref(), &mut problems);
                let prefix = format!("org[{i}].privacy");
                let rules =
                    privacy::rules(&prefix, org.privacy.take(), id.as_deref(), &mut problems);
                own.push((rules, key, var));
            }
            let mut orgs = org::validate_orgs(raw_orgs, env, keys, &mut problems, &mut warnings);
            if problems.0.is_empty() {
                // No org was left out, so `orgs` and `own` are in the same order.
                for (org, (rules, key, var)) in orgs.iter_mut().zip(own) {
                    let (key, var) = match var {
                        Some(var) => (key, Some(var)),
                        None => ("hash_secret_env".to_string(), raw.hash_secret_env.clone()),
                    };
                    let source = privacy::SecretSource {
                        key,
                        var: var.as_deref(),
                    };
                    let policy = privacy::org_policy(
                        &org.id,
                        &global_rules,
                        &rules,
                        source,
                        env,
                        keys,
                        &mut problems,
                    );
                    org.privacy = std::sync::Arc::new(policy);
                }
            }
            orgs
        }
        _ => {
            problems.top(
                "org",
                "no orgs; add at least one [[org]] table with an id and api_key_env, e.g.\n    \
                 [[org]]\n    id = \"org_123\"\n    api_key_env = \"CLINIKO_KEY_ORG_123\"",
            );
            Vec::new()
        }
    };

    shared_keys(&orgs, keys, &mut problems, &mut warnings);

    let inline: Vec<String> = orgs
        .iter()
        .filter(|o| o.key_source == KeySource::Inline)
        .map(|o| format!("`{}`", o.id))
        .collect();
    if let Some(mode) = file_mode
        && mode & 0o044 != 0
        && !inline.is_empty()
    {
        warnings.push(format!(
            "{path}: holds an inline api_key (org {orgs}) but is readable by group or others \
             (mode {mode:03o}); run `chmod 600 {path}`, or move the keys to environment \
             variables with api_key_env",
            path = path.display(),
            orgs = inline.join(", "),
            mode = mode & 0o777,
        ));
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(Config {
        path: path.to_path_buf(),
        database,
        lock_dir,
        user_agent,
        min_interval,
        full_sync_every,
        verify_every,
        reference_every,
        jobs,
        requests_per_minute,
        request_timeout,
        retry_attempts,
        max_wait,
        retry_delay,
        appointment_window,
        max_run_time,
        log_format,
        ping_url,
        keep_runs,
        purge_deleted_after,
        orgs,
        warnings,
        sources,
    })
}

/// Cliniko's User-Agent rule, for messages.
const UA_RULE: &str = "Cliniko requires a User-Agent of the form `App name (contact@email)` \
                       (an app name, then a valid contact email in parentheses) and may \
                       block requests without one";

/// Checks `Name (email@domain)`: a name, then one email address in parentheses at the end.
/// Two orgs with the same API key would store one clinic's data under both ids: a
/// problem wherever the keys are needed, a warning for `status` (which reads none).
/// Keys are compared, never shown: the message names where each came from.
fn shared_keys(
    orgs: &[super::OrgConfig],
    keys: super::KeyPolicy,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) {
    let origin = |o: &super::OrgConfig| match &o.key_source {
        KeySource::Env(var) => format!("${var}"),
        KeySource::Inline => "its inline api_key".to_string(),
    };
    for (i, later) in orgs.iter().enumerate() {
        if later.api_key.expose().is_empty() {
            continue;
        }
        let Some(first) = orgs[..i]
            .iter()
            .find(|o| o.api_key.expose() == later.api_key.expose())
        else {
            continue;
        };
        let message = format!(
            "has the same API key ({}) as org `{}` ({}): a key belongs to one Cliniko account, \
             so one clinic's data would be stored under both ids; give each org its own \
             clinic's key",
            origin(later),
            first.id,
            origin(first)
        );
        match keys {
            super::KeyPolicy::Required => {
                problems.in_org(format!("org[{i}].api_key"), Some(&later.id), message)
            }
            super::KeyPolicy::Optional => warnings.push(format!("org {}: {message}", later.id)),
        }
    }
}

fn check_user_agent(ua: &str) -> Result<(), &'static str> {
    if ua.chars().any(char::is_control) {
        return Err("contains control characters (such as a newline)");
    }
    let Some((name, email)) = ua
        .trim()
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once('('))
    else {
        return Err("does not end with a contact email in parentheses");
    };
    if name.trim().is_empty() {
        return Err("has no app name before the email");
    }
    if !looks_like_email(email.trim()) {
        return Err("does not have a valid email inside the parentheses");
    }
    Ok(())
}

/// `local@domain.tld` with no spaces: enough to catch typos, not an RFC 5322 parser.
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

fn check_window(window: RawWindow, problems: &mut Problems) -> Option<AppointmentWindow> {
    let before = problems.count();
    let mut days = |name: &str, value: Option<i64>| -> u32 {
        let key = format!("appointment_window.{name}");
        match value {
            None => {
                problems.top(
                    &key,
                    "missing; give both past_days and future_days, e.g. appointment_window = \
                     { past_days = 7, future_days = 30 }, or remove appointment_window",
                );
                0
            }
            Some(n) => u32::try_from(n).unwrap_or_else(|_| {
                problems.top(
                    &key,
                    format!("is {n}; it must be a whole number of days, 0 or more"),
                );
                0
            }),
        }
    };
    let past_days = days("past_days", window.past_days);
    let future_days = days("future_days", window.future_days);
    (problems.count() == before).then_some(AppointmentWindow {
        past_days,
        future_days,
    })
}

/// File or default, for each top-level setting.
fn sources(raw: &RawConfig) -> BTreeMap<&'static str, Source> {
    let present = |name: &str| match name {
        "database" => raw.database.is_some() || raw.database_url_env.is_some(),
        "lock_dir" => raw.lock_dir.is_some(),
        "user_agent" => raw.user_agent.is_some(),
        "min_interval" => raw.min_interval.is_some(),
        "full_sync_every" => raw.full_sync_every.is_some(),
        "verify_every" => raw.verify_every.is_some(),
        "reference_every" => raw.reference_every.is_some(),
        "jobs" => raw.jobs.is_some(),
        "requests_per_minute" => raw.requests_per_minute.is_some(),
        "request_timeout" => raw.request_timeout.is_some(),
        "retry_attempts" => raw.retry_attempts.is_some(),
        "max_wait" => raw.max_wait.is_some(),
        "retry_delay" => raw.retry_delay.is_some(),
        "appointment_window" => raw.appointment_window.is_some(),
        "max_run_time" => raw.max_run_time.is_some(),
        "log_format" => raw.log_format.is_some(),
        "ping_url" => raw.ping_url.is_some(),
        "keep_runs" => raw.keep_runs.is_some(),
        "purge_deleted_after" => raw.purge_deleted_after.is_some(),
        _ => false,
    };
    SETTINGS
        .iter()
        .map(|&name| {
            let source = if present(name) {
                Source::File
            } else {
                Source::Default
            };
            (name, source)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        for good in [
            "Routiq Sync (ops@example.com)",
            "Really helpful app (devs@helpfulapp.com)",
            "x (a@b.co)",
            "App/1.0 (Team) (ops@example.com.au)",
        ] {
            assert_eq!(check_user_agent(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Routiq Sync",
            "(ops@example.com)",
            "Routiq Sync ops@example.com",
            "Routiq (ops)",
            "Routiq (ops@localhost)",
            "Routiq (@example.com)",
            "Routiq (a b@example.com)",
            "Routiq (ops@example.com) trailing",
            "Routiq\n(ops@example.com)",
        ] {
            assert!(check_user_agent(bad).is_err(), "{bad:?}");
        }
    }
}
