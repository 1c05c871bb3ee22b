//! Behaviours the README promises that no other test ran: `forget` while the org is
//! syncing, `status` after a deadline stop, `verify --max-run-time`, SIGINT, heartbeats
//! on SIGTERM and for deferred orgs, `skipped` in JSON logs, a PostgreSQL role that may
//! not create the tables, and OpenMetrics on PostgreSQL.

mod common;

use std::time::Duration;

use common::ping::{Seen, ping_server};
use common::{Backend, TestEnv, TestEnvBuilder, signal};
use fake_cliniko::FakeOptions;

/// A fake slow enough that a run is still going when the test acts on it.
fn slow() -> TestEnvBuilder {
    TestEnv::builder()
        .appointments_each(0)
        .options(FakeOptions {
            latency: Duration::from_millis(150),
            ..FakeOptions::default()
        })
}

/// The `(org, status)` of each JSON summary line in `stderr`.
fn summaries(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("status").is_some())
        .map(|v| {
            (
                v["org"].as_str().unwrap_or_default().to_string(),
                v["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `(method, path)` of each request a ping endpoint saw.
fn pings(seen: &Seen) -> Vec<(String, String)> {
    common::ping::seen(seen)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

on_both_stores!(forget_refuses_while_that_org_is_syncing);

/// README (exit codes): `forget` exits 1 and deletes nothing while a sync of the org runs.
fn forget_refuses_while_that_org_is_syncing(store: Backend) {
    let env = slow().on(store).patients(1500).build();
    let mut child = env.spawn(&["sync", "--all"]);
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(30));
    let forget = env.run(&["forget", "--org", "org_1", "--yes"]);
    let before = env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'");
    let still_running = child.try_wait().expect("try_wait").is_none();
    let sync = child.wait_with_output().expect("wait");
    assert!(
        still_running,
        "the sync ended before forget ran; the test proves nothing"
    );
    forget.expect_code(1);
    forget.assert_stderr_has("a sync of org org_1 is running now");
    assert!(before > 0, "nothing was deleted");
    assert_eq!(sync.status.code(), Some(0), "the sync finished undisturbed");
    env.assert_in_sync("org_1");
    // Once it has finished, forget goes through.
    env.run(&["forget", "--org", "org_1", "--yes"])
        .expect_code(0);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        0
    );
}

/// README (exit codes): a run stopped by its deadline exits 0, and `status` judges the
/// org by its last success, not by the stopped run.
#[test]
fn status_after_a_deadline_stop_judges_the_org_by_its_last_success() {
    let env = slow().orgs(2).patients(500).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["full", "--all", "--jobs", "1", "--max-run-time", "400ms"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 full stopped by max_run_time")
        .assert_stderr_has("org_2 deferred");
    assert_eq!(env.last_run_status("org_1").as_deref(), Some("interrupted"));
    let status = env.run(&["status", "--json"]);
    status.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["healthy"], true, "{}", status.stdout);
    let org_1 = &v["orgs"][0];
    assert_eq!(org_1["id"], "org_1");
    assert_eq!(org_1["healthy"], true, "{org_1}");
    assert_eq!(org_1["last_run"]["status"], "interrupted", "{org_1}");
    // The plain table agrees: every org healthy.
    let table = env.run(&["status"]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("all 2 orgs are healthy"),
        "{}",
        table.stdout
    );
}

/// README (commands): `verify --max-run-time` stops the same way as `sync`: exit 0,
/// the orgs not reached are deferred, and the next verify completes.
#[test]
fn verify_with_a_deadline_defers_the_orgs_it_does_not_reach() {
    let env = slow().orgs(3).patients(300).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&[
        "--log-format",
        "json",
        "verify",
        "--all",
        "--jobs",
        "1",
        "--max-run-time",
        "300ms",
    ]);
    run.expect_code(0);
    let outcomes = summaries(&run.stderr);
    assert_eq!(outcomes.len(), 3, "{}", run.stderr);
    assert!(
        outcomes.iter().any(|(_, s)| s == "deferred"),
        "some org is deferred: {outcomes:?}"
    );
    assert!(outcomes.iter().all(|(_, s)| s != "failed"), "{outcomes:?}");
    let again = env.run(&["--log-format", "json", "verify", "--all"]);
    again.expect_code(0);
    let outcomes = summaries(&again.stderr);
    assert_eq!(outcomes.len(), 3, "{}", again.stderr);
    assert!(outcomes.iter().all(|(_, s)| s == "ok"), "{outcomes:?}");
}

/// README (exit codes): Ctrl-C stops between pages like SIGTERM: recorded as
/// `interrupted`, exit 1, and the next run continues to an exact copy.
#[test]
fn sigint_stops_between_pages_and_the_next_run_continues() {
    let env = slow().patients(1500).build();
    let mut child = env.spawn(&["sync", "--all"]);
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(30));
    signal(&child, "INT");
    env.assert_interrupted_then_caught_up(child, "org_1");
}

/// README (heartbeat pings): a run interrupted by a signal pings `/fail`.
#[test]
fn sigterm_pings_fail() {
    let env = slow().patients(1500).build();
    let (url, seen) = ping_server();
    env.write_config(&format!("ping_url = \"{url}/run\""));
    let mut child = env.spawn(&["sync", "--all"]);
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(30));
    signal(&child, "TERM");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = pings(&seen);
    let calls: Vec<(&str, &str)> = calls
        .iter()
        .map(|(m, p)| (m.as_str(), p.as_str()))
        .collect();
    assert_eq!(calls, [("GET", "/run/start"), ("POST", "/run/fail")]);
}

/// README (heartbeat pings): a deferred org is due next run, so its own ping and the
/// run's ping both say success.
#[test]
fn a_deferred_org_pings_success() {
    let env = slow().orgs(2).patients(500).build();
    let (url, run_seen) = ping_server();
    let (org_url, org_seen) = ping_server();
    env.write_config(&format!("ping_url = \"{url}/run\""));
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replacen(
            "id = \"org_2\"",
            &format!("id = \"org_2\"\nping_url = \"{org_url}/org-2\""),
            1,
        );
    common::write_private(&env.config_path(), &text);
    let run = env.run(&["sync", "--all", "--jobs", "1", "--max-run-time", "400ms"]);
    run.expect_code(0);
    run.assert_stderr_has("org_2 deferred");
    let run_calls = pings(&run_seen);
    let paths: Vec<&str> = run_calls.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths, ["/run/start", "/run"], "{run_calls:?}");
    let org_calls = pings(&org_seen);
    assert!(
        org_calls.iter().any(|(m, p)| m == "POST" && p == "/org-2"),
        "{org_calls:?}"
    );
    assert!(
        org_calls.iter().all(|(_, p)| !p.ends_with("/fail")),
        "{org_calls:?}"
    );
}

on_both_stores!(a_recently_synced_org_is_skipped_in_json_logs);

/// README (JSON logs): the summary line's `status` is `skipped` for an org synced less
/// than `min_interval` ago.
fn a_recently_synced_org_is_skipped_in_json_logs(store: Backend) {
    let env = TestEnv::builder().on(store).orgs(2).patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["--log-format", "json", "sync", "--all"]);
    run.expect_code(0);
    // Orgs run in parallel: their lines come in any order.
    let mut outcomes = summaries(&run.stderr);
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("org_1".to_string(), "skipped".to_string()),
            ("org_2".to_string(), "skipped".to_string())
        ],
        "{}",
        run.stderr
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("\"skipped\""))
        .expect("a skipped line");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("skipped: synced recently"),
        "{v}"
    );
    assert_eq!(v["api_calls"], 0, "{v}");
}

/// README (exit codes): a PostgreSQL database where the role may not create the tables
/// is a setup error: exit 2, nothing run, and the message says what to grant.
#[test]
fn a_postgres_role_without_create_is_exit_2() {
    let Some(store) = Backend::postgres() else {
        return;
    };
    let Backend::Postgres(db) = &store else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let Some(mut admin) = common::pg::admin_client() else {
        return;
    };
    let role = format!("{}_nocreate", db.name);
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'NoCreatePw1';
             GRANT CONNECT ON DATABASE {} TO {role};",
            db.name
        ))
        .expect("create a role without CREATE");
    let mut limited = db.clone();
    limited.user = role.clone();
    limited.password = "NoCreatePw1".to_string();
    let env = TestEnv::builder()
        .on(Backend::Postgres(limited.clone()))
        .appointments_each(0)
        .build();
    let run = env.run(&["sync", "--all"]);
    run.expect_code(2);
    run.assert_never_prints("the password", &limited.password);
    assert_eq!(env.requests("org_1"), 0, "nothing ran");
    assert!(
        run.stderr.contains("CREATE") || run.stderr.contains("permission"),
        "the message names the missing privilege:\n{}",
        run.stderr
    );
    // `check` reports the same database as unusable (exit 1), as the README says.
    env.run(&["check"]).expect_code(1);
}

/// README (Prometheus): `status --format openmetrics` reads the same data as
/// `status --json` on PostgreSQL too.
#[test]
fn openmetrics_on_postgres_matches_status_json() {
    let Some(store) = Backend::postgres() else {
        return;
    };
    let env = TestEnv::builder()
        .on(store)
        .orgs(2)
        .patients(15)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let metrics = env.run(&["status", "--format", "openmetrics"]);
    metrics.expect_code(0);
    let text = &metrics.stdout;
    assert!(text.ends_with("# EOF\n"), "{text}");
    let json = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    for org in v["orgs"].as_array().unwrap() {
        let id = org["id"].as_str().unwrap();
        assert!(
            text.contains(&format!("routiq_sync_healthy{{org=\"{id}\"}} 1")),
            "{text}"
        );
        for (resource, n) in org["totals"].as_object().unwrap() {
            if resource == "active_patients" {
                continue;
            }
            let line = format!("routiq_sync_records{{org=\"{id}\",resource=\"{resource}\"}} {n}");
            assert!(text.contains(&line), "no `{line}` in:\n{text}");
        }
    }
}
