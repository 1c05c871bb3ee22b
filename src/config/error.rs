//! Everything that can go wrong finding, reading or validating the config file.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a setting, found while validating a parsed config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the file, as a TOML key path: `min_interval`, `org[2].api_key_env`.
    pub key: String,
    /// The `id` of the org the key belongs to, when it is inside an org that has one.
    pub org: Option<String>,
    /// What is wrong and what to do about it. Never contains an API key.
    pub message: String,
    /// The line of `key` in the file, when it is written there.
    pub line: Option<usize>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.key)?;
        if let Some(org) = &self.org {
            write!(f, " (org `{org}`)")?;
        }
        if let Some(line) = self.line {
            write!(f, " at line {line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A 1-based position in the config text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// Why the config could not be loaded. Every variant names the file involved (or every
/// place searched), and no variant ever contains an API key. The CLI maps all of them to
/// exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A path given explicitly (`--config` or `$ROUTIQ_SYNC_CONFIG`) does not exist.
    #[error(
        "config file {} (given by {via}) does not exist; fix the path or create the file",
        path.display()
    )]
    Missing {
        /// The path that was given.
        path: PathBuf,
        /// Who gave it: `--config` or `$ROUTIQ_SYNC_CONFIG`.
        via: String,
    },

    /// No config file in any of the default places.
    #[error(
        "no config file found; looked in:\n{}\ncreate one in one of these places, \
         or pass --config PATH or set $ROUTIQ_SYNC_CONFIG",
        bullet_list(tried)
    )]
    NotFound {
        /// Each place looked at, with why it did not count (`/etc/…: not found`).
        tried: Vec<String>,
    },

    /// The file exists but could not be read (permissions, a directory, not UTF-8).
    #[error(
        "cannot read config file {}: {error}; check that it is a readable UTF-8 text file",
        path.display()
    )]
    Read {
        /// The config file.
        path: PathBuf,
        /// The underlying I/O error.
        error: std::io::Error,
    },

    /// The file is not valid TOML, or a value has the wrong type or an unknown key.
    #[error("{}", toml_text(path, *at, key.as_deref(), org.as_deref(), message))]
    Toml {
        /// The config file.
        path: PathBuf,
        /// Where in the text, when known.
        at: Option<Location>,
        /// The TOML key path at that position, when it could be worked out.
        key: Option<String>,
        /// The `id` of the org around that position, if any.
        org: Option<String>,
        /// toml's description plus what to write instead.
        message: String,
    },

    /// The TOML is well-formed but one or more settings are invalid.
    #[error("{}", invalid_text(path, problems))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Every problem found, in file order (top-level settings first, then orgs).
        problems: Vec<Problem>,
    },

    /// Org ids asked for (e.g. by `--org`) that are not in the config.
    #[error(
        "{}: no org with id {}; orgs in this file: {}",
        path.display(),
        quoted_list(unknown),
        quoted_list(known)
    )]
    UnknownOrg {
        /// The config file.
        path: PathBuf,
        /// The ids asked for that do not exist.
        unknown: Vec<String>,
        /// Every org id in the config, in file order.
        known: Vec<String>,
    },
}

impl ConfigError {
    /// Passes every free-text field through `f` (used to scrub secrets from messages).
    pub(super) fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            ConfigError::Toml {
                path,
                at,
                key,
                org,
                message,
            } => ConfigError::Toml {
                path,
                at,
                key: key.map(|k| f(&k)),
                org: org.map(|o| f(&o)),
                message: f(&message),
            },
            ConfigError::Invalid { path, problems } => ConfigError::Invalid {
                path,
                problems: problems
                    .into_iter()
                    .map(|p| Problem {
                        key: f(&p.key),
                        org: p.org.map(|o| f(&o)),
                        message: f(&p.message),
                        line: p.line,
                    })
                    .collect(),
            },
            other => other,
        }
    }
}

fn bullet_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("  - {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn quoted_list(items: &[String]) -> String {
    if items.is_empty() {
        return "(none)".to_string();
    }
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn toml_text(
    path: &std::path::Path,
    at: Option<Location>,
    key: Option<&str>,
    org: Option<&str>,
    message: &str,
) -> String {
    let mut out = format!("{}: TOML error", path.display());
    if let Some(Location { line, column }) = at {
        out.push_str(&format!(" at line {line}, column {column}"));
    }
    if let Some(key) = key {
        out.push_str(&format!(", key `{key}`"));
    }
    if let Some(org) = org {
        out.push_str(&format!(" (org `{org}`)"));
    }
    out.push_str(": ");
    out.push_str(message);
    out
}

fn invalid_text(path: &std::path::Path, problems: &[Problem]) -> String {
    match problems {
        [one] => format!("{}: {one}", path.display()),
        many => {
            let lines: Vec<String> = many.iter().map(|p| format!("  - {p}")).collect();
            format!(
                "{}: {} problems:\n{}",
                path.display(),
                many.len(),
                lines.join("\n")
            )
        }
    }
}
