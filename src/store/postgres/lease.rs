//! Per-org locks as lease rows (`org_leases`): taken and renewed on the server's clock,
//! so every process on every host sharing the database syncs an org at most once at a
//! time, through a direct connection and through any pooler alike. Nothing lives on a
//! session: a transaction-mode pooler (PgBouncer, Supabase, Neon) runs each transaction
//! on whichever server connection is free, where a session advisory lock would stay after
//! the run.
//!
//! - A lease lasts [`LEASE`] from its last renewal. The process renews the leases it holds
//!   every [`renewer::RENEW_EVERY`] on one session of its own ([`super::renewer`]), and every transaction
//!   that commits an org's data renews it just before its `COMMIT`, failing (so rolling
//!   back) when the lease is no longer ours or has expired ([`fence`]).
//! - Released (the row deleted) when the run ends with the org.
//! - A killed process's lease expires [`LEASE`] after its last renewal. On the same host
//!   (the same kernel boot and pid namespace) the next run sees the holder's process is
//!   gone and takes the lease at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use postgres::{Client, GenericClient, Row};
use sha2::{Digest, Sha256};

use super::renewer::{self, LEASE};
use super::{PgStore, Step, statements};
use crate::store::{Locks, OrgGuard, StoreError};

/// A 64-bit advisory lock key for `what` (`migrate`) on `name` in `schema`: the first 8
/// bytes of a SHA-256, so keys are stable across builds and hosts, and two installs in
/// different schemas of one database never share a lock. (Transaction-scoped locks only:
/// those a pooler cannot leak.)
pub fn namespaced_key(what: &str, schema: &str, name: &str) -> i64 {
    let digest = Sha256::digest(format!("routiq-sync\0{what}\0{schema}\0{name}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

impl Locks for PgStore {
    /// Takes the org's lease on this store's own session; `None` when another live run
    /// holds it.
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError> {
        let token = new_token(org_id);
        let me = Process::this();
        let step = Step::statement("taking the org's lease");
        let taken = self.in_tx(org_id, step, |client| take(client, org_id, &token, me))?;
        if !taken {
            return Ok(None);
        }
        registry(&self.held).insert(org_id.to_string(), token.clone());
        let lease = renewer::Lease {
            url: self.url.clone(),
            schema: self.schema.clone(),
            org: org_id.to_string(),
            token,
        };
        renewer::hold(lease.clone());
        Ok(Some(OrgGuard::new(HeldLease {
            lease,
            held: Arc::clone(&self.held),
        })))
    }

    fn is_org_running(&self, org_id: &str) -> Result<bool, StoreError> {
        self.read(Step::statement("reading the org's lease"), |client| {
            Ok(current(client, org_id)?.is_some_and(|l| l.live && !l.holder_gone()))
        })
    }
}

/// The org leases a store holds: org id to the lease's token, so that each write can
/// check the lease is still ours (see `PgStore::in_tx`).
pub type Held = Arc<Mutex<HashMap<String, String>>>;

/// The token of `org_id`'s lease, when this store holds it.
pub fn token(held: &Held, org_id: &str) -> Option<String> {
    registry(held).get(org_id).cloned()
}

/// The org whose lease this store holds, when it holds exactly one (for messages).
pub fn only_org(held: &Held) -> Option<String> {
    let held = registry(held);
    let mut orgs = held.keys();
    match (orgs.next(), orgs.next()) {
        (Some(org), None) => Some(org.clone()),
        _ => None,
    }
}

fn registry(held: &Held) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
    held.lock().unwrap_or_else(|e| e.into_inner())
}

/// A token no other lease has had: the org, this process and the time, hashed.
fn new_token(org_id: &str) -> String {
    let p = Process::this();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = Sha256::digest(format!(
        "{org_id}\0{}\0{}\0{}\0{now}\0{n}",
        p.host_key, p.pid, p.start
    ));
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The process holding a lease, as the row records it.
#[derive(Debug, Clone)]
struct Process {
    /// Kernel boot and pid namespace: a pid means the same process only where these match.
    host_key: String,
    pid: i64,
    /// The process's start time (clock ticks after boot): a reused pid has another.
    start: i64,
    /// `hostname pid N`, for people.
    label: String,
}

impl Process {
    fn this() -> &'static Process {
        static THIS: std::sync::OnceLock<Process> = std::sync::OnceLock::new();
        THIS.get_or_init(|| {
            let pid = i64::from(std::process::id());
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default();
            Process {
                host_key: host_key().unwrap_or_default(),
                pid,
                start: start_time(&format!("/proc/{pid}/stat")).unwrap_or(0),
                label: format!("{host} pid {pid}"),
            }
        })
    }
}

/// This kernel boot and pid namespace (Linux), or `None` where they cannot be read: then
/// no lease is ever judged by its holder's pid, only by its expiry.
fn host_key() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!("{}/{}", boot.trim(), ns.display()))
}

/// Field 22 of `/proc/PID/stat` (the start time), `None` when there is no such process
/// or it is a zombie (killed, not yet reaped).
fn start_time(stat_path: &str) -> Option<i64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // fields[0] is field 3 (the state), so field 22 is fields[19].
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// An org's lease row as read now.
struct Current {
    token: String,
    host_key: String,
    pid: i64,
    start: i64,
    /// Not expired on the server's clock.
    live: bool,
}

impl Current {
    /// Whether the holder is known to be gone: a process of this host (same boot and pid
    /// namespace) that no longer runs.
    fn holder_gone(&self) -> bool {
        let me = Process::this();
        !me.host_key.is_empty()
            && self.host_key == me.host_key
            && start_time(&format!("/proc/{}/stat", self.pid)) != Some(self.start)
    }

    /// Whether it is this very process's.
    fn mine(&self) -> bool {
        let me = Process::this();
        !me.host_key.is_empty()
            && self.host_key == me.host_key
            && self.pid == me.pid
            && self.start == me.start
    }
}

impl Current {
    /// The lease in the columns of [`statements::CURRENT_LEASE`], from column `at` on.
    fn read(r: &Row, at: usize) -> Current {
        Current {
            token: r.get(at),
            host_key: r.get(at + 1),
            pid: r.get(at + 2),
            start: r.get(at + 3),
            live: r.get(at + 4),
        }
    }
}

fn current(
    client: &mut impl GenericClient,
    org_id: &str,
) -> Result<Option<Current>, postgres::Error> {
    Ok(client
        .query_opt(statements::CURRENT_LEASE, &[&org_id])?
        .map(|r| Current::read(&r, 0)))
}

/// Whether the lease in the columns of [`statements::CURRENT_LEASE`] from column `at` on
/// is held by a live run: unexpired, and its holder not known to be gone (as
/// [`Locks::is_org_running`] judges it).
pub(super) fn held_by_live_run(r: &Row, at: usize) -> bool {
    let lease = Current::read(r, at);
    lease.live && !lease.holder_gone()
}

/// Takes `org_id`'s lease for `token` when it is free: no row, an expired one, or one
/// whose holder is a process of this host that is gone. The conditional upsert decides
/// under the row's lock, so of two runs racing for it one wins.
fn take(
    client: &mut Client,
    org_id: &str,
    token: &str,
    me: &Process,
) -> Result<bool, postgres::Error> {
    let gone = match current(client, org_id)? {
        Some(c) if c.live && c.mine() => return Ok(false),
        Some(c) if c.live && c.holder_gone() => c.token,
        _ => String::new(),
    };
    let took = client.query_opt(
        statements::TAKE_LEASE,
        &[
            &org_id,
            &token,
            &me.label,
            &me.host_key,
            &me.pid,
            &me.start,
            &LEASE.as_secs_f64(),
            &gone,
        ],
    )?;
    Ok(took.is_some())
}

/// Renews `org_id`'s lease for [`LEASE`], inside the caller's transaction, just before it
/// commits: `false` when the lease is no longer `token`'s or has expired (then nothing of
/// the transaction may commit). Under the row's lock, so a run taking the lease over
/// waits for this commit, then finds the lease renewed.
pub fn fence(
    client: &mut impl GenericClient,
    org_id: &str,
    token: &str,
) -> Result<bool, postgres::Error> {
    Ok(client
        .query_opt(
            statements::FENCE_LEASE,
            &[&org_id, &token, &LEASE.as_secs_f64()],
        )?
        .is_some())
}

/// Whether `org_id`'s lease is still `token`'s and unexpired, without locking its row
/// (when a transaction that will hold pages open begins).
pub fn still_ours(
    client: &mut impl GenericClient,
    org_id: &str,
    token: &str,
) -> Result<bool, postgres::Error> {
    Ok(client
        .query_opt(statements::LEASE_STILL_OURS, &[&org_id, &token])?
        .is_some())
}

/// A held org lease: released when dropped (see [`renewer::release`]).
struct HeldLease {
    lease: renewer::Lease,
    held: Held,
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        registry(&self.held).remove(&self.lease.org);
        renewer::release(&self.lease);
    }
}
