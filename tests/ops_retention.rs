//! Retention and erasure through the real binary: `keep_runs` prunes old runs but never
//! an org's last run or last success, `purge_deleted_after` removes only rows deleted
//! upstream long enough ago, and `forget` erases one org and nothing else.

mod common;

use common::{Backend, TestEnv};
use fake_cliniko::Fault;

const LONG_AGO: &str = "2020-01-01T00:00:00Z";

fn run_ids(env: &TestEnv, org: &str) -> Vec<(i64, String)> {
    env.rows(
        "SELECT id, status FROM runs WHERE org_id = ?1 ORDER BY id",
        &[org],
    )
    .into_iter()
    .map(|r| {
        let id = r[0]
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("run id");
        (id, r[1].clone().unwrap_or_default())
    })
    .collect()
}

on_both_stores!(
    keep_runs_prunes_old_runs_but_keeps_the_last_run_and_last_success,
    purge_deleted_after_removes_only_rows_deleted_long_enough_ago,
    forget_shows_without_yes_and_erases_one_org_with_it,
);

fn keep_runs_prunes_old_runs_but_keeps_the_last_run_and_last_success(store: Backend) {
    let env = TestEnv::builder().on(store).orgs(2).patients(10).build();
    for _ in 0..3 {
        env.run(&["sync", "--all", "--force"]).expect_code(0);
    }
    env.execute(&format!("UPDATE runs SET started_at = '{LONG_AGO}'"), &[]);
    let before = run_ids(&env, "org_1");
    assert_eq!(before.len(), 3);
    // The next run of org_1 fails: its newest success is then an old run.
    env.fake.push_fault(&env.key("org_1"), Fault::Status(401));
    env.run(&["sync", "--org", "org_1", "--force"])
        .expect_code(1);
    let after = run_ids(&env, "org_1");
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], before[2], "the last success stays");
    assert_eq!(after[1].1, "failed", "the last run stays");
    // org_2 did not run: nothing of it was pruned.
    assert_eq!(run_ids(&env, "org_2").len(), 3);
    // status still knows org_1's last success.
    let status = env.run(&["status", "--json", "--org", "org_1"]);
    assert!(
        status.stdout.contains("\"last_success_at\": \""),
        "{}",
        status.stdout
    );

    // "never" keeps everything.
    env.write_config("keep_runs = \"never\"");
    env.run(&["sync", "--org", "org_2", "--force"])
        .expect_code(0);
    assert_eq!(run_ids(&env, "org_2").len(), 4);
    // A short keep_runs keeps the org's newest run (which is also its last success).
    env.write_config("keep_runs = \"1d\"");
    env.run(&["sync", "--org", "org_2", "--force"])
        .expect_code(0);
    let runs = run_ids(&env, "org_2");
    assert_eq!(
        runs.len(),
        2,
        "the new run and the one from today: {runs:?}"
    );
}

fn purge_deleted_after_removes_only_rows_deleted_long_enough_ago(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .orgs(2)
        .patients(30)
        .appointments_each(0)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let ids: Vec<String> = env.fake.with_world(|w| w.ids(&key, "patients"));
    env.fake.with_world(|w| {
        for id in &ids[..3] {
            w.hard_delete(&key, "patients", id).unwrap();
        }
    });
    env.run(&["full", "--org", "org_1"]).expect_code(0);
    let deleted = |org: &str| {
        env.count(&format!(
            "SELECT COUNT(*) FROM patients WHERE org_id = '{org}' AND deleted_upstream_at IS NOT NULL"
        ))
    };
    assert_eq!(deleted("org_1"), 3);
    // Two of them were deleted 40 days ago; one of org_2's rows too.
    for id in &ids[..2] {
        env.execute(
            &format!(
                "UPDATE patients SET deleted_upstream_at = '{LONG_AGO}'
                 WHERE org_id = 'org_1' AND id = ?1"
            ),
            &[id],
        );
    }
    env.execute(
        &format!(
            "UPDATE patients SET deleted_upstream_at = '{LONG_AGO}'
             WHERE org_id = 'org_2' AND id = (SELECT MIN(id) FROM patients WHERE org_id = 'org_2')"
        ),
        &[],
    );

    env.write_config("purge_deleted_after = \"never\"");
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert_eq!(deleted("org_1"), 3, "never keeps them");

    env.write_config("");
    let run = env.run(&["sync", "--org", "org_1", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("removed rows deleted upstream");
    assert_eq!(deleted("org_1"), 1, "the one deleted today stays");
    let gone = env.count(&format!(
        "SELECT COUNT(*) FROM patients WHERE org_id = 'org_1' AND id IN ('{}', '{}')",
        ids[0], ids[1]
    ));
    assert_eq!(gone, 0);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        28
    );
    assert_eq!(deleted("org_2"), 1, "org_2 did not run");
    env.assert_in_sync("org_1");
}

fn rows_of(env: &TestEnv, org: &str) -> Vec<(String, i64)> {
    env.org_tables()
        .into_iter()
        .map(|t| {
            let n = env.count(&format!("SELECT COUNT(*) FROM {t} WHERE org_id = '{org}'"));
            (t, n)
        })
        .collect()
}

fn forget_shows_without_yes_and_erases_one_org_with_it(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .orgs(2)
        .patients(25)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let org1 = rows_of(&env, "org_1");
    let org2 = rows_of(&env, "org_2");
    assert!(
        org1.iter().any(|(t, n)| t == "patients" && *n == 25),
        "{org1:?}"
    );

    let dry = env.run(&["forget", "--org", "org_1"]);
    dry.expect_code(1);
    assert!(
        dry.stdout.contains("would delete for org org_1"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("patients"), "{}", dry.stdout);
    assert!(dry.stdout.contains("--yes"), "{}", dry.stdout);
    dry.assert_stderr_has("still in the config");
    assert_eq!(
        rows_of(&env, "org_1"),
        org1,
        "nothing deleted without --yes"
    );

    let run = env.run(&["forget", "--org", "org_1", "--yes"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("deleted for org org_1"),
        "{}",
        run.stdout
    );
    run.assert_stderr_has("still in the config");
    for (table, n) in rows_of(&env, "org_1") {
        assert_eq!(n, 0, "{table} still has org_1 rows");
    }
    assert_eq!(rows_of(&env, "org_2"), org2, "org_2 untouched");
    let status = env.run(&["status", "--json", "--org", "org_2"]);
    status.expect_code(0);

    // An org no longer in the config: no warning; nothing left to delete, which is not
    // taken for an erasure (a typo would look the same): exit 1, naming what is stored.
    env.write_config_with("", &env.orgs[1..]);
    let run = env.run(&["forget", "--org", "org_1", "--yes"]);
    run.expect_code(1);
    run.assert_stderr_lacks("still in the config");
    assert!(
        run.stdout.contains("nothing is stored for org org_1 in ")
            && run.stdout.contains("\norgs stored there: org_2\n"),
        "{}",
        run.stdout
    );
    // A case slip is named as one.
    let run = env.run(&["forget", "--org", "ORG_2", "--yes"]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("org ids are case-sensitive: did you mean `org_2`?"),
        "{}",
        run.stdout
    );
    assert_eq!(rows_of(&env, "org_2"), org2, "org_2 untouched");
    env.run(&["forget", "--org", "bad id"]).expect_code(2);
}
