//! Errors that say exactly what happened: every failing resource is named, and a record
//! that can never be stored stops its resource at once instead of being retried as a
//! network glitch.

mod common;

use common::TestEnv;
use fake_cliniko::Fault;

#[test]
fn every_failing_resource_is_named_in_the_log_the_run_and_status() {
    let env = TestEnv::builder().patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    // Patients and appointments both refused.
    env.fake.push_fault(&key, Fault::Status(403));
    env.fake.push_fault(&key, Fault::Status(403));
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(1);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("FAILED"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    for resource in [
        "patients: Cliniko refused access",
        "appointments: Cliniko refused access",
    ] {
        assert!(line.contains(resource), "{line}");
    }
    let error = env
        .value(
            "SELECT error FROM runs WHERE org_id = 'org_1' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap();
    assert!(
        error.starts_with("patients: Cliniko refused access (HTTP 403)")
            && error.contains("; appointments: Cliniko refused access (HTTP 403)"),
        "{error}"
    );
    let status = env.run(&["status"]);
    assert!(
        status.stdout.contains("drop `patients`") && status.stdout.contains("drop `appointments`"),
        "{}",
        status.stdout
    );
}

#[test]
fn a_record_without_updated_at_stops_its_resource_at_once() {
    let env = TestEnv::builder().patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let body = r#"{"patients": [
        {"id": "1665207664587580801", "first_name": "Fine", "updated_at": "2030-01-01T00:00:00Z"},
        {"id": "1665207664587580802", "first_name": "NoTime"}
    ], "total_entries": 2, "links": {}}"#;
    // Were it retried, every attempt would get the same page.
    for _ in 0..5 {
        env.fake
            .push_fault(&key, Fault::StatusText(200, body.into()));
    }
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force", "--resource", "patients"]);
    run.expect_code(1);
    assert_eq!(env.requests("org_1"), 1, "not retried: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "patients: bad response from Cliniko: record 1: record 1665207664587580802 has no valid `updated_at` (needed to sync it incrementally); not retried"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE first_name = 'Fine'"),
        0,
        "no partial page"
    );
}

#[test]
fn an_id_that_is_not_a_number_is_refused_not_stored() {
    let env = TestEnv::builder().patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let body = r#"{"patients": [
        {"id": "laboris", "first_name": "Word", "updated_at": "2030-01-01T00:00:00Z"}
    ], "total_entries": 1, "links": {}}"#;
    env.fake
        .push_fault(&key, Fault::StatusText(200, body.into()));
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force", "--resource", "patients"]);
    run.expect_code(1);
    assert_eq!(env.requests("org_1"), 1);
    assert!(
        run.stderr.contains(
            "record 0: missing or invalid `id` (\"laboris\": ids are positive 64-bit integers)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE id = 'laboris'"),
        0
    );
}

#[test]
fn an_org_removed_from_the_config_is_shown_as_not_configured() {
    let env = TestEnv::builder().orgs(2).build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.write_config_with("", &env.orgs[1..]);
    let status = env.run(&["status"]);
    status.expect_code(0);
    assert!(
        status.stdout.contains(
            "! org_1: in the database but not in the config: no longer synced; `routiq-sync forget --org org_1` erases its data"
        ),
        "{}",
        status.stdout
    );
    let json = env.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["not_configured"], serde_json::json!(["org_1"]));
    let check = env.run(&["check"]);
    assert!(
        check
            .stdout
            .contains("  ! org org_1: `routiq-sync forget --org org_1` erases its data"),
        "{}",
        check.stdout
    );
    // Forgotten, it is gone from both.
    env.run(&["forget", "--org", "org_1", "--yes"])
        .expect_code(0);
    let json = env.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["not_configured"], serde_json::json!([]));
}
