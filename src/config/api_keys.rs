//! Checks across the orgs' API keys, once each org is validated: no two orgs share a key,
//! and a file holding inline keys is not readable by group or others. Keys are compared,
//! never shown.

use std::path::Path;

use super::problems::Problems;
use super::{KeyPolicy, KeySource, OrgConfig};

/// Both checks, in that order, over the valid orgs, each with its table's position.
pub(super) fn validate(
    orgs: &[(usize, OrgConfig)],
    keys: KeyPolicy,
    path: &Path,
    file_mode: Option<u32>,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) {
    shared_keys(orgs, keys, problems, warnings);
    let orgs: Vec<&OrgConfig> = orgs.iter().map(|(_, o)| o).collect();
    readable_inline_keys(&orgs, path, file_mode, warnings);
}

/// Two orgs with the same API key would store one clinic's data under both ids: a
/// problem wherever the keys are needed, a warning for `status` (which reads none).
/// Keys are compared, never shown: the message names where each came from.
fn shared_keys(
    orgs: &[(usize, OrgConfig)],
    keys: KeyPolicy,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) {
    let origin = |o: &OrgConfig| match &o.key_source {
        KeySource::Env(var) => format!("${var}"),
        KeySource::Inline => "its inline api_key".to_string(),
    };
    for (i, (table, later)) in orgs.iter().enumerate() {
        if later.api_key.expose().is_empty() {
            continue;
        }
        let Some((_, first)) = orgs[..i]
            .iter()
            .find(|(_, o)| o.api_key.expose() == later.api_key.expose())
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
            KeyPolicy::Required => {
                problems.in_org(format!("org[{table}].api_key"), Some(&later.id), message)
            }
            KeyPolicy::Optional => warnings.push(format!("org {}: {message}", later.id)),
        }
    }
}

/// A warning when the file holds an inline `api_key` and its mode lets group or others
/// read it.
fn readable_inline_keys(
    orgs: &[&OrgConfig],
    path: &Path,
    file_mode: Option<u32>,
    warnings: &mut Vec<String>,
) {
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
}
