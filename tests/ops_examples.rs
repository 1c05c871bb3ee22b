//! Every example output the docs show (a fenced block after `<!-- example: NAME -->` in
//! README.md or docs/*.md) is held against what the real binary prints for the same
//! situation, as `ops_readme.rs` runs the documented commands. Values that differ from
//! run to run (counts, times, durations) are compared by shape; everything else (column
//! headers and order, words, field names) must match exactly.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Run, TestEnv, write_private};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The block after `<!-- example: name -->`, wherever the docs keep it.
fn example(name: &str) -> String {
    let marker = format!("<!-- example: {name} -->");
    let mut files = vec![root().join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root().join("docs")) {
        files.extend(
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md")),
        );
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let Some(at) = text.find(&marker) else {
            continue;
        };
        let rest = &text[at + marker.len()..];
        let body = rest
            .trim_start()
            .strip_prefix("```")
            .and_then(|b| b.split_once('\n'))
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("{}: no block after {marker}", file.display()));
        let end = body.find("\n```").expect("a closed block");
        return body[..end + 1].to_string();
    }
    panic!("no {marker} in README.md or docs/*.md");
}

/// One line with every run-dependent value replaced: a token holding a digit, or `now`, is `N`
/// (a run of them, as in `3h 4m ago`, is one `N`); the words of relative times (`in`,
/// `min`, `ago`) go; spaces collapse (columns are as wide as their values).
fn shape(line: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for token in line.split_whitespace() {
        if matches!(token, "in" | "min" | "ago") {
            continue;
        }
        let token = if token.chars().any(|c| c.is_ascii_digit()) || token == "now" {
            // Keep the punctuation that ends a count (`652 patients,` vs `N patients,`).
            if token.ends_with(',') { "N," } else { "N" }
        } else {
            token
        };
        if token == "N" && out.last() == Some(&"N") {
            continue;
        }
        out.push(token);
    }
    out.join(" ")
}

/// Two orgs as the README's quick start names them: `bondi` synced and healthy,
/// `manly` with a key that Cliniko rejects at its latest run (`api_key_env`), both on
/// the default resources.
fn bondi_and_manly() -> (TestEnv, Run) {
    let env = TestEnv::builder()
        .orgs(2)
        .patients(20)
        .appointments_each(2)
        .build();
    let (bondi, manly) = (env.key("org_1"), env.key("org_2"));
    let text = format!(
        "{}\nlock_dir = {:?}\nuser_agent = \"Routiq Sync (ops@example.com)\"\n\
         requests_per_minute = 100000\nretry_attempts = 2\nretry_delay = \"50ms\"\n\
         [[org]]\nid = \"bondi\"\nname = \"Bondi Physio\"\napi_key = {bondi:?}\nbase_url = {url:?}\n\
         [[org]]\nid = \"manly\"\nname = \"Manly Sports Clinic\"\napi_key_env = \"CLINIKO_KEY_MANLY\"\n\
         base_url = {url:?}\n",
        env.database_line(),
        env.lock_dir().display().to_string(),
        url = env.fake.base_url(),
    );
    write_private(&env.config_path(), &text);
    env.run_env(&["sync", "--all"], &[("CLINIKO_KEY_MANLY", &manly)])
        .expect_code(0);
    env.run_env(
        &["sync", "--all", "--force"],
        &[("CLINIKO_KEY_MANLY", "revoked-key-au1")],
    )
    .expect_code(1);
    let status = env.run_env(&["status"], &[("CLINIKO_KEY_MANLY", "revoked-key-au1")]);
    status.expect_code(1);
    (env, status)
}

#[test]
fn the_status_table_example_is_what_status_prints() {
    let (env, status) = bondi_and_manly();
    let real = status.stdout.replace(
        &env.config_path().display().to_string(),
        "/etc/routiq-sync/config.toml",
    );
    let documented = example("status-table");
    let want: Vec<String> = documented.lines().map(shape).collect();
    let got: Vec<String> = real.lines().map(shape).collect();
    assert_eq!(
        want, got,
        "the README's status example (left) differs from the real output:\n{real}"
    );
    // Every column the real table has (ACTIVE included) is in the example, in order;
    // the columns' widths follow their values, so the header's spacing may differ.
    assert!(
        documented.starts_with("ORG ") && documented.lines().next().unwrap().contains(" ACTIVE ")
    );
    // The table fits 100 columns, in the example and for real; a problem line (`!`) is
    // one line of prose however long, so that `grep '^!'` gets it whole.
    for line in documented.lines().chain(real.lines()) {
        if !line.starts_with('!') {
            assert!(
                line.chars().count() <= 100,
                "wider than 100 columns: {line}"
            );
        }
    }
}

/// The object paths (`orgs[].last_run.status`, ...) of a JSON value.
fn paths(v: &serde_json::Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{at}.{k}");
                out.insert(p.clone());
                paths(v, &p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                paths(item, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_status_json_example_has_the_real_fields() {
    let env = TestEnv::builder().patients(10).appointments_each(2).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["status", "--json"]);
    run.expect_code(0);
    let real: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let documented: serde_json::Value =
        serde_json::from_str(&example("status-json")).expect("the example is JSON");
    let (mut want, mut got) = (BTreeSet::new(), BTreeSet::new());
    paths(&documented, "", &mut want);
    paths(&real, "", &mut got);
    // The example shows one resource's counts, cursors and totals for two resources; the
    // real org has every default resource: compare the fields, not which resources.
    let generic = |p: &String| {
        p.replace(".appointment_types", ".RESOURCE")
            .replace(".practitioners", ".RESOURCE")
            .replace(".businesses", ".RESOURCE")
            .replace(".appointments", ".RESOURCE")
            .replace(".patients", ".RESOURCE")
            .replace(".active_patients", ".RESOURCE")
    };
    let want: BTreeSet<String> = want.iter().map(generic).collect();
    let got: BTreeSet<String> = got.iter().map(generic).collect();
    assert_eq!(want, got, "{}", run.stdout);
}

#[test]
fn the_json_log_example_has_the_real_fields() {
    let env = TestEnv::builder().patients(10).appointments_each(0).build();
    let run = env.run(&["--log-format", "json", "sync", "--all"]);
    run.expect_code(0);
    let summary: serde_json::Value = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("status").is_some())
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stderr));
    let documented: serde_json::Value =
        serde_json::from_str(example("json-log").trim()).expect("the example is JSON");
    let keys = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&documented), keys(&summary), "{summary}");
    let counts = |v: &serde_json::Value| -> BTreeSet<String> {
        v["resources"]["patients"]
            .as_object()
            .expect("patients counts")
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(counts(&documented), counts(&summary), "{summary}");
}
