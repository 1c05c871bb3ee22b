//! The privacy policy on both stores: what is stored under it, what a change upstream in
//! a dropped field writes, and that the secret never shows.

mod common;

use common::{Backend, TestEnv};
use routiq_sync::resource::Resource;
use serde_json::Value;

pub const SECRET: &str = "test-secret-0123456789-abcdefghij";

/// The recommended dashboard policy, as written in the docs.
pub const POLICY: &str = r#"
hash_secret_env = "ROUTIQ_HASH_SECRET"
[privacy.patients]
keep = ["first_name", "last_name", "email", "date_of_birth", "sex", "city", "state", "country",
        "patient_phone_numbers[].number", "patient_phone_numbers[].normalized_number",
        "patient_phone_numbers[].phone_type", "reminder_type", "accepted_email_marketing",
        "accepted_sms_marketing", "time_zone"]
hash = ["email", "patient_phone_numbers[].number", "patient_phone_numbers[].normalized_number"]
year = ["date_of_birth"]
[privacy.appointments]
keep = ["cancellation_reason", "cancellation_reason_description", "did_not_arrive",
        "patient_arrived", "invoice_status", "treatment_note_status", "repeated_from"]
[privacy.contacts]
keep = ["title", "first_name", "last_name", "company_name", "type", "type_code", "doctor_type",
        "occupation", "email", "phone_numbers[].number", "phone_numbers[].normalized_number",
        "phone_numbers[].phone_type", "city", "state", "country", "country_code"]
hash = ["email", "phone_numbers[].number", "phone_numbers[].normalized_number"]
[privacy.patient_cases]
keep = ["closed", "issue_date", "expiry_date", "max_sessions", "max_invoiceable_amount",
        "referral", "referral_type"]
[privacy.unavailable_blocks]
keep = ["repeat_rule"]
[privacy.referral_sources]
keep = ["referrer_type", "subcategory"]
"#;

/// Every test of this file runs alone: a session that another test's run is opening on
/// the shared test cluster at the moment of a `VACUUM FULL` can hold back the server's
/// horizon for an instant, and the rewrite then keeps a deleted row it would otherwise
/// drop (docs/privacy.md says what that means on a shared server). Alone, the scans
/// measure this file's own writes.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn sync(env: &TestEnv, args: &[&str]) -> common::Run {
    let run = env.run_env(args, &[("ROUTIQ_HASH_SECRET", SECRET)]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains(SECRET) && !run.stdout.contains(SECRET),
        "{}",
        run.stderr
    );
    run
}

/// `id -> raw_json` of `org`'s stored appointments.
fn appointments_raw(env: &TestEnv, org: &str) -> std::collections::BTreeMap<String, Value> {
    env.rows(
        "SELECT id, CAST(raw_json AS TEXT) FROM appointments WHERE org_id = ?1",
        &[org],
    )
    .into_iter()
    .map(|r| {
        let raw = serde_json::from_str(r[1].as_deref().unwrap()).unwrap();
        (r[0].clone().unwrap(), raw)
    })
    .collect()
}

/// The fingerprint of the policy in `env`'s config (with [`SECRET`]).
fn fingerprint(env: &TestEnv) -> String {
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    let env_var = |name: &str| (name == "ROUTIQ_HASH_SECRET").then(|| SECRET.to_string());
    let config = routiq_sync::config::parse(&text, &env.config_path(), &env_var).unwrap();
    config.orgs[0].privacy.fingerprint().unwrap()
}

/// [`fingerprint`] as the log lines show it: its first 12 hex digits.
fn short_fingerprint(env: &TestEnv) -> String {
    fingerprint(env)[..12].to_string()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn stored_under_policy(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(80)
        .build();
    env.write_config(POLICY);
    let org = env.orgs[0].0.clone();
    sync(&env, &["sync", "--all"]);
    let rows = env.rows(
        "SELECT id, email, date_of_birth, phone, CAST(raw_json AS TEXT) FROM patients WHERE org_id = ?1",
        &[&org],
    );
    assert_eq!(rows.len(), 40);
    // The typed columns the server's records give without a policy.
    let truth = env.server_truth(&org, "patients", "patients");
    for row in &rows {
        let raw: Value = serde_json::from_str(row[4].as_deref().unwrap()).unwrap();
        for gone in [
            "medicare",
            "notes",
            "emergency_contact",
            "address_1",
            "post_code",
        ] {
            assert!(raw.get(gone).is_none(), "{gone} stored: {raw}");
        }
        // A pseudonym where the server has a value, NULL only where it has none.
        let id = row[0].as_deref().unwrap();
        let server = &truth[id];
        match (&row[1], &server["email"]) {
            (Some(email), Some(_)) => {
                assert!(is_hex64(email), "email column {email}");
                assert_eq!(raw["email"].as_str(), Some(email.as_str()));
            }
            (None, None) => {}
            (got, want) => panic!("patient {id}: email column {got:?}, server {want:?}"),
        }
        match (&row[2], &server["date_of_birth"]) {
            (Some(year), Some(dob)) => assert_eq!(year, &dob[..4], "patient {id}"),
            (None, None) => {}
            (got, want) => panic!("patient {id}: date_of_birth column {got:?}, server {want:?}"),
        }
        match (&row[3], &server["phone"]) {
            (Some(phone), Some(_)) => assert!(is_hex64(phone), "phone column {phone}"),
            (None, None) => {}
            (got, want) => panic!("patient {id}: phone column {got:?}, server {want:?}"),
        }
    }
    let pseudonyms = |i: usize| rows.iter().filter(|r| r[i].is_some()).count();
    assert!(
        pseudonyms(1) > 0 && pseudonyms(2) > 0 && pseudonyms(3) > 0,
        "the clinic has emails, birth dates and phones to hash"
    );
    // The dashboard view keeps working.
    let n = env.value(
        "SELECT COUNT(*) FROM patient_activity WHERE org_id = ?1",
        &[&org],
    );
    let shown = env.value(
        "SELECT COUNT(*) FROM patients
         WHERE org_id = ?1 AND archived_at IS NULL AND deleted_upstream_at IS NULL",
        &[&org],
    );
    assert_eq!(n, shown);
    let active = env.value(
        "SELECT COUNT(*) FROM patient_activity WHERE org_id = ?1 AND total_appointment_count > 0",
        &[&org],
    );
    assert_ne!(
        active.as_deref(),
        Some("0"),
        "appointments still link to patients"
    );
    // The secret is nowhere in the store.
    let bytes = env.stored_bytes();
    assert!(
        !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "secret stored"
    );

    // A change upstream only in a dropped field writes nothing; one in a kept field does.
    let key = env.key(&org);
    let ids: Vec<String> = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        let ids: Vec<String> = w.ids(&key, "patients").into_iter().take(2).collect();
        w.update(&key, "patients", &ids[0], |r| {
            r.insert("medicare".into(), "SENTINELMEDICARE".into());
        })
        .unwrap();
        w.update(&key, "patients", &ids[1], |r| {
            r.insert("first_name".into(), "Renamed".into());
        })
        .unwrap();
        w.advance(std::time::Duration::from_secs(5));
        ids
    });
    let row = |id: &str| {
        env.rows(
            "SELECT updated_at, synced_at, CAST(raw_json AS TEXT), first_name FROM patients
             WHERE org_id = ?1 AND id = ?2",
            &[&org, id],
        )
        .remove(0)
    };
    let before = (row(&ids[0]), row(&ids[1]));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sync(&env, &["sync", "--all", "--force"]);
    assert_eq!(
        row(&ids[0]),
        before.0,
        "a dropped field's change wrote the row"
    );
    let renamed = row(&ids[1]);
    assert_ne!(renamed, before.1);
    assert_eq!(renamed[3].as_deref(), Some("Renamed"));
    let bytes = env.stored_bytes();
    assert!(!bytes.windows(16).any(|w| w == b"SENTINELMEDICARE"));
}

/// Without a policy every field is stored as before, and a touch still moves
/// `updated_at` (the old behaviour).
fn no_policy_stores_everything(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .patients(10)
        .appointments_each(10)
        .build();
    let org = env.orgs[0].0.clone();
    env.run(&["sync", "--all"]).expect_code(0);
    let raw = env.value(
        "SELECT CAST(raw_json AS TEXT) FROM patients WHERE org_id = ?1 LIMIT 1",
        &[&org],
    );
    assert!(raw.unwrap().contains("medicare"));
}

/// The bytes planted in records whose trace must vanish.
const SENTINEL: &[u8] = b"QZSENTINEL";

/// The start of the sentinels [`plant`] puts only in `raw_json` (Medicare number, notes,
/// address): no typed column holds them, so only a scan that sees `raw_json` finds them.
const RAW_JSON_ONLY: &[u8] = b"QZSENTINEL-";

/// The scan of the store's files once `planted` records hold the sentinels: it must find
/// each record's three in `raw_json` (PostgreSQL keeps it uncompressed for this, see
/// [`TestEnv::uncompressed_raw_json`]). Returns the sentinels found; `None` (after the
/// skip line) when the files cannot be read.
#[track_caller]
fn scan_before(env: &TestEnv, planted: usize) -> Option<usize> {
    let before = env.file_bytes()?;
    let raw_json_only = common::occurrences(&before, RAW_JSON_ONLY);
    assert!(
        raw_json_only >= 3 * planted,
        "the scan finds {raw_json_only} sentinels of raw_json, fewer than the {} planted",
        3 * planted
    );
    Some(common::occurrences(&before, SENTINEL))
}

/// The scan after `what` erased the sentinels: none is left in the files.
#[track_caller]
fn scan_after(env: &TestEnv, what: &str, planted: usize) {
    env.assert_raw_json_uncompressed();
    let left = common::occurrences(&env.file_bytes().unwrap(), SENTINEL);
    eprintln!("sentinel scan after {what}: {planted} occurrences before, {left} after");
    assert_eq!(left, 0, "{what} left sentinels in the files");
}

/// Puts the sentinel in the email, Medicare number, notes and address of `ids`.
fn plant(env: &TestEnv, key: &str, ids: &[String]) {
    env.fake.with_world(|w| {
        for id in ids {
            w.update_as_is(key, "patients", id, |r| {
                let s = |f: &str| Value::String(format!("QZSENTINEL-{f}-{id}"));
                r.insert("email".into(), format!("QZSENTINEL{id}@example.com").into());
                r.insert("medicare".into(), s("medicare"));
                r.insert("notes".into(), s("notes"));
                r.insert("address_1".into(), s("address"));
            })
            .unwrap();
        }
    });
}

/// `forget` leaves none of the org's bytes in the store's files (SQLite: the database
/// and its WAL; PostgreSQL: heap, TOAST and index files), and keeps the other org's.
fn forget_leaves_no_bytes(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .orgs(2)
        .patients(30)
        .appointments_each(30)
        .build();
    let key = env.key("org_1");
    let ids = env.fake.with_world(|w| w.ids(&key, "patients"));
    plant(&env, &key, &ids);
    env.uncompressed_raw_json();
    env.run(&["sync", "--all"]).expect_code(0);
    let Some(planted) = scan_before(&env, ids.len()) else {
        return;
    };
    env.run(&["forget", "--org", "org_1", "--yes"])
        .expect_code(0);
    scan_after(&env, "forget", planted);
    let other = env.value("SELECT COUNT(*) FROM patients WHERE org_id = 'org_2'", &[]);
    assert_eq!(other.as_deref(), Some("30"));
}

/// The purge of rows deleted upstream leaves none of their bytes either.
fn purge_leaves_no_bytes(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .patients(30)
        .appointments_each(0)
        .build();
    env.write_config("purge_deleted_after = \"1s\"");
    let key = env.key("org_1");
    let ids: Vec<String> = env
        .fake
        .with_world(|w| w.ids(&key, "patients"))
        .into_iter()
        .take(3)
        .collect();
    plant(&env, &key, &ids);
    env.uncompressed_raw_json();
    env.run(&["sync", "--all"]).expect_code(0);
    let Some(planted) = scan_before(&env, ids.len()) else {
        return;
    };
    env.fake.with_world(|w| {
        for id in &ids {
            w.hard_delete(&key, "patients", id).unwrap();
        }
    });
    env.run(&["full", "--org", "org_1"]).expect_code(0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_logged(
        "org_1: removed rows deleted upstream longer ago than purge_deleted_after: 3 patients",
    );
    scan_after(&env, "the purge", planted);
    let rest = env.value("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'", &[]);
    assert_eq!(rest.as_deref(), Some("27"));
}

on_both_stores!(
    stored_under_policy,
    no_policy_stores_everything,
    forget_leaves_no_bytes,
    purge_leaves_no_bytes,
);

/// Under umask 022 the database, its `-wal` and `-shm` are created `0600` and a folder
/// made for them `0700`; an existing database readable by others is warned about by
/// every run and by `check`.
#[test]
fn the_database_files_are_private_whatever_the_umask() {
    let _alone = alone();
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let env = TestEnv::builder().appointments_each(5).build();
    let db = env.dir.path().join("new-dir/deeper/routiq.db");
    env.set_config_line(
        "database",
        &format!("database = {:?}", db.display().to_string()),
    );
    let command = |args: &[&str]| {
        let mut cmd = env.command(args);
        // SAFETY: umask is async-signal-safe and touches only the child's own state.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
        cmd
    };
    let run = |args: &[&str]| common::Run::from(command(args).output().unwrap());
    run(&["sync", "--all"]).expect_code(0);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    // The WAL and its index exist while the binary has the database open (they go with
    // its last connection): watch them during a run of its own, which slow answers from
    // the fake hold open for a while.
    let key = env.key("org_1");
    for _ in 0..3 {
        env.fake.push_fault(
            &key,
            fake_cliniko::Fault::Delay(std::time::Duration::from_millis(400)),
        );
    }
    let companions = [db.with_extension("db-wal"), db.with_extension("db-shm")];
    let mut child = command(&["sync", "--all", "--force"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = std::collections::BTreeMap::new();
    while child.try_wait().unwrap().is_none() {
        for file in &companions {
            if let Ok(meta) = std::fs::metadata(file) {
                seen.insert(
                    file.clone(),
                    format!("{:o}", meta.permissions().mode() & 0o777),
                );
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        seen,
        companions
            .iter()
            .map(|f| (f.clone(), "600".to_string()))
            .collect(),
        "the modes of the run's -wal and -shm"
    );
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    assert_eq!(mode(&env.dir.path().join("new-dir")), 0o700);
    let quiet = run(&["sync", "--all", "--force"]);
    assert!(
        !quiet.stderr.contains("readable by group"),
        "{}",
        quiet.stderr
    );

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warned = run(&["sync", "--all", "--force"]);
    warned.expect_code(0);
    assert!(
        warned.stderr.contains("readable by group or others")
            && warned.stderr.contains("chmod 600"),
        "{}",
        warned.stderr
    );
    let check = run(&["check"]);
    assert!(
        check.stdout.contains("readable by group or others"),
        "{}\n{}",
        check.stdout,
        check.stderr
    );
}

/// A policy added to a store that holds everything: the next `sync` rewrites the stored
/// rows locally (no request to Cliniko, even when the run is then skipped as recent),
/// and the old values are gone from the files.
fn a_new_policy_rewrites_what_is_stored(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(40)
        .build();
    let org = env.orgs[0].0.clone();
    let key = env.key(&org);
    let ids = env.fake.with_world(|w| w.ids(&key, "patients"));
    plant(&env, &key, &ids);
    env.uncompressed_raw_json();
    env.run(&["sync", "--all"]).expect_code(0);
    let planted = scan_before(&env, ids.len());
    let appointments_before = appointments_raw(&env, &org);
    assert_eq!(appointments_before.len(), 1600);
    env.write_config(POLICY);
    let policy = short_fingerprint(&env);
    let requests = env.requests(&org);
    let run = sync(&env, &["sync", "--all"]);
    run.assert_logged(&format!(
        "{org}: the privacy policy changed (fingerprint none -> {policy}); rewriting the \
         stored rows locally, before syncing"
    ));
    // 40 patients and 1600 appointments (each with notes): four batches of appointments.
    run.assert_logged(&format!(
        "{org}: 1640 stored row(s) rewritten under the privacy policy {policy}"
    ));
    assert_eq!(env.requests(&org), requests, "nothing fetched again");
    // Every appointment, the last batch's too, is what it was restricted to what the
    // policy keeps (its `keep` list and the fields the sync needs): its notes are gone.
    let appointments_after = appointments_raw(&env, &org);
    assert_eq!(appointments_after.len(), 1600);
    let policy: toml::Table = toml::from_str(POLICY).unwrap();
    let keep: Vec<&str> = policy["privacy"]["appointments"]["keep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let required = Resource::Appointments.required_fields();
    for (id, before) in appointments_before {
        assert!(before.get("notes").is_some(), "appointment {id} had notes");
        let kept: serde_json::Map<String, Value> = before
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| keep.contains(&k.as_str()) || required.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            appointments_after.get(&id),
            Some(&Value::Object(kept)),
            "appointment {id}"
        );
    }
    let rows = env.rows(
        "SELECT email, CAST(raw_json AS TEXT) FROM patients WHERE org_id = ?1",
        &[&org],
    );
    for row in &rows {
        assert!(is_hex64(row[0].as_deref().unwrap()), "{:?}", row[0]);
        let raw: Value = serde_json::from_str(row[1].as_deref().unwrap()).unwrap();
        assert!(raw.get("medicare").is_none() && raw.get("address_1").is_none());
    }
    if let Some(planted) = planted {
        scan_after(&env, "the policy's rewrite", planted);
    }
    // Applied once: the next run has nothing to rewrite.
    let again = sync(&env, &["sync", "--all", "--force"]);
    assert!(!again.stderr.contains("rewriting"), "{}", again.stderr);
}

on_both_stores!(a_new_policy_rewrites_what_is_stored);

/// A rewrite killed (SIGKILL) after some batches of appointments resumes at the
/// position their last commit recorded: the rows up to it are rewritten, the rest still
/// as they were; the next run rewrites exactly the rest, and the fingerprint is recorded
/// only then.
fn a_killed_rewrite_resumes_at_its_position(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(80)
        .build();
    let org = env.orgs[0].0.clone();
    env.run(&["sync", "--all"]).expect_code(0);
    env.write_config(POLICY);
    let fingerprint = fingerprint(&env);
    let mut child = env
        .command(&["sync", "--all"])
        .env("ROUTIQ_HASH_SECRET", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Once a batch of appointments has committed, hold the table so that the next one
    // waits, and kill the run there.
    let pending = || {
        env.rows(
            "SELECT pending_resource, pending_after_id FROM privacy_state WHERE org_id = ?1",
            &[&org],
        )
        .into_iter()
        .next()
        .and_then(|r| Some((r[0].clone()?, r[1].clone()?)))
    };
    let started = std::time::Instant::now();
    while pending().is_none_or(|(resource, _)| resource != "appointments") {
        assert!(
            child.try_wait().unwrap().is_none() && started.elapsed().as_secs() < 120,
            "the rewrite ended before a batch of appointments could be seen"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let hold = hold_appointments(&env);
    common::signal(&child, "KILL");
    child.wait().unwrap();
    drop(hold);

    let (resource, position) = pending().expect("the position the killed run recorded");
    assert_eq!(resource, "appointments");
    let state = env.rows(
        "SELECT fingerprint, pending FROM privacy_state WHERE org_id = ?1",
        &[&org],
    );
    assert_eq!(
        state[0],
        [None, Some(fingerprint.clone())],
        "not applied yet, under way"
    );
    let stored = appointments_raw(&env, &org);
    // Up to the position in the store's own order of ids.
    let up_to: std::collections::BTreeSet<String> = env
        .rows(
            "SELECT id FROM appointments WHERE org_id = ?1 AND id <= ?2",
            &[&org, &position],
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    let (done, rest): (Vec<_>, Vec<_>) = stored.iter().partition(|(id, _)| up_to.contains(*id));
    assert!(
        done.len() >= 500 && !rest.is_empty(),
        "killed after {} of {} appointments",
        done.len(),
        stored.len()
    );
    assert!(done.iter().all(|(_, raw)| raw.get("notes").is_none()));
    assert!(rest.iter().all(|(_, raw)| raw.get("notes").is_some()));

    // A row before the position given notes again: the resumed run takes it as done and
    // leaves it, which shows that it starts at the position.
    let marker = done[0].0.clone();
    let tamper = match &env.store {
        Backend::Sqlite => {
            "UPDATE appointments SET raw_json = json_set(raw_json, '$.notes', 'kept')
             WHERE org_id = ?1 AND id = ?2"
        }
        Backend::Postgres(_) => {
            "UPDATE appointments SET raw_json = raw_json || '{\"notes\": \"kept\"}'::jsonb
             WHERE org_id = ?1 AND id = ?2"
        }
    };
    assert_eq!(env.execute(tamper, &[&org, &marker]), 1);

    let run = sync(&env, &["sync", "--all"]);
    let policy = &fingerprint[..12];
    run.assert_logged(&format!(
        "{org}: the privacy policy changed (fingerprint none -> {policy}); resuming the \
         rewrite of the stored rows locally, before syncing"
    ));
    run.assert_logged(&format!(
        "{org}: {} stored row(s) rewritten under the privacy policy {policy}",
        rest.len()
    ));
    let after = appointments_raw(&env, &org);
    assert_eq!(after.len(), 3200);
    for (id, raw) in &after {
        let notes = raw.get("notes").and_then(Value::as_str);
        assert_eq!(notes, (*id == marker).then_some("kept"), "appointment {id}");
    }
    let state = env.rows(
        "SELECT fingerprint, pending, pending_resource, pending_after_id FROM privacy_state
         WHERE org_id = ?1",
        &[&org],
    );
    assert_eq!(state[0], [Some(fingerprint), None, None, None]);
}

on_both_stores!(a_killed_rewrite_resumes_at_its_position);

/// Takes the lock a rewrite batch of appointments needs, waiting for one under way to
/// commit; held until dropped.
fn hold_appointments(env: &TestEnv) -> Box<dyn std::any::Any> {
    match &env.store {
        Backend::Sqlite => {
            let conn = env.db();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            Box::new(conn)
        }
        Backend::Postgres(db) => {
            let mut client = db.client();
            client
                .batch_execute("BEGIN; LOCK TABLE appointments IN SHARE MODE")
                .unwrap();
            Box::new(client)
        }
    }
}

/// Proof for an auditor: `status --json` and `check` show the fingerprint and when it
/// was applied; `verify` fails when a stored record holds a field the policy forbids.
fn status_check_and_verify_show_the_policy(store: Backend) {
    let _alone = alone();
    let env = TestEnv::builder()
        .on(store.clone())
        .patients(20)
        .appointments_each(20)
        .build();
    env.write_config(POLICY);
    let org = env.orgs[0].0.clone();
    sync(&env, &["sync", "--all"]);
    let status = env.run_env(&["status", "--json"], &[("ROUTIQ_HASH_SECRET", SECRET)]);
    status.expect_code(0);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    let privacy = &v["orgs"][0]["privacy"];
    let fingerprint = privacy["fingerprint"].as_str().unwrap();
    assert!(is_hex64(fingerprint), "{privacy}");
    assert_eq!(privacy["configured_fingerprint"], fingerprint);
    assert!(
        privacy["applied_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(privacy["rewrite_due"], false);
    assert_eq!(privacy["configured_resources"][0], "patients");
    assert!(!status.stdout.contains(SECRET));

    let check = env.run_env(&["check"], &[("ROUTIQ_HASH_SECRET", SECRET)]);
    assert!(
        check
            .stdout
            .contains(&format!("policy {}", &fingerprint[..16]))
            && check.stdout.contains("stored rows under"),
        "{}",
        check.stdout
    );

    sync(&env, &["verify", "--all"]);
    let tamper = match store {
        Backend::Sqlite => {
            "UPDATE patients SET raw_json = json_set(raw_json, '$.medicare', '2123456701')
             WHERE org_id = ?1 AND id = (SELECT MIN(id) FROM patients WHERE org_id = ?1)"
        }
        Backend::Postgres(_) => {
            "UPDATE patients SET raw_json = raw_json || '{\"medicare\": \"2123456701\"}'::jsonb
             WHERE org_id = ?1 AND id = (SELECT MIN(id) FROM patients WHERE org_id = ?1)"
        }
    };
    assert_eq!(env.execute(tamper, &[&org]), 1);
    let failed = env.run_env(&["verify", "--all"], &[("ROUTIQ_HASH_SECRET", SECRET)]);
    failed.expect_code(1);
    assert!(
        failed
            .stderr
            .contains("1 stored record(s) hold fields the privacy policy forbids")
            && failed.stderr.contains("patients.medicare"),
        "{}",
        failed.stderr
    );
    // The next sync brings it under the policy again; verify passes.
    let status = env.run_env(&["status", "--json"], &[("ROUTIQ_HASH_SECRET", SECRET)]);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["privacy"]["rewrite_due"], true);
    let run = sync(&env, &["sync", "--all"]);
    run.assert_logged(&format!(
        "{org}: 1 stored row(s) rewritten under the privacy policy {}",
        &fingerprint[..12]
    ));
    sync(&env, &["verify", "--all"]);
}

on_both_stores!(status_check_and_verify_show_the_policy);

/// The policy these tests use is the one docs/privacy.md recommends, and it loads.
#[test]
fn the_documented_policy_is_the_one_tested() {
    let _alone = alone();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/privacy.md")).unwrap();
    let start = docs.find("```toml\n").unwrap() + 8;
    let block = &docs[start..start + docs[start..].find("```").unwrap()];
    assert_eq!(block.trim(), POLICY.trim());
}
