//! `--log-format json` (and `log_format`, `$ROUTIQ_SYNC_LOG_FORMAT`): every stderr line
//! is one JSON object, the per-org summaries carry their parts as fields, and secrets
//! stay scrubbed.

mod common;

use common::TestEnv;
use fake_cliniko::Fault;
use serde_json::Value;

/// Every stderr line parsed; panics on the first line that is not a JSON object.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n--- stderr\n{stderr}"));
            assert!(v.is_object(), "{l}");
            for key in ["ts", "level", "msg"] {
                assert!(v[key].is_string(), "no {key} in {l}");
            }
            let ts = v["ts"].as_str().unwrap();
            assert!(
                ts.ends_with('Z') && routiq_sync::timestamp::Timestamp::parse(ts).is_some(),
                "ts is not RFC 3339 UTC: {ts}"
            );
            v
        })
        .collect()
}

fn summaries(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|v| v.get("status").is_some()).collect()
}

#[test]
fn json_lines_carry_the_summary_fields() {
    let env = TestEnv::builder().orgs(2).patients(30).build();
    let run = env.run(&["--log-format", "json", "-v", "sync", "--all"]);
    run.expect_code(0);
    let lines = json_lines(&run.stderr);
    let sums = summaries(&lines);
    assert_eq!(sums.len(), 2, "{}", run.stderr);
    for s in &sums {
        let org = s["org"].as_str().unwrap();
        assert!(org == "org_1" || org == "org_2");
        assert_eq!(s["level"], "info");
        assert_eq!(s["mode"], "full");
        assert_eq!(s["status"], "ok");
        assert!(s["error"].is_null());
        assert!(s["api_calls"].as_u64().unwrap() > 0);
        assert!(s["duration_ms"].is_u64());
        let patients = &s["resources"]["patients"];
        assert_eq!(patients["fetched"], 30, "{s}");
        assert_eq!(patients["written"], 30);
        for k in ["archived", "deleted"] {
            assert!(patients[k].is_u64(), "{k} in {s}");
        }
        assert!(s["msg"].as_str().unwrap().starts_with(org));
    }
    // Debug lines about one org name it too.
    assert!(
        lines
            .iter()
            .any(|v| v["level"] == "debug" && v["org"] == "org_1"),
        "{}",
        run.stderr
    );
}

#[test]
fn env_and_config_choose_json_and_the_flag_wins() {
    let env = TestEnv::builder().appointments_each(0).build();
    let run = env.run_env(&["sync", "--all"], &[("ROUTIQ_SYNC_LOG_FORMAT", "json")]);
    run.expect_code(0);
    assert_eq!(summaries(&json_lines(&run.stderr)).len(), 1);

    env.write_config("log_format = \"json\"");
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    assert_eq!(summaries(&json_lines(&run.stderr)).len(), 1);

    // The flag over the environment over the config.
    let run = env.run_env(
        &["--log-format", "text", "sync", "--all", "--force"],
        &[("ROUTIQ_SYNC_LOG_FORMAT", "json")],
    );
    run.expect_code(0);
    run.assert_stderr_has(" INFO  org_1 incremental ok");
    let run = env.run_env(
        &["sync", "--all", "--force"],
        &[("ROUTIQ_SYNC_LOG_FORMAT", "text")],
    );
    run.assert_stderr_has(" INFO  org_1 incremental ok");

    let run = env.run_env(&["status"], &[("ROUTIQ_SYNC_LOG_FORMAT", "yaml")]);
    run.expect_code(2);
    run.assert_stderr_has("ROUTIQ_SYNC_LOG_FORMAT");
}

#[test]
fn failures_and_errors_are_json_too_and_scrubbed() {
    let env = TestEnv::builder()
        .patients(150)
        .appointments_each(0)
        .build();
    env.fail_after_first_page("org_1", &[Fault::Status(401)]);
    let run = env.run(&["--log-format", "json", "sync", "--all"]);
    run.expect_code(1);
    let lines = json_lines(&run.stderr);
    let sums = summaries(&lines);
    assert_eq!(sums.len(), 1, "{}", run.stderr);
    assert_eq!(sums[0]["status"], "failed");
    assert_eq!(sums[0]["level"], "error");
    assert!(
        sums[0]["error"].as_str().unwrap().contains("401"),
        "{}",
        sums[0]
    );
    run.assert_stderr_lacks(&env.key("org_1"));

    // A config error stops the command: still one JSON object per line.
    env.write_config("min_interval = \"soon\"");
    let run = env.run(&["--log-format", "json", "sync", "--all"]);
    run.expect_code(2);
    let lines = json_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert_eq!(lines[0]["level"], "error");
    assert!(lines[0]["msg"].as_str().unwrap().contains("min_interval"));
}
