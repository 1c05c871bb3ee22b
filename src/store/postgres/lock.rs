//! Per-org advisory locks: held on a session of their own for the whole run, so every
//! process on every host sharing the database syncs an org at most once at a time, and a
//! killed process's lock goes with its connection.

use postgres::Client;
use sha2::{Digest, Sha256};

use super::PgStore;
use super::connect::{connect, error_at};
use crate::database_url::PgUrl;
use crate::store::{Locks, OrgGuard, StoreError};

/// A 64-bit advisory lock key for `what` (`org`, `migrate`) on `name` in `schema`: the
/// first 8 bytes of a SHA-256, so keys are stable across builds and hosts, and two
/// installs in different schemas of one database never share a lock.
pub fn namespaced_key(what: &str, schema: &str, name: &str) -> i64 {
    let digest = Sha256::digest(format!("routiq-sync\0{what}\0{schema}\0{name}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

impl Locks for PgStore {
    /// Takes the lock on a new session; `None` when another session holds it.
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
        try_lock(&self.url, &self.schema, org_id)
    }

    fn is_org_running(&self, org_id: &str) -> Result<bool, StoreError> {
        is_held(
            &mut self.client.borrow_mut(),
            &self.schema,
            org_id,
            &self.target,
        )
    }
}

fn try_lock(url: &PgUrl, schema: &str, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
    let target = url.describe();
    let mut session = connect(url, schema)?;
    let key = namespaced_key("org", schema, org_id);
    let got: bool = session
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .map_err(|e| error_at(&target, e))?
        .get(0);
    // Dropping the session (here when busy, with the guard otherwise) releases the lock.
    Ok(got.then(|| OrgGuard::new(session)))
}

/// Whether any session holds `org_id`'s lock, from `pg_locks` (never by taking it, so a
/// `status` probe cannot make a sync think the org is busy).
fn is_held(
    client: &mut Client,
    schema: &str,
    org_id: &str,
    target: &str,
) -> Result<bool, StoreError> {
    let key = namespaced_key("org", schema, org_id) as u64;
    // A bigint key shows in pg_locks as its high half in classid, low half in objid.
    let (high, low) = ((key >> 32) as u32, key as u32);
    let held: bool = client
        .query_one(
            "SELECT EXISTS (
                 SELECT 1 FROM pg_locks
                 WHERE locktype = 'advisory' AND granted AND objsubid = 1
                   AND classid = $1 AND objid = $2
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             )",
            &[&high, &low],
        )
        .map_err(|e| error_at(target, e))?
        .get(0);
    Ok(held)
}
