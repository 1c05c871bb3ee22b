//! The privacy policy as `status --json` and `check` show it: the fingerprint of the
//! policy configured for an org, the one its stored rows are under, since when, and what
//! a change left to fetch again from Cliniko.

use serde::Serialize;

use crate::config::OrgConfig;
use crate::privacy::refetch_needed;
use crate::resource::Resource;
use crate::store::OrgSnapshot;

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
    /// The resources whose stored rows hold values of an older policy that only a fetch
    /// from Cliniko can replace (pseudonyms under another secret, fields dropped or cut
    /// that the policy now keeps): the next `sync` or `full` walks them in full. Also
    /// those a change not yet applied will leave so.
    pub refetch_due: Vec<String>,
    /// The tables whose database files may still hold the bytes of rows the policy
    /// replaced (or the org deleted): they are scrubbed at the end of the run, and stay
    /// listed while a scrub is deferred (a dashboard holding an old snapshot of SQLite)
    /// or failed, until a later run's end scrubs them.
    pub scrub_due: Vec<String>,
}

/// The privacy status of `org`, whose stored state is `stored` (the defaults: nothing
/// stored yet).
pub fn status(org: &OrgConfig, stored: &OrgSnapshot) -> PrivacyStatus {
    let state = stored.privacy.clone();
    let configured = org.privacy.fingerprint();
    let has_rules = !org.privacy.is_empty();
    // Without the secret in this command's environment a hashing policy's fingerprint
    // is unknown: nothing is said about a change then.
    let known = configured.is_some() || !has_rules;
    let changed = known && configured != state.fingerprint;
    let mut refetch: Vec<Resource> = Vec::new();
    if changed {
        refetch = refetch_needed(
            &org.privacy,
            state.fingerprint.as_deref(),
            state.rules.as_deref(),
        );
    }
    if let Some(r) = &state.refetch {
        refetch.extend(r.pending(&stored.state, &org.resources));
    }
    PrivacyStatus {
        rewrite_due: state.pending.is_some() || changed,
        refetch_due: org
            .resources
            .iter()
            .filter(|r| refetch.contains(r))
            .map(|r| r.name().to_string())
            .collect(),
        scrub_due: state.scrub_due,
        fingerprint: state.fingerprint,
        applied_at: state.applied_at.map(|t| t.to_string()),
        configured_fingerprint: configured,
        configured_resources: org
            .privacy
            .resources()
            .map(|r| r.name().to_string())
            .collect(),
    }
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
    let refetch = if s.refetch_due.is_empty() {
        String::new()
    } else {
        format!(
            "; stored {} rows still hold values of an older policy (pseudonyms under \
             another secret, or fields dropped or cut that this one keeps): the next sync \
             fetches them again from Cliniko (a full walk)",
            s.refetch_due.join(", ")
        )
    };
    let scrub = if s.scrub_due.is_empty() {
        String::new()
    } else {
        format!(
            "; the files of {} may still hold the bytes of replaced or deleted rows until \
             the end of the next run",
            s.scrub_due.join(", ")
        )
    };
    format!(
        "  {}  {configured}; {stored}{due}{refetch}{scrub}\n",
        org.id
    )
}
