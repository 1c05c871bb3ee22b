//! A host clock that is wrong (a year ahead, a day behind) against Cliniko's `Date`
//! header, through the real binary on both stores: nothing is deleted by age while the
//! clocks disagree, times stored in the future make the org due instead of stalling it,
//! `status --max-age` calls such an org unhealthy, and the next good run corrects it.
//!
//! The product's clock is shifted through its injected `now` (the test-only
//! `ROUTIQ_SYNC_TEST_CLOCK_OFFSET`), never the machine's.

mod common;

use common::{Backend, TestEnv};
use serde_json::Value;

const OFFSET: &str = "ROUTIQ_SYNC_TEST_CLOCK_OFFSET";

on_both_stores!(
    a_clock_a_year_ahead_erases_nothing_and_a_corrected_clock_does_not_stall,
    a_clock_a_day_behind_neither_stalls_nor_purges,
    without_a_date_header_deleting_by_age_waits,
);

fn deleted(env: &TestEnv, table: &str) -> i64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE org_id = 'org_1' AND deleted_upstream_at IS NOT NULL"
    ))
}

fn runs(env: &TestEnv) -> i64 {
    env.count("SELECT COUNT(*) FROM runs WHERE org_id = 'org_1'")
}

fn status_json(env: &TestEnv, offset: &str) -> (i32, Value) {
    let run = env.run_env(
        &["status", "--json", "--max-age", "6h"],
        &[(OFFSET, offset)],
    );
    let doc = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run.code, doc)
}

/// One org of 30 patients with an appointment each, synced, then 5 patients and 10
/// appointments deleted upstream and reconciled by a full sync (recently: a clock a year
/// ahead would find them older than `purge_deleted_after`), with 3 runs of history.
fn synced_with_deletions(store: Backend) -> TestEnv {
    let env = TestEnv::builder().on(store).patients(30).build();
    env.write_config("purge_deleted_after = \"30d\"\nkeep_runs = \"30d\"");
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    env.fake.with_world(|w| {
        for (resource, n) in [("patients", 5), ("individual_appointments", 10)] {
            for id in &w.ids(&key, resource)[..n] {
                w.hard_delete(&key, resource, id).unwrap();
            }
        }
    });
    env.run(&["full", "--org", "org_1"]).expect_code(0);
    assert_eq!(
        (deleted(&env, "patients"), deleted(&env, "appointments")),
        (5, 10)
    );
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert_eq!(runs(&env), 3);
    env
}

fn a_clock_a_year_ahead_erases_nothing_and_a_corrected_clock_does_not_stall(store: Backend) {
    let env = synced_with_deletions(store);

    // 1. One run with the host clock 400 days ahead: a plain sync (the clock says it is
    //    due), which must neither purge nor prune.
    let ahead = env.run_env(&["sync", "--all"], &[(OFFSET, "+400d")]);
    ahead.expect_code(0);
    assert!(
        ahead.stderr.contains(
            "the host clock is 400 days ahead of Cliniko's (tolerance 2 min): deleting by age waits"
        ),
        "the run's line names the skew:\n{}",
        ahead.stderr
    );
    assert!(
        ahead.stderr.contains(
            "org_1: not pruning old runs nor removing rows deleted upstream: the host clock is 400 days ahead of Cliniko's (tolerance 2 min); they wait for a run whose host clock agrees with Cliniko's"
        ),
        "{}",
        ahead.stderr
    );
    assert_eq!(
        (deleted(&env, "patients"), deleted(&env, "appointments")),
        (5, 10),
        "nothing deleted upstream was purged"
    );
    assert_eq!(runs(&env), 4, "no run history was pruned");
    // status, JSON, metrics and check all show it.
    let (_, doc) = status_json(&env, "+400d");
    let skew = doc["orgs"][0]["clock_skew_seconds"].as_i64().unwrap();
    assert!((skew - 400 * 86_400).abs() <= 2, "{skew}");
    let metrics = env.run_env(&["status", "--format", "openmetrics"], &[(OFFSET, "+400d")]);
    let line = metrics
        .stdout
        .lines()
        .find(|l| l.starts_with("routiq_sync_clock_skew_seconds{org=\"org_1\"}"))
        .unwrap_or_else(|| panic!("no skew gauge:\n{}", metrics.stdout));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((value - 400.0 * 86_400.0).abs() <= 2.0, "{line}");
    let table = env.run_env(&["status"], &[(OFFSET, "+400d")]);
    assert!(
        table.stdout.contains(
            "! org_1: the host clock is 400 days ahead of Cliniko's at its last run (tolerance 2 min)"
        ),
        "{}",
        table.stdout
    );
    let check = env.run_env(&["check"], &[(OFFSET, "+400d")]);
    assert!(
        check.stdout.contains(
            "clock      WARNING: the host clock is 400 days ahead of Cliniko's (Date header of the probe; tolerance 2 min)"
        ),
        "{}",
        check.stdout
    );

    // 2. The clock back to normal: status --max-age sees a last success in the future.
    let (code, doc) = status_json(&env, "0s");
    assert_eq!(code, 1, "{doc}");
    let problem = doc["orgs"][0]["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("the last success at ") && problem.contains("lies in the future"),
        "{problem}"
    );
    let table = env.run_env(&["status", "--max-age", "6h"], &[]);
    table.expect_code(1);
    assert!(
        table
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains("in the future"),
        "LAST SUCCESS says so: {}",
        table.stdout
    );
    assert!(
        table.stdout.contains("lies in the future"),
        "{}",
        table.stdout
    );

    // 3. A plain sync is not skipped for 400 days: it runs now, and says why.
    let before = env.requests("org_1");
    let back = env.run(&["sync", "--all"]);
    back.expect_code(0);
    assert!(!back.stderr.contains("skipped"), "{}", back.stderr);
    assert!(
        back.stderr.contains("org_1: ")
            && back
                .stderr
                .contains(" stored time(s) lie in the future, up to 400 days ahead of the host clock (the last success, "),
        "{}",
        back.stderr
    );
    assert!(env.requests("org_1") > before, "the run reached Cliniko");
    // ...which corrects it: healthy, skew back within tolerance, and a next sync skips.
    let (code, doc) = status_json(&env, "0s");
    assert_eq!(code, 0, "{doc}");
    assert!(doc["orgs"][0]["clock_skew_seconds"].as_i64().unwrap().abs() <= 2);
    let again = env.run(&["sync", "--all"]);
    again.expect_code(0);
    assert!(
        again.stderr.contains("skipped: synced recently"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("in the future"), "{}", again.stderr);
}

fn a_clock_a_day_behind_neither_stalls_nor_purges(store: Backend) {
    let env = synced_with_deletions(store);
    // Rows deleted upstream 40 days ago (by Cliniko's clock) are due for purging, and
    // the old runs for pruning...
    env.execute(
        "UPDATE patients SET deleted_upstream_at = '2020-01-01T00:00:00Z'
         WHERE org_id = 'org_1' AND deleted_upstream_at IS NOT NULL",
        &[],
    );
    env.execute(
        "UPDATE runs SET started_at = '2020-01-01T00:00:00Z' WHERE org_id = 'org_1'",
        &[],
    );
    // ...but with the host clock a day behind, status sees the last success (stored by
    // a right clock) in the future.
    let (code, doc) = status_json(&env, "-1d");
    assert_eq!(code, 1, "{doc}");
    assert!(
        doc["orgs"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("lies in the future"),
        "{doc}"
    );
    // A plain sync is due (not skipped until tomorrow), and deletes nothing by age.
    let behind = env.run_env(&["sync", "--all"], &[(OFFSET, "-1d")]);
    behind.expect_code(0);
    assert!(!behind.stderr.contains("skipped"), "{}", behind.stderr);
    assert!(
        behind
            .stderr
            .contains(" stored time(s) lie in the future, up to 24 h ahead of the host clock"),
        "{}",
        behind.stderr
    );
    assert!(
        behind.stderr.contains(
            "the host clock is 24 h behind Cliniko's (tolerance 2 min): deleting by age waits"
        ),
        "{}",
        behind.stderr
    );
    assert_eq!(deleted(&env, "patients"), 5, "nothing purged");
    assert_eq!(runs(&env), 4, "nothing pruned");
    // The run corrected what it stored: healthy on the clock it ran with.
    let (code, doc) = status_json(&env, "-1d");
    assert_eq!(code, 0, "{doc}");
    let skew = doc["orgs"][0]["clock_skew_seconds"].as_i64().unwrap();
    assert!((skew + 86_400).abs() <= 2, "{skew}");
    // Once the clock is right again, the next run purges and prunes as configured.
    let right = env.run(&["sync", "--all", "--force"]);
    right.expect_code(0);
    assert!(
        right.stderr.contains("removed rows deleted upstream"),
        "{}",
        right.stderr
    );
    assert_eq!(deleted(&env, "patients"), 0);
    assert!(runs(&env) < 5);
}

/// No answer of the run carried a `Date` header (a proxy stripped it): the host clock
/// cannot be checked, so deleting by age waits, even with a clock 400 days ahead that
/// would otherwise purge everything deleted upstream; the next run with the header does.
fn without_a_date_header_deleting_by_age_waits(store: Backend) {
    let env = synced_with_deletions(store);
    env.fake.set_date_header(false);
    let run = env.run_env(&["sync", "--all", "--force"], &[(OFFSET, "+400d")]);
    run.expect_code(0);
    run.assert_logged(
        "org_1: not pruning old runs nor removing rows deleted upstream: no response of this \
         run carried Cliniko's clock (a `Date` header) to check the host clock against; they \
         wait for a run whose host clock agrees with Cliniko's",
    );
    assert_eq!(
        (deleted(&env, "patients"), deleted(&env, "appointments")),
        (5, 10),
        "nothing deleted upstream was purged"
    );
    assert_eq!(runs(&env), 4, "no run history was pruned");
    env.fake.set_date_header(true);
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert_eq!(runs(&env), 5, "the clock agrees: recent history is kept");
}
