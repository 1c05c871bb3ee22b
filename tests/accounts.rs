//! One clinic's key never fills another clinic's rows: each org's Cliniko account is
//! recorded on its first sync, a key that later answers for another account fails the
//! org before any write, and two orgs sharing a key are refused by the config check.

mod common;

use common::{Backend, TestEnv};
use serde_json::Value;

on_both_stores!(swapped_keys_fail_both_orgs_before_any_write);

/// `id (name)` of the account the fake serves for `org`'s key.
fn account(env: &TestEnv, org: &str) -> (String, String) {
    let key = env.key(org);
    env.fake.with_world(|w| {
        let a = &w.account(&key).expect("account").settings_account;
        (
            a["id"].as_str().unwrap().to_string(),
            a["name"].as_str().unwrap().to_string(),
        )
    })
}

fn rows(env: &TestEnv, org: &str) -> i64 {
    env.count(&format!(
        "SELECT COUNT(*) FROM patients WHERE org_id = '{org}'"
    ))
}

fn swapped_keys_fail_both_orgs_before_any_write(store: Backend) {
    let env = TestEnv::builder().on(store).orgs(2).patients(20).build();
    let first = env.run(&["sync", "--all"]);
    first.expect_code(0);
    let (id_1, name_1) = account(&env, "org_1");
    let (id_2, name_2) = account(&env, "org_2");
    assert_ne!(id_1, id_2);
    assert!(
        first.stderr.contains(&format!(
            "org_1: the API key belongs to Cliniko account {id_1} ({name_1}); recorded"
        )),
        "{}",
        first.stderr
    );
    // status --json and check show each org's account.
    let status = env.run(&["status", "--json"]);
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["orgs"][0]["cliniko_account"]["id"], id_1.as_str());
    assert_eq!(doc["orgs"][1]["cliniko_account"]["name"], name_2.as_str());
    let check = env.run(&["check"]);
    check.expect_code(0);
    assert!(
        check.stdout.contains(&format!(
            "  account    Cliniko account {id_2} ({name_2}) (recorded by a sync"
        )),
        "{}",
        check.stdout
    );
    // Unchanged keys cost no extra request: a quiet sync is one request per route.
    env.fake.reset_stats();
    env.run(&["sync", "--org", "org_1", "--force"])
        .expect_code(0);
    assert_eq!(env.requests("org_1"), 2);

    // The keys swapped: both orgs fail, naming both accounts, and nothing is written.
    let swapped = vec![
        ("org_1".to_string(), env.key("org_2")),
        ("org_2".to_string(), env.key("org_1")),
    ];
    env.write_config_with("", &swapped);
    let before = (rows(&env, "org_1"), rows(&env, "org_2"));
    let run = env.run(&["full", "--all"]);
    run.expect_code(1);
    let expected = format!(
        "the API key answers for Cliniko account {id_2} ({name_2}), but org org_1's data came \
         from Cliniko account {id_1} ({name_1}): nothing was written. If keys were swapped, put \
         org org_1's own clinic's key in api_key of org org_1 in "
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "if this org really moved to another Cliniko account, erase its old data first with `routiq-sync forget --org org_1`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!((rows(&env, "org_1"), rows(&env, "org_2")), before);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE deleted_upstream_at IS NOT NULL"),
        0,
        "no row marked deleted upstream"
    );
    let error = env
        .value(
            "SELECT error FROM runs WHERE org_id = 'org_2' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap_or_default();
    assert!(
        error.contains(&format!("answers for Cliniko account {id_1} ({name_1})")),
        "{error}"
    );
    // The next run, with the same wrong key, refuses again (the digest of a refused key
    // is never recorded).
    env.run(&["sync", "--all", "--force"]).expect_code(1);

    // The same key given to two orgs is refused by the config check and by sync.
    let shared = vec![
        ("org_1".to_string(), env.key("org_1")),
        ("org_2".to_string(), env.key("org_1")),
    ];
    env.write_config_with("", &shared);
    for args in [&["check"][..], &["sync", "--all"]] {
        let run = env.run(args);
        run.expect_code(2);
        // The problem names the key, the org and its line in the file.
        assert!(
            run.stderr.contains("`org[1].api_key` (org `org_2`) at line ")
                && run.stderr.contains(
                    ": has the same API key (its inline api_key) as org `org_1` (its inline api_key)"
                ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(&env.key("org_1")),
            "the key is never shown"
        );
    }
}
