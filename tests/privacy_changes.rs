//! Changes around the privacy policy, through the real binary on both stores: a failed
//! privacy `verify` is a failed run everywhere it is reported.

mod common;

use common::{Backend, TestEnv};
use serde_json::Value;

const SECRET: &str = "test-secret-0123456789-abcdefghij";

/// A small policy: drops and hashes on patients.
const POLICY: &str = r#"
hash_secret_env = "ROUTIQ_HASH_SECRET"
[privacy.patients]
drop = ["medicare", "notes"]
hash = ["email"]
"#;

fn run(env: &TestEnv, args: &[&str], code: i32) -> common::Run {
    let run = env.run_env(args, &[("ROUTIQ_HASH_SECRET", SECRET)]);
    run.expect_code(code);
    run.assert_never_prints("the hash secret", SECRET);
    run
}

/// A `verify` that finds a stored field the policy forbids fails the run itself: the
/// `runs` row, `status` (exit 1, unhealthy) and the metric the documented alert reads.
fn a_privacy_breach_found_by_verify_is_a_failed_run(store: Backend) {
    let env = TestEnv::builder().on(store.clone()).patients(5).build();
    env.write_config(POLICY);
    let org = env.orgs[0].0.clone();
    run(&env, &["sync", "--all"], 0);
    let tamper = match store {
        Backend::Sqlite => {
            "UPDATE patients SET raw_json = json_set(raw_json, '$.medicare', '2123456701')
             WHERE org_id = ?1 AND id = (SELECT MIN(id) FROM patients WHERE org_id = ?1)"
        }
        Backend::Postgres(_) => {
            "UPDATE patients SET raw_json = raw_json || '{\"medicare\": \"2123456701\"}'::jsonb
             WHERE org_id = ?1 AND id = (SELECT MIN(id) FROM patients WHERE org_id = ?1)"
        }
    };
    assert_eq!(env.execute(tamper, &[&org]), 1);
    run(&env, &["verify", "--all"], 1);
    assert_eq!(env.last_run_status(&org).as_deref(), Some("failed"));
    let error = env
        .value(
            "SELECT error FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
            &[&org],
        )
        .unwrap_or_default();
    assert!(
        error.starts_with("1 stored record(s) hold fields the privacy policy forbids"),
        "{error}"
    );
    let status = run(&env, &["status", "--json"], 1);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["healthy"], false, "{}", status.stdout);
    assert_eq!(v["orgs"][0]["last_run"]["status"], "failed");
    let metrics = run(&env, &["status", "--format", "openmetrics"], 1);
    let failed = format!("routiq_sync_last_run_status{{org=\"{org}\",status=\"failed\"}} 1");
    assert!(
        metrics.stdout.lines().any(|l| l == failed),
        "`{failed}` not a line of:\n{}",
        metrics.stdout
    );
}

on_both_stores!(a_privacy_breach_found_by_verify_is_a_failed_run);

/// A policy naming fields Cliniko's records do not have is a config error naming the
/// nearest real name: it would match nothing and leave the meant field stored.
#[test]
fn misspelt_policy_fields_are_config_errors_with_the_nearest_name() {
    let env = TestEnv::builder().patients(2).build();
    env.write_config(
        "[privacy.patients]\n\
         drop = [\"medicare_number\", \"phone\", \"adress_1\"]\n\
         [privacy.appointments]\n\
         drop = [\"notes.text\"]\n",
    );
    let config = env.config_path().display().to_string();
    for command in [&["check"][..], &["sync", "--all"], &["verify", "--all"]] {
        let run = env.run(command);
        run.expect_code(2);
        for line in [
            "`privacy.patients.drop[0]` at line 8: `medicare_number`: Cliniko's patients have \
             no field `medicare_number`; the nearest is `medicare`",
            "`privacy.patients.drop[1]` at line 8: `phone`: Cliniko's patients have no field \
             `phone`; the nearest is `patient_phone_numbers`",
            "`privacy.patients.drop[2]` at line 8: `adress_1`: Cliniko's patients have no field \
             `adress_1`; the nearest is `address_1`",
            "`privacy.appointments.drop[0]` at line 10: `notes.text`: `notes` holds a value, not \
             fields: name `notes` itself to treat it whole",
        ] {
            let line = format!("  - {line}");
            assert!(
                run.stderr.lines().any(|l| l == line),
                "{command:?}: no line `{line}` in:\n{}",
                run.stderr
            );
        }
        let head = format!("routiq-sync: error: {config}: 4 problems:");
        assert!(run.stderr.lines().any(|l| l == head), "{}", run.stderr);
    }
    assert!(!env.has_tables(), "nothing synced");
}
