//! When `sync` does what: `min_interval`, `full_sync_every`, `verify_every` and
//! `reference_every`.

use std::time::Duration;

use super::duration::setting;
use super::problems::Problems;
use super::raw::RawConfig;
use super::{
    DEFAULT_FULL_SYNC_EVERY, DEFAULT_MIN_INTERVAL, DEFAULT_REFERENCE_EVERY, DEFAULT_VERIFY_EVERY,
};

/// The four intervals, each its default when not written (or when it does not parse).
pub(super) struct Schedule {
    pub min_interval: Duration,
    pub full_sync_every: Duration,
    pub verify_every: Duration,
    pub reference_every: Duration,
}

/// Reads the four intervals; a bad one is a problem under its own key.
pub(super) fn validate(raw: &RawConfig, problems: &mut Problems) -> Schedule {
    Schedule {
        min_interval: setting(
            "min_interval",
            raw.min_interval.as_deref(),
            DEFAULT_MIN_INTERVAL,
            problems,
        ),
        full_sync_every: setting(
            "full_sync_every",
            raw.full_sync_every.as_deref(),
            DEFAULT_FULL_SYNC_EVERY,
            problems,
        ),
        verify_every: setting(
            "verify_every",
            raw.verify_every.as_deref(),
            DEFAULT_VERIFY_EVERY,
            problems,
        ),
        reference_every: setting(
            "reference_every",
            raw.reference_every.as_deref(),
            DEFAULT_REFERENCE_EVERY,
            problems,
        ),
    }
}
