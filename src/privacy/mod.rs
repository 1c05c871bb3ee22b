//! The field-level privacy policy: which fields of each resource are stored, pseudonymised
//! (HMAC-SHA256) or cut to the year, applied to a record's JSON before anything is derived
//! from it or written. Pure: no I/O, no clock, no environment.
//!
//! A pseudonym is `hex(HMAC-SHA256(key = secret, message = org_id || 0x00 || value))`,
//! 64 lowercase hex digits, where `value` is a string's text exactly as sent (a number or
//! boolean: its JSON text; a list or object: its compact JSON text). Org ids cannot hold a
//! NUL byte, so the message is unambiguous; the org id in it makes the same email in two
//! clinics two unrelated pseudonyms.

mod change;
mod fields;
mod path;

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use change::refetch_needed;
pub use fields::check as check_field;
pub use path::{FieldPath, Segment};

use crate::resource::Resource;

/// The HMAC key for `hash` rules. Never printed (its `Debug` hides it), never stored.
#[derive(Clone)]
pub struct HashSecret(Vec<u8>);

impl HashSecret {
    /// The secret's bytes (UTF-8 of the environment variable's value).
    pub fn new(bytes: impl Into<Vec<u8>>) -> HashSecret {
        HashSecret(bytes.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }
}

impl fmt::Debug for HashSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashSecret(<hidden>)")
    }
}

/// The rules for one resource, as validated from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePolicy {
    /// An allow-list: when set, every field not on it (nor needed by the sync) goes.
    pub keep: Option<Vec<FieldPath>>,
    pub drop: Vec<FieldPath>,
    pub hash: Vec<FieldPath>,
    pub year: Vec<FieldPath>,
}

impl ResourcePolicy {
    /// Whether the policy changes nothing.
    pub fn is_empty(&self) -> bool {
        self.keep.is_none() && self.drop.is_empty() && self.hash.is_empty() && self.year.is_empty()
    }

    /// Every path of every rule, with the rule's name.
    pub fn paths(&self) -> impl Iterator<Item = (&'static str, &FieldPath)> {
        let keep = self.keep.iter().flatten().map(|p| ("keep", p));
        keep.chain(self.drop.iter().map(|p| ("drop", p)))
            .chain(self.hash.iter().map(|p| ("hash", p)))
            .chain(self.year.iter().map(|p| ("year", p)))
    }

    /// What happens to the top-level field `key` of a record.
    pub fn top_level(&self, resource: Resource, key: &str) -> TopLevel {
        if is_required(resource, key) {
            return TopLevel::Keep;
        }
        if let Some(keep) = &self.keep
            && !keep.iter().any(|p| p.root() == key)
        {
            return TopLevel::Remove;
        }
        if self.drop.iter().any(|p| p.0.len() == 1 && p.root() == key) {
            return TopLevel::Remove;
        }
        let touched = |paths: &[FieldPath]| paths.iter().any(|p| p.root() == key);
        let nested_keep = self
            .keep
            .iter()
            .flatten()
            .any(|p| p.root() == key && p.0.len() > 1);
        if nested_keep || touched(&self.drop) || touched(&self.hash) || touched(&self.year) {
            TopLevel::Rewrite
        } else {
            TopLevel::Keep
        }
    }
}

/// The fate of one top-level field under a [`ResourcePolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopLevel {
    /// Stored as sent.
    Keep,
    /// Not stored.
    Remove,
    /// Stored after [`OrgPolicy::rewrite_field`].
    Rewrite,
}

/// Whether `field` is one the sync needs for `resource`.
pub fn is_required(resource: Resource, field: &str) -> bool {
    resource.required_fields().contains(&field)
}

/// One org's policy: the rules per resource and the key for `hash`.
#[derive(Debug, Clone, Default)]
pub struct OrgPolicy {
    org_id: String,
    rules: Vec<(Resource, ResourcePolicy)>,
    secret: Option<HashSecret>,
}

/// How `hash` treats a value that already looks like a pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashMode {
    /// Data from Cliniko: every value is hashed.
    Always,
    /// Checking or rewriting stored data: 64 hex digits are taken as hashed already.
    SkipPseudonyms,
}

impl OrgPolicy {
    /// The policy of `org_id`. `secret` must be set when any resource has `hash` rules
    /// (config validation ensures it); resources without rules may be left out.
    pub fn new(
        org_id: &str,
        rules: Vec<(Resource, ResourcePolicy)>,
        secret: Option<HashSecret>,
    ) -> OrgPolicy {
        let rules = rules.into_iter().filter(|(_, p)| !p.is_empty()).collect();
        OrgPolicy {
            org_id: org_id.to_string(),
            rules,
            secret,
        }
    }

    /// Whether nothing is filtered for any resource.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules for `resource`, if it has any.
    pub fn for_resource(&self, resource: Resource) -> Option<&ResourcePolicy> {
        self.rules
            .iter()
            .find(|(r, _)| *r == resource)
            .map(|(_, p)| p)
    }

    /// The resources that have rules.
    pub fn resources(&self) -> impl Iterator<Item = Resource> + '_ {
        self.rules.iter().map(|(r, _)| *r)
    }

    /// The fingerprint of the policy in force: SHA-256 (64 hex digits) of its canonical
    /// text ([`OrgPolicy::rules_text`]) plus, when it hashes, an HMAC of a fixed string
    /// under the secret (a keyed digest: neither the secret nor a plain hash of it), so
    /// that a new secret is a new policy while the secret itself cannot be recovered from
    /// it. `None` when there are no rules (nothing filtered), and when `hash` rules have
    /// no secret (a command that does not write, run without the secret's variable).
    pub fn fingerprint(&self) -> Option<String> {
        let rules = self.rules_text()?;
        let mut text = format!("routiq-sync privacy policy v1\n{rules}");
        if self.rules.iter().any(|(_, p)| !p.hash.is_empty()) {
            let mut mac = self.secret.as_ref()?.mac();
            mac.update(b"routiq-sync policy fingerprint v1");
            text.push_str(&format!("secret={}\n", hex(&mac.finalize().into_bytes())));
        }
        Some(hex(&Sha256::digest(text.as_bytes())))
    }

    /// The policy's rules as canonical text (per resource in [`Resource::ALL`] order,
    /// each rule's paths sorted), without anything of the secret: what the store keeps
    /// beside the fingerprint, so that a later policy can be compared with it
    /// ([`change::refetch_needed`]). `None` when there are no rules.
    pub fn rules_text(&self) -> Option<String> {
        if self.rules.is_empty() {
            return None;
        }
        let mut text = String::new();
        for resource in Resource::ALL {
            let Some(policy) = self.for_resource(resource) else {
                continue;
            };
            text.push_str(&format!("[{}]\n", resource.name()));
            let sorted = |paths: &[FieldPath]| {
                let mut v: Vec<String> = paths.iter().map(ToString::to_string).collect();
                v.sort();
                v.dedup();
                v.join(",")
            };
            if let Some(keep) = &policy.keep {
                text.push_str(&format!("keep={}\n", sorted(keep)));
            }
            text.push_str(&format!("drop={}\n", sorted(&policy.drop)));
            text.push_str(&format!("hash={}\n", sorted(&policy.hash)));
            text.push_str(&format!("year={}\n", sorted(&policy.year)));
        }
        Some(text)
    }

    /// Applies the policy of `resource` to a whole record. Returns whether it changed.
    pub fn apply(&self, resource: Resource, record: &mut Map<String, Value>) -> bool {
        self.apply_mode(resource, record, HashMode::Always)
    }

    /// Applies the policy to a stored record (already filtered by this or an older
    /// policy): values that are already pseudonyms are not hashed again. Returns whether
    /// it changed, i.e. whether the record holds something the policy forbids.
    pub fn apply_stored(&self, resource: Resource, record: &mut Map<String, Value>) -> bool {
        self.apply_mode(resource, record, HashMode::SkipPseudonyms)
    }

    fn apply_mode(
        &self,
        resource: Resource,
        record: &mut Map<String, Value>,
        mode: HashMode,
    ) -> bool {
        let Some(policy) = self.for_resource(resource) else {
            return false;
        };
        let before = record.len();
        record.retain(|key, _| policy.top_level(resource, key) != TopLevel::Remove);
        let mut changed = record.len() != before;
        for (key, value) in record.iter_mut() {
            if policy.top_level(resource, key) == TopLevel::Rewrite {
                changed |= self.rewrite_mode(policy, key, value, mode);
            }
        }
        changed
    }

    /// Rewrites the value of the top-level field `key` for which
    /// [`ResourcePolicy::top_level`] said [`TopLevel::Rewrite`]. Returns whether it changed.
    pub fn rewrite_field(&self, policy: &ResourcePolicy, key: &str, value: &mut Value) -> bool {
        self.rewrite_mode(policy, key, value, HashMode::Always)
    }

    fn rewrite_mode(
        &self,
        policy: &ResourcePolicy,
        key: &str,
        value: &mut Value,
        mode: HashMode,
    ) -> bool {
        // Work on a one-field object, so every rule is a path from an object.
        let mut holder = Map::new();
        holder.insert(key.to_string(), std::mem::take(value));
        let original = holder.clone();
        let rooted = |paths: &'_ [FieldPath]| -> Vec<Vec<Segment>> {
            paths
                .iter()
                .filter(|p| p.root() == key)
                .map(|p| p.0.clone())
                .collect()
        };
        if let Some(keep) = &policy.keep {
            let paths = rooted(keep);
            let refs: Vec<&[Segment]> = paths.iter().map(Vec::as_slice).collect();
            prune(&mut holder, &refs);
        }
        for path in rooted(&policy.drop) {
            at_path(&mut holder, &path, &mut |parent, leaf| {
                parent.remove(leaf);
            });
        }
        for path in rooted(&policy.hash) {
            at_path(&mut holder, &path, &mut |parent, leaf| {
                if let Some(v) = parent.get_mut(leaf) {
                    self.hash_value(v, mode);
                }
            });
        }
        for path in rooted(&policy.year) {
            at_path(&mut holder, &path, &mut |parent, leaf| {
                if let Some(v) = parent.get_mut(leaf) {
                    year_value(v);
                }
            });
        }
        let changed = holder != original;
        *value = holder.remove(key).unwrap_or(Value::Null);
        changed
    }

    fn hash_value(&self, value: &mut Value, mode: HashMode) {
        let text = match value {
            Value::Null => return,
            Value::String(s) if s.is_empty() => return,
            Value::String(s) if mode == HashMode::SkipPseudonyms && is_pseudonym(s) => return,
            Value::String(s) => std::mem::take(s),
            ref other => other.to_string(),
        };
        *value = Value::String(self.pseudonym(&text));
    }

    /// The pseudonym of `value` in this org. Without a secret (validation prevents it
    /// for any policy that hashes) the value is removed rather than kept readable.
    pub fn pseudonym(&self, value: &str) -> String {
        let Some(secret) = &self.secret else {
            return String::new();
        };
        let mut mac = secret.mac();
        mac.update(self.org_id.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Whether `s` is 64 lowercase hex digits, as a pseudonym is.
pub fn is_pseudonym(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `"1985-04-02"` (or any text starting with a four-digit year) to `"1985"`; anything
/// else that is not null becomes null, so an odd format never keeps the full date.
fn year_value(value: &mut Value) {
    let year = match value {
        Value::Null => return,
        Value::String(s) if s.is_empty() => return,
        Value::String(s) => {
            let b = s.as_bytes();
            let four = b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit);
            (four && (b.len() == 4 || b[4] == b'-')).then(|| s[..4].to_string())
        }
        _ => None,
    };
    *value = year.map_or(Value::Null, Value::String);
}

/// Calls `f(parent, leaf)` for every object the path's last segment lies in.
fn at_path(
    obj: &mut Map<String, Value>,
    path: &[Segment],
    f: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        f(obj, &first.name);
        return;
    }
    match (obj.get_mut(&first.name), first.each) {
        (Some(Value::Array(items)), true) => {
            for item in items {
                if let Value::Object(inner) = item {
                    at_path(inner, rest, f);
                }
            }
        }
        (Some(Value::Object(inner)), false) => at_path(inner, rest, f),
        _ => {}
    }
}

/// Keeps only the fields of `obj` on the allow-list `paths` (relative to `obj`); a field
/// whose shape does not match its path (a list where an object was named) goes.
fn prune(obj: &mut Map<String, Value>, paths: &[&[Segment]]) {
    obj.retain(|key, value| {
        let here: Vec<&[Segment]> = paths
            .iter()
            .copied()
            .filter(|p| p.first().is_some_and(|s| s.name == *key))
            .collect();
        if here.is_empty() {
            return false;
        }
        if here.iter().any(|p| p.len() == 1) || value.is_null() {
            return true;
        }
        let rests: Vec<&[Segment]> = here.iter().map(|p| &p[1..]).collect();
        let each = here[0][0].each;
        match (value, each) {
            (Value::Array(items), true) => {
                items.retain_mut(|item| match item {
                    Value::Object(inner) => {
                        prune(inner, &rests);
                        true
                    }
                    _ => false,
                });
                true
            }
            (Value::Object(inner), false) => {
                prune(inner, &rests);
                true
            }
            _ => false,
        }
    });
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests;
