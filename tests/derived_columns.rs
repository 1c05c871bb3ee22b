//! Typed columns follow the resource catalogue: rows stored under other column rules (a
//! changed rule, a column a migration just added) are derived again from their
//! `raw_json` by the next run, locally, on both stores; rows already right are not
//! written.

mod common;

use common::{Backend, TestEnv};

fn sync(env: &TestEnv) -> common::Run {
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run
}

/// Rows stored under other rules: typed columns wrong or missing, and the store says
/// they were derived by rules that are not the catalogue's.
fn derived_by_other_rules(env: &TestEnv, org: &str) {
    env.execute(
        "UPDATE patients SET phone = NULL, first_name = 'stale' WHERE org_id = ?1",
        &[org],
    );
    env.execute(
        "UPDATE appointments SET patient_id = NULL, starts_at = NULL WHERE org_id = ?1",
        &[org],
    );
    let marked = env.execute(
        "UPDATE derived_columns SET fingerprint = 'older rules' WHERE org_id = ?1",
        &[org],
    );
    assert!(
        marked >= 2,
        "the first run recorded the rules it derived by"
    );
}

/// The stored patients and appointments are the server's records, typed columns too
/// (the rows' differences only, not the tables, on failure).
fn assert_typed_columns_are_the_servers(env: &TestEnv, org: &str, when: &str) {
    for (route, table) in [
        ("patients", "patients"),
        ("individual_appointments", "appointments"),
    ] {
        let local = env.local_truth(org, table);
        let server = env.server_truth(org, route, table);
        assert_eq!(local.len(), server.len(), "{table} {when}: rows");
        for (id, row) in &server {
            assert_eq!(local.get(id), Some(row), "{table} {when}: row {id}");
        }
    }
}

fn stored_rows_are_derived_again_when_the_rules_change(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(30)
        .appointments_each(5)
        .build();
    let org = env.orgs[0].0.clone();
    sync(&env);
    let requests = env.requests(&org);
    assert_typed_columns_are_the_servers(&env, &org, "after the first sync");
    derived_by_other_rules(&env, &org);
    let run = sync(&env);
    run.assert_logged(&format!(
        "{org}: the rules of the patients table's typed columns changed; deriving them again \
         from the stored rows, locally, before syncing"
    ));
    assert_typed_columns_are_the_servers(&env, &org, "derived again");
    // Every row was wrong: all of them were written again, and none of it asked Cliniko.
    let changed = 30 + 30 * 5;
    run.assert_logged(&format!(
        "{org}: {changed} stored row(s) got typed columns derived by the current rules"
    ));
    assert!(
        env.requests(&org) - requests <= 2,
        "the second sync polls; it does not walk again"
    );
    // Rules recorded: the next run derives nothing.
    let again = sync(&env);
    again.assert_stderr_lacks("derived by the current rules");
    let recorded = env.rows(
        "SELECT fingerprint FROM derived_columns WHERE org_id = ?1 AND pending IS NULL",
        &[&org],
    );
    assert_eq!(recorded.len(), routiq_sync::resource::Resource::ALL.len());
}

fn a_killed_rederivation_resumes_after_its_last_batch(store: Backend) {
    let env = TestEnv::builder().on(store).patients(30).build();
    let org = env.orgs[0].0.clone();
    sync(&env);
    derived_by_other_rules(&env, &org);
    // As a run killed after a batch leaves it: the rows up to the position are done.
    let ids = env.rows(
        "SELECT id FROM patients WHERE org_id = ?1 ORDER BY id",
        &[&org],
    );
    let middle = ids[14][0].clone().unwrap();
    let fingerprint = routiq_sync::resource::Resource::Patients.columns_fingerprint();
    env.execute(
        "UPDATE derived_columns SET pending = ?2, after_id = ?3 WHERE org_id = ?1 \
         AND resource = 'patients'",
        &[&org, &fingerprint, &middle],
    );
    sync(&env);
    let stale = env.rows(
        "SELECT id FROM patients WHERE org_id = ?1 AND first_name = 'stale' ORDER BY id",
        &[&org],
    );
    assert_eq!(
        stale,
        ids[..15].to_vec(),
        "only the rows after the position are redone"
    );
}

/// A file from before `patients.phone` existed gets the column from its migration and its
/// values from the first run after it, by the one rule the parser has.
#[test]
fn upgrading_from_v1_fills_the_phone_column_from_raw_json() {
    let env = TestEnv::builder().patients(3).build();
    let org = env.orgs[0].0.clone();
    routiq_sync::store::sqlite::create_at_version(&env.db_path(), 1).unwrap();
    let home = r#"{"number": "(03) 9999 0000", "phone_type": "Home"}"#;
    let mobile = r#"{"number": " 0400 111 222", "phone_type": "Mobile"}"#;
    let doc = |numbers: &str| format!(r#"{{"id": "1", "patient_phone_numbers": {numbers}}}"#);
    let cases = [
        (doc(&format!("[{home}, {mobile}]")), Some("0400 111 222")),
        (doc(&format!("[{home}]")), Some("(03) 9999 0000")),
        (
            doc(r#"[{"number": "", "normalized_number": "61299990000", "phone_type": "Work"}]"#),
            Some("61299990000"),
        ),
        (doc("[]"), None),
        (doc("null"), None),
        (doc(r#""0400""#), None),
        (r#"{"id": "1"}"#.to_string(), None),
    ];
    let db = env.db();
    for (i, (raw_json, _)) in cases.iter().enumerate() {
        db.execute(
            "INSERT INTO patients (org_id, id, updated_at, raw_json, synced_at)
             VALUES (?1, ?2, '2024-01-01T00:00:00Z', ?3, '2024-01-01T00:00:00Z')",
            rusqlite::params![org, format!("{}", i + 1), raw_json],
        )
        .unwrap();
    }
    drop(db);
    sync(&env);
    for (i, (_, phone)) in cases.iter().enumerate() {
        let id = format!("{}", i + 1);
        assert_eq!(
            env.value(
                "SELECT phone FROM patients WHERE org_id = ?1 AND id = ?2",
                &[&org, &id]
            )
            .as_deref(),
            *phone,
            "patient {id}: {}",
            cases[i].0
        );
    }
}

on_both_stores!(
    stored_rows_are_derived_again_when_the_rules_change,
    a_killed_rederivation_resumes_after_its_last_batch
);
