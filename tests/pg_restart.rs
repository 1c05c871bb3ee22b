//! The PostgreSQL server goes away in the middle of a full: restarted (`pg_ctl -m fast`
//! and `-m immediate`), or the sync's sessions ended by
//! `pg_terminate_backend`, or its org's lease taken over. The run exits 1 in bounded time
//! with a message naming the server (never the password); nothing committed is lost, no
//! cursor passes its rows, no run record stays `running`, no lease outlives its process
//! (a server still down at the end leaves one that the next run takes at once), and the
//! next run is exact.
//!
//! A binary of its own, and one test at a time: the tests restart the binary's cluster,
//! which would cut every other test's sessions.

mod common;

use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::pg::{self, PgDatabase, StopMode};
use common::{Backend, TestEnv};
use fake_cliniko::FakeOptions;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What takes the server away from the running sync.
#[derive(Debug, Clone, Copy)]
enum Outage {
    Restart(StopMode),
    /// `pg_ctl stop -m fast`, and started again only once the run has exited; the run
    /// has two more orgs to do, one job at a time.
    StaysDown,
    /// `pg_terminate_backend` of the sessions that write the org's rows and renew its lease.
    EndDataSession,
    /// The org's lease taken over by another run (which then let it lapse), as when this
    /// run's renewals failed for longer than the lease lasts.
    LeaseTaken,
}

/// The longest a run may take to exit after its server went away: the product's longest
/// wait that can apply (the 20 s connect timeout of a new session; a broken session
/// fails its next statement at once) plus a generous margin for a loaded machine.
const EXIT_WITHIN: Duration = Duration::from_secs(60);

#[test]
fn a_fast_restart_mid_full_fails_the_run_and_the_next_run_is_exact() {
    server_goes_away(Outage::Restart(StopMode::Fast));
}

#[test]
fn an_immediate_restart_mid_full_fails_the_run_and_the_next_run_is_exact() {
    server_goes_away(Outage::Restart(StopMode::Immediate));
}

#[test]
fn a_server_still_down_when_the_run_ends_leaves_the_run_for_the_next_to_close() {
    server_goes_away(Outage::StaysDown);
}

#[test]
fn an_ended_data_session_fails_the_run_and_the_next_run_is_exact() {
    server_goes_away(Outage::EndDataSession);
}

#[test]
fn a_lease_taken_over_fails_the_run_and_the_next_run_is_exact() {
    server_goes_away(Outage::LeaseTaken);
}

fn server_goes_away(outage: Outage) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(store) = Backend::postgres() else {
        return;
    };
    let Backend::Postgres(db) = &store else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let db = db.clone();
    let restarts = matches!(outage, Outage::Restart(_) | Outage::StaysDown);
    if restarts && !pg::restartable() {
        pg::skip(&format!(
            "{outage:?} restarts the server, and the tests use one they did not start \
             (ROUTIQ_TEST_DATABASE_URL)"
        ));
        return;
    }
    // The server's default: a commit another session can see is on disk, so an
    // immediate shutdown cannot take it back (the test cluster turns it off globally).
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET synchronous_commit = on",
            db.name
        ))
        .expect("synchronous_commit");
    let opts = FakeOptions {
        latency: Duration::from_millis(25),
        ..FakeOptions::default()
    };
    let orgs = if matches!(outage, Outage::StaysDown) {
        3
    } else {
        1
    };
    let env = TestEnv::builder()
        .on(store)
        .orgs(orgs)
        .patients(4000)
        .appointments_each(2)
        .options(opts)
        .build();
    let org = "org_1";

    let mut child = env.spawn(&["full", "--all", "--jobs", "1"]);
    let pid = i64::from(child.id());
    env.wait_for_patients_cursor(org, &mut child, Duration::from_secs(120));
    let before = committed(&env, org);
    let stopped = StartAgain::default();
    let began = Instant::now();
    // The outage runs beside the wait, so the exit is timed even while a restart is
    // still bringing the server back.
    let (code, stdout, stderr, took) = std::thread::scope(|scope| {
        let cut = scope.spawn(|| match outage {
            Outage::Restart(mode) => pg::restart(mode),
            Outage::StaysDown => pg::stop(StopMode::Fast).map(|()| stopped.arm()),
            Outage::EndDataSession => data_sessions(&db)
                .into_iter()
                .try_for_each(|pid| terminate(&db, pid)),
            Outage::LeaseTaken => take_over(&env, org),
        });
        let exited = wait_bounded(child, began);
        let cut = cut.join().expect("outage thread");
        if let Err(why) = cut {
            panic!("{outage:?}: {why}");
        }
        exited
    });
    drop(stopped);
    eprintln!("{outage:?}: the run exited {code} {took:?} after the outage began");
    assert_eq!(code, 1, "--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(
        took < EXIT_WITHIN,
        "{outage:?}: exited after {took:?}\n{stderr}"
    );
    let target = format!("host 127.0.0.1, port {}, database {}", db.port, db.name);
    // Every org fails naming the server: the one cut, and any that found it down.
    for (id, _) in &env.orgs {
        let failure = stderr
            .lines()
            .find(|l| l.contains(&format!("{id} ")) && l.contains("FAILED"))
            .unwrap_or_else(|| panic!("no failure line for {id}:\n{stderr}"));
        assert!(failure.contains(&target), "{failure}");
        // The cause, not only the driver's kind of error.
        assert!(
            !failure.contains(": db error;") && !failure.contains("with the server;"),
            "{failure}"
        );
    }
    // The mode of the run that was cut.
    common::assert_has(&stderr, "org_1 full FAILED");
    common::assert_never_prints("the password", &db.password, &stdout, &stderr);

    match outage {
        // Nowhere to delete it: the lease left is the exited run's, free at once here.
        Outage::StaysDown => assert_eq!(
            env.rows("SELECT pid FROM org_leases WHERE expires_at > now()", &[]),
            vec![vec![Some(pid.to_string())]]
        ),
        // The run's end waits up to 10 s for the server to delete its lease.
        _ => assert_eq!(live_leases(&env), 0, "a lease outlived its process"),
    }
    let after = committed(&env, org);
    assert!(
        after.patients >= before.patients && after.appointments >= before.appointments,
        "committed rows were lost: {before:?} then {after:?}"
    );
    assert!(
        after.cursor >= before.cursor,
        "a committed cursor went back: {before:?} then {after:?}"
    );
    env.assert_consistent(org);
    // Patients are walked first, then appointments: the outage cut the full.
    let upstream = env.server_rows(org, "individual_appointments").len() as i64;
    assert!(
        after.appointments < upstream,
        "{outage:?} landed after the walk: {after:?}, {upstream} appointments upstream"
    );
    let runs = env.rows("SELECT status, error FROM runs ORDER BY id", &[]);
    assert_eq!(runs.len(), 1, "{runs:?}");
    eprintln!("{outage:?}: the run's record right after: {:?}", runs[0]);
    eprintln!("{outage:?}: stderr:\n{stderr}");
    match outage {
        // The server was back, or not, when the run tried to record its failure.
        Outage::Restart(_) => {}
        // Nowhere to write: the next run closes it.
        Outage::StaysDown => assert_eq!(runs[0][0].as_deref(), Some("running"), "{runs:?}"),
        // The server stayed up: the run records its own failure, and why.
        Outage::EndDataSession | Outage::LeaseTaken => {
            assert_eq!(runs[0][0].as_deref(), Some("failed"), "{runs:?}");
            let error = runs[0][1].as_deref().unwrap_or_default();
            assert!(error.contains(&target), "{error}");
        }
    }

    // The next run finishes the work exactly and closes the failed run's record.
    let next = env.run(&["sync", "--all"]);
    next.expect_code(0);
    for (id, _) in &env.orgs {
        env.assert_consistent(id);
        env.assert_in_sync(id);
    }
    assert_eq!(live_leases(&env), 0);
    let runs = env.rows(
        "SELECT status, error FROM runs WHERE org_id = ?1 ORDER BY id",
        &[org],
    );
    assert_eq!(runs.len(), 2, "{runs:?}");
    let first = &runs[0];
    assert!(
        matches!(first[0].as_deref(), Some("failed" | "interrupted")) && first[1].is_some(),
        "the run the outage cut: {first:?}"
    );
    assert_eq!(runs[1][0].as_deref(), Some("ok"), "{runs:?}");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM runs WHERE status <> 'ok'"),
        1,
        "only the cut run is not ok"
    );
}

/// Starts the server again when dropped, once armed by a stop: also when the test fails,
/// so the tests after it have a server.
#[derive(Default)]
struct StartAgain(AtomicBool);

impl StartAgain {
    fn arm(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for StartAgain {
    fn drop(&mut self) {
        if self.0.load(Ordering::Relaxed)
            && let Err(why) = pg::start()
        {
            eprintln!("!!! cannot start the test server again: {why}");
        }
    }
}

/// What the store holds for `org`, as another session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Committed {
    patients: i64,
    appointments: i64,
    cursor: Option<String>,
}

fn committed(env: &TestEnv, org: &str) -> Committed {
    let count = |table: &str| {
        env.value(
            &format!("SELECT COUNT(*) FROM {table} WHERE org_id = ?1"),
            &[org],
        )
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
    };
    Committed {
        patients: count("patients"),
        appointments: count("appointments"),
        cursor: env.cursor(org, "patients"),
    }
}

/// Unexpired leases on this test's database.
fn live_leases(env: &TestEnv) -> i64 {
    env.count("SELECT COUNT(*) FROM org_leases WHERE expires_at > now()")
}

/// Another run takes `org`'s lease over, then lets it lapse (its expiry is now).
fn take_over(env: &TestEnv, org: &str) -> Result<(), String> {
    let taken = env.execute(
        "UPDATE org_leases SET token = 'another run', expires_at = now() WHERE org_id = ?1",
        &[org],
    );
    (taken == 1)
        .then_some(())
        .ok_or_else(|| format!("{taken} leases of {org}"))
}

/// The backend pids of the sync's sessions (the one writing the rows, and the one
/// renewing its lease).
fn data_sessions(db: &PgDatabase) -> Vec<i32> {
    let rows = db
        .client()
        .query(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'routiq-sync'",
            &[],
        )
        .expect("pg_stat_activity");
    assert!(!rows.is_empty(), "a data session");
    rows.iter().map(|r| r.get(0)).collect()
}

fn terminate(db: &PgDatabase, pid: i32) -> Result<(), String> {
    let ended: bool = db
        .client()
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .map_err(|e| format!("pg_terminate_backend: {e:?}"))?
        .get(0);
    ended
        .then_some(())
        .ok_or_else(|| format!("session {pid} was not ended"))
}

/// Waits for `child` to exit, for at most twice [`EXIT_WITHIN`] from `began` (then it is
/// killed and the test fails); returns its exit code, output, and when it exited.
fn wait_bounded(mut child: Child, began: Instant) -> (i32, String, String, Duration) {
    while child.try_wait().expect("try_wait").is_none() {
        if began.elapsed() > EXIT_WITHIN * 2 {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!(
                "the run hung after the outage:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = began.elapsed();
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}
