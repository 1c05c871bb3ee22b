//! Brings the rows already stored under the configured privacy policy, locally, before a
//! run syncs anything: when the policy's fingerprint differs from the one the store
//! records, every row of each resource with rules is read in batches by id, filtered
//! again and rewritten (only rows holding something the policy forbids), each batch with
//! its position in one transaction. A run killed at any point leaves whole batches and a
//! position, and the next run resumes there; the fingerprint is recorded only once every
//! row is done. Each batch that replaced a row marks its table, whose old values the
//! scrub at the end of the run removes from the files.

use std::sync::atomic::Ordering;

use super::context::OrgContext;
use crate::cliniko::refilter_stored;
use crate::privacy::{OrgPolicy, refetch_needed};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::{AppliedPolicy, PrivacyProgress, PrivacyState, Refetch, Store, StoreError};

/// Rows read and rewritten per transaction.
const BATCH: u32 = 500;

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Rows rewritten.
    pub rewritten: u64,
    /// Whether it stopped on the cancel flag before finishing (the next run resumes).
    pub interrupted: bool,
}

/// Applies `policy` to `ctx.org_id`'s stored rows when the store records another
/// policy. Returns what it did (`None` when nothing had to be done) and the resources
/// left to fetch again now (what the store records once it is done), so the plan needs
/// no second read of the privacy state.
pub(super) fn apply(
    ctx: &OrgContext<'_>,
    policy: &OrgPolicy,
    store: &mut dyn Store,
) -> Result<(Option<Applied>, Option<Refetch>), StoreError> {
    let target = policy.fingerprint();
    let state = store.privacy_state(ctx.org_id)?;
    if state.fingerprint == target && state.pending.is_none() {
        return Ok((None, state.refetch));
    }
    let refetch = refetch(ctx, policy, &state, store)?;
    let Some(target) = target else {
        // No rules any more: nothing stored needs rewriting; what the old policy replaced
        // comes back with the refetch.
        let applied = AppliedPolicy {
            fingerprint: None,
            rules: None,
            refetch: refetch.as_ref(),
        };
        store.finish_privacy(ctx.org_id, applied, ctx.clock.now())?;
        return Ok((None, refetch));
    };
    let resume = state.pending.filter(|p| p.fingerprint == target);
    log::info!(
        "{}: the privacy policy changed (fingerprint {} -> {}); {} the stored rows locally, \
         before syncing",
        ctx.org_id,
        short(state.fingerprint.as_deref()),
        short(Some(&target)),
        if resume.is_some() {
            "resuming the rewrite of"
        } else {
            "rewriting"
        }
    );
    let mut applied = Applied::default();
    let resources: Vec<Resource> = policy.resources().collect();
    for &resource in &resources {
        let mut after: Option<String> = None;
        if let Some(p) = &resume {
            let done_before = Resource::ALL.iter().position(|r| *r == p.resource);
            let this = Resource::ALL.iter().position(|r| *r == resource);
            if this < done_before {
                continue;
            }
            if resource == p.resource {
                after = Some(p.after_id.clone());
            }
        }
        loop {
            if ctx.cancel.load(Ordering::Relaxed) {
                applied.interrupted = true;
                log::warn!(
                    "{}: stopped rewriting stored rows under the new privacy policy; the next \
                     run resumes at {} after id {}",
                    ctx.org_id,
                    resource.name(),
                    after.as_deref().unwrap_or("(start)")
                );
                return Ok((Some(applied), refetch));
            }
            let batch = store.stored_batch(ctx.org_id, resource, after.as_deref(), BATCH)?;
            let Some((last, _)) = batch.last() else { break };
            let last = last.clone();
            let records: Vec<Record> = batch
                .iter()
                .filter_map(|(id, raw)| match refilter_stored(resource, raw, policy) {
                    Ok(rewritten) => rewritten,
                    Err(e) => {
                        log::warn!(
                            "{}: {} row {id} cannot be read ({e}); it is left as stored",
                            ctx.org_id,
                            resource.name()
                        );
                        None
                    }
                })
                .collect();
            applied.rewritten += records.len() as u64;
            let progress = PrivacyProgress {
                fingerprint: target.clone(),
                resource,
                after_id: last.clone(),
            };
            store.rewrite_batch(ctx.org_id, resource, &records, &progress)?;
            after = Some(last);
        }
    }
    let rules = policy.rules_text();
    let record = AppliedPolicy {
        fingerprint: Some(&target),
        rules: rules.as_deref(),
        refetch: refetch.as_ref(),
    };
    store.finish_privacy(ctx.org_id, record, ctx.clock.now())?;
    log::info!(
        "{}: {} stored row(s) rewritten under the privacy policy {}",
        ctx.org_id,
        applied.rewritten,
        short(Some(&target))
    );
    Ok((Some(applied), refetch))
}

/// What the change from the stored policy to `policy` leaves to fetch again from Cliniko
/// (its resources' stored values cannot be brought under it locally), with what an
/// earlier change left still waiting; logged once, when the change is first applied.
fn refetch(
    ctx: &OrgContext<'_>,
    policy: &OrgPolicy,
    state: &PrivacyState,
    store: &dyn Store,
) -> Result<Option<Refetch>, StoreError> {
    let mut resources =
        refetch_needed(policy, state.fingerprint.as_deref(), state.rules.as_deref());
    if let Some(earlier) = &state.refetch {
        let org_state = store.org_state(ctx.org_id)?;
        resources.extend(earlier.pending(&org_state, &Resource::ALL));
    }
    let resources: Vec<Resource> = Resource::ALL
        .into_iter()
        .filter(|r| resources.contains(r))
        .collect();
    if resources.is_empty() {
        return Ok(None);
    }
    if state.pending.is_none() {
        let names: Vec<&str> = resources.iter().map(|r| r.name()).collect();
        log::warn!(
            "{}: the stored {} rows hold values the new privacy policy stores differently \
             (pseudonyms under another secret, or fields it keeps that an older policy \
             dropped or cut), which the rows cannot give back: they are fetched again from \
             Cliniko by a full walk, in this run unless it stops early",
            ctx.org_id,
            names.join(", ")
        );
    }
    Ok(Some(Refetch { resources }))
}

/// The first 12 hex digits of a fingerprint, for log lines.
pub fn short(fingerprint: Option<&str>) -> String {
    match fingerprint {
        Some(f) => f.chars().take(12).collect(),
        None => "none".to_string(),
    }
}

/// Stored rows of `ctx.org_id` holding something `policy` forbids (a field it drops or
/// does not keep, a value it hashes or cuts to the year left as it was), for `verify`:
/// how many, and a few `resource.field` names for the message. No row is changed; when
/// some breach the policy, a rewrite from the start is recorded as due, for the next
/// `sync` or `full`.
pub(super) fn violations(
    ctx: &OrgContext<'_>,
    policy: &OrgPolicy,
    store: &mut dyn Store,
) -> Result<(u64, Vec<String>), StoreError> {
    let mut count = 0;
    let mut fields: Vec<String> = Vec::new();
    for resource in policy.resources() {
        let mut after: Option<String> = None;
        loop {
            let batch = store.stored_batch(ctx.org_id, resource, after.as_deref(), BATCH)?;
            let Some((last, _)) = batch.last() else { break };
            after = Some(last.clone());
            for (_, raw) in &batch {
                let Ok(Some(filtered)) = refilter_stored(resource, raw, policy) else {
                    continue;
                };
                count += 1;
                if fields.len() >= 5 {
                    continue;
                }
                let parse = |text: &str| {
                    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                        .unwrap_or_default()
                };
                let (old, new) = (parse(raw), parse(&filtered.raw_json));
                for (key, value) in &old {
                    let name = format!("{}.{key}", resource.name());
                    if new.get(key) != Some(value) && !fields.contains(&name) && fields.len() < 5 {
                        fields.push(name);
                    }
                }
            }
        }
    }
    if count > 0
        && let (Some(fingerprint), Some(first)) = (policy.fingerprint(), policy.resources().next())
    {
        // The next sync or full rewrites every row again, from the start.
        let progress = PrivacyProgress {
            fingerprint,
            resource: first,
            after_id: String::new(),
        };
        store.rewrite_batch(ctx.org_id, first, &[], &progress)?;
    }
    Ok((count, fields))
}
