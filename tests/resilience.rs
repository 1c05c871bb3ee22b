//! Surviving the real world: 429s, 5xx, bad bodies, timeouts and rejected keys, through
//! the real binary against the fake Cliniko's fault modes, on both stores.

mod common;

use std::time::Duration;

use common::{Backend, TestEnv};
use fake_cliniko::{FakeOptions, Fault, ResetHeader};

on_both_stores!(a_429_is_waited_out_whatever_header_says_when);

fn a_429_is_waited_out_whatever_header_says_when(store: Backend) {
    for header in [
        ResetHeader::XRateLimitReset,
        ResetHeader::RetryAfterSeconds,
        ResetHeader::RetryAfterHttpDate,
        ResetHeader::None,
    ] {
        let env = TestEnv::builder().on(store.fresh()).patients(150).build();
        env.fail_after_first_page(
            "org_1",
            &[Fault::RateLimited {
                reset_in_secs: 1,
                header,
            }],
        );
        let run = env.run(&["sync", "--all"]);
        run.expect_code(0);
        run.assert_stderr_has("rate limited by Cliniko (HTTP 429): waiting");
        let stats = env.fake.stats(&env.key("org_1"));
        assert_eq!(stats.rate_limited, 1, "{header:?}");
        env.assert_in_sync("org_1");
    }
}

on_both_stores!(a_429_asking_for_more_than_max_wait_fails_the_org_cleanly);

fn a_429_asking_for_more_than_max_wait_fails_the_org_cleanly(store: Backend) {
    let env = TestEnv::builder().on(store.fresh()).patients(150).build();
    env.write_config("max_wait = \"2s\"");
    env.fail_after_first_page(
        "org_1",
        &[Fault::RateLimited {
            reset_in_secs: 120,
            header: ResetHeader::XRateLimitReset,
        }],
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    // The failure itself, not the config warning that also names `max_wait`.
    run.assert_stderr_has("org_1 full FAILED")
        .assert_stderr_has("rate limited: Cliniko asked to wait")
        .assert_stderr_has("(max_wait is 2s); the next run continues");
    env.assert_consistent("org_1");
    assert_eq!(env.last_run_status("org_1").as_deref(), Some("failed"));
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
}

on_both_stores!(server_errors_and_bad_bodies_are_retried_and_the_sync_converges);

fn server_errors_and_bad_bodies_are_retried_and_the_sync_converges(store: Backend) {
    let env = TestEnv::builder().on(store.fresh()).patients(250).build();
    env.write_config("retry_attempts = 6");
    env.fail_after_first_page(
        "org_1",
        &[
            Fault::Status(503),
            Fault::Garbage,
            Fault::Truncated,
            Fault::MissingEnvelope,
            Fault::Status(502),
        ],
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("retrying in");
    env.assert_in_sync("org_1");
}

on_both_stores!(retries_run_out_then_the_cursor_stays_at_the_committed_page);

fn retries_run_out_then_the_cursor_stays_at_the_committed_page(store: Backend) {
    let env = TestEnv::builder()
        .on(store.fresh())
        .patients(250)
        .appointments_each(0)
        .build();
    env.fail_after_first_page(
        "org_1",
        &[Fault::Status(500), Fault::Status(500), Fault::Status(500)],
    );
    let run = env.run(&["sync", "--all", "--resource", "patients"]);
    run.expect_code(1);
    run.assert_stderr_has("HTTP 500 (the last of 3 attempts)");
    let committed = env.count("SELECT COUNT(*) FROM patients");
    assert_eq!(committed, 100, "exactly the first page is committed");
    env.assert_consistent("org_1");
    assert_eq!(
        env.cursor("org_1", "patients"),
        env.newest_row("org_1", "patients")
    );
    // Four requests: one good page, three failed attempts at the next; and before them
    // the first sync's account check (GET /settings).
    assert_eq!(env.requests("org_1"), 1 + 4);
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
}

on_both_stores!(a_slow_response_times_out_and_is_retried);

fn a_slow_response_times_out_and_is_retried(store: Backend) {
    let env = TestEnv::builder().on(store.fresh()).patients(50).build();
    env.write_config("request_timeout = \"1s\"");
    env.fake
        .push_fault(&env.key("org_1"), Fault::Delay(Duration::from_secs(3)));
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("timed out");
    env.assert_in_sync("org_1");
}

on_both_stores!(a_rejected_key_is_not_retried_and_names_the_config_entry);

fn a_rejected_key_is_not_retried_and_names_the_config_entry(store: Backend) {
    let env = TestEnv::builder().on(store.fresh()).patients(20).build();
    env.fake.push_fault(&env.key("org_1"), Fault::Status(401));
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    run.assert_stderr_has("rejected the API key (HTTP 401)");
    run.assert_stderr_has("api_key of org org_1 in");
    // The first sync's account check (GET /settings), then the one refused request.
    assert_eq!(
        env.requests("org_1"),
        1 + 1,
        "no retry, and no other resource is tried"
    );
}

on_both_stores!(a_forbidden_resource_fails_the_org_but_not_its_other_resources);

fn a_forbidden_resource_fails_the_org_but_not_its_other_resources(store: Backend) {
    // Keys carry their user's permissions (docs/cliniko-api.md, "Keys and permissions"): a 403 on one route.
    let env = TestEnv::builder().on(store.fresh()).patients(20).build();
    env.fake.push_fault(&env.key("org_1"), Fault::Status(403));
    let run = env.run(&["sync", "--all", "--resource", "patients", "appointments"]);
    run.expect_code(1);
    run.assert_stderr_has("patients: Cliniko refused access (HTTP 403)");
    run.assert_stderr_has("drop `patients`");
    let appointments = env.count("SELECT COUNT(*) FROM appointments");
    assert_eq!(appointments, 20, "the other resource still synced");
}

on_both_stores!(client_errors_are_not_retried_and_show_clinikos_message);

fn client_errors_are_not_retried_and_show_clinikos_message(store: Backend) {
    let env = TestEnv::builder().on(store.fresh()).patients(20).build();
    env.fake.push_fault(
        &env.key("org_1"),
        Fault::StatusText(
            422,
            r#"{"message":"Validation Failed","errors":{"q":"is odd"}}"#.into(),
        ),
    );
    let run = env.run(&["sync", "--all", "--resource", "patients"]);
    run.expect_code(1);
    run.assert_stderr_has("HTTP 422: Validation Failed: q is odd");
    // The first sync's account check (GET /settings), then the one refused request.
    assert_eq!(env.requests("org_1"), 1 + 1);
}

on_both_stores!(random_server_errors_still_converge_with_bounded_requests);

fn random_server_errors_still_converge_with_bounded_requests(store: Backend) {
    let opts = FakeOptions {
        random_5xx: Some((0.15, 99)),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store.fresh())
        .patients(600)
        .options(opts)
        .build();
    env.write_config("retry_attempts = 6\nretry_delay = \"20ms\"");
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    env.assert_in_sync("org_1");
    // 600 + 600 rows take about 14 pages; every failure costs one more request.
    let requests = env.requests("org_1");
    assert!(requests < 40, "{requests} requests");
}

on_both_stores!(an_unreachable_server_fails_the_org_after_bounded_attempts);

fn an_unreachable_server_fails_the_org_after_bounded_attempts(store: Backend) {
    let env = TestEnv::builder()
        .on(store.fresh())
        .appointments_each(0)
        .build();
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace(&env.fake.base_url(), "http://127.0.0.1:1/v1");
    common::write_private(&env.config_path(), &text);
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    run.assert_stderr_has("(3 attempts)");
    run.assert_stderr_has("next run retries");
}

on_both_stores!(a_server_side_rate_limit_is_waited_out_and_pacing_at_it_avoids_429s);

fn a_server_side_rate_limit_is_waited_out_and_pacing_at_it_avoids_429s(store: Backend) {
    // Cliniko's rule (N requests per window per user) with a 3-second window so the test
    // is quick: 4 requests per 3 s is 80 per minute.
    let opts = || FakeOptions {
        rate_limit_per_minute: Some(4),
        rate_limit_window: Duration::from_secs(3),
        ..FakeOptions::default()
    };
    // Unpaced: the client meets 429s, waits until X-RateLimit-Reset, and converges.
    let env = TestEnv::builder()
        .on(store.fresh())
        .patients(150)
        .options(opts())
        .build();
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    env.assert_in_sync("org_1");
    let stats = env.fake.stats(&env.key("org_1"));
    assert!(stats.rate_limited >= 1, "the limit was reached");
    let served = stats.requests - stats.rate_limited;
    assert!(
        stats.rate_limited <= served,
        "{} 429s for {served} pages",
        stats.rate_limited
    );

    // Paced at the server's rate: no 429 at all.
    let env = TestEnv::builder()
        .on(store.fresh())
        .patients(150)
        .options(opts())
        .build();
    env.write_config("requests_per_minute = 80");
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    assert_eq!(env.fake.stats(&env.key("org_1")).rate_limited, 0);
}
