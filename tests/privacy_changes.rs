//! Changes around the privacy policy, through the real binary on both stores: a new
//! hash secret or a looser policy fetches again what the stored rows cannot give back
//! (and says so until done), a misspelt field is a config error, and a failed privacy
//! `verify` is a failed run everywhere it is reported.

mod common;

use std::collections::BTreeMap;

use common::{Backend, TestEnv};
use routiq_sync::privacy::{HashSecret, OrgPolicy};
use serde_json::{Map, Value, json};

const SECRET: &str = "test-secret-0123456789-abcdefghij";

/// A small policy: drops and hashes on patients.
const POLICY: &str = r#"
hash_secret_env = "ROUTIQ_HASH_SECRET"
[privacy.patients]
drop = ["medicare", "notes"]
hash = ["email"]
"#;

const NEW_SECRET: &str = "another-secret-9876543210-zyxwvuts";

fn run(env: &TestEnv, args: &[&str], code: i32) -> common::Run {
    run_with(env, SECRET, args, code)
}

/// Runs the binary with `secret` as the hash secret.
fn run_with(env: &TestEnv, secret: &str, args: &[&str], code: i32) -> common::Run {
    let run = env.run_env(args, &[("ROUTIQ_HASH_SECRET", secret)]);
    run.expect_code(code);
    run.assert_never_prints("the hash secret", secret);
    run
}

/// The error of `org`'s newest run.
fn last_run_error(env: &TestEnv, org: &str) -> String {
    env.value(
        "SELECT error FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
        &[org],
    )
    .unwrap_or_default()
}

/// `privacy` of the first org in `status --json`.
fn privacy_status(env: &TestEnv, secret: &str) -> Value {
    let status = env.run_env(&["status", "--json"], &[("ROUTIQ_HASH_SECRET", secret)]);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    v["orgs"][0]["privacy"].clone()
}

/// The records of `resource` as the fake Cliniko holds them, by id.
fn upstream(env: &TestEnv, org: &str, resource: &str) -> BTreeMap<String, Map<String, Value>> {
    let key = env.key(org);
    env.fake.with_world(|w| {
        w.records(&key, resource)
            .into_iter()
            .map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r))
            .collect()
    })
}

/// The stored `raw_json` of `table`'s rows, by id.
fn stored(env: &TestEnv, org: &str, table: &str) -> BTreeMap<String, Map<String, Value>> {
    let sql = format!("SELECT id, CAST(raw_json AS TEXT) FROM {table} WHERE org_id = ?1");
    env.rows(&sql, &[org])
        .into_iter()
        .map(|r| {
            let raw = r[1].as_deref().unwrap();
            (r[0].clone().unwrap(), serde_json::from_str(raw).unwrap())
        })
        .collect()
}

/// The `check` line of the only org, from its privacy status: what it must say.
fn check_line(org: &str, p: &Value, refetch: &str) -> String {
    let short = |v: &Value| {
        v.as_str()
            .map_or("none".to_string(), |f| f[..16].to_string())
    };
    let configured = match p["configured_resources"].as_array().unwrap().as_slice() {
        [] => "no policy (every field stored)".to_string(),
        names => format!(
            "policy {} on {}",
            short(&p["configured_fingerprint"]),
            names
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "  {org}  {configured}; stored rows under {} since {}; the next sync rewrites stored \
         rows first; stored {refetch} rows still hold values of an older policy (pseudonyms \
         under another secret, or fields dropped or cut that this one keeps): the next sync \
         fetches them again from Cliniko (a full walk)",
        short(&p["fingerprint"]),
        p["applied_at"].as_str().unwrap()
    )
}

/// Asserts `check` prints `line` as one of its lines.
fn check_says(env: &TestEnv, secret: &str, line: &str) {
    let check = env.run_env(&["check"], &[("ROUTIQ_HASH_SECRET", secret)]);
    assert!(
        check.stdout.lines().any(|l| l == line),
        "no line `{line}` in:\n{}",
        check.stdout
    );
}

/// A new secret cannot re-key stored pseudonyms: `status` and `check` say the patients
/// are to be fetched again, and the next `sync` does it, so that every stored email is
/// the pseudonym under the new secret (one pseudonym per email, not two).
fn a_new_secret_fetches_the_hashed_resources_again(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(12)
        .appointments_each(1)
        .build();
    env.write_config(POLICY);
    let org = env.orgs[0].0.clone();
    run(&env, &["sync", "--all"], 0);
    let pseudonyms = |secret: &str| -> BTreeMap<String, Value> {
        let policy = OrgPolicy::new(&org, vec![], Some(HashSecret::new(secret)));
        upstream(&env, &org, "patients")
            .into_iter()
            .map(|(id, r)| {
                let email = match r["email"].as_str() {
                    Some("") | None => r["email"].clone(),
                    Some(email) => Value::String(policy.pseudonym(email)),
                };
                (id, email)
            })
            .collect()
    };
    let emails = || -> BTreeMap<String, Value> {
        stored(&env, &org, "patients")
            .into_iter()
            .map(|(id, r)| (id, r["email"].clone()))
            .collect()
    };
    let old = pseudonyms(SECRET);
    assert_eq!(emails(), old);
    assert!(old.values().any(Value::is_string));

    let p = privacy_status(&env, NEW_SECRET);
    assert_eq!(p["rewrite_due"], true, "{p}");
    assert_eq!(p["refetch_due"], serde_json::json!(["patients"]), "{p}");
    check_says(&env, NEW_SECRET, &check_line(&org, &p, "patients"));

    let sync = run_with(&env, NEW_SECRET, &["sync", "--all"], 0);
    let warned = format!(
        "{org}: the stored patients rows hold values the new privacy policy stores \
         differently (pseudonyms under another secret, or fields it keeps that an older \
         policy dropped or cut), which the rows cannot give back: they are fetched again \
         from Cliniko by a full walk, in this run unless it stops early"
    );
    assert!(
        sync.stderr.lines().any(|l| l.ends_with(&warned)),
        "{}",
        sync.stderr
    );
    assert_eq!(emails(), pseudonyms(NEW_SECRET));
    let p = privacy_status(&env, NEW_SECRET);
    assert_eq!(p["rewrite_due"], false, "{p}");
    assert_eq!(p["refetch_due"], serde_json::json!([]), "{p}");
    // Done: the next sync is an ordinary one (skipped as recent).
    let before = env.requests(&org);
    run_with(&env, NEW_SECRET, &["sync", "--all"], 0);
    assert_eq!(env.requests(&org), before);
}

/// Policy A -> B: fields A dropped or cut that B keeps come back (a full walk, announced
/// until done); removing the policy does the same; a stricter policy needs no fetch.
fn a_looser_or_removed_policy_fetches_again_and_a_stricter_one_does_not(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(30)
        .appointments_each(2)
        .build();
    let org = env.orgs[0].0.clone();
    let a = "[privacy.patients]\ndrop = [\"notes\", \"medicare\"]\nyear = [\"date_of_birth\"]\n\
             [privacy.appointments]\ndrop = [\"notes\"]\n";
    let b = "[privacy.patients]\ndrop = [\"medicare\"]\n";
    env.write_config(a);
    run(&env, &["sync", "--all"], 0);
    let patients = stored(&env, &org, "patients");
    assert!(patients.values().all(|r| !r.contains_key("notes")));
    assert!(
        patients
            .values()
            .all(|r| r["date_of_birth"].as_str().is_none_or(|d| d.len() <= 4))
    );

    env.write_config(b);
    let p = privacy_status(&env, SECRET);
    assert_eq!(
        p["refetch_due"],
        serde_json::json!(["patients", "appointments"]),
        "{p}"
    );
    check_says(
        &env,
        SECRET,
        &check_line(&org, &p, "patients, appointments"),
    );
    run(&env, &["sync", "--all"], 0);
    let same = |resource: &str, fields: &[&str]| {
        let collection = match resource {
            "appointments" => "individual_appointments",
            other => other,
        };
        let up = upstream(&env, &org, collection);
        let here = stored(&env, &org, resource);
        assert_eq!(up.len(), here.len());
        for (id, r) in &here {
            for field in fields {
                assert_eq!(r.get(*field), up[id].get(*field), "{resource} {id} {field}");
            }
        }
    };
    same("patients", &["notes", "date_of_birth"]);
    same("appointments", &["notes"]);
    assert!(
        stored(&env, &org, "patients")
            .values()
            .any(|r| r["date_of_birth"].as_str().is_some_and(|d| d.len() == 10))
    );
    assert_eq!(
        privacy_status(&env, SECRET)["refetch_due"],
        serde_json::json!([])
    );

    // Stricter than B: done locally, no request to Cliniko.
    env.write_config("[privacy.patients]\ndrop = [\"medicare\", \"notes\"]\n");
    let p = privacy_status(&env, SECRET);
    assert_eq!(
        (&p["rewrite_due"], &p["refetch_due"]),
        (&Value::Bool(true), &serde_json::json!([]))
    );
    let before = env.requests(&org);
    run(&env, &["sync", "--all"], 0);
    assert_eq!(env.requests(&org), before);
    assert!(
        stored(&env, &org, "patients")
            .values()
            .all(|r| !r.contains_key("notes"))
    );

    // No policy at all: what it dropped is fetched again.
    env.write_config("");
    let p = privacy_status(&env, SECRET);
    assert_eq!(p["refetch_due"], serde_json::json!(["patients"]), "{p}");
    check_says(&env, SECRET, &check_line(&org, &p, "patients"));
    run(&env, &["sync", "--all"], 0);
    same("patients", &["notes", "medicare"]);
    let p = privacy_status(&env, SECRET);
    assert_eq!(
        (&p["rewrite_due"], &p["refetch_due"]),
        (&Value::Bool(false), &serde_json::json!([]))
    );
}

on_both_stores!(
    a_new_secret_fetches_the_hashed_resources_again,
    a_looser_or_removed_policy_fetches_again_and_a_stricter_one_does_not
);

/// A `verify` that finds a stored field the policy forbids fails the run itself: the
/// `runs` row, `status` (exit 1, unhealthy) and the metric the documented alert reads.
/// (Rows stored before the policy was written, and not yet brought under it.)
fn a_privacy_breach_found_by_verify_is_a_failed_run(store: Backend) {
    let env = TestEnv::builder().on(store).patients(5).build();
    env.write_config("");
    let org = env.orgs[0].0.clone();
    run(&env, &["sync", "--all"], 0);
    env.write_config(POLICY);
    run(&env, &["verify", "--all"], 1);
    assert_eq!(env.last_run_status(&org).as_deref(), Some("failed"));
    let error = last_run_error(&env, &org);
    assert!(
        error.starts_with("5 stored record(s) hold fields the privacy policy forbids"),
        "{error}"
    );
    let status = run(&env, &["status", "--json"], 1);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["healthy"], false, "{}", status.stdout);
    assert_eq!(v["orgs"][0]["last_run"]["status"], "failed");
    let metrics = run(&env, &["status", "--format", "openmetrics"], 1);
    let failed = format!("routiq_sync_last_run_status{{org=\"{org}\",status=\"failed\"}} 1");
    assert!(
        metrics.stdout.lines().any(|l| l == failed),
        "`{failed}` not a line of:\n{}",
        metrics.stdout
    );
}

on_both_stores!(a_privacy_breach_found_by_verify_is_a_failed_run);

/// A policy naming fields Cliniko's records do not have is a config error naming the
/// nearest real name: it would match nothing and leave the meant field stored.
#[test]
fn misspelt_policy_fields_are_config_errors_with_the_nearest_name() {
    let env = TestEnv::builder().patients(2).build();
    env.write_config(
        "[privacy.patients]\n\
         drop = [\"medicare_number\", \"phone\", \"adress_1\"]\n\
         [privacy.appointments]\n\
         drop = [\"notes.text\"]\n",
    );
    let config = env.config_path().display().to_string();
    for command in [&["check"][..], &["sync", "--all"], &["verify", "--all"]] {
        let run = env.run(command);
        run.expect_code(2);
        for line in [
            "`privacy.patients.drop[0]` at line 8: `medicare_number`: Cliniko's patients have \
             no field `medicare_number`; the nearest is `medicare`",
            "`privacy.patients.drop[1]` at line 8: `phone`: Cliniko's patients have no field \
             `phone`; the nearest is `patient_phone_numbers`",
            "`privacy.patients.drop[2]` at line 8: `adress_1`: Cliniko's patients have no field \
             `adress_1`; the nearest is `address_1`",
            "`privacy.appointments.drop[0]` at line 10: `notes.text`: `notes` holds a value, not \
             fields: name `notes` itself to treat it whole",
        ] {
            let line = format!("  - {line}");
            assert!(
                run.stderr.lines().any(|l| l == line),
                "{command:?}: no line `{line}` in:\n{}",
                run.stderr
            );
        }
        let head = format!("routiq-sync: error: {config}: 4 problems:");
        assert!(run.stderr.lines().any(|l| l == head), "{}", run.stderr);
    }
    assert!(!env.has_tables(), "nothing synced");
}

/// The recommended policy of docs/privacy.md, as written there (its first TOML block).
fn recommended_policy() -> String {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/privacy.md")).unwrap();
    let start = docs.find("```toml\n").unwrap() + 8;
    docs[start..start + docs[start..].find("```").unwrap()].to_string()
}

/// The recommended policy stores none of the identifying fields Cliniko sends beyond
/// what dashboards use, nor a field Cliniko adds later: it is an allow-list.
fn the_recommended_policy_keeps_no_identifying_field_in_clear(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(20)
        .appointments_each(3)
        .build();
    let org = env.orgs[0].0.clone();
    let key = env.key(&org);
    env.fake.with_world(|w| {
        for resource in ["patients", "individual_appointments"] {
            let id = w.ids(&key, resource)[0].clone();
            w.update(&key, resource, &id, |r| {
                r.insert("added_later".into(), Value::from("a new identifying field"));
            })
            .unwrap();
        }
    });
    env.write_config(&recommended_policy());
    run(&env, &["sync", "--all"], 0);
    let identifying = [
        "invoice_email",
        "invoice_extra_information",
        "referring_doctor",
        "occupation",
        "cancellation_note",
        "booking_ip_address",
        "telehealth_url",
        "patient_name",
        "added_later",
    ];
    for (table, collection) in [
        ("patients", "patients"),
        ("appointments", "individual_appointments"),
    ] {
        // The fake sends them, so their absence is the policy's doing.
        let sent: Vec<&str> = identifying
            .iter()
            .copied()
            .filter(|f| {
                upstream(&env, &org, collection)
                    .values()
                    .any(|r| r.contains_key(*f))
            })
            .collect();
        assert!(sent.contains(&"added_later"), "{table}: {sent:?}");
        let rows = stored(&env, &org, table);
        assert!(!rows.is_empty());
        for (id, r) in rows {
            for field in &sent {
                assert!(
                    !r.contains_key(*field),
                    "{table} {id} stores `{field}`: {r:?}"
                );
            }
        }
    }
}

on_both_stores!(the_recommended_policy_keeps_no_identifying_field_in_clear);

fn is_pseudonym(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The recommended policy's rules for the opt-in resources that hold personal data:
/// contacts keep their names with email and phones hashed, and lose addresses, provider
/// numbers and notes; patient cases lose their (clinical) names and notes; blocks and
/// referral sources lose their notes. Every field the sync needs stays, `verify` finds
/// nothing forbidden, and the tables still join.
fn the_recommended_policy_covers_the_opt_in_resources(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(150)
        .appointments_each(2)
        .build();
    let org = env.orgs[0].0.clone();
    let names: Vec<String> = routiq_sync::resource::Resource::ALL
        .iter()
        .map(|r| format!("{:?}", r.name()))
        .collect();
    env.write_config_and_org_lines(
        &recommended_policy(),
        &format!("resources = [{}]", names.join(", ")),
    );
    run(&env, &["sync", "--all"], 0);
    let gone: &[(&str, &[&str])] = &[
        (
            "contacts",
            &["notes", "address_1", "post_code", "provider_number"],
        ),
        ("patient_cases", &["name", "notes"]),
        ("unavailable_blocks", &["notes"]),
        ("referral_sources", &["notes"]),
    ];
    for (table, fields) in gone {
        let sent = upstream(&env, &org, table);
        let rows = stored(&env, &org, table);
        assert_eq!(rows.len(), sent.len(), "{table}");
        for field in *fields {
            assert!(
                sent.values().any(|r| !r[*field].is_null()),
                "{table}: the fake sends `{field}`"
            );
            assert!(
                rows.values().all(|r| !r.contains_key(*field)),
                "{table} stores `{field}`"
            );
        }
    }
    let sent = upstream(&env, &org, "contacts");
    for (id, r) in stored(&env, &org, "contacts") {
        assert_eq!(r["last_name"], sent[&id]["last_name"], "contact {id}");
        assert!(is_pseudonym(&r["email"]), "contact {id}: {}", r["email"]);
        let phones = r["phone_numbers"].as_array().unwrap();
        assert!(
            phones.iter().all(|p| is_pseudonym(&p["number"])),
            "{phones:?}"
        );
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patient_cases WHERE name IS NOT NULL"),
        0
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM patient_cases c LEFT JOIN patients p
             ON p.org_id = c.org_id AND p.id = c.patient_id WHERE p.id IS NULL"
        ),
        0
    );
    run(&env, &["verify", "--all"], 0);
}

on_both_stores!(the_recommended_policy_covers_the_opt_in_resources);

/// Policies for the scrub tests: B changes the patients' rules only.
const SCRUB_A: &str = "[privacy.patients]\ndrop = [\"notes\"]\n\
                       [privacy.appointments]\ndrop = [\"notes\"]\n";
const SCRUB_B: &str = "[privacy.patients]\ndrop = [\"notes\", \"occupation\"]\n\
                       [privacy.appointments]\ndrop = [\"notes\"]\n";

/// The lines of `stderr` that end with `tail` (after the time and level).
fn lines_ending(stderr: &str, tail: &str) -> usize {
    stderr.lines().filter(|l| l.ends_with(tail)).count()
}

/// Three orgs synced under [`SCRUB_A`], with the config now at [`SCRUB_B`].
fn changed_for_three_orgs(store: Backend) -> TestEnv {
    let env = TestEnv::builder()
        .on(store)
        .orgs(3)
        .patients(10)
        .appointments_each(2)
        .build();
    env.write_config(SCRUB_A);
    run(&env, &["sync", "--all"], 0);
    env.write_config(SCRUB_B);
    env
}

/// PostgreSQL: a policy change for every org rewrites each changed table once per run
/// (`VACUUM FULL`), not once per org, and leaves tables whose rows did not change alone.
#[test]
fn postgres_rewrites_each_changed_table_once_per_run() {
    let Some(store) = Backend::postgres() else {
        return;
    };
    let env = changed_for_three_orgs(store);
    let sync = run(&env, &["sync", "--all", "--jobs", "2"], 0);
    let vacuum = |table: &str| {
        lines_ending(
            &sync.stderr,
            &format!("INFO  rewriting table {table} (VACUUM FULL) so deleted rows leave no bytes"),
        )
    };
    assert_eq!(vacuum("patients"), 1, "{}", sync.stderr);
    assert_eq!(vacuum("appointments"), 0, "{}", sync.stderr);
    assert_eq!(env.count("SELECT COUNT(*) FROM scrub_due"), 0);
}

/// SQLite: a dashboard holding a read transaction does not stall the orgs' policy
/// rewrites nor fail any org: the scrub runs once at the end of the run, waits for the
/// reader only briefly, and is left (marked) for the next run with one warning.
#[test]
fn sqlite_defers_the_scrub_while_a_dashboard_reads() {
    let env = changed_for_three_orgs(Backend::Sqlite);
    let dashboard = env.db();
    dashboard
        .execute_batch("BEGIN; SELECT COUNT(*) FROM patients;")
        .unwrap();
    let n: i64 = dashboard
        .query_row("SELECT COUNT(*) FROM patients", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 30);
    let started = std::time::Instant::now();
    let sync = run(&env, &["sync", "--all", "--jobs", "2"], 0);
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(20),
        "{took:?}\n{}",
        sync.stderr
    );
    for (org, _) in &env.orgs {
        assert_eq!(env.last_run_status(org).as_deref(), Some("ok"), "{org}");
    }
    let deferred = format!(
        "WARN  {db}: other connections are reading an older snapshot (a dashboard's open \
         transaction?), so the WAL could not be emptied: copies of deleted or replaced rows \
         stay in {db}-wal until the next run scrubs it",
        db = env.db_path().display()
    );
    assert_eq!(lines_ending(&sync.stderr, &deferred), 1, "{}", sync.stderr);
    // Each org's rewrite of patients stays marked, for one VACUUM next time.
    assert_eq!(
        env.rows("SELECT DISTINCT table_name FROM scrub_due", &[]),
        [[Some("patients".to_string())]]
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM scrub_due"), 3);
    // `status` tells the rows' rewrite (done) from the files' scrub (still due).
    let p = privacy_status(&env, SECRET);
    assert_eq!(
        (&p["rewrite_due"], &p["scrub_due"]),
        (&json!(false), &json!(["patients"])),
        "{p}"
    );
    assert!(p["applied_at"].is_string(), "{p}");
    dashboard.execute_batch("COMMIT").unwrap();
    drop(dashboard);
    let next = run(&env, &["sync", "--all"], 0);
    assert_eq!(lines_ending(&next.stderr, &deferred), 0, "{}", next.stderr);
    assert_eq!(env.count("SELECT COUNT(*) FROM scrub_due"), 0);
    assert_eq!(privacy_status(&env, SECRET)["scrub_due"], json!([]));
}

/// A store failure before the org's run row exists (here its privacy state cannot be
/// read, as the policy is brought to the stored rows first) is recorded as a failed
/// run (which `status`, the metrics and the alerts read).
fn a_failure_before_the_run_begins_is_a_failed_run(store: Backend) {
    let env = TestEnv::builder().on(store).patients(3).build();
    env.write_config(POLICY);
    let org = env.orgs[0].0.clone();
    run(&env, &["sync", "--all"], 0);
    env.execute("DROP TABLE privacy_state", &[]);
    run(&env, &["sync", "--all", "--force"], 1);
    assert_eq!(env.last_run_status(&org).as_deref(), Some("failed"));
    let error = last_run_error(&env, &org);
    assert!(error.contains("privacy_state"), "{error}");
}

on_both_stores!(a_failure_before_the_run_begins_is_a_failed_run);

/// So is a lock that cannot be taken (its file cannot be opened) on SQLite.
#[test]
fn a_lock_that_cannot_be_taken_is_a_failed_run() {
    let env = TestEnv::builder().patients(3).build();
    env.write_config("");
    let org = env.orgs[0].0.clone();
    run(&env, &["sync", "--all"], 0);
    let lock = routiq_sync::file_lock::lock_path(&env.lock_dir(), &org);
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    run(&env, &["sync", "--all", "--force"], 1);
    assert_eq!(env.last_run_status(&org).as_deref(), Some("failed"));
    let error = last_run_error(&env, &org);
    assert!(error.starts_with("cannot open lock file "), "{error}");
}
