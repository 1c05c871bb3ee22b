//! The scrub at the end of a run: what every org's deletes and rewrites marked is removed
//! from the database's files once (see `Erasure::scrub_due`), after all orgs are done, so
//! that neither many orgs nor a dashboard's open transaction multiply its cost.

use crate::config::Config;
use crate::store;

/// Scrubs what the run's deletes and rewrites marked. A failure is a warning: the rows
/// are committed, and the marks stay for the next run.
pub(super) fn after_run(config: &Config) {
    let scrubbed = store::open(&super::store_location(config)).and_then(|mut s| s.scrub_due());
    if let Err(e) = scrubbed {
        log::warn!(
            "scrubbing deleted or replaced rows from the database's files failed ({e}); \
             they stay marked, and the next run scrubs them"
        );
    }
}
