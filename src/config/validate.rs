//! Builds the validated [`Config`] from a [`RawConfig`]: each section of the file is
//! checked by its own module, in a fixed order (the order problems are reported in), and
//! the results are put together here.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::Problem;
use super::problems::Problems;
use super::raw::RawConfig;
use super::{
    Config, Database, KeyPolicy, OrgConfig, SETTINGS, Source, api_keys, database, monitoring, org,
    privacy, requests, retention, run_limits, schedule, user_agent,
};

/// Validates everything; on failure returns every problem found, not just the first.
pub(super) fn validate(
    raw: RawConfig,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    file_mode: Option<u32>,
    keys: KeyPolicy,
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
    let lock_dir = database::lock_dir(raw.lock_dir.as_deref(), &database, path, env, &mut problems);
    let user_agent = user_agent::validate(raw.user_agent.as_deref(), &mut problems);
    let schedule = schedule::validate(&raw, &mut problems);
    let requests = requests::validate(&raw, path, &mut problems, &mut warnings);
    let run_limits = run_limits::validate(&raw, &mut problems);
    let retention = retention::validate(&raw, &mut problems);
    let monitoring = monitoring::validate(&raw, &mut problems);
    let global_privacy = privacy::global(raw.privacy, raw.hash_secret_env, &mut problems);
    let orgs = org::validate(
        raw.org,
        &global_privacy,
        env,
        keys,
        &mut problems,
        &mut warnings,
    );
    api_keys::validate(&orgs, keys, path, file_mode, &mut problems, &mut warnings);
    let orgs: Vec<OrgConfig> = orgs.into_iter().map(|(_, org)| org).collect();
    if matches!(database, Database::Sqlite(_)) && orgs.iter().any(|o| !o.dashboard_roles.is_empty())
    {
        warnings.push(
            "dashboard_roles does nothing on SQLite: the database file's permissions are all \
             or nothing (give each clinic whose dashboard must not see the others its own \
             config and database file)"
                .to_string(),
        );
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(Config {
        path: path.to_path_buf(),
        database,
        lock_dir,
        user_agent,
        min_interval: schedule.min_interval,
        full_sync_every: schedule.full_sync_every,
        verify_every: schedule.verify_every,
        reference_every: schedule.reference_every,
        jobs: requests.jobs,
        requests_per_minute: requests.requests_per_minute,
        request_timeout: requests.request_timeout,
        retry_attempts: requests.retry_attempts,
        max_wait: requests.max_wait,
        retry_delay: requests.retry_delay,
        appointment_window: run_limits.appointment_window,
        max_run_time: run_limits.max_run_time,
        log_format: monitoring.log_format,
        ping_url: monitoring.ping_url,
        keep_runs: retention.keep_runs,
        purge_deleted_after: retention.purge_deleted_after,
        orgs,
        warnings,
        sources,
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
