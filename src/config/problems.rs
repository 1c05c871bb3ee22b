//! The problems a config's validation collects, shared by every section's checks.

use super::error::Problem;

/// Problems found so far, with helpers that fill in the key path and org.
#[derive(Debug, Default)]
pub(super) struct Problems(pub Vec<Problem>);

impl Problems {
    /// A problem with a top-level key.
    pub(super) fn top(&mut self, key: &str, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.to_string(),
            org: None,
            message: message.into(),
            line: None,
        });
    }

    /// A problem inside an org (`key` is the full path, e.g. `org[2].api_key_env`).
    pub(super) fn in_org(&mut self, key: String, org: Option<&str>, message: impl Into<String>) {
        self.0.push(Problem {
            key,
            org: org.map(str::to_string),
            message: message.into(),
            line: None,
        });
    }

    /// How many problems so far (to tell whether a step added any).
    pub(super) fn count(&self) -> usize {
        self.0.len()
    }
}
