//! The privacy policy as `status --json` and `check` show it: the fingerprint of the
//! policy configured for an org, the one its stored rows are under, and since when.

use serde::Serialize;

use crate::config::OrgConfig;
use crate::store::{Store, StoreError};

/// `privacy` of an org in `status --json` (field names are a public interface).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PrivacyStatus {
    /// The fingerprint of the policy the stored rows are under (`null`: no policy was
    /// ever applied).
    pub fingerprint: Option<String>,
    /// When that policy was applied to every stored row.
    pub applied_at: Option<String>,
    /// The fingerprint of the policy in the config (`null`: no rules, or its `hash`
    /// secret is not in this command's environment).
    pub configured_fingerprint: Option<String>,
    /// The resources the configured policy has rules for.
    pub configured_resources: Vec<String>,
    /// Whether the next `sync` or `full` rewrites stored rows first (a new policy, or a
    /// rewrite that was stopped).
    pub rewrite_due: bool,
}

/// The privacy status of `org` in `store` (absent: nothing stored yet).
pub fn status(org: &OrgConfig, store: Option<&dyn Store>) -> Result<PrivacyStatus, StoreError> {
    let state = match store {
        Some(s) => s.privacy_state(&org.id)?,
        None => Default::default(),
    };
    let configured = org.privacy.fingerprint();
    let has_rules = !org.privacy.is_empty();
    let rewrite_due = state.pending.is_some()
        || (has_rules && configured.is_some() && configured != state.fingerprint);
    Ok(PrivacyStatus {
        fingerprint: state.fingerprint,
        applied_at: state.applied_at.map(|t| t.to_string()),
        configured_fingerprint: configured,
        configured_resources: org
            .privacy
            .resources()
            .map(|r| r.name().to_string())
            .collect(),
        rewrite_due,
    })
}

/// One line per org for `check`.
pub fn describe(org: &OrgConfig, s: &PrivacyStatus) -> String {
    let short = |f: &Option<String>| {
        f.as_deref()
            .map_or("none".to_string(), |f| f.chars().take(16).collect())
    };
    let configured = if s.configured_resources.is_empty() {
        "no policy (every field stored)".to_string()
    } else {
        format!(
            "policy {} on {}",
            short(&s.configured_fingerprint),
            s.configured_resources.join(", ")
        )
    };
    let stored = match (&s.fingerprint, &s.applied_at) {
        (Some(_), Some(at)) => format!("stored rows under {} since {at}", short(&s.fingerprint)),
        _ => "no policy applied to stored rows yet".to_string(),
    };
    let due = if s.rewrite_due {
        "; the next sync rewrites stored rows first"
    } else {
        ""
    };
    format!("  {}  {configured}; {stored}{due}\n", org.id)
}
