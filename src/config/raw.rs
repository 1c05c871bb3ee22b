//! Serde structs mirroring the TOML file exactly, before any validation.
//!
//! Every field is optional here so that a missing value is reported by validation, with
//! the key path and org id, rather than by serde. Integers are `i64` so that a negative
//! number gets a specific message instead of a generic type error.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub database: Option<String>,
    pub database_url_env: Option<String>,
    pub pg_schema: Option<String>,
    pub lock_dir: Option<String>,
    pub user_agent: Option<String>,
    pub min_interval: Option<String>,
    pub full_sync_every: Option<String>,
    pub verify_every: Option<String>,
    pub reference_every: Option<String>,
    pub jobs: Option<i64>,
    pub requests_per_minute: Option<f64>,
    pub request_timeout: Option<String>,
    pub retry_attempts: Option<i64>,
    pub max_wait: Option<String>,
    pub retry_delay: Option<String>,
    pub appointment_window: Option<RawWindow>,
    pub log_format: Option<String>,
    pub max_run_time: Option<String>,
    pub ping_url: Option<String>,
    pub keep_runs: Option<String>,
    pub purge_deleted_after: Option<String>,
    pub hash_secret_env: Option<String>,
    pub privacy: Option<BTreeMap<String, RawPolicy>>,
    pub org: Option<Vec<RawOrg>>,
}

/// One `[privacy.RESOURCE]` (or `[org.privacy.RESOURCE]`) table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub keep: Option<Vec<String>>,
    pub drop: Option<Vec<String>>,
    pub hash: Option<Vec<String>>,
    pub year: Option<Vec<String>>,
}

/// `appointment_window = { past_days = …, future_days = … }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    pub past_days: Option<i64>,
    pub future_days: Option<i64>,
}

/// One `[[org]]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrg {
    pub id: Option<String>,
    pub name: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub shard: Option<String>,
    pub resources: Option<Vec<String>>,
    pub ping_url: Option<String>,
    pub hash_secret_env: Option<String>,
    pub dashboard_roles: Option<Vec<String>>,
    pub privacy: Option<BTreeMap<String, RawPolicy>>,
}

/// What each key expects, for the "what to write instead" part of TOML type errors.
pub(super) fn expected_form(key: &str) -> Option<&'static str> {
    Some(match key {
        "database" => {
            "a path or URL in quotes, e.g. \"/var/lib/routiq-sync/routiq.db\" or \"postgres://routiq@db.example.com/clinics\""
        }
        "lock_dir" => "a path in quotes, e.g. \"/var/lib/routiq-sync/locks\"",
        "database_url_env" => "the name of an environment variable, e.g. \"DATABASE_URL\"",
        "pg_schema" => "a schema name in quotes, e.g. \"public\"",
        "user_agent" => "a string like \"Routiq Sync (ops@example.com)\"",
        "min_interval" | "full_sync_every" | "verify_every" | "reference_every"
        | "request_timeout" | "max_wait" | "retry_delay" | "max_run_time" => {
            "a duration in quotes, e.g. \"30m\", \"24h\", \"90s\""
        }
        "keep_runs" | "purge_deleted_after" => "a duration in quotes, e.g. \"90d\", or \"never\"",
        "log_format" => "\"text\" or \"json\"",
        "ping_url" => "a URL string, e.g. \"https://hc-ping.com/<uuid>\"",
        "jobs" | "retry_attempts" => "a whole number of at least 1, e.g. 4",
        "requests_per_minute" => "a positive number, e.g. 180",
        "appointment_window" => "an inline table: { past_days = 7, future_days = 30 }",
        "past_days" | "future_days" => "a whole number of days, 0 or more",
        "org" => "one [[org]] table (double brackets) per organisation",
        "id" => "a string of letters, digits, `_` or `-`, e.g. \"org_123\"",
        "name" => "a string",
        "api_key_env" => "the name of an environment variable, e.g. \"CLINIKO_KEY_ORG_123\"",
        "api_key" => "the API key as a string (prefer api_key_env)",
        "base_url" => "a URL string, e.g. \"http://127.0.0.1:8080/v1\"",
        "shard" => "a shard name string, e.g. \"uk1\"",
        "resources" => "a list of resource names, e.g. [\"patients\", \"appointments\"]",
        "hash_secret_env" => "the name of an environment variable, e.g. \"ROUTIQ_HASH_SECRET\"",
        "dashboard_roles" => "a list of PostgreSQL role names, e.g. [\"bondi_dash\"]",
        "privacy" => "one [privacy.RESOURCE] table per resource, e.g. [privacy.patients]",
        "keep" | "drop" | "hash" | "year" => {
            "a list of field paths, e.g. [\"email\", \"patient_phone_numbers[].number\"]"
        }
        _ => return None,
    })
}
