//! Checks the `[[org]]` tables (at least one), and in each its id, API key, shard, base
//! URL, resources and ping URL; its privacy keys go to `privacy.rs`.

use std::collections::HashMap;

use super::privacy;
use super::problems::Problems;
use super::raw::RawOrg;
use super::{KeySource, OrgConfig, Source};
use crate::resource::Resource;
use crate::secret::{ApiKey, is_shard};

/// The `[[org]]` tables: first each one's privacy keys ([`privacy::take_own`]), then
/// each table ([`validate_orgs`]), then, when nothing is wrong anywhere, each org's
/// privacy policy. No table at all is a problem. Returns the valid orgs, each with the
/// position of its table in the file (orgs with problems are left out, so the two
/// differ after one).
pub(super) fn validate(
    raw: Option<Vec<RawOrg>>,
    global_privacy: &privacy::Global,
    env: &dyn Fn(&str) -> Option<String>,
    keys: super::KeyPolicy,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Vec<(usize, OrgConfig)> {
    let mut raw_orgs = match raw {
        Some(raw_orgs) if !raw_orgs.is_empty() => raw_orgs,
        _ => {
            problems.top(
                "org",
                "no orgs; add at least one [[org]] table with an id and api_key_env, e.g.\n    \
                 [[org]]\n    id = \"org_123\"\n    api_key_env = \"CLINIKO_KEY_ORG_123\"",
            );
            return Vec::new();
        }
    };
    let own = privacy::take_own(&mut raw_orgs, problems);
    let (tables, mut orgs): (Vec<usize>, Vec<OrgConfig>) =
        validate_orgs(raw_orgs, env, keys, problems, warnings)
            .into_iter()
            .unzip();
    if problems.0.is_empty() {
        // No org was left out, so `orgs` and `own` are in the same order.
        privacy::apply(&mut orgs, own, global_privacy, env, keys, problems);
    }
    tables.into_iter().zip(orgs).collect()
}

/// Validates every org; returns those without problems, each with its table's position
/// (the caller fails the whole load if any problem was recorded). Adds warnings for
/// risky but valid choices.
fn validate_orgs(
    raw: Vec<RawOrg>,
    env: &dyn Fn(&str) -> Option<String>,
    keys: super::KeyPolicy,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Vec<(usize, OrgConfig)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut orgs = Vec::new();
    for (index, org) in raw.into_iter().enumerate() {
        let before = problems.count();
        let mut check = OrgCheck {
            prefix: format!("org[{index}]"),
            id: org.id.clone(),
            problems,
        };
        let id = check.id();
        if let Some(id) = &id {
            if let Some(first) = seen.get(id) {
                check.problem(
                    "id",
                    format!(
                        "duplicate org id: org[{first}] and org[{index}] both use `{id}`; \
                         org ids must be unique (they are case-sensitive)"
                    ),
                );
            } else {
                seen.insert(id.clone(), index);
            }
        }
        let base_url_source = source(org.base_url.is_some() || org.shard.is_some());
        let resources_source = source(org.resources.is_some());
        let key = check.api_key(org.api_key_env, org.api_key, env, keys);
        let shard = check.shard(org.shard.as_deref(), key.as_ref().map(|(k, _)| k.as_str()));
        let base_url = check.base_url(org.base_url.as_deref(), shard.is_some());
        let resources = check.resources(org.resources);
        let dashboard_roles = check.dashboard_roles(org.dashboard_roles.unwrap_or_default());
        let ping_url = org.ping_url.as_deref().and_then(|url| match http_url(url) {
            Ok(url) => Some(url),
            Err(message) => {
                check.problem("ping_url", message);
                None
            }
        });
        let (Some(id), Some((key, key_source)), Some(resources)) = (id, key, resources) else {
            continue;
        };
        if problems.count() != before {
            continue;
        }
        let api_key = ApiKey::new(key);
        let base_url = base_url.unwrap_or_else(|| {
            let shard = shard.unwrap_or_else(|| api_key.shard());
            format!("https://api.{shard}.cliniko.com/v1")
        });
        if base_url.starts_with("http://") && !is_loopback(&base_url) {
            warnings.push(format!(
                "org `{id}`: base_url uses plain http:// to a host that is not this machine; \
                 the API key would cross the network unencrypted"
            ));
        }
        orgs.push((
            index,
            OrgConfig {
                id,
                name: org.name,
                api_key,
                key_source,
                base_url,
                base_url_source,
                resources,
                resources_source,
                ping_url,
                dashboard_roles,
                privacy: Default::default(),
            },
        ));
    }
    orgs
}

/// An `http://` or `https://` URL with a host and no spaces, without trailing `/`.
pub(super) fn http_url(url: &str) -> Result<String, String> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        None => Err("must start with http:// or https://".to_string()),
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Err("has no host after http:// or https://".to_string())
        }
        Some(_) if url.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Err("contains spaces or control characters".to_string())
        }
        Some(_) => Ok(url.trim_end_matches('/').to_string()),
    }
}

/// The checks for one org, sharing its key prefix and id for messages.
struct OrgCheck<'p> {
    /// `org[N]`.
    prefix: String,
    /// The id as written (possibly invalid), to name the org in messages.
    id: Option<String>,
    problems: &'p mut Problems,
}

impl OrgCheck<'_> {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        let key = format!("{}.{field}", self.prefix);
        self.problems.in_org(key, self.id.as_deref(), message);
    }

    fn id(&mut self) -> Option<String> {
        match self.id.clone() {
            None => {
                self.problem("id", "missing; give each org an id, e.g. id = \"org_123\"");
                None
            }
            Some(id) if !is_org_id(&id) => {
                self.problem(
                    "id",
                    "may only contain letters A-Z a-z, digits, `_` and `-`, and must not \
                     be empty; e.g. id = \"org_123\"",
                );
                None
            }
            Some(id) => Some(id),
        }
    }

    /// The key text (trimmed) and where it came from. Never puts the key in a message.
    fn api_key(
        &mut self,
        var: Option<String>,
        inline: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
        keys: super::KeyPolicy,
    ) -> Option<(String, KeySource)> {
        let (key, source, from) = match (var, inline) {
            (Some(_), Some(_)) => {
                self.problem(
                    "api_key",
                    "both api_key_env and api_key are set; keep exactly one (api_key_env, \
                     naming an environment variable that holds the key, is preferred)",
                );
                return None;
            }
            (None, None) => {
                let suggestion = suggested_var(self.id.as_deref());
                self.problem(
                    "api_key_env",
                    format!(
                        "missing; set api_key_env = \"{suggestion}\" and export that variable \
                         with the org's Cliniko API key (or set api_key inline)"
                    ),
                );
                return None;
            }
            (Some(var), None) => {
                if !is_var_name(&var) || looks_like_key(&var) {
                    self.problem(
                        "api_key_env",
                        "is not an environment variable name (letters, digits and `_`, not \
                         starting with a digit); it must name the variable holding the key, \
                         not be the key itself",
                    );
                    return None;
                }
                let value = env(&var);
                if keys == super::KeyPolicy::Optional
                    && value.as_deref().is_none_or(|v| v.trim().is_empty())
                {
                    return Some((String::new(), KeySource::Env(var)));
                }
                let Some(value) = value else {
                    self.problem(
                        "api_key_env",
                        format!(
                            "environment variable `{var}` is not set; export it with the \
                             org's Cliniko API key before running routiq-sync"
                        ),
                    );
                    return None;
                };
                (
                    value,
                    KeySource::Env(var.clone()),
                    format!("environment variable `{var}`"),
                )
            }
            (None, Some(key)) => (key, KeySource::Inline, "api_key".to_string()),
        };
        let field = match source {
            KeySource::Inline => "api_key",
            KeySource::Env(_) => "api_key_env",
        };
        let key = key.trim().to_string();
        if key.is_empty() {
            self.problem(
                field,
                format!("{from} is empty; it must hold the org's Cliniko API key"),
            );
            return None;
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.problem(
                field,
                format!(
                    "the key in {from} contains spaces or control characters; copy the key \
                     again from Cliniko (My info → Manage API keys)"
                ),
            );
            return None;
        }
        Some((key, source))
    }

    /// The lower-cased `shard` override, if given and valid and consistent with the key.
    fn shard(&mut self, shard: Option<&str>, key: Option<&str>) -> Option<String> {
        let shard = shard?;
        if !is_shard(shard) {
            self.problem(
                "shard",
                "is not a Cliniko shard name (two letters and one or two digits, e.g. \
                 au1, uk2, ca1)",
            );
            return None;
        }
        let shard = shard.to_ascii_lowercase();
        let suffix = key
            .and_then(|k| k.rsplit_once('-'))
            .map(|(_, s)| s)
            .filter(|s| is_shard(s))
            .map(str::to_ascii_lowercase);
        if let Some(suffix) = suffix
            && suffix != shard
        {
            self.problem(
                "shard",
                format!(
                    "is `{shard}` but the API key ends in shard `{suffix}`; a key only works \
                     on its own shard, so remove shard (it is only for keys without a suffix)"
                ),
            );
            return None;
        }
        Some(shard)
    }

    /// The `base_url` override without trailing `/`, if given and valid.
    fn base_url(&mut self, url: Option<&str>, has_shard: bool) -> Option<String> {
        let url = url?;
        if has_shard {
            self.problem(
                "base_url",
                "both base_url and shard are set; keep one (base_url replaces the whole \
                 https://api.{shard}.cliniko.com/v1 address)",
            );
            return None;
        }
        match http_url(url) {
            Ok(url) => Some(url),
            Err(message) if message.starts_with("must start") => {
                self.problem(
                    "base_url",
                    format!("{message}, e.g. base_url = \"http://127.0.0.1:8080/v1\""),
                );
                None
            }
            Err(message) => {
                self.problem("base_url", message);
                None
            }
        }
    }

    fn resources(&mut self, names: Option<Vec<String>>) -> Option<Vec<Resource>> {
        let Some(names) = names else {
            return Some(Resource::defaults());
        };
        if names.is_empty() {
            self.problem(
                "resources",
                format!(
                    "is empty; list at least one of: {}, or remove the line to sync the default set",
                    Resource::valid_names()
                ),
            );
            return None;
        }
        let mut resources: Vec<Resource> = Vec::new();
        let mut ok = true;
        for name in &names {
            match name.parse::<Resource>() {
                Ok(r) if resources.contains(&r) => {
                    self.problem(
                        "resources",
                        format!("`{name}` is listed twice; list each resource once"),
                    );
                    ok = false;
                }
                Ok(r) => resources.push(r),
                Err(err) => {
                    self.problem("resources", err.to_string());
                    ok = false;
                }
            }
        }
        ok.then_some(resources)
    }

    /// The roles named, each once; a name PostgreSQL would need quoted, or one of its
    /// own, is a problem.
    fn dashboard_roles(&mut self, names: Vec<String>) -> Vec<String> {
        let mut roles: Vec<String> = Vec::new();
        for name in names {
            if !is_role_name(&name) {
                self.problem(
                    "dashboard_roles",
                    format!(
                        "`{name}` is not a role name routiq-sync grants to: use lower-case \
                         letters, digits and `_` (not first a digit, not starting `pg_`, at \
                         most 63 bytes), e.g. \"bondi_dash\""
                    ),
                );
            } else if !roles.contains(&name) {
                roles.push(name);
            }
        }
        roles
    }
}

/// Whether `name` is a role name `dashboard_roles` accepts: one a dashboard can log in
/// as without quoting (lower-case letters, digits, `_`, not starting with a digit), at
/// most 63 bytes (PostgreSQL's limit), and not one of the server's own `pg_` roles.
pub(super) fn is_role_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
}

/// [`Source::File`] when the setting is written in the file.
fn source(written: bool) -> Source {
    if written {
        Source::File
    } else {
        Source::Default
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `id` is a valid org id: letters, digits, `_` and `-`, not empty.
pub fn is_org_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(is_id_byte)
}

/// A portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether a would-be variable name looks like a pasted API key (long, mixed case and
/// digits), so that it is never echoed in a message.
fn looks_like_key(name: &str) -> bool {
    name.len() >= 20
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && name.bytes().any(|b| b.is_ascii_uppercase())
        && name.bytes().any(|b| b.is_ascii_digit())
}

/// `CLINIKO_KEY_<ID>` for the "missing key" hint.
fn suggested_var(id: Option<&str>) -> String {
    match id.filter(|id| is_org_id(id)) {
        Some(id) => format!("CLINIKO_KEY_{}", id.to_ascii_uppercase().replace('-', "_")),
        None => "CLINIKO_KEY_ORG".to_string(),
    }
}

/// Whether the URL's host is this machine (`localhost`, `127.x.x.x`, `[::1]`).
fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map_or(host_port, |h| &host_port[..h.len() + 1])
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    crate::loopback::is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(is_var_name("CLINIKO_KEY_1") && is_var_name("_x"));
        assert!(!is_var_name("") && !is_var_name("1ABC") && !is_var_name("A-B"));
        assert!(looks_like_key("MxJrZXkiOiI1Njd1amJmZTQ1NyJ9"));
        assert!(!looks_like_key("CLINIKO_KEY_ORG_123_LONG_NAME"));
        assert_eq!(suggested_var(Some("org-1a")), "CLINIKO_KEY_ORG_1A");
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost/v1"));
        assert!(is_loopback("http://[::1]:9000"));
        assert!(!is_loopback("http://proxy.internal:8080/v1"));
        assert!(!is_loopback("http://127.0.0.1.evil.com/v1"));
    }
}
