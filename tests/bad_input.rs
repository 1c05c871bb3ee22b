//! Bad input never panics and never modifies files: broken configs and databases exit 2,
//! malformed API responses fail the org with a clear message or parse tolerantly.

mod common;

use common::{TestEnv, write_private};
use fake_cliniko::Fault;

fn assert_no_panic(stderr: &str) {
    common::assert_lacks(stderr, "panicked");
}

#[test]
fn bad_configs_exit_2_with_a_message_naming_the_key() {
    let env = TestEnv::builder().patients(1).appointments_each(0).build();
    let db = format!("database = {:?}\n", env.db_path().display().to_string());
    let ua = "user_agent = \"t (t@example.com)\"\n";
    let org = "[[org]]\nid = \"org_1\"\napi_key = \"abcdefgh1234-au1\"\n";
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed TOML", format!("{db}{ua}{org}[[org]\n"), "TOML"),
        (
            "wrong type",
            format!("{db}{ua}jobs = \"four\"\n{org}"),
            "jobs",
        ),
        (
            "unknown top-level key",
            format!("{db}{ua}colour = 1\n{org}"),
            "colour",
        ),
        (
            "unknown org key",
            format!("{db}{ua}{org}colour = 1\n"),
            "colour",
        ),
        (
            "unknown window key",
            format!(
                "{db}{ua}appointment_window = {{ past_days = 1, future_days = 2, weeks = 3 }}\n{org}"
            ),
            "weeks",
        ),
        (
            "no orgs",
            format!("{db}{ua}"),
            "`org`: no orgs; add at least one [[org]] table",
        ),
        (
            "bad duration",
            format!("{db}{ua}full_sync_every = \"daily\"\n{org}"),
            "full_sync_every",
        ),
        ("zero jobs", format!("{db}{ua}jobs = 0\n{org}"), "jobs"),
        (
            "negative rate",
            format!("{db}{ua}requests_per_minute = -5\n{org}"),
            "requests_per_minute",
        ),
        ("missing user_agent", format!("{db}{org}"), "user_agent"),
        (
            "user_agent without email",
            format!("{db}user_agent = \"MyApp\"\n{org}"),
            "user_agent",
        ),
        ("duplicate org", format!("{db}{ua}{org}{org}"), "org_1"),
        (
            "bad org id",
            format!("{db}{ua}[[org]]\nid = \"org 1!\"\napi_key = \"abcdefgh1234\"\n"),
            "`org[0].id` (org `org 1!`) at line 4: may only contain",
        ),
        (
            "both key kinds",
            format!("{db}{ua}{org}api_key_env = \"X\"\n"),
            "api_key",
        ),
        (
            "no key",
            format!("{db}{ua}[[org]]\nid = \"org_1\"\n"),
            "api_key",
        ),
        (
            "missing env var",
            format!("{db}{ua}[[org]]\nid = \"org_1\"\napi_key_env = \"ROUTIQ_NOPE_NOT_SET\"\n"),
            "ROUTIQ_NOPE_NOT_SET",
        ),
        (
            "bad base_url",
            format!("{db}{ua}{org}base_url = \"ftp://x\"\n"),
            "base_url",
        ),
        (
            "unknown resource",
            format!("{db}{ua}{org}resources = [\"visits\"]\n"),
            "visits",
        ),
        (
            "bad shard",
            format!("{db}{ua}{org}shard = \"nowhere\"\n"),
            "shard",
        ),
    ];
    assert!(cases.len() >= 15);
    for (name, text, needle) in cases {
        write_private(&env.config_path(), &text);
        // `status` never calls Cliniko, so an unset key variable is not an error for it
        // (tests/cli.rs covers that); every other mistake is.
        let commands: &[&[&str]] = if name == "missing env var" {
            &[&["sync", "--all"]]
        } else {
            &[&["sync", "--all"], &["status"]]
        };
        for &args in commands {
            let run = env.run(args);
            assert_eq!(run.code, 2, "{name} ({args:?}): {}", run.stderr);
            run.assert_stderr_has(needle);
            assert_no_panic(&run.stderr);
        }
        assert_eq!(
            std::fs::read_to_string(env.config_path()).unwrap(),
            text,
            "{name}: config untouched"
        );
        assert!(!env.db_path().exists(), "{name}: no database created");
    }
    // A config path that cannot be read as a file.
    let run = env.run_bare(
        &["-c", env.dir.path().to_str().unwrap(), "sync", "--all"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_no_panic(&run.stderr);
}

#[test]
fn a_database_that_is_not_ours_is_refused_untouched() {
    let env = TestEnv::builder().patients(3).appointments_each(0).build();
    std::fs::write(
        env.db_path(),
        b"this is not a database, just text\n".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(env.db_path()).unwrap();
    for args in [&["sync", "--all"][..], &["status", "--json"][..]] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        run.assert_stderr_has("not a routiq-sync database");
    }
    assert_eq!(std::fs::read(env.db_path()).unwrap(), before);

    // A database written by a newer routiq-sync.
    std::fs::remove_file(env.db_path()).unwrap();
    env.run(&["sync", "--all"]).expect_code(0);
    env.db().pragma_update(None, "user_version", 99).unwrap();
    let before = std::fs::read(env.db_path()).unwrap();
    let run = env.run(&["sync", "--all", "--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.assert_stderr_has("newer than this routiq-sync supports");
    assert_eq!(env.run(&["status"]).code, 2);
    assert_eq!(
        std::fs::read(env.db_path()).unwrap(),
        before,
        "newer database untouched"
    );
}

#[test]
fn a_database_path_that_cannot_hold_a_file_is_a_config_error() {
    let env = TestEnv::builder().patients(3).appointments_each(0).build();
    // A folder where the database file should be.
    std::fs::create_dir(env.db_path()).unwrap();
    for args in [&["sync", "--all"][..], &["status", "--json"][..]] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        run.assert_stderr_has(&env.db_path().display().to_string());
        assert_no_panic(&run.stderr);
    }
    // A plain file where the database's folder should be.
    let blocker = env.dir.path().join("blocker");
    std::fs::write(&blocker, "not a folder").unwrap();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let db = env.db_path().display().to_string();
    let inside = blocker.join("routiq.db").display().to_string();
    write_private(&env.config_path(), &config.replace(&db, &inside));
    let run = env.run(&["sync", "--all"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.assert_stderr_has("blocker");
    assert_eq!(env.requests("org_1"), 0, "no org ran");
}

#[test]
fn documentation_examples_served_as_responses_never_panic() {
    let env = TestEnv::builder().appointments_each(0).build();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cliniko");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 20);
    let key = env.key("org_1");
    let mut accepted = 0;
    for path in &names {
        let body = std::fs::read_to_string(path).unwrap();
        // Every attempt at the first page gets the fixture.
        for _ in 0..3 {
            env.fake
                .push_fault(&key, Fault::StatusText(200, body.clone()));
        }
        let run = env.run(&["full", "--all", "--resource", "patients"]);
        env.fake.clear_faults(&key);
        assert_no_panic(&run.stderr);
        assert!(
            matches!(run.code, 0 | 1),
            "{}: {}",
            path.display(),
            run.stderr
        );
        if run.code == 1 {
            // Unusable bodies are retried then reported; an example whose `next` link
            // leads back to itself is caught as a walk that makes no progress.
            assert!(
                run.stderr.contains("bad response from Cliniko")
                    || run.stderr.contains("made no progress"),
                "{}: {}",
                path.display(),
                run.stderr
            );
        } else {
            accepted += 1;
        }
        env.assert_consistent("org_1");
    }
    // The patient lists parse tolerantly (integer ids, "" for null, duplicate keys).
    assert!(accepted >= 2, "{accepted} fixtures accepted");
    let legacy: i64 = env
        .db()
        .query_row("SELECT COUNT(*) FROM patients WHERE id = '1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        legacy, 1,
        "the legacy example's integer id 1 was stored as text"
    );
}

#[test]
fn a_page_with_an_unusable_record_is_rejected_whole() {
    let env = TestEnv::builder().patients(30).appointments_each(0).build();
    let key = env.key("org_1");
    // A JSON float id would lose digits: the whole page is refused, every attempt.
    let body = r#"{"patients": [
        {"id": "1665207664587580801", "first_name": "Fine", "updated_at": "2020-01-01T00:00:00Z"},
        {"id": 1.66520766458758e18, "first_name": "Float", "updated_at": "2020-01-01T00:00:01Z"}
    ], "total_entries": 2, "links": {"self": "x"}}"#;
    for _ in 0..3 {
        env.fake
            .push_fault(&key, Fault::StatusText(200, body.into()));
    }
    let run = env.run(&["sync", "--all", "--resource", "patients"]);
    run.expect_code(1);
    run.assert_stderr_has("invalid `id`");
    let rows = env.count("SELECT COUNT(*) FROM patients");
    assert_eq!(rows, 0, "no partial page");
}
