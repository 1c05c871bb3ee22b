//! What the operator reads after things go wrong says what happened: a run killed with
//! `kill -9` shows as interrupted (not as a run still going), the next run says what it
//! does with it, a folder given as the database gets the real error first, a store that
//! cannot be reached is a failure (not a skip), and a top-level setting written after an
//! `[[org]]` line is named as such.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestEnv, assert_lacks};
use fake_cliniko::FakeOptions;
use routiq_sync::store::ABANDONED_RUN;

on_both_stores!(a_killed_run_is_shown_as_interrupted_and_the_next_run_says_what_it_does);

/// Panics unless some line of `text` ends with `line` (log lines begin with a time).
#[track_caller]
fn assert_line_ends(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l.ends_with(line)),
        "no line ending with `{line}` in:\n{text}"
    );
}

/// Panics unless `text` has exactly the line `line`.
#[track_caller]
fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line `{line}` in:\n{text}"
    );
}

fn a_killed_run_is_shown_as_interrupted_and_the_next_run_says_what_it_does(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(3000)
        .appointments_each(0)
        .options(FakeOptions {
            latency: Duration::from_millis(20),
            ..FakeOptions::default()
        })
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    // A full walk, killed while its run is recorded as running.
    let mut child = env.spawn(&["full", "--all"]);
    let began = Instant::now();
    while env.last_run_status("org_1").as_deref() != Some("running") {
        assert!(
            began.elapsed() < Duration::from_secs(30)
                && child.try_wait().expect("try_wait").is_none(),
            "the full run never showed as running"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    assert_eq!(env.last_run_status("org_1").as_deref(), Some("running"));

    let status = env.run(&["status"]);
    status.expect_code(1);
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with("org_1 "))
        .unwrap_or_else(|| panic!("no row for org_1:\n{}", status.stdout));
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert!(
        columns.contains(&"interrupted") && !columns.contains(&"running"),
        "{row}"
    );
    assert_eq!(columns.last(), Some(&"no"), "not running: {row}");
    assert_line(
        &status.stdout,
        &format!("! org_1: last run interrupted: {ABANDONED_RUN}"),
    );
    assert_lacks(&status.stdout, "no details");
    let json = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("status json");
    assert_eq!(v["orgs"][0]["last_run"]["status"], "interrupted");
    assert_eq!(v["orgs"][0]["sync_running"], false);

    // The last success was moments ago: the next plain sync closes the killed run and
    // skips the org, and says so rather than "continuing".
    let next = env.run(&["sync", "--all"]);
    next.expect_code(0);
    assert_line_ends(
        &next.stderr,
        " WARN  org_1: an earlier run's end was never recorded (its process was killed or \
         crashed, or the database could not be written when it ended); recorded it as \
         interrupted; this run skips the org (synced recently); the next due run continues \
         from its last committed page",
    );
    next.assert_stderr_lacks("continuing");
    next.assert_stderr_has("org_1 skipped: synced recently");
    assert_eq!(env.last_run_status("org_1").as_deref(), Some("interrupted"));
}

#[test]
fn a_folder_given_as_the_database_gets_the_real_error_and_no_chmod_advice() {
    let env = TestEnv::builder().appointments_each(0).build();
    let folder = env.dir.path().join("data");
    std::fs::create_dir(&folder).expect("a folder");
    // World-readable, as folders are.
    std::fs::set_permissions(&folder, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod 755");
    env.set_config_line(
        "database",
        &format!("database = {:?}", folder.display().to_string()),
    );
    for args in [&["sync", "--all"][..], &["status"][..]] {
        let run = env.run(args);
        run.expect_code(2)
            .assert_stderr_has("it is a folder; point `database` in the config at another file")
            .assert_stderr_lacks("chmod 600");
    }
}

#[test]
fn a_store_that_cannot_be_reached_is_a_failure_not_a_skip() {
    let env = TestEnv::builder().appointments_each(0).build();
    // Nothing listens on port 1: the connection is refused at once.
    env.set_config_line(
        "database",
        "database = \"postgres://routiq:pw@127.0.0.1:1/clinics?sslmode=disable\"",
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    assert_line_ends(
        &run.stderr,
        " ERROR org_1 FAILED before syncing anything: 0 API calls, 0.0s: cannot connect to \
         PostgreSQL at host 127.0.0.1, port 1, database clinics: error connecting to server: \
         Connection refused (os error 111); check that the server is running and reachable \
         from this host",
    );
    run.assert_stderr_lacks("skipped");
}

#[test]
fn a_top_level_setting_after_an_org_line_is_named_as_one() {
    let env = TestEnv::builder().appointments_each(0).build();
    let config = std::fs::read_to_string(env.config_path()).expect("config");
    common::write_private(&env.config_path(), &format!("{config}jobs = 2\n"));
    let run = env.run(&["check"]);
    run.expect_code(2).assert_stderr_has(
        "`jobs` is a top-level setting, but it comes after an [[org]] line, so TOML reads it \
         as part of that org's table: move it above the first [[org]]",
    );
    // A key no table has is still just unknown.
    common::write_private(&env.config_path(), &format!("{config}jbos = 2\n"));
    env.run(&["check"])
        .expect_code(2)
        .assert_stderr_has("unknown field `jbos`")
        .assert_stderr_has("remove it or fix its spelling");
}
