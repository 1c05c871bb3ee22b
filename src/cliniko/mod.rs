//! The Cliniko API: one HTTP client, its query syntax, tolerant parsing and the page walk.

mod client;
mod endpoints;
mod id_range;
mod parse;
mod query;
mod ratelimit;
mod resource_walk;
mod retry;
mod walk;

use std::time::Duration;

pub use client::{Client, ClientSettings, ClinikoAccount, ServerDate, basic_auth};
pub use endpoints::{Endpoint, endpoint, routes};
pub use id_range::{IdRange, Probe, RangeListing, fetch_ids, probe};
pub use parse::{BodyError, PageBody, parse_page, parse_record, refilter_stored, stored_columns};
pub use query::{ListQuery, MAX_PER_PAGE};
pub use ratelimit::{RateLimiter, RateLimiters};
pub use resource_walk::ResourceWalk;
pub use retry::RetryPolicy;
pub use walk::{PageSource, Walk, WalkPage, WalkStart};

/// Why a request to Cliniko failed for good (after any retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Cliniko rejected the API key (HTTP {status}): the key is wrong, revoked, or its user lacks access"
    )]
    KeyRejected { status: u16 },
    #[error(
        "Cliniko refused access (HTTP 403): the key's user lacks permission for this, or the key was revoked"
    )]
    Forbidden,
    #[error("Cliniko answered HTTP {status}{}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default(), location.as_ref().map(|l| format!(" (redirect to {l}: check base_url)")).unwrap_or_default())]
    Http {
        status: u16,
        message: Option<String>,
        location: Option<String>,
    },
    #[error("Cliniko answered HTTP {status} (the last of {attempts} attempts)")]
    Server { status: u16, attempts: u32 },
    #[error("{detail} ({attempts} attempts)")]
    Network { detail: String, attempts: u32 },
    #[error("bad response from Cliniko: {detail} ({attempts} attempts)")]
    BadResponse { detail: String, attempts: u32 },
    /// A well-formed answer with a record that cannot be stored: not retried (the same
    /// record comes back every time).
    #[error(
        "bad response from Cliniko: {detail}; not retried, as Cliniko sends the same record every time: the resource stops here, at its last committed page"
    )]
    BadRecord { detail: String },
    #[error(
        "rate limited: Cliniko asked to wait {:.0}s after {times} HTTP 429 responses (max_wait is {:.0}s); the next run continues",
        wait.as_secs_f64(), max_wait.as_secs_f64()
    )]
    RateLimited {
        wait: Duration,
        max_wait: Duration,
        times: u32,
    },
    #[error("interrupted")]
    Interrupted,
    #[error("the page walk made no progress: {0}")]
    NoProgress(String),
}
