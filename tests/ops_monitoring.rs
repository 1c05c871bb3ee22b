//! Heartbeat pings (against a local HTTP server) and the run deadline (against a slow
//! fake), through the real binary.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::TestEnv;
use common::ping::{ping_server, seen};
use fake_cliniko::{FakeOptions, Fault};

#[test]
fn pings_start_then_success_with_a_summary_and_no_secrets() {
    let env = TestEnv::builder().orgs(2).patients(20).build();
    let (url, log) = ping_server();
    let (org_url, org_log) = ping_server();
    env.write_config(&format!("ping_url = \"{url}/run-check\""));
    // org_1 also has its own check.
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replacen(
            "id = \"org_1\"",
            &format!("id = \"org_1\"\nping_url = \"{org_url}/org-1\""),
            1,
        );
    common::write_private(&env.config_path(), &text);
    env.run(&["sync", "--all"]).expect_code(0);

    let run = seen(&log);
    assert_eq!(run.len(), 2, "{run:?}");
    assert_eq!(
        (run[0].0.as_str(), run[0].1.as_str()),
        ("GET", "/run-check/start")
    );
    assert_eq!(
        (run[1].0.as_str(), run[1].1.as_str()),
        ("POST", "/run-check")
    );
    let body = &run[1].2;
    assert!(body.starts_with("routiq-sync sync: 2 orgs, 2 ok"), "{body}");
    assert!(body.contains("\norg_1 full ok: "), "{body}");
    for (_, key) in &env.orgs {
        assert!(!body.contains(key.as_str()), "{body}");
    }
    let org = seen(&org_log);
    let paths: Vec<&str> = org.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/org-1/start", "/org-1"]);
    assert!(
        org[1].2.contains("org_1") && !org[1].2.contains("org_2"),
        "{:?}",
        org[1]
    );
}

#[test]
fn a_failed_org_pings_fail() {
    let env = TestEnv::builder()
        .orgs(2)
        .patients(150)
        .appointments_each(0)
        .build();
    let (url, log) = ping_server();
    env.write_config(&format!("ping_url = \"{url}\""));
    env.fail_after_first_page("org_2", &[Fault::Status(401)]);
    env.run(&["sync", "--all"]).expect_code(1);
    let run = seen(&log);
    let calls: Vec<(&str, &str)> = run
        .iter()
        .map(|(m, p, _)| (m.as_str(), p.as_str()))
        .collect();
    assert_eq!(calls, [("GET", "/start"), ("POST", "/fail")]);
    assert_eq!(
        run[1].2.lines().next(),
        Some("routiq-sync sync: 2 orgs, 1 ok, 1 failed"),
        "{}",
        run[1].2
    );
    // Error texts stay in the log.
    assert!(!run[1].2.contains("401"), "{}", run[1].2);
}

#[test]
fn an_endpoint_that_never_answers_is_only_a_warning() {
    let env = TestEnv::builder().patients(10).appointments_each(0).build();
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hang", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    env.write_config(&format!("ping_url = \"{url}\""));
    let began = Instant::now();
    let run = env.run(&["sync", "--all"]);
    let took = began.elapsed();
    run.expect_code(0);
    run.assert_stderr_has("heartbeat");
    run.assert_stderr_has("org_1 full ok");
    // The pings give up after about 10 s in all (5 s per attempt, one retry, a 10 s
    // budget at the end). A hanging client would never return; the bound here is loose
    // on purpose (the machine is shared), it only shows the wait is bounded.
    eprintln!("run with a silent ping endpoint took {took:?}");
    assert!(took < Duration::from_secs(45), "took {took:?}");
}

/// A fake slow enough that a sub-second deadline lands inside the first org's walk.
fn slow_env() -> TestEnv {
    TestEnv::builder()
        .orgs(2)
        .patients(500)
        .appointments_each(0)
        .options(FakeOptions {
            latency: Duration::from_millis(150),
            ..FakeOptions::default()
        })
        .build()
}

#[test]
fn the_deadline_stops_cleanly_defers_the_rest_and_the_next_run_finishes() {
    let env = slow_env();
    let began = Instant::now();
    let run = env.run(&["sync", "--all", "--jobs", "1", "--max-run-time", "600ms"]);
    // A figure, not an assertion (the machine is shared): about the deadline plus one page.
    eprintln!("run with a 600ms deadline took {:?}", began.elapsed());
    run.expect_code(0);
    run.assert_stderr_has("org_1 full stopped by max_run_time");
    run.assert_stderr_has("org_2 deferred");
    assert_eq!(env.last_run_status("org_1").as_deref(), Some("interrupted"));
    let error: String = env
        .db()
        .query_row(
            "SELECT error FROM runs WHERE org_id = 'org_1' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(error.contains("max_run_time"), "{error}");
    assert_eq!(env.last_run_status("org_2"), None, "org_2 never started");
    let stored = env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'");
    assert!(stored < 500, "org_1 stopped part-way ({stored} patients)");
    env.assert_consistent("org_1");

    // The next run (no deadline) finishes both exactly.
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    for org in ["org_1", "org_2"] {
        env.assert_in_sync(org);
        assert_eq!(env.last_run_status(org).as_deref(), Some("ok"));
    }
}

#[test]
fn the_deadline_from_the_config_and_json_logs_say_deferred() {
    let env = slow_env();
    env.write_config("max_run_time = \"600ms\"");
    let run = env.run(&["--log-format", "json", "full", "--all", "--jobs", "1"]);
    run.expect_code(0);
    let statuses: Vec<(String, String)> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect(l))
        .filter(|v| v.get("status").is_some())
        .map(|v| {
            (
                v["org"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("org_1".to_string(), "interrupted".to_string()),
            ("org_2".to_string(), "deferred".to_string())
        ]
    );
    env.assert_consistent("org_1");
}
