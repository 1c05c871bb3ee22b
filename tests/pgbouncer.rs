//! The binary through a real PgBouncer in front of the test PostgreSQL, in session mode
//! and in transaction mode (Railway's default, Supabase's port 6543, Neon's pooled host):
//! full, incremental, churn, verify and full again are exact; three hosts syncing at once
//! sync each org once; a kill -9 mid-run loses nothing and the org is synced again at
//! once; PgBouncer restarted mid-run fails the run in bounded time and the next is exact;
//! `check`, `status` and `forget` work through it.
//!
//! The transaction-mode PgBouncer keeps several server connections and hands them out in
//! turn, so one client's successive transactions switch server connections (checked).
//! Without `pgbouncer` installed each test prints one `SKIPPED` line and passes, unless
//! in CI (`CI=true`, `ROUTIQ_REQUIRE_POSTGRES=1` or `ROUTIQ_REQUIRE_PGBOUNCER=1`).

mod common;

use std::time::{Duration, Instant};

use common::pg::{self, PgBouncer, PgDatabase, PoolMode};
use common::{Backend, Run, TestEnv, TestEnvBuilder};
use fake_cliniko::FakeOptions;

macro_rules! in_both_modes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn session() {
                super::$name(common::pg::PoolMode::Session)
            }
            #[test]
            fn transaction() {
                super::$name(common::pg::PoolMode::Transaction)
            }
            use super::common;
        }
    )*};
}

in_both_modes!(
    full_sync_churn_verify_and_full_again_are_exact,
    three_hosts_sync_each_org_once,
    a_kill_mid_run_loses_nothing_and_the_org_is_synced_again_at_once,
    pgbouncer_restarted_mid_run_fails_the_run_in_bounded_time_and_the_next_is_exact,
    check_status_and_forget_work_through_the_pooler,
);

/// A test env whose binary reaches its fresh database through a PgBouncer in `mode`
/// (the test's own queries go to the server directly); `None` to skip.
fn through_pooler(mode: PoolMode, env: TestEnvBuilder) -> Option<(TestEnv, PgDatabase, PgBouncer)> {
    let store = Backend::postgres()?;
    let Backend::Postgres(db) = &store else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let db = db.clone();
    let bouncer = pg::pgbouncer(&db, mode)?;
    let env = env.on(store).build();
    env.set_config_line("database", &format!("database = {:?}", bouncer.url(&db)));
    Some((env, db, bouncer))
}

/// The failures a transaction pooler provokes from code that relies on its session.
fn assert_no_session_errors(run: &Run, bouncer: &PgBouncer) {
    for bad in [
        "prepared statement",
        "does not exist",
        "already exists",
        "don't own a lock",
        "WARNING",
    ] {
        assert!(
            !run.stderr.contains(bad) && !run.stdout.contains(bad),
            "{bad:?} in the output:\n{}\n--- pgbouncer log\n{}",
            run.stderr,
            bouncer.log()
        );
    }
}

fn full_sync_churn_verify_and_full_again_are_exact(mode: PoolMode) {
    let Some((env, db, bouncer)) = through_pooler(
        mode,
        TestEnv::builder()
            .orgs(2)
            .patients(1500)
            .appointments_each(2),
    ) else {
        return;
    };
    // One job for two orgs: what hung on a transaction pooler.
    let run = env.run(&["full", "--all", "--jobs", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, bouncer.log());
    assert_no_session_errors(&run, &bouncer);
    for (org, _) in &env.orgs {
        env.assert_in_sync(org);
    }
    // Churn: changes, a hard delete, new records.
    let key = env.key("org_1");
    let ids: Vec<String> = env.server_rows("org_1", "patients").into_keys().collect();
    env.fake.with_world(|w| {
        for id in &ids[..3] {
            w.update(&key, "patients", id, |r| {
                r.insert("first_name".into(), serde_json::json!("Changed"));
            })
            .unwrap();
        }
        w.hard_delete(&key, "patients", &ids[3]).unwrap();
    });
    let run = env.run(&["sync", "--all", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_session_errors(&run, &bouncer);
    let changed = env
        .count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1' AND first_name = 'Changed'");
    assert_eq!(changed, 3);
    let run = env.run(&["verify", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_session_errors(&run, &bouncer);
    env.assert_in_sync("org_1");
    let run = env.run(&["full", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_session_errors(&run, &bouncer);
    for (org, _) in &env.orgs {
        env.assert_consistent(org);
        env.assert_in_sync(org);
    }
    // Nothing went to another schema, nor stayed behind on the pooler's connections.
    assert_eq!(env.count("SELECT COUNT(*) FROM org_leases"), 0);
    let stray = db
        .client()
        .query_one(
            "SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'routiq_stage_%'",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(stray, 0, "staging tables outlived their transactions");
}

fn three_hosts_sync_each_org_once(mode: PoolMode) {
    let opts = FakeOptions {
        latency: Duration::from_millis(2),
        ..FakeOptions::default()
    };
    let Some((env, _db, bouncer)) =
        through_pooler(mode, TestEnv::builder().orgs(6).patients(300).options(opts))
    else {
        return;
    };
    let hosts: Vec<_> = (1..=3).map(|n| env.config_for_host(n)).collect();
    let children: Vec<_> = hosts
        .iter()
        .map(|config| {
            let mut cmd = env.bare_command(&[]);
            cmd.arg("-c")
                .arg(config)
                .args(["sync", "--all", "--jobs", "2"]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn routiq-sync")
        })
        .collect();
    for child in children {
        let run = Run::from(child.wait_with_output().expect("wait"));
        assert_eq!(run.code, 0, "{}\n{}", run.stderr, bouncer.log());
        assert_no_session_errors(&run, &bouncer);
    }
    for (org, _) in &env.orgs {
        assert!(env.walked_once(org), "{org}: walks {:?}", env.walks(org));
        let ok = env.count(&format!(
            "SELECT COUNT(*) FROM runs WHERE org_id = '{org}' AND status = 'ok'"
        ));
        assert_eq!(ok, 1, "{org} was synced {ok} times");
        env.assert_in_sync(org);
    }
}

fn a_kill_mid_run_loses_nothing_and_the_org_is_synced_again_at_once(mode: PoolMode) {
    let opts = FakeOptions {
        latency: Duration::from_millis(10),
        ..FakeOptions::default()
    };
    let Some((env, _db, bouncer)) =
        through_pooler(mode, TestEnv::builder().patients(3000).options(opts))
    else {
        return;
    };
    let mut child = env.spawn(&["full", "--all"]);
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    env.assert_consistent("org_1");
    // The lease the killed run left is still unexpired, but its holder is gone from
    // this host: the next run takes the org at once.
    let began = Instant::now();
    let run = env.run(&["sync", "--all", "--force"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, bouncer.log());
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
    eprintln!(
        "{mode:?}: synced again {:?} after the kill",
        began.elapsed()
    );
    env.assert_consistent("org_1");
    env.assert_in_sync("org_1");
    assert_eq!(
        env.last_run_status("org_1").as_deref(),
        Some("ok"),
        "the run after the kill"
    );
}

fn pgbouncer_restarted_mid_run_fails_the_run_in_bounded_time_and_the_next_is_exact(mode: PoolMode) {
    let opts = FakeOptions {
        latency: Duration::from_millis(20),
        ..FakeOptions::default()
    };
    let Some((env, db, mut bouncer)) =
        through_pooler(mode, TestEnv::builder().patients(4000).options(opts))
    else {
        return;
    };
    let mut child = env.spawn(&["full", "--all"]);
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(60));
    let began = Instant::now();
    bouncer.stop();
    bouncer.start();
    let out = child.wait_with_output().expect("wait");
    let took = began.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "{mode:?}: the run exited {:?} {took:?} after the restart",
        out.status.code()
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(60), "exited after {took:?}");
    let target = format!(
        "host 127.0.0.1, port {}, database {}",
        bouncer.port, db.name
    );
    assert!(stderr.contains(&target), "{stderr}");
    assert!(
        !stderr.contains(&db.password),
        "the password leaked: {stderr}"
    );
    env.assert_consistent("org_1");
    let run = env.run(&["sync", "--all"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    env.assert_consistent("org_1");
    env.assert_in_sync("org_1");
}

fn check_status_and_forget_work_through_the_pooler(mode: PoolMode) {
    let Some((env, db, bouncer)) = through_pooler(mode, TestEnv::builder().orgs(2).patients(20))
    else {
        return;
    };
    let run = env.run(&["check"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("connect    ok: PostgreSQL"),
        "{}",
        run.stdout
    );
    // One client's successive transactions: one server connection in session mode;
    // in transaction mode each runs on another than the one before, and `check` says so.
    let pids = bouncer.backend_pids(&db, 12);
    let switched = pg::switches(&pids);
    let pooler = match mode {
        PoolMode::Session => {
            assert_eq!(switched, 0, "session mode switched connections: {pids:?}");
            format!(
                "  pooler     likely (the server listens on port {}, not the URL's): session \
                 or transaction mode, both supported",
                db.port
            )
        }
        PoolMode::Transaction => {
            assert_eq!(switched, 11, "server connections in turn: {pids:?}");
            "  pooler     transaction mode detected (successive transactions ran on different \
             server connections): supported, at a round trip or two more per transaction"
                .to_string()
        }
    };
    common::assert_has_line(&run.stdout, &pooler);
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_no_session_errors(&run, &bouncer);
    let status = env.run(&["status", "--json"]);
    status.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).expect("status json");
    assert_eq!(v["orgs"][0]["sync_running"], false, "{}", status.stdout);
    assert_eq!(
        v["orgs"][0]["last_run"]["status"], "ok",
        "{}",
        status.stdout
    );
    let run = env.run(&["forget", "--org", "org_1", "--yes"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_session_errors(&run, &bouncer);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        0
    );
    assert!(env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_2'") > 0);
    assert!(!status.stdout.contains(&db.password) && !status.stderr.contains(&db.password));
}
