//! `status --format openmetrics`: valid exposition text (checked by a small parser here,
//! and by `promtool check metrics` when Prometheus is installed), an `org` label on every
//! per-org series, and the same values as `status --json`.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

use common::TestEnv;
use fake_cliniko::Fault;
use routiq_sync::timestamp::Timestamp;
use serde_json::Value;

/// `(name, labels) -> value`, from exposition text; panics on anything malformed.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `{a="x",b="y\"z"}` (the text after the metric name) into labels and the rest.
fn parse_labels(s: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else {
        return (labels, s);
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let eq = rest.find('=').expect("label without =");
        let name = &rest[..eq];
        assert!(is_name(name), "bad label name {name:?}");
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .expect("label value quoted");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (_, '\\') => match chars.next().expect("escape").1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c}"),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_string(), value).is_none(),
            "duplicate label"
        );
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// The exposition format's rules that matter here: HELP and TYPE before a family's
/// samples, each family in one block, valid names, unique series, numeric values.
fn parse_exposition(text: &str) -> Samples {
    let mut samples = Samples::new();
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().expect("a name"));
            assert!(is_name(name), "{line}");
            let fresh = match kind {
                "HELP" => helped.insert(name.to_string()),
                "TYPE" => {
                    assert_eq!(parts.next(), Some("gauge"), "{line}");
                    typed.insert(name.to_string())
                }
                _ => panic!("unexpected comment {line}"),
            };
            assert!(fresh, "second {kind} for {name}");
            if current.as_deref() != Some(name)
                && let Some(done) = current.replace(name.to_string())
            {
                finished.insert(done);
            }
            assert!(!finished.contains(name), "{name} split into two blocks");
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("name then value");
        let name = &line[..name_end];
        assert!(is_name(name), "{line}");
        assert_eq!(
            current.as_deref(),
            Some(name),
            "sample outside its family: {line}"
        );
        assert!(helped.contains(name) && typed.contains(name), "{line}");
        let (labels, rest) = parse_labels(&line[name_end..]);
        let value: f64 = rest
            .strip_prefix(' ')
            .expect("space before value")
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(
            samples.insert((name.to_string(), labels), value).is_none(),
            "duplicate series {line}"
        );
    }
    samples
}

/// Runs `promtool check metrics` on `text` when promtool is installed.
fn promtool_accepts(text: &str) -> Option<bool> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!(
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(out.status.success())
}

fn get(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (
        name.to_string(),
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    *samples
        .get(&key)
        .unwrap_or_else(|| panic!("no {name}{labels:?}"))
}

fn epoch(v: &Value) -> f64 {
    v.as_str()
        .and_then(Timestamp::parse)
        .map_or(0.0, |t| t.unix() as f64)
}

#[test]
fn openmetrics_parses_and_matches_status_json() {
    let env = TestEnv::builder()
        .orgs(3)
        .patients(40)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    // org_2's next run fails, so the metrics show a failed, unhealthy org too.
    env.fail_after_first_page("org_2", &[Fault::Status(401)]);
    env.run(&["full", "--org", "org_2"]).expect_code(1);

    let metrics = env.run(&["status", "--format", "openmetrics"]);
    metrics.expect_code(1);
    let json = env.run(&["status", "--format", "json"]);
    json.expect_code(1);
    let samples = parse_exposition(&metrics.stdout);
    if let Some(ok) = promtool_accepts(&metrics.stdout) {
        assert!(ok, "promtool rejected:\n{}", metrics.stdout);
    } else {
        eprintln!("promtool not installed; checked with the built-in parser only");
    }

    // Every series but the generation time names an org, and every org appears.
    for (name, labels) in samples.keys() {
        if name != "routiq_sync_status_timestamp_seconds" {
            assert!(labels.contains_key("org"), "{name} {labels:?}");
        }
    }
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    for o in doc["orgs"].as_array().unwrap() {
        let id = o["id"].as_str().unwrap();
        let org = [("org", id)];
        let b = |v: &Value| if v.as_bool().unwrap() { 1.0 } else { 0.0 };
        assert_eq!(get(&samples, "routiq_sync_healthy", &org), b(&o["healthy"]));
        assert_eq!(
            get(&samples, "routiq_sync_running", &org),
            b(&o["sync_running"])
        );
        for (metric, field) in [
            (
                "routiq_sync_last_success_timestamp_seconds",
                "last_success_at",
            ),
            (
                "routiq_sync_last_full_sync_timestamp_seconds",
                "last_full_sync_at",
            ),
            ("routiq_sync_next_due_timestamp_seconds", "next_due_at"),
            (
                "routiq_sync_next_full_sync_timestamp_seconds",
                "next_full_sync_at",
            ),
        ] {
            // next_due_at is "now" at the latest: the two commands may straddle a second.
            let diff = (get(&samples, metric, &org) - epoch(&o[field])).abs();
            assert!(diff <= 2.0, "{id} {metric}: {diff}");
        }
        let run = &o["last_run"];
        assert_eq!(
            get(&samples, "routiq_sync_last_run_timestamp_seconds", &org),
            epoch(&run["started_at"])
        );
        assert_eq!(
            get(
                &samples,
                "routiq_sync_last_run_finished_timestamp_seconds",
                &org
            ),
            epoch(&run["finished_at"])
        );
        assert_eq!(
            get(&samples, "routiq_sync_last_run_duration_seconds", &org),
            run["duration_ms"].as_u64().unwrap() as f64 / 1000.0
        );
        assert_eq!(
            get(&samples, "routiq_sync_last_run_api_calls", &org),
            run["api_calls"].as_u64().unwrap() as f64
        );
        let status = run["status"].as_str().unwrap();
        assert_eq!(
            get(&samples, "routiq_sync_last_run_ok", &org),
            if status == "ok" { 1.0 } else { 0.0 }
        );
        assert_eq!(
            get(
                &samples,
                "routiq_sync_last_run_status",
                &[("org", id), ("status", status)]
            ),
            1.0
        );
        for (resource, c) in run["resources"].as_object().unwrap() {
            for kind in ["fetched", "written", "archived", "deleted"] {
                assert_eq!(
                    get(
                        &samples,
                        "routiq_sync_last_run_records",
                        &[("org", id), ("resource", resource), ("kind", kind)]
                    ),
                    c[kind].as_u64().unwrap() as f64
                );
            }
        }
        for (resource, n) in o["totals"].as_object().unwrap() {
            let value = n.as_u64().unwrap() as f64;
            if resource == "active_patients" {
                assert_eq!(get(&samples, "routiq_sync_active_patients", &org), value);
            } else {
                assert_eq!(
                    get(
                        &samples,
                        "routiq_sync_records",
                        &[("org", id), ("resource", resource)]
                    ),
                    value
                );
            }
        }
        for (resource, at) in o["cursors"].as_object().unwrap() {
            assert_eq!(
                get(
                    &samples,
                    "routiq_sync_cursor_timestamp_seconds",
                    &[("org", id), ("resource", resource)]
                ),
                epoch(at)
            );
        }
    }
    assert_eq!(
        get(&samples, "routiq_sync_healthy", &[("org", "org_2")]),
        0.0
    );
    assert_eq!(
        get(&samples, "routiq_sync_healthy", &[("org", "org_1")]),
        1.0
    );
    assert_eq!(
        get(
            &samples,
            "routiq_sync_records",
            &[("org", "org_1"), ("resource", "patients")]
        ),
        40.0
    );
}

#[test]
fn json_and_format_json_are_the_same_and_conflict_together() {
    let env = TestEnv::builder().appointments_each(0).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("generated_at"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = env.run(&["status", "--json"]);
    let b = env.run(&["status", "--format", "json"]);
    assert_eq!(strip(&a.stdout), strip(&b.stdout));
    env.run(&["status", "--json", "--format", "table"])
        .expect_code(2);
    let empty = env.run(&["status", "--format", "openmetrics", "--org", "org_1"]);
    empty.expect_code(0);
    parse_exposition(&empty.stdout);
}
