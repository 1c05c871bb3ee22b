//! Per-org advisory locks: held on a session of their own for the whole run, so every
//! process on every host sharing the database syncs an org at most once at a time, and a
//! killed process's lock goes with its connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use postgres::{Client, GenericClient};
use sha2::{Digest, Sha256};

use super::PgStore;
use super::connect::{connect, error_at};
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
    /// Takes the lock on a session of its own (a spare one when there is one); `None`
    /// when another session holds it.
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
        let key = namespaced_key("org", &self.schema, org_id);
        let mut session = match take_spare(&self.spare) {
            Some(s) => s,
            None => connect(&self.url, &self.schema)?,
        };
        let got: bool = session
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .map_err(|e| error_at(&self.target, e))?
            .get(0);
        if !got {
            put_spare(&self.spare, session);
            return Ok(None);
        }
        let pid: i32 = session
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(|e| error_at(&self.target, e))?
            .get(0);
        registry(&self.held).insert(org_id.to_string(), Holder { pid, key });
        Ok(Some(OrgGuard::new(HeldLock {
            session: Some(session),
            key,
            org_id: org_id.to_string(),
            spare: Arc::clone(&self.spare),
            held: Arc::clone(&self.held),
        })))
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

/// A lock session not holding any lock, kept for the next [`Locks::try_lock_org`] (an
/// org found busy or finished costs no new connection).
pub type Spare = Arc<Mutex<Option<Client>>>;

fn take_spare(spare: &Spare) -> Option<Client> {
    spare
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .filter(|c| !c.is_closed())
}

fn put_spare(spare: &Spare, session: Client) {
    let mut slot = spare.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = Some(session);
    }
}

/// The org locks a store holds: org id to the session (backend pid) holding it, so that
/// each write can check the lock is still held (see `PgStore::in_tx`).
pub type Held = Arc<Mutex<HashMap<String, Holder>>>;

/// The session holding one org's lock.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pid: i32,
    key: i64,
}

impl Holder {
    /// Whether the holding session still holds the lock (it lost it if the server ended
    /// that session), asked inside the write's own transaction.
    pub fn still_held(&self, tx: &mut impl GenericClient) -> Result<bool, postgres::Error> {
        let (high, low) = key_halves(self.key);
        Ok(tx
            .query_one(
                "SELECT EXISTS (
                     SELECT 1 FROM pg_locks
                     WHERE locktype = 'advisory' AND granted AND objsubid = 1
                       AND classid = $1 AND objid = $2 AND pid = $3
                 )",
                &[&high, &low, &self.pid],
            )?
            .get(0))
    }
}

/// The holder of `org_id`'s lock, when this store holds it.
pub fn holder(held: &Held, org_id: &str) -> Option<Holder> {
    registry(held).get(org_id).copied()
}

fn registry(held: &Held) -> std::sync::MutexGuard<'_, HashMap<String, Holder>> {
    held.lock().unwrap_or_else(|e| e.into_inner())
}

/// A bigint advisory key as `pg_locks` shows it: high half in classid, low in objid.
fn key_halves(key: i64) -> (u32, u32) {
    let key = key as u64;
    ((key >> 32) as u32, key as u32)
}

/// A held org lock: released by `pg_advisory_unlock` when dropped, its session then kept
/// as the spare; if that fails the session is closed, which releases the lock too.
struct HeldLock {
    session: Option<Client>,
    key: i64,
    org_id: String,
    spare: Spare,
    held: Held,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        registry(&self.held).remove(&self.org_id);
        if let Some(mut session) = self.session.take()
            && session
                .query_one("SELECT pg_advisory_unlock($1)", &[&self.key])
                .is_ok_and(|r| r.get::<_, bool>(0))
        {
            put_spare(&self.spare, session);
        }
    }
}

/// Whether any session holds `org_id`'s lock, from `pg_locks` (never by taking it, so a
/// `status` probe cannot make a sync think the org is busy).
fn is_held(
    client: &mut Client,
    schema: &str,
    org_id: &str,
    target: &str,
) -> Result<bool, StoreError> {
    let (high, low) = key_halves(namespaced_key("org", schema, org_id));
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
