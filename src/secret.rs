//! A wrapper for API keys that cannot be printed by accident.

use std::fmt;

/// A Cliniko API key. `Debug` and `Display` never show it; only [`ApiKey::expose`] does,
/// and the only caller of that is the HTTP client building the `Authorization` header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from config or the environment.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself. Call only where it must leave the process (the HTTP request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A keyed digest of the key, to notice a key that changed without storing it:
    /// HMAC-SHA-256 of the key under a key naming `org_id`, as 32 hex digits. The same
    /// key gives different digests for different orgs, so the database does not show
    /// which orgs share one.
    pub fn digest(&self, org_id: &str) -> String {
        use hmac::{KeyInit, Mac};
        let context = format!("routiq-sync api key digest v1: {org_id}");
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(context.as_bytes()) else {
            return String::new();
        };
        mac.update(self.0.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The shard suffix of the key (`…-au2` → `au2`), per Cliniko's docs: the text after
    /// the last `-` when it looks like a shard (two letters, one or two digits), else `au1`.
    pub fn shard(&self) -> String {
        match self.0.rsplit_once('-') {
            Some((_, suffix)) if is_shard(suffix) => suffix.to_ascii_lowercase(),
            _ => "au1".to_string(),
        }
    }
}

/// Whether `s` matches Cliniko's documented shard pattern `^\w{2}\d{1,2}$`.
pub fn is_shard(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=4).contains(&b.len())
        && b[..2]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && b[2..].iter().all(u8::is_ascii_digit)
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_from_suffix() {
        assert_eq!(
            ApiKey::new("MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-au2").shard(),
            "au2"
        );
        assert_eq!(ApiKey::new("abc-UK1").shard(), "uk1");
        assert_eq!(ApiKey::new("abc-def-ca1").shard(), "ca1");
        assert_eq!(ApiKey::new("noshard").shard(), "au1");
        assert_eq!(ApiKey::new("abc-notashard").shard(), "au1");
        assert_eq!(ApiKey::new("abc-au123").shard(), "au1");
    }

    #[test]
    fn digests_differ_by_key_and_by_org() {
        let k = ApiKey::new("secret-au1");
        let d = k.digest("bondi");
        assert_eq!(d.len(), 32);
        assert_eq!(d, k.digest("bondi"));
        assert_ne!(d, k.digest("manly"));
        assert_ne!(d, ApiKey::new("other-au1").digest("bondi"));
        assert!(!d.contains("secret"));
    }

    #[test]
    fn never_printed() {
        let k = ApiKey::new("secret-au1");
        assert!(!format!("{k} {k:?}").contains("secret"));
    }
}
