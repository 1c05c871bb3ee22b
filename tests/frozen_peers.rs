//! No run hangs: a store, a pooler or an API that stops answering while its connections
//! stay open (a paused VM, a wedged pooler; here SIGSTOP, or a fake that holds every
//! answer) ends the run by itself within its bound: exit 1, one error line naming the
//! peer and the step, a `/fail` ping, no panic; and the next run is exact.
//!
//! The binary runs with the test-only `ROUTIQ_TEST_WAIT_BOUND` (3 s): the production
//! bounds (90 s a statement, 30 s a connect, a minute's grace after `max_run_time`)
//! would make each test take minutes. Freezing the server freezes every test of this
//! binary, so its tests run one at a time.

mod common;

use std::fs::File;
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::pg::{self, PoolMode};
use common::ping::{ping_server, seen};
use common::{Backend, TestEnv, assert_lacks};
use fake_cliniko::{FakeOptions, RequestInfo, World};

/// What the binary's bounds are set to (`ROUTIQ_TEST_WAIT_BOUND`).
const BOUND: &str = "3s";
/// The most a frozen run may take to end after the freeze: its bound, the watchdog's
/// tick, the `/fail` ping (answered at once here) and a slow machine's slack.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A run started in the background with the test bound, `ping_url` set, `database` as
/// the store when given, and its stderr in a file (a pipe nobody reads could fill and
/// block it).
struct Started {
    child: Child,
    stderr: std::path::PathBuf,
    pings: common::ping::Seen,
}

fn start(env: &TestEnv, args: &[&str], extra_config: &str, database: Option<&str>) -> Started {
    let (url, pings) = ping_server();
    env.write_config(&format!("ping_url = {url:?}\n{extra_config}"));
    if let Some(url) = database {
        env.set_config_line("database", &format!("database = {url:?}"));
    }
    let stderr = env
        .dir
        .path()
        .join(format!("stderr-{}.log", args.join("-")));
    let child = env
        .command(args)
        .env("ROUTIQ_TEST_WAIT_BOUND", BOUND)
        .stdout(Stdio::null())
        .stderr(File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("spawn routiq-sync");
    Started {
        child,
        stderr,
        pings,
    }
}

/// Waits for the run to end by itself, at most [`ENDS_WITHIN`] after `since`; kills it
/// and fails the test otherwise. Returns its exit code and stderr.
fn ended_by_itself(mut run: Started, since: Instant) -> (i32, String, common::ping::Seen) {
    loop {
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
            return (status.code().unwrap_or(-1), stderr, run.pings);
        }
        if since.elapsed() > ENDS_WITHIN {
            let _ = run.child.kill();
            let _ = run.child.wait();
            let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
            panic!(
                "the run was still going {} s after the freeze\n--- stderr\n{stderr}",
                ENDS_WITHIN.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The run ended exit 1, saying `first` then `rest` on one error line, with no panic
/// and no password; it sent the run's `/fail` ping.
fn assert_ended(
    (code, stderr, pings): &(i32, String, common::ping::Seen),
    first: &str,
    rest: &str,
    command: &str,
) {
    assert_eq!(*code, 1, "exit code\n--- stderr\n{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("routiq-sync: error: "))
        .unwrap_or_else(|| panic!("no error line\n--- stderr\n{stderr}"));
    assert!(
        line.starts_with(&format!("routiq-sync: error: {first}")) && line.contains(rest),
        "the error line is\n{line}\nwanted it to start `{first}` and hold `{rest}`"
    );
    assert_lacks(stderr, "panicked");
    let fail = seen(pings)
        .into_iter()
        .find(|(method, path, _)| method == "POST" && path == "/fail");
    let Some((_, _, body)) = fail else {
        panic!("no /fail ping; pings: {:?}", seen(pings))
    };
    assert_eq!(
        body,
        format!(
            "routiq-sync {command}: ended before it finished, by its watchdog (a wait \
             outlived its bound; see the routiq-sync log)\n"
        )
    );
}

/// After the thaw: the next run records the ended one as interrupted (its end never
/// recorded), and makes an exact copy.
fn assert_next_run_exact(env: &TestEnv, org: &str) {
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync(org);
    let ended = env.value(
        "SELECT status || ' / ' || error FROM runs WHERE org_id = ?1 ORDER BY id LIMIT 1",
        &[org],
    );
    assert_eq!(
        ended.as_deref(),
        Some(format!("interrupted / {}", routiq_sync::store::ABANDONED_RUN).as_str())
    );
}

/// An env whose full sync takes a few seconds (pages answered 10 ms late), on `store`.
fn slow_env(store: Backend) -> TestEnv {
    TestEnv::builder()
        .on(store)
        .patients(600)
        .appointments_each(1)
        .options(FakeOptions {
            latency: Duration::from_millis(10),
            ..FakeOptions::default()
        })
        .build()
}

#[test]
fn a_frozen_transaction_pooler_ends_the_run_within_its_bound() {
    let _one = one_at_a_time();
    let Some(store) = Backend::postgres() else {
        return;
    };
    let Backend::Postgres(db) = store.clone() else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let Some(bouncer) = pg::pgbouncer(&db, PoolMode::Transaction) else {
        return;
    };
    let env = slow_env(store);
    let mut run = start(&env, &["full", "--all"], "", Some(&bouncer.url(&db)));
    env.wait_for_patients_cursor("org_1", &mut run.child, Duration::from_secs(60));
    bouncer.freeze();
    let ended = ended_by_itself(run, Instant::now());
    bouncer.resume();
    assert_store_froze_then_next_run_exact(&env, &ended, &db, bouncer.port);
}

/// The run's error line names the store at `port` (the server's, or a pooler's), not its
/// password; the next run is exact.
fn assert_store_froze_then_next_run_exact(
    env: &TestEnv,
    ended: &(i32, String, common::ping::Seen),
    db: &pg::PgDatabase,
    port: u16,
) {
    assert_ended(
        ended,
        &format!(
            "PostgreSQL at host 127.0.0.1, port {port}, database {}",
            db.name
        ),
        ": no answer within 3 s, so the run ends here (exit 1).",
        "full",
    );
    assert_lacks(&ended.1, &db.password);
    assert_next_run_exact(env, "org_1");
}

#[test]
fn a_frozen_server_ends_the_run_within_its_bound() {
    let _one = one_at_a_time();
    let Some(store) = Backend::postgres() else {
        return;
    };
    let Backend::Postgres(db) = store.clone() else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let env = slow_env(store);
    let mut run = start(&env, &["full", "--all"], "", None);
    env.wait_for_patients_cursor("org_1", &mut run.child, Duration::from_secs(60));
    let frozen = pg::freeze().expect("freeze the test server");
    let ended = ended_by_itself(run, Instant::now());
    drop(frozen);
    assert_store_froze_then_next_run_exact(&env, &ended, &db, db.port);
}

#[test]
fn a_pooler_that_never_answers_the_startup_ends_the_run() {
    let _one = one_at_a_time();
    // Accepts every connection and never says a word, as a wedged pooler does.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            holder.lock().unwrap().push(stream);
        }
    });
    let env = TestEnv::builder().build();
    let url = format!("postgres://u:s3cret-pw@127.0.0.1:{port}/clinic?sslmode=disable");
    let started = Instant::now();
    let run = start(&env, &["sync", "--all"], "", Some(&url));
    let ended = ended_by_itself(run, started);
    assert_ended(
        &ended,
        &format!("PostgreSQL at host 127.0.0.1, port {port}, database clinic: opening a session"),
        ": no answer within 3 s, so the run ends here (exit 1).",
        "sync",
    );
    assert_lacks(&ended.1, "s3cret-pw");
    assert!(!held.lock().unwrap().is_empty(), "the run never connected");
}

#[test]
fn a_frozen_api_is_ended_by_the_hard_stop_after_max_run_time() {
    let _one = one_at_a_time();
    let env = slow_env(Backend::Sqlite);
    // Frozen: every list request is held without an answer until the thaw (at the
    // latest when the test ends, failed or not, before the fake is stopped).
    let frozen = Thaw(Arc::new(AtomicBool::new(false)));
    let hold = frozen.0.clone();
    env.fake
        .set_on_request(Some(Arc::new(move |_: &mut World, _: &RequestInfo| {
            while hold.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        })));
    // Only the hard stop can end it: each request may wait 10 minutes.
    let mut run = start(
        &env,
        &["full", "--all"],
        "max_run_time = \"6s\"\nrequest_timeout = \"10m\"",
        None,
    );
    env.wait_for_patients_cursor("org_1", &mut run.child, Duration::from_secs(60));
    frozen.0.store(true, Ordering::Relaxed);
    let frozen_at = Instant::now();
    let ended = ended_by_itself(run, frozen_at);
    drop(frozen);
    env.fake.set_on_request(None);
    assert_ended(
        &ended,
        "max_run_time (6s) passed 3s ago, and the run is still going: it ends here (exit 1). \
         Waiting on: no store round trip (the Cliniko API, a name lookup or a heartbeat \
         ping). Nothing is lost: the next run resumes where this one stopped",
        "",
        "full",
    );
    // The stop between pages was asked for first, and could not happen.
    assert!(
        ended
            .1
            .contains("max_run_time (6s) passed: stopping between pages"),
        "{}",
        ended.1
    );
    env.write_config("");
    assert_next_run_exact(&env, "org_1");
}

/// Lets the frozen fake answer again when dropped.
struct Thaw(Arc<AtomicBool>);

impl Drop for Thaw {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}
