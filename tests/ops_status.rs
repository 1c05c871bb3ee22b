//! The human `status` table through the real binary: aligned, plain when stdout is not a
//! terminal or `NO_COLOR` is set, coloured on a terminal, errors one line per org, and
//! `--json` untouched by any of it.

mod common;

use std::process::Command;

use common::{Backend, TestEnv};

/// Runs the binary with stdout on a pseudo-terminal (util-linux `script`); `None` when
/// `script` is not installed.
fn run_on_terminal(env: &TestEnv, args: &str, extra_env: &[(&str, &str)]) -> Option<String> {
    let command = format!(
        "{} -c {} {args}",
        env!("CARGO_BIN_EXE_routiq-sync"),
        env.config_path().display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn table_is_plain_off_a_terminal_and_with_no_color() {
    let env = TestEnv::builder().orgs(2).patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    for extra in [&[][..], &[("NO_COLOR", "1")][..]] {
        let run = env.run_env(&["status"], extra);
        run.expect_code(0);
        assert!(
            !run.stdout.contains('\x1b'),
            "escape codes in:\n{}",
            run.stdout
        );
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert!(lines[0].starts_with("ORG"), "{}", run.stdout);
        // Columns line up: each org line has its result under RESULT.
        let at = lines[0].find("RESULT").unwrap();
        let patients = lines[0].find("PATIENTS").unwrap();
        for line in &lines[1..3] {
            assert_eq!(line.get(at..at + 2), Some("ok"), "{}", run.stdout);
            assert_eq!(line.get(patients..patients + 3), Some("10 "), "{line}");
            assert!(line.contains("s ago") || line.contains("min ago"), "{line}");
        }
        assert_eq!(lines[3], "all 2 orgs are healthy");
    }
}

#[test]
fn colours_only_on_a_terminal_and_never_with_no_color() {
    let env = TestEnv::builder().appointments_each(0).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let Some(coloured) = run_on_terminal(&env, "status", &[]) else {
        common::pg::skip("`script` (util-linux) is not installed: no terminal to run on");
        return;
    };
    assert!(coloured.contains("\x1b[32mok\x1b[0m"), "{coloured:?}");
    let plain = run_on_terminal(&env, "status", &[("NO_COLOR", "1")]).unwrap();
    assert!(plain.contains("ORG"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
    // JSON is never coloured, even on a terminal.
    let json = run_on_terminal(&env, "status --json", &[]).unwrap();
    assert!(!json.contains('\x1b'), "{json:?}");
    // stderr shares the terminal: skip log lines (a requests_per_minute warning) before it.
    let start = json.find('{').expect("a JSON document");
    let v: serde_json::Value = serde_json::from_str(json[start..].trim()).unwrap();
    assert_eq!(v["orgs"][0]["id"], "org_1");
}

on_both_stores!(a_failing_org_gets_one_error_line_and_json_keeps_its_fields);

fn a_failing_org_gets_one_error_line_and_json_keeps_its_fields(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .orgs(2)
        .appointments_each(0)
        .build();
    let mut orgs = env.orgs.clone();
    orgs[1].1 = "NotTheRightKeyAtAll1234-au1".to_string();
    env.write_config_with("", &orgs);
    env.run(&["sync", "--all"]).expect_code(1);
    let run = env.run(&["status"]);
    run.expect_code(1);
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with('!')).collect();
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(errors[0].starts_with("! org_2: "), "{}", errors[0]);
    assert!(errors[0].contains("last run failed"), "{}", errors[0]);
    assert!(errors[0].contains("rejected"), "{}", errors[0]);
    assert!(
        run.stdout.ends_with("1 of 2 orgs unhealthy\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("NotTheRightKeyAtAll1234"));

    let run = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let org = &v["orgs"][1];
    assert_eq!(org["healthy"], false);
    assert_eq!(org["last_run"]["status"], "failed");
    for field in ["next_due_at", "cursors", "totals", "sync_running"] {
        assert!(org.get(field).is_some(), "{field}");
    }
}
