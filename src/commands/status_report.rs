//! The `status --json` document's types: what `status` builds, and what its table and
//! the OpenMetrics text (`metrics`) render.

use std::collections::BTreeMap;

use serde::Serialize;

/// The key in `totals` counting active patients (not a resource).
pub const ACTIVE_PATIENTS: &str = "active_patients";

/// The whole `status --json` document (field names are a public interface).
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub generated_at: String,
    pub database: String,
    pub healthy: bool,
    pub orgs: Vec<OrgStatus>,
    /// Orgs with data in the database but no `[[org]]` table in the config: no longer
    /// synced; `routiq-sync forget --org ID` erases their data.
    pub not_configured: Vec<String>,
}

/// One org in `status --json`.
#[derive(Debug, Serialize)]
pub struct OrgStatus {
    pub id: String,
    pub name: Option<String>,
    pub healthy: bool,
    /// Why the org is unhealthy (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub sync_running: bool,
    pub last_success_at: Option<String>,
    /// The oldest last full sync among the org's resources (null if one never had one).
    pub last_full_sync_at: Option<String>,
    /// When a plain `sync` will next do work for this org.
    pub next_due_at: String,
    /// When `sync` will next escalate to a full sync.
    pub next_full_sync_at: String,
    /// The oldest last verify among the org's resources (null if one never had one).
    pub last_verify_at: Option<String>,
    /// When `sync` will next add a verify.
    pub next_verify_at: String,
    pub last_run: Option<LastRun>,
    pub cursors: BTreeMap<String, Option<String>>,
    pub totals: BTreeMap<String, u64>,
    /// The privacy policy's fingerprints and when it was applied.
    pub privacy: super::privacy_report::PrivacyStatus,
    /// The host clock minus Cliniko's (seconds, positive: the host is ahead) at the org's
    /// last run that reached Cliniko; null if none did yet.
    pub clock_skew_seconds: Option<i64>,
    /// When that was measured (host clock).
    pub clock_checked_at: Option<String>,
    /// The Cliniko account the org's key answered for (recorded on its first sync, and
    /// checked whenever the key changes); null until recorded.
    pub cliniko_account: Option<AccountStatus>,
}

/// A Cliniko account in `status --json`.
#[derive(Debug, Serialize)]
pub struct AccountStatus {
    pub id: String,
    pub name: Option<String>,
}

/// The newest run of an org.
#[derive(Debug, Serialize)]
pub struct LastRun {
    pub mode: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub api_calls: u64,
    pub error: Option<String>,
    pub resources: BTreeMap<String, RunCounts>,
}

/// Per-resource counts of a run.
#[derive(Debug, Serialize)]
pub struct RunCounts {
    pub mode: String,
    pub fetched: u64,
    pub written: u64,
    pub archived: u64,
    pub deleted: u64,
    pub api_calls: u64,
}
