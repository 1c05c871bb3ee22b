//! The process's lease keeper: one thread and one session per database, started with the
//! first lease, that renews every lease the process holds every [`RENEW_EVERY`] and
//! deletes each one as its run ends. Renewing on a session of its own keeps a lease
//! alive while its run waits on the API (a rate limit's pause, a slow page) or holds
//! pages open in a transaction.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use postgres::Client;

use super::connect::{begin_sql, connect};
use super::statements;
use crate::database_url::PgUrl;
use crate::watchdog::{self, Bound};

/// How long a lease lasts after it was taken or last renewed: a killed process's orgs
/// are free again this long after its last renewal (at once on the same host).
pub const LEASE: Duration = Duration::from_secs(60);

/// How often the process renews its leases: several renewals may fail (a restarting
/// server, a busy pooler) before a lease lapses.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// How long a run's end waits for its lease to be deleted; past it (a server down)
/// the lease simply expires.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// The pause between two tries to delete a lease.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Lease {
    pub url: PgUrl,
    pub schema: String,
    pub org: String,
    pub token: String,
}

enum Ask {
    Hold(Lease),
    Release(Lease, Sender<()>),
}

fn keeper() -> &'static Mutex<Sender<Ask>> {
    static KEEPER: OnceLock<Mutex<Sender<Ask>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let (tx, rx) = channel();
        // A thread of the process's whole life: it waits on the channel in between.
        std::thread::Builder::new()
            .name("lease-renewer".into())
            .spawn(move || run(rx))
            .map_err(|e| log::warn!("cannot start the lease renewer: {e}"))
            .ok();
        Mutex::new(tx)
    })
}

fn send(ask: Ask) {
    let tx = keeper().lock().unwrap_or_else(|e| e.into_inner());
    // Without the thread a lease is renewed only by its commits, and expires.
    let _ = tx.send(ask);
}

/// Starts renewing `lease`.
pub fn hold(lease: Lease) {
    send(Ask::Hold(lease));
}

/// Stops renewing `lease` and deletes it, waiting up to [`RELEASE_WAIT`].
pub fn release(lease: &Lease) {
    let (done, wait) = channel();
    send(Ask::Release(lease.clone(), done));
    let _ = wait.recv_timeout(RELEASE_WAIT + Duration::from_secs(1));
}

/// One session per database (URL and schema), opened when first needed and opened
/// again after a failure.
struct Sessions(Vec<(PgUrl, Option<Client>)>);

impl Sessions {
    fn with<T>(
        &mut self,
        url: &PgUrl,
        schema: &str,
        doing: &str,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Option<T> {
        let i = match self.0.iter().position(|(u, _)| u == url) {
            Some(i) => i,
            None => {
                self.0.push((url.clone(), None));
                self.0.len() - 1
            }
        };
        let slot = &mut self.0[i].1;
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = connect(url)
                .map_err(|e| log::debug!("lease renewer: {e}"))
                .ok();
        }
        let client = slot.as_mut()?;
        // A renewal that never ends would let every lease lapse while the runs go on.
        let _watch = watchdog::watch(Bound::Statement, || {
            format!("PostgreSQL at {}: {doing}", url.describe())
        });
        let done = client
            .batch_execute(&begin_sql(schema, Bound::Statement))
            .and_then(|()| work(client))
            .and_then(|out| client.batch_execute("COMMIT").map(|()| out));
        match done {
            Ok(out) => Some(out),
            Err(e) => {
                log::debug!("lease renewer at {}: {e}", url.describe());
                // The session may be mid-transaction or gone: a fresh one next time.
                *slot = None;
                None
            }
        }
    }
}

fn run(asks: Receiver<Ask>) {
    let mut held: Vec<Lease> = Vec::new();
    let mut sessions = Sessions(Vec::new());
    let mut next = Instant::now() + RENEW_EVERY;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match asks.recv_timeout(wait) {
            Ok(Ask::Hold(lease)) => held.push(lease),
            Ok(Ask::Release(lease, done)) => {
                held.retain(|l| !(l.token == lease.token && l.org == lease.org));
                let releasing = format!("org {}, releasing its lease", lease.org);
                // A server restarting as the run ends is back within seconds.
                let until = Instant::now() + RELEASE_WAIT;
                while sessions
                    .with(&lease.url, &lease.schema, &releasing, |c| {
                        c.execute(statements::RELEASE_LEASE, &[&lease.org, &lease.token])
                    })
                    .is_none()
                    && Instant::now() + RETRY_PAUSE < until
                {
                    std::thread::sleep(RETRY_PAUSE);
                }
                let _ = done.send(());
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                renew(&held, &mut sessions);
                next = Instant::now() + RENEW_EVERY;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Renews every unexpired lease in `held`, one statement per database. A row a
/// committing transaction has locked is skipped: that commit renews it.
fn renew(held: &[Lease], sessions: &mut Sessions) {
    let mut done: Vec<usize> = Vec::new();
    for (i, lease) in held.iter().enumerate() {
        if done.contains(&i) {
            continue;
        }
        let same: Vec<usize> = (i..held.len())
            .filter(|&j| held[j].url == lease.url && held[j].schema == lease.schema)
            .collect();
        let orgs: Vec<&str> = same.iter().map(|&j| held[j].org.as_str()).collect();
        let tokens: Vec<&str> = same.iter().map(|&j| held[j].token.as_str()).collect();
        done.extend(&same);
        sessions.with(&lease.url, &lease.schema, "renewing the leases", |c| {
            c.execute(
                statements::RENEW_LEASES,
                &[&orgs, &tokens, &LEASE.as_secs_f64()],
            )
        });
    }
}
