//! `routiq-sync check` through the real binary against the fake Cliniko: a good key, a
//! rejected key, an unreachable address, where settings came from, and exit codes.

mod common;

use std::time::{Duration, Instant};

use common::{TestEnv, write_private};

/// The probe line of `org` in `check` output.
fn probe_line<'a>(stdout: &'a str, org: &str) -> &'a str {
    let block = stdout
        .split("\norg ")
        .find(|b| b.starts_with(org))
        .unwrap_or_else(|| panic!("no block for {org} in:\n{stdout}"));
    block
        .lines()
        .find(|l| l.trim_start().starts_with("probe"))
        .unwrap_or_else(|| panic!("no probe line for {org} in:\n{stdout}"))
}

#[test]
fn good_keys_pass_and_settings_show_their_source() {
    let env = TestEnv::builder().orgs(2).appointments_each(0).build();
    let run = env.run(&["check"]);
    run.expect_code(0);
    let out = &run.stdout;
    for org in ["org_1", "org_2"] {
        assert!(
            probe_line(out, org).contains("ok: key accepted"),
            "{org}:\n{out}"
        );
    }
    assert!(out.contains("check passed: 2 of 2 orgs ok"), "{out}");
    assert!(out.contains("found via  the --config flag"), "{out}");
    // TestEnv writes retry_attempts and leaves min_interval to its default.
    let setting = |name: &str| setting(out, name);
    assert!(setting("retry_attempts").ends_with("(config file)"));
    // `check` promises every setting: each top-level key has its line.
    for key in routiq_sync::config::SETTINGS {
        setting(key);
    }
    assert!(setting("retry_delay").contains("100ms"), "{out}");
    assert!(setting("retry_delay").ends_with("(config file)"));
    assert!(setting("min_interval").contains("30m"));
    assert!(setting("min_interval").ends_with("(default)"));
    assert!(setting("lock_dir").contains(env.lock_dir().to_str().unwrap()));
    assert!(out.contains(env.db_path().to_str().unwrap()));
    assert!(out.contains("not created yet"), "{out}");
    // One cheap request per org, and no key anywhere.
    assert_eq!(env.requests("org_1"), 1);
    assert_eq!(env.fake.stats(&env.key("org_1")).path_count("/v1/user"), 1);
    for (_, key) in &env.orgs {
        run.assert_never_prints("a key", key);
    }

    // After a sync the database is reported with its schema version.
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["check", "--org", "org_2"]);
    run.expect_code(0);
    assert!(run.stdout.contains("schema version"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("\norg org_1"),
        "only org_2 was asked for"
    );
    assert!(run.stdout.contains("check passed: 1 of 1 orgs ok"));
}

#[test]
fn rejected_and_unreachable_orgs_fail_the_check_without_stopping_it() {
    let env = TestEnv::builder().patients(3).appointments_each(0).build();
    let good = env.orgs[0].clone();
    let wrong_key = "WrongKeyWrongKeyWrongKey1234-au1";
    let text = format!(
        "database = {db:?}\nuser_agent = \"tests (tests@example.com)\"\n\
         [[org]]\nid = \"good\"\napi_key_env = \"ROUTIQ_TEST_GOOD_KEY\"\nbase_url = {url:?}\n\
         [[org]]\nid = \"bad\"\napi_key = {wrong_key:?}\nbase_url = {url:?}\n\
         [[org]]\nid = \"down\"\napi_key = {key:?}\nbase_url = \"http://127.0.0.1:1/v1\"\n",
        db = env.db_path().display().to_string(),
        url = env.fake.base_url(),
        // Its own key (never sent anywhere that answers): two orgs may not share one.
        key = "DownKeyDownKeyDownKey1234-au1",
    );
    write_private(&env.config_path(), &text);
    let began = Instant::now();
    let run = env.run_env(&["check"], &[("ROUTIQ_TEST_GOOD_KEY", good.1.as_str())]);
    let took = began.elapsed();
    run.expect_code(1);
    let out = &run.stdout;
    assert!(probe_line(out, "good").contains("ok"), "{out}");
    let bad = probe_line(out, "bad");
    assert!(
        bad.contains("rejected") && bad.contains("HTTP 401"),
        "{bad}"
    );
    assert!(
        bad.contains("api_key of org bad"),
        "says which entry: {bad}"
    );
    let down = probe_line(out, "down");
    assert!(down.contains("unreachable"), "{down}");
    assert!(
        out.contains("check FAILED: bad rejected, down unreachable"),
        "{out}"
    );
    assert!(
        out.contains("from $ROUTIQ_TEST_GOOD_KEY (environment)"),
        "{out}"
    );
    assert!(
        took < Duration::from_secs(10),
        "an unreachable host must not hold check up ({took:?})"
    );
    for secret in [wrong_key, good.1.as_str()] {
        run.assert_never_prints("a key", secret);
    }
}

#[test]
fn config_path_provenance_and_config_errors() {
    let env = TestEnv::builder().patients(2).appointments_each(0).build();
    let path = env.config_path();
    let run = env.run_bare(
        &["check"],
        &[("ROUTIQ_SYNC_CONFIG", path.to_str().unwrap())],
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("found via  $ROUTIQ_SYNC_CONFIG (environment)"),
        "{}",
        run.stdout
    );

    // The per-user default: $HOME/.config/routiq-sync/config.toml (HOME is the temp dir).
    let user = env.dir.path().join(".config/routiq-sync/config.toml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::copy(&path, &user).unwrap();
    let run = env.run_bare(&["check"], &[]);
    run.expect_code(0);
    assert!(run.stdout.contains("per-user default"), "{}", run.stdout);

    env.run(&["check", "--org", "nope"]).expect_code(2);
    write_private(&path, "user_agent = \"x (x@example.com)\"\ncolour = 1\n");
    let run = env.run(&["check"]);
    run.expect_code(2);
    run.assert_stderr_has("colour");
}

#[test]
fn monitoring_settings_show_their_source() {
    let env = TestEnv::builder().appointments_each(0).build();
    env.write_config(
        "max_run_time = \"50m\"\nping_url = \"http://ops:pingpass99@127.0.0.1:9/abc\"\n\
         keep_runs = \"never\"\nlog_format = \"text\"",
    );
    let run = env.run(&["check"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(setting(out, "max_run_time").contains("50m"), "{out}");
    assert!(setting(out, "max_run_time").ends_with("(config file)"));
    let ping = setting(out, "ping_url");
    assert!(
        ping.contains("http://ops:[redacted]@127.0.0.1:9/abc"),
        "{ping}"
    );
    assert!(!out.contains("pingpass99"), "{out}");
    assert!(setting(out, "keep_runs").contains("never"));
    assert!(setting(out, "purge_deleted_after").contains("30d"));
    assert!(setting(out, "purge_deleted_after").ends_with("(default)"));
    assert!(
        setting(out, "log_format").ends_with("(config file)"),
        "{out}"
    );

    let run = env.run_env(&["check"], &[("ROUTIQ_SYNC_LOG_FORMAT", "text")]);
    assert!(
        setting(&run.stdout, "log_format").ends_with("($ROUTIQ_SYNC_LOG_FORMAT (environment))"),
        "{}",
        run.stdout
    );
    let run = env.run_env(
        &["--log-format", "text", "check"],
        &[("ROUTIQ_SYNC_LOG_FORMAT", "json")],
    );
    assert!(
        setting(&run.stdout, "log_format").ends_with("(--log-format flag)"),
        "{}",
        run.stdout
    );
}

/// The line of `check`'s settings table for `name`.
fn setting(out: &str, name: &str) -> String {
    out.lines()
        .find(|l| l.trim_start().starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} line in:\n{out}"))
        .to_string()
}
