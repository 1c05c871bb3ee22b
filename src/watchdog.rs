//! The process watchdog: one thread that ends the process, exit 1, when a wait outlives
//! its bound, so that no run can hang on a peer that stopped answering.
//!
//! A store that is frozen but keeps its TCP connections open (a paused VM, a wedged
//! pooler, a server stopped for a snapshot) is invisible to keepalives, and the
//! PostgreSQL driver has no per-query timeout; a dropped session can itself block. A run
//! is one-shot and a process that ends at any instant loses nothing (its transactions
//! roll back, its leases expire on the server, the next run records it as abandoned), so
//! ending the process is the one cure that always works. Ending it, rather than
//! cancelling the wait, also ends whatever else the frozen peer holds up.
//!
//! Each round trip to the store is watched with [`watch`] for a bound set by its kind
//! ([`Bound`]); the run's own hard stop (`max_run_time` and its grace) is set with
//! [`end_at`]. Before the process ends, the [`set_last_words`] hook runs (the command
//! layer sends its `/fail` heartbeats there), bounded too.

use std::sync::mpsc::channel;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the watchdog looks at the clock: the most a wait may outlive its bound.
const TICK: Duration = Duration::from_millis(250);

/// The longest the last words may take before the process ends anyway.
pub const LAST_WORDS_WAIT: Duration = Duration::from_secs(10);

/// A test-only setting (a duration such as `3s`) that replaces the bounds of
/// [`Bound::Connect`] and [`Bound::Statement`] and the hard stop's grace, so that the
/// tests of a frozen store or API end in seconds, not minutes.
pub const TEST_BOUND_ENV: &str = "ROUTIQ_TEST_WAIT_BOUND";

/// What a watched wait is, which sets how long it may last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Opening a session: TCP, TLS, and the server's (or a pooler's) answer to the
    /// startup. Longer than the TCP connect timeout, so that a refused or unreachable
    /// server is reported by the driver first.
    Connect,
    /// A transaction over a page or a batch of rows, a read, a run-history write, a
    /// lease taken, checked, renewed or released, a COMMIT. The server's own
    /// `statement_timeout` for these is shorter (see [`Bound::server_timeout`]), so a
    /// slow but live server answers with its error before this bound ends the process.
    Statement,
    /// A statement whose cost grows with an org's whole table: the rows a full walk did
    /// not see marked deleted, a purge, `forget`, every stored id listed for `verify`.
    Bulk,
    /// Rewriting a table (`VACUUM FULL` after an erasure, a purge or a policy change)
    /// or migrating the schema: both wait for other sessions' locks and copy whole
    /// tables.
    Maintenance,
}

impl Bound {
    /// How long a wait of this kind may last.
    pub fn limit(self) -> Duration {
        match (self, test_bound()) {
            (Bound::Connect | Bound::Statement, Some(test)) => test,
            (Bound::Connect, None) => Duration::from_secs(30),
            (Bound::Statement, None) => Duration::from_secs(90),
            (Bound::Bulk, _) => Duration::from_secs(11 * 60),
            (Bound::Maintenance, _) => Duration::from_secs(60 * 60),
        }
    }

    /// The server-side `statement_timeout` for a transaction of this kind: a minute
    /// short of [`Bound::limit`] (15 s for a statement), so a live server that is merely
    /// slow cancels the statement and says why before the watchdog ends the process.
    pub fn server_timeout(self) -> Duration {
        match self {
            Bound::Connect | Bound::Statement => Duration::from_secs(75),
            Bound::Bulk => Duration::from_secs(10 * 60),
            Bound::Maintenance => Duration::from_secs(59 * 60),
        }
    }
}

/// The test-only bound of [`TEST_BOUND_ENV`], read once.
fn test_bound() -> Option<Duration> {
    static TEST: OnceLock<Option<Duration>> = OnceLock::new();
    *TEST.get_or_init(|| {
        let text = std::env::var(TEST_BOUND_ENV).ok()?;
        let secs = text.trim().strip_suffix('s')?.parse::<f64>().ok()?;
        (secs > 0.0).then(|| Duration::from_secs_f64(secs))
    })
}

/// The grace after `max_run_time` before the hard stop: the longer of a minute and a
/// tenth of the limit (or the test bound).
pub fn hard_stop_grace(limit: Duration) -> Duration {
    test_bound().unwrap_or_else(|| (limit / 10).max(Duration::from_secs(60)))
}

/// A wait being watched: the process ends if it is still alive past its bound.
/// Dropping it ends the watch.
#[must_use = "the watch ends when this is dropped"]
pub struct Watch {
    id: u64,
}

impl Drop for Watch {
    fn drop(&mut self) {
        state().waits.retain(|w| w.id != self.id);
    }
}

/// Watches a wait described by `what` (which names the peer and the step, never a
/// password) for at most `bound`'s limit.
pub fn watch(bound: Bound, what: impl FnOnce() -> String) -> Watch {
    let limit = bound.limit();
    let now = Instant::now();
    let mut state = state();
    state.next_id += 1;
    let id = state.next_id;
    state.waits.push(Wait {
        id,
        until: now + limit,
        limit,
        what: what(),
    });
    start_thread(&mut state);
    Watch { id }
}

/// Ends the process at `at`, whatever it is waiting on then, saying `why` and what it
/// was waiting on; replaces an earlier hard stop.
pub fn end_at(at: Instant, why: String) {
    let mut state = state();
    state.hard_stop = Some((at, why));
    start_thread(&mut state);
}

/// Cancels the hard stop of [`end_at`] (the run ended in time).
pub fn cancel_end() {
    state().hard_stop = None;
}

/// Sets what runs, on the watchdog's thread, just before it ends the process (at most
/// [`LAST_WORDS_WAIT`]); replaces the hook set before.
pub fn set_last_words(words: impl Fn() + Send + Sync + 'static) {
    *last_words().lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(words));
}

type LastWords = Box<dyn Fn() + Send + Sync>;

fn last_words() -> &'static Mutex<Option<LastWords>> {
    static WORDS: Mutex<Option<LastWords>> = Mutex::new(None);
    &WORDS
}

struct Wait {
    id: u64,
    until: Instant,
    limit: Duration,
    what: String,
}

#[derive(Default)]
struct State {
    next_id: u64,
    waits: Vec<Wait>,
    hard_stop: Option<(Instant, String)>,
    running: bool,
}

fn state() -> std::sync::MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Starts the watchdog's thread once, for the rest of the process's life.
fn start_thread(state: &mut State) {
    if state.running {
        return;
    }
    state.running = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(run)
        .map_err(|e| log::warn!("cannot start the watchdog: waits are not bounded: {e}"))
        .is_ok();
}

fn run() {
    loop {
        std::thread::sleep(TICK);
        let overdue = state().overdue(Instant::now());
        if let Some(message) = overdue {
            end_process(&message);
        }
    }
}

impl State {
    /// What is overdue at `now`, said for the operator: the oldest wait past its bound, or
    /// the hard stop with every wait under way.
    fn overdue(&self, now: Instant) -> Option<String> {
        if let Some(wait) = self.waits.iter().find(|w| w.until <= now) {
            return Some(format!(
                "{}: no answer within {} s, so the run ends here (exit 1). The store (or a \
             pooler in front of it) stopped answering: frozen, paused or wedged. Nothing is \
             lost: the open transaction rolls back, the org's lease expires on its own, and \
             the next run resumes where this one stopped. Check the server and any pooler \
             in front of it",
                wait.what,
                wait.limit.as_secs()
            ));
        }
        let (at, why) = self.hard_stop.as_ref()?;
        if *at > now {
            return None;
        }
        let waiting: Vec<String> = self
            .waits
            .iter()
            .map(|w| {
                format!(
                    "{} (for {} s)",
                    w.what,
                    now.duration_since(w.until - w.limit).as_secs()
                )
            })
            .collect();
        Some(format!(
            "{why}, and the run is still going: it ends here (exit 1). Waiting on: {}. Nothing \
         is lost: the next run resumes where this one stopped",
            if waiting.is_empty() {
                "no store round trip (the Cliniko API, a name lookup or a heartbeat ping)"
                    .to_string()
            } else {
                waiting.join("; ")
            }
        ))
    }
}

/// Says `message`, runs the last words (bounded), and ends the process with exit 1.
fn end_process(message: &str) -> ! {
    crate::logging::print_error(message);
    let (done, finished) = channel();
    let spoke = std::thread::Builder::new().spawn(move || {
        if let Some(words) = last_words()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            words();
        }
        let _ = done.send(());
    });
    if spoke.is_ok() {
        let _ = finished.recv_timeout(LAST_WORDS_WAIT);
    }
    exit_now(1)
}

/// Ends the process at once with `code`. Not `process::exit`, which runs exit handlers
/// and flushes buffers that a thread blocked on the frozen peer may hold.
fn exit_now(code: i32) -> ! {
    #[cfg(unix)]
    {
        // SAFETY: `_exit` ends the process without touching any state of this process;
        // nothing after it runs.
        unsafe { libc::_exit(code) }
    }
    #[cfg(not(unix))]
    {
        std::process::exit(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(id: u64, at: Instant, limit: Duration, what: &str) -> Wait {
        Wait {
            id,
            until: at + limit,
            limit,
            what: what.to_string(),
        }
    }

    #[test]
    fn a_wait_is_overdue_only_past_its_bound() {
        let now = Instant::now();
        let limit = Duration::from_secs(90);
        let state = State {
            waits: vec![wait(1, now, limit, "the store, org a, a page")],
            ..State::default()
        };
        assert_eq!(state.overdue(now + limit - TICK), None);
        assert_eq!(
            state.overdue(now + limit).as_deref(),
            Some(
                "the store, org a, a page: no answer within 90 s, so the run ends here (exit \
                 1). The store (or a pooler in front of it) stopped answering: frozen, paused \
                 or wedged. Nothing is lost: the open transaction rolls back, the org's lease \
                 expires on its own, and the next run resumes where this one stopped. Check \
                 the server and any pooler in front of it"
            )
        );
    }

    #[test]
    fn the_hard_stop_names_what_the_run_waits_on() {
        let now = Instant::now();
        let stop = now + Duration::from_secs(100);
        let mut state = State {
            hard_stop: Some((stop, "max_run_time (100 s) passed 60 s ago".to_string())),
            ..State::default()
        };
        assert_eq!(state.overdue(stop - TICK), None);
        let said = |state: &State| state.overdue(stop).unwrap_or_default();
        assert_eq!(
            said(&state),
            "max_run_time (100 s) passed 60 s ago, and the run is still going: it ends here \
             (exit 1). Waiting on: no store round trip (the Cliniko API, a name lookup or a \
             heartbeat ping). Nothing is lost: the next run resumes where this one stopped"
        );
        state.waits.push(wait(
            1,
            now + Duration::from_secs(95),
            Duration::from_secs(90),
            "the store, org a, a page",
        ));
        assert!(
            said(&state).contains(". Waiting on: the store, org a, a page (for 5 s). Nothing"),
            "{}",
            said(&state)
        );
    }

    #[test]
    fn the_grace_is_a_minute_or_a_tenth() {
        if test_bound().is_none() {
            assert_eq!(
                hard_stop_grace(Duration::from_secs(60)),
                Duration::from_secs(60)
            );
            assert_eq!(
                hard_stop_grace(Duration::from_secs(3600)),
                Duration::from_secs(360)
            );
        }
    }
}
