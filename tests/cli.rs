//! Command-line contract: config errors, status output and exit codes.

mod common;

use common::{Backend, TestEnv, write_private};

#[test]
fn config_errors_exit_2_and_name_the_problem() {
    let env = TestEnv::builder().appointments_each(0).build();
    let base = format!(
        "database = {:?}\nuser_agent = \"t (t@example.com)\"\n",
        env.db_path().display().to_string()
    );
    let org = "[[org]]\nid = \"org_1\"\napi_key = \"abcdefgh-au1\"\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown key",
            format!("{base}colour = \"blue\"\n{org}"),
            "colour",
        ),
        (
            "bad duration",
            format!("{base}min_interval = \"soon\"\n{org}"),
            "min_interval",
        ),
        ("duplicate org", format!("{base}{org}{org}"), "org_1"),
        (
            "missing env var",
            format!("{base}[[org]]\nid = \"org_9\"\napi_key_env = \"ROUTIQ_TEST_UNSET_VAR\"\n"),
            "ROUTIQ_TEST_UNSET_VAR",
        ),
    ];
    for (name, text, needle) in cases {
        write_private(&env.config_path(), &text);
        let run = env.run(&["sync", "--all"]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        run.assert_stderr_has(needle);
        run.assert_stderr_has("config.toml");
        assert!(!env.db_path().exists(), "{name}: nothing was synced");
    }
    let run = env.run_bare(&["-c", "/nonexistent/routiq.toml", "status"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.assert_stderr_has("/nonexistent/routiq.toml");
    // With no config anywhere, the error names every place tried.
    let run = env.run_bare(&["status"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.assert_stderr_has("/etc/routiq-sync/config.toml");
    run.assert_stderr_has(".config/routiq-sync/config.toml");
}

on_both_stores!(status_json_has_every_contract_field_and_max_age_sets_the_exit_code);

fn status_json_has_every_contract_field_and_max_age_sets_the_exit_code(store: Backend) {
    let env = TestEnv::builder().on(store).patients(15).build();
    env.run(&["status"]).expect_code(1); // never synced
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["status", "--json"]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for field in ["generated_at", "database", "healthy", "orgs"] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    let org = &v["orgs"][0];
    for field in [
        "id",
        "name",
        "healthy",
        "sync_running",
        "last_success_at",
        "last_full_sync_at",
        "next_due_at",
        "next_full_sync_at",
        "last_verify_at",
        "next_verify_at",
        "last_run",
        "cursors",
        "totals",
    ] {
        assert!(org.get(field).is_some(), "missing orgs[0].{field}");
    }
    let last = &org["last_run"];
    for field in [
        "mode",
        "status",
        "started_at",
        "finished_at",
        "duration_ms",
        "api_calls",
        "error",
        "resources",
    ] {
        assert!(last.get(field).is_some(), "missing last_run.{field}");
    }
    for field in [
        "mode",
        "fetched",
        "written",
        "archived",
        "deleted",
        "api_calls",
    ] {
        assert!(
            last["resources"]["patients"].get(field).is_some(),
            "missing last_run.resources.patients.{field}"
        );
    }
    assert!(org["next_full_sync_at"].is_string());
    assert!(org["next_verify_at"].is_string());
    // `problem` is there only when the org is unhealthy.
    assert!(org.get("problem").is_none(), "{org}");
    assert_eq!(last["status"], "ok");
    assert_eq!(last["mode"], "full");
    assert_eq!(org["totals"]["patients"], 15);
    assert!(last["resources"]["patients"]["fetched"].as_u64().unwrap() >= 15);
    assert!(org["cursors"]["appointments"].is_string());
    assert_eq!(org["sync_running"], false);

    env.run(&["status", "--max-age", "6h"]).expect_code(0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    env.run(&["status", "--max-age", "1s"]).expect_code(1);
    env.run(&["status", "--max-age", "bogus"]).expect_code(2);

    // A failed run: the org is unhealthy and `problem` says why.
    env.write_config_with("", &[("org_1".to_string(), "wrong-key".to_string())]);
    env.run(&["sync", "--all", "--force"]).expect_code(1);
    let run = env.run(&["status", "--json"]);
    run.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let org = &v["orgs"][0];
    assert_eq!(org["healthy"], false);
    let problem = org["problem"]
        .as_str()
        .expect("orgs[0].problem is a string");
    assert!(problem.contains("API key"), "{problem}");
}

#[test]
fn help_describes_every_command() {
    let env = TestEnv::builder().patients(1).appointments_each(0).build();
    let run = env.run(&["--help"]);
    run.expect_code(0);
    // The names in the `Commands:` section, each at the start of its line (a bare
    // `contains("sync")` would match the program's name).
    let listed: Vec<&str> = run
        .stdout
        .split_once("Commands:\n")
        .expect("a Commands section")
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let commands = [
        "sync",
        "full",
        "verify",
        "status",
        "check",
        "forget",
        "demo",
        "completions",
    ];
    assert_eq!(
        listed,
        [&commands[..], &["help"]].concat(),
        "{}",
        run.stdout
    );
    // The test's list is the CLI's: a new command must be added here (and documented).
    use clap::CommandFactory;
    let defined: Vec<String> = routiq_sync::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert_eq!(defined, commands);
    for cmd in commands {
        let help = env.run(&[cmd, "--help"]);
        help.expect_code(0);
        assert!(
            help.stdout.contains(&format!("Usage: routiq-sync {cmd}")),
            "{cmd} --help:\n{}",
            help.stdout
        );
    }
    // Usage errors are exit 2 too.
    assert_eq!(env.run(&["sync"]).code, 2);
}

#[test]
fn status_works_without_the_key_variables_that_sync_needs() {
    let env = TestEnv::builder().appointments_each(0).build();
    let text = format!(
        "database = {:?}\nuser_agent = \"t (t@example.com)\"\n\
         [[org]]\nid = \"org_1\"\napi_key_env = \"ROUTIQ_TEST_KEY_NOT_EXPORTED\"\n",
        env.db_path().display().to_string()
    );
    write_private(&env.config_path(), &text);
    let sync = env.run(&["sync", "--all"]);
    assert_eq!(sync.code, 2, "{}", sync.stderr);
    sync.assert_stderr_has("ROUTIQ_TEST_KEY_NOT_EXPORTED");
    // A monitor without the keys can still ask how things are (never synced: exit 1).
    let status = env.run(&["status", "--json"]);
    assert_eq!(status.code, 1, "{}", status.stderr);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["id"], "org_1");
}
