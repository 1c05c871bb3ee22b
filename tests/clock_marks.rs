//! Times a wrong host clock must not decide, through the real binary on both stores:
//! deletion marks are dated by Cliniko's clock (its `Date` header), and a mark a clock
//! that was ahead dated in the future is re-dated once the clocks agree, so its purge
//! waits `purge_deleted_after` and no longer; the recovery from a clock that was ahead
//! says so once per org, and once only; and a run under a wrong clock does not count the
//! active patients by it.
//!
//! The product's clock is shifted through its injected `now` (the test-only
//! `ROUTIQ_SYNC_TEST_CLOCK_OFFSET`), never the machine's; where SQLite's own clock must
//! be wrong too, the process runs under `faketime`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Backend, Run, TestEnv};
use routiq_sync::timestamp::Timestamp;

const OFFSET: &str = "ROUTIQ_SYNC_TEST_CLOCK_OFFSET";
const DAY: i64 = 86_400;

on_both_stores!(
    deletion_marks_follow_clinikos_clock_and_future_ones_are_repaired,
    recovering_from_a_clock_that_was_ahead_warns_once,
    a_run_under_a_wrong_clock_keeps_the_active_count,
);

/// The deletion marks of `org_1`'s patients, as Unix seconds.
fn marks(env: &TestEnv) -> Vec<i64> {
    env.rows(
        "SELECT deleted_upstream_at FROM patients
         WHERE org_id = 'org_1' AND deleted_upstream_at IS NOT NULL ORDER BY id",
        &[],
    )
    .into_iter()
    .map(|r| {
        let text = r[0].clone().expect("a mark");
        Timestamp::parse(&text)
            .unwrap_or_else(|| panic!("{text}"))
            .unix()
    })
    .collect()
}

/// Hard-deletes `n` of `org_1`'s patients in the fake Cliniko.
fn delete_upstream(env: &TestEnv, from: usize, n: usize) {
    let key = env.key("org_1");
    env.fake.with_world(|w| {
        for id in &w.ids(&key, "patients")[from..from + n] {
            w.hard_delete(&key, "patients", id).unwrap();
        }
    });
}

fn deletion_marks_follow_clinikos_clock_and_future_ones_are_repaired(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(20)
        .appointments_each(0)
        .build();
    env.write_config("purge_deleted_after = \"30d\"");
    env.run(&["sync", "--all"]).expect_code(0);
    let cliniko_now = || env.fake.with_world(|w| w.now().unix());

    // A full walk and a verify with the host clock 400 days ahead date what they find
    // gone by Cliniko's clock.
    delete_upstream(&env, 0, 2);
    env.run_env(&["full", "--all"], &[(OFFSET, "+400d")])
        .expect_code(0);
    delete_upstream(&env, 0, 1);
    env.run_env(&["verify", "--all"], &[(OFFSET, "+400d")])
        .expect_code(0);
    let now = cliniko_now();
    let found = marks(&env);
    assert_eq!(found.len(), 3, "{found:?}");
    for mark in &found {
        assert!(
            (now - 120..=now).contains(mark),
            "marked at {} while Cliniko's clock said {}",
            Timestamp::from_unix(*mark).unwrap(),
            Timestamp::from_unix(now).unwrap()
        );
    }

    // Marks an older routiq-sync dated with a clock 400 days ahead: the first run whose
    // clock agrees with Cliniko's dates them now...
    let future = Timestamp::from_unix(now + 400 * DAY).unwrap().to_string();
    env.execute(
        &format!(
            "UPDATE patients SET deleted_upstream_at = '{future}' \
             WHERE deleted_upstream_at IS NOT NULL"
        ),
        &[],
    );
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    let line = " WARN  org_1: 3 row(s) were marked deleted upstream at a time still in the \
                future (the host clock was ahead when they were marked); re-marked as deleted \
                now, so purge_deleted_after counts from now";
    assert!(
        run.stderr.lines().any(|l| l.ends_with(line)),
        "no line ending with `{line}` in:\n{}",
        run.stderr
    );
    let now = cliniko_now();
    assert!(
        marks(&env).iter().all(|m| (now - 120..=now).contains(m)),
        "{:?}",
        marks(&env)
    );
    // ...so 31 days later (both clocks) they are purged, not 400 days later.
    env.fake
        .with_world(|w| w.advance(Duration::from_secs(31 * DAY as u64)));
    env.run_env(&["sync", "--all", "--force"], &[(OFFSET, "+31d")])
        .expect_code(0);
    assert_eq!(marks(&env), Vec::<i64>::new(), "purged after 30 days");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        17
    );
}

/// The lines of `text` that mention a time in the future.
fn future_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("in the future"))
        .collect()
}

fn recovering_from_a_clock_that_was_ahead_warns_once(store: Backend) {
    let env = TestEnv::builder().on(store).patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    // A sync (a full one: the last was 400 days ago by this clock) and a verify with the
    // host clock 400 days ahead store their times 400 days ahead.
    for command in ["sync", "verify"] {
        env.run_env(&[command, "--all"], &[(OFFSET, "+400d")])
            .expect_code(0);
    }
    // The clock is right again: one warning for the org, counting what it found.
    let back = env.run(&["sync", "--all"]);
    back.expect_code(0);
    let line = " WARN  org_1: 17 stored time(s) lie in the future, up to 400 days ahead of the \
                host clock (the last success, 6 routes' last full sync, 6 routes' last verify, \
                4 routes' last poll): was the host clock ahead when they were stored? They are \
                treated as unknown, and the next successful runs store times that replace them";
    assert_eq!(future_lines(&back.stderr).len(), 1, "{}", back.stderr);
    assert!(
        future_lines(&back.stderr)[0].ends_with(line),
        "no line ending with `{line}` in:\n{}",
        back.stderr
    );
    // That run's full walks counted as verifies: nothing is left in the future.
    let again = env.run(&["sync", "--all", "--force"]);
    again.expect_code(0);
    assert_eq!(future_lines(&again.stderr), Vec::<&str>::new());
}

/// The binary with `args`, its whole process clock (SQLite's `'now'` too) shifted by
/// `offset` (`+400d`) with `faketime`; `None` (after the skip rule) without it.
fn under_faketime(env: &TestEnv, offset: &str, args: &[&str]) -> Option<Run> {
    if Command::new("faketime").arg("--help").output().is_err() {
        common::pg::skip("faketime is not installed (apt-get install faketime)");
        return None;
    }
    let inner = env.command(args);
    let mut cmd = Command::new("faketime");
    cmd.args(["-f", offset])
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    Some(Run::from(
        cmd.output().expect("run routiq-sync under faketime"),
    ))
}

/// `status --json`'s count of org_1's active patients.
fn active(env: &TestEnv) -> u64 {
    let run = env.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("status json");
    doc["orgs"][0]["totals"]["active_patients"]
        .as_u64()
        .unwrap_or_else(|| panic!("{doc}"))
}

fn a_run_under_a_wrong_clock_keeps_the_active_count(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(4)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let before = active(&env);
    assert!(before > 0, "the generated clinic has active patients");
    let Some(ahead) = under_faketime(&env, "+400d", &["sync", "--all", "--force"]) else {
        return;
    };
    ahead.expect_code(0).assert_stderr_has(
        "the host clock is 400 days ahead of Cliniko's (tolerance 2 min): deleting by age waits",
    );
    assert_eq!(active(&env), before, "ACTIVE after a run 400 days ahead");
}
