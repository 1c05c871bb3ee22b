//! Checks `hash_secret_env` and the `[privacy.RESOURCE]` / `[org.privacy.RESOURCE]`
//! tables, and builds each org's [`OrgPolicy`] (an org's table for a resource replaces
//! the global one for that resource; the other global ones still apply).

use std::collections::BTreeMap;

use super::problems::Problems;
use super::raw::{RawOrg, RawPolicy};
use super::{KeyPolicy, OrgConfig};
use crate::privacy::{FieldPath, HashSecret, OrgPolicy, ResourcePolicy, check_field, is_required};
use crate::resource::Resource;

/// The shortest secret accepted: a short one could be guessed by trying values.
const MIN_SECRET_BYTES: usize = 16;

/// The validated rules of one `privacy` table (global or one org's), by resource, and
/// where each was written (its key prefix, for messages).
type Rules = BTreeMap<Resource, (ResourcePolicy, String)>;

/// Checks one `privacy` table written at `prefix` (`privacy` or `org[2].privacy`).
fn rules(
    prefix: &str,
    raw: Option<BTreeMap<String, RawPolicy>>,
    org: Option<&str>,
    problems: &mut Problems,
) -> Rules {
    let mut out = Rules::new();
    for (name, raw) in raw.unwrap_or_default() {
        let key = format!("{prefix}.{name}");
        let Ok(resource) = name.parse::<Resource>() else {
            problems.in_org(
                key,
                org,
                format!(
                    "unknown resource `{name}`; a policy is for one of: {}",
                    Resource::valid_names()
                ),
            );
            continue;
        };
        if let Some(policy) = resource_policy(&key, resource, raw, org, problems) {
            out.insert(resource, (policy, key));
        }
    }
    out
}

fn resource_policy(
    key: &str,
    resource: Resource,
    raw: RawPolicy,
    org: Option<&str>,
    problems: &mut Problems,
) -> Option<ResourcePolicy> {
    let before = problems.count();
    if raw.keep.is_some() && raw.drop.is_some() {
        problems.in_org(
            format!("{key}.drop"),
            org,
            "`keep` and `drop` are both set; use one: `keep` lists the only fields stored \
             (everything else goes, fields Cliniko adds later too), `drop` lists fields removed",
        );
    }
    let mut seen: Vec<(String, FieldPath)> = Vec::new();
    let mut list = |rule: &str, values: Option<Vec<String>>| -> Option<Vec<FieldPath>> {
        let values = values?;
        let mut paths = Vec::new();
        for (i, text) in values.iter().enumerate() {
            let at = format!("{key}.{rule}[{i}]");
            let path = match FieldPath::parse(text) {
                Ok(path) => path,
                Err(why) => {
                    problems.in_org(at, org, format!("`{text}` {why}; it cannot match a field"));
                    continue;
                }
            };
            if is_required(resource, path.root()) {
                problems.in_org(
                    at,
                    org,
                    format!(
                        "`{text}`: `{}` is needed by the sync itself (ids, timestamps, links \
                         to other records) and is always kept; remove it from the policy",
                        path.root()
                    ),
                );
                continue;
            }
            if let Err(why) = check_field(resource, &path) {
                problems.in_org(at, org, format!("`{text}`: {why}"));
                continue;
            }
            // `keep` says what stays; `hash`/`year` may then work on kept fields.
            let clash = |other_rule: &str| (rule == "keep") == (other_rule == "keep");
            if let Some((other_rule, other)) = seen.iter().find(|(other_rule, other)| {
                clash(other_rule) && (path.within(other) || other.within(&path))
            }) {
                problems.in_org(
                    at,
                    org,
                    format!(
                        "`{text}` overlaps `{other}` in `{other_rule}`; name each field in \
                         one rule only"
                    ),
                );
                continue;
            }
            seen.push((rule.to_string(), path.clone()));
            paths.push(path);
        }
        Some(paths)
    };
    let keep = list("keep", raw.keep);
    let drop = list("drop", raw.drop).unwrap_or_default();
    let hash = list("hash", raw.hash).unwrap_or_default();
    let year = list("year", raw.year).unwrap_or_default();
    // Under an allow-list, `hash`/`year` work on kept fields: one outside it cannot match.
    if let Some(keep) = &keep {
        for (rule, paths) in [("hash", &hash), ("year", &year)] {
            for (i, path) in paths.iter().enumerate() {
                if !keep.iter().any(|k| path.within(k) || k.within(path)) {
                    problems.in_org(
                        format!("{key}.{rule}[{i}]"),
                        org,
                        format!(
                            "`{path}` is not on `keep`, so it is never stored and cannot \
                             match; add it to `keep` or remove it here"
                        ),
                    );
                }
            }
        }
    }
    (problems.count() == before).then_some(ResourcePolicy {
        keep,
        drop,
        hash,
        year,
    })
}

/// Where an org's `hash` secret comes from.
struct SecretSource<'a> {
    /// `hash_secret_env` or `org[N].hash_secret_env`.
    pub key: String,
    /// The variable's name, if one was written.
    pub var: Option<&'a str>,
}

/// The policy of one org: the global rules with the org's own replacing them per
/// resource, and the secret when any rule hashes.
#[allow(clippy::too_many_arguments)]
fn org_policy(
    org_id: &str,
    global: &Rules,
    own: &Rules,
    secret: SecretSource<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    keys: super::KeyPolicy,
    problems: &mut Problems,
) -> OrgPolicy {
    let mut merged: Vec<(Resource, ResourcePolicy)> = Vec::new();
    let mut hashes_at: Option<String> = None;
    for resource in Resource::ALL {
        let Some((policy, key)) = own.get(&resource).or_else(|| global.get(&resource)) else {
            continue;
        };
        if !policy.hash.is_empty() && hashes_at.is_none() {
            hashes_at = Some(format!("{key}.hash"));
        }
        merged.push((resource, policy.clone()));
    }
    let org = Some(org_id);
    let secret = match (hashes_at, secret.var) {
        (None, _) => None,
        (Some(at), None) => {
            problems.in_org(
                at,
                org,
                "`hash` needs a secret: set hash_secret_env = \"ROUTIQ_HASH_SECRET\" (at the \
                 top of the file, or in this [[org]]) and export that variable with a long \
                 random value, e.g. from `openssl rand -hex 32`",
            );
            None
        }
        (Some(_), Some(var)) => match env(var).filter(|v| !v.is_empty()) {
            None if keys == super::KeyPolicy::Optional => None,
            None => {
                problems.in_org(
                    secret.key,
                    org,
                    format!(
                        "environment variable `{var}` is not set; export it with the secret \
                         for `hash` (a long random value, e.g. from `openssl rand -hex 32`; \
                         keep it: a new secret gives every stored pseudonym a new value)"
                    ),
                );
                None
            }
            Some(value) if value.len() < MIN_SECRET_BYTES => {
                problems.in_org(
                    secret.key,
                    org,
                    format!(
                        "environment variable `{var}` holds fewer than {MIN_SECRET_BYTES} \
                         bytes; a short secret lets pseudonyms be reversed by trying values: \
                         use e.g. `openssl rand -hex 32`"
                    ),
                );
                None
            }
            Some(value) => Some(HashSecret::new(value.into_bytes())),
        },
    };
    OrgPolicy::new(org_id, merged, secret)
}

/// Checks a `hash_secret_env` value is a variable name (never echoing it if it looks
/// like a pasted secret).
fn check_var(key: &str, var: Option<&str>, org: Option<&str>, problems: &mut Problems) -> bool {
    let Some(var) = var else { return true };
    let ok = !var.is_empty()
        && var
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        problems.in_org(
            key.to_string(),
            org,
            "is not an environment variable name (letters, digits and `_`, not starting with \
             a digit); it must name the variable holding the secret, not be the secret",
        );
    }
    ok
}

/// The top-level `[privacy.RESOURCE]` rules and `hash_secret_env`, checked.
pub(super) struct Global {
    rules: Rules,
    /// The top-level `hash_secret_env`, as written.
    secret_var: Option<String>,
}

/// Checks the top-level `[privacy.RESOURCE]` tables, then `hash_secret_env`.
pub(super) fn global(
    raw: Option<BTreeMap<String, RawPolicy>>,
    secret_var: Option<String>,
    problems: &mut Problems,
) -> Global {
    let rules = rules("privacy", raw, None, problems);
    check_var("hash_secret_env", secret_var.as_deref(), None, problems);
    Global { rules, secret_var }
}

/// One org's own `hash_secret_env` and `[org.privacy.RESOURCE]` rules, checked.
pub(super) struct OwnRules {
    rules: Rules,
    /// `org[N].hash_secret_env`, for messages.
    key: String,
    /// The org's `hash_secret_env`, as written.
    var: Option<String>,
}

/// Takes each org's `hash_secret_env` and `privacy` out of its table (the rest of the
/// table is checked without them) and checks them: one entry per table, in file order.
pub(super) fn take_own(raw_orgs: &mut [RawOrg], problems: &mut Problems) -> Vec<OwnRules> {
    let mut own = Vec::new();
    for (i, org) in raw_orgs.iter_mut().enumerate() {
        let id = org.id.clone();
        let key = format!("org[{i}].hash_secret_env");
        let var = org.hash_secret_env.take();
        check_var(&key, var.as_deref(), id.as_deref(), problems);
        let prefix = format!("org[{i}].privacy");
        let org_rules = rules(&prefix, org.privacy.take(), id.as_deref(), problems);
        own.push(OwnRules {
            rules: org_rules,
            key,
            var,
        });
    }
    own
}

/// Gives each org its policy: its own rules over the global ones, and its own secret
/// variable, else the top-level one. `own[i]` must belong to `orgs[i]`: the caller only
/// applies them when no org was left out.
pub(super) fn apply(
    orgs: &mut [OrgConfig],
    own: Vec<OwnRules>,
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
    keys: KeyPolicy,
    problems: &mut Problems,
) {
    for (org, own) in orgs.iter_mut().zip(own) {
        let source = match &own.var {
            Some(var) => SecretSource {
                key: own.key,
                var: Some(var),
            },
            None => SecretSource {
                key: "hash_secret_env".to_string(),
                var: global.secret_var.as_deref(),
            },
        };
        let policy = org_policy(
            &org.id,
            &global.rules,
            &own.rules,
            source,
            env,
            keys,
            problems,
        );
        org.privacy = std::sync::Arc::new(policy);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{ConfigError, parse};
    use crate::resource::Resource;

    const SECRET: &str = "a-long-random-secret-for-tests";
    const HEAD: &str = "user_agent = \"Routiq Sync (ops@example.com)\"\n\
                        hash_secret_env = \"ROUTIQ_HASH_SECRET\"\n";
    const ORG: &str = "[[org]]\nid = \"manly\"\napi_key_env = \"KEY\"\n";

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("key-au1".to_string()),
            "KEY2" => Some("another-key-au1".to_string()),
            "ROUTIQ_HASH_SECRET" => Some(SECRET.to_string()),
            "OTHER_SECRET" => Some("another-long-secret-value".to_string()),
            "SHORT" => Some("short".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        }
    }

    fn error(text: &str) -> String {
        match parse(text, Path::new("/etc/routiq.toml"), &env) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e @ (ConfigError::Invalid { .. } | ConfigError::Toml { .. })) => e.to_string(),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn the_documented_shape_loads_with_per_org_overrides() {
        let text = format!(
            "{HEAD}[privacy.patients]\n\
             drop = [\"medicare\", \"dva_card_number\", \"notes\", \"emergency_contact\", \"custom_fields\"]\n\
             hash = [\"email\", \"patient_phone_numbers[].number\"]\n\
             year = [\"date_of_birth\"]\n\
             [privacy.appointments]\ndrop = [\"notes\"]\n\
             {ORG}\
             [[org]]\nid = \"bondi\"\napi_key_env = \"KEY2\"\nhash_secret_env = \"OTHER_SECRET\"\n\
             [org.privacy.patients]\nkeep = [\"first_name\", \"email\"]\nhash = [\"email\"]\n"
        );
        let config = parse(&text, Path::new("/etc/routiq.toml"), &env).unwrap();
        let manly = &config.orgs[0].privacy;
        let bondi = &config.orgs[1].privacy;
        assert_eq!(
            manly.for_resource(Resource::Patients).unwrap().drop.len(),
            5
        );
        let bondi_patients = bondi.for_resource(Resource::Patients).unwrap();
        assert!(bondi_patients.keep.is_some() && bondi_patients.drop.is_empty());
        assert!(
            bondi.for_resource(Resource::Appointments).is_some(),
            "global kept"
        );
        assert_ne!(manly.fingerprint(), bondi.fingerprint());
        assert!(
            !format!("{config:?}").contains(SECRET),
            "the secret is never printed"
        );
    }

    #[test]
    fn bad_policies_name_the_key_and_line() {
        let cases = [
            (
                "[privacy.patient]\ndrop = [\"notes\"]\n",
                "`privacy.patient` at line 3",
                "unknown resource",
            ),
            (
                "[privacy.patients]\nkeep = [\"email\"]\ndrop = [\"notes\"]\n",
                "`privacy.patients.drop` at line 5",
                "both set",
            ),
            (
                "[privacy.patients]\ndrop = [\"notes\", \"a..b\"]\n",
                "`privacy.patients.drop[1]` at line 4",
                "cannot match",
            ),
            (
                "[privacy.patients]\ndrop = [\"updated_at\"]\n",
                "`privacy.patients.drop[0]` at line 4",
                "always kept",
            ),
            (
                "[privacy.appointments]\nhash = [\"patient.links\"]\n",
                "drop[0]",
                "always kept",
            ),
            (
                "[privacy.patients]\ndrop = [\"email\"]\nhash = [\"email\"]\n",
                "`privacy.patients.hash[0]` at line 5",
                "overlaps",
            ),
            (
                "[privacy.patients]\nkeep = [\"first_name\"]\nhash = [\"email\"]\n",
                "`privacy.patients.hash[0]`",
                "not on `keep`",
            ),
            (
                "[privacy.patients]\ndrop = [\"notes\", \"adress_1\"]\n",
                "`privacy.patients.drop[1]` at line 4",
                "`adress_1`: Cliniko's patients have no field `adress_1`; the nearest is \
                 `address_1`",
            ),
            (
                "[privacy.patients]\nhash = [\"patient_phone_numbers.number\"]\n",
                "`privacy.patients.hash[0]` at line 4",
                "`patient_phone_numbers` is a list: `patient_phone_numbers[].number`",
            ),
            (
                "[privacy.patients]\ndrops = [\"notes\"]\n",
                "line 4",
                "unknown field `drops`",
            ),
        ];
        for (policy, key, why) in cases {
            let text = format!("{HEAD}{policy}{ORG}");
            let err = error(&text);
            let key = if key == "drop[0]" {
                "`privacy.appointments.hash[0]` at line 4"
            } else {
                key
            };
            assert!(err.contains("/etc/routiq.toml"), "{err}");
            assert!(err.contains(key), "{key}: {err}");
            assert!(err.contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn hash_needs_its_secret() {
        let policy = "[privacy.patients]\nhash = [\"email\"]\n";
        let ua = "user_agent = \"Routiq Sync (ops@example.com)\"\n";
        let err = error(&format!("{ua}{policy}{ORG}"));
        assert!(
            err.contains("`privacy.patients.hash` (org `manly`) at line 3"),
            "{err}"
        );
        assert!(err.contains("needs a secret"), "{err}");
        let err = error(&format!("{ua}hash_secret_env = \"UNSET\"\n{policy}{ORG}"));
        assert!(
            err.contains("`hash_secret_env` (org `manly`) at line 2"),
            "{err}"
        );
        assert!(err.contains("`UNSET` is not set"), "{err}");
        let err = error(&format!("{ua}hash_secret_env = \"SHORT\"\n{policy}{ORG}"));
        assert!(
            err.contains("fewer than 16 bytes") && !err.contains("short\""),
            "{err}"
        );
        // Without any hash rule the variable is not needed.
        let text = format!(
            "{ua}hash_secret_env = \"UNSET\"\n[privacy.patients]\ndrop = [\"notes\"]\n{ORG}"
        );
        parse(&text, Path::new("/etc/routiq.toml"), &env).unwrap();
    }
}
