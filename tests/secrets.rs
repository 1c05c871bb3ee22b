//! API keys never leave the process except in the Authorization header: not in output at
//! any verbosity, not in errors, not in status, not in the database file.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Backend, TestEnv};
use fake_cliniko::Fault;
use routiq_sync::cliniko::basic_auth;
use routiq_sync::secret::ApiKey;

on_both_stores!(keys_never_appear_in_output_logs_or_the_database);

fn keys_never_appear_in_output_logs_or_the_database(store: Backend) {
    let env = TestEnv::builder().on(store).orgs(2).patients(120).build();
    let good = env.key("org_1");
    let rejected = "rejectedkeyrejectedkey1234-au1".to_string();
    env.write_config_with(
        "",
        &[
            ("org_1".into(), good.clone()),
            ("org_2".into(), rejected.clone()),
        ],
    );
    let db_password = match &env.store {
        Backend::Postgres(db) => db.password.clone(),
        Backend::Sqlite => "no database password with SQLite".to_string(),
    };
    let secrets = [
        db_password,
        good.clone(),
        rejected.clone(),
        basic_auth(&ApiKey::new(&good)),
        basic_auth(&ApiKey::new(&rejected)),
        // The key without its shard suffix is the same credential.
        good.rsplit_once('-').unwrap().0.to_string(),
    ];
    let mut outputs = Vec::new();
    for (args, env_vars) in [
        (vec!["-vv", "sync", "--all"], vec![]),
        (vec!["full", "--all"], vec![("RUST_LOG", "trace")]),
        (
            vec!["-vv", "sync", "--all", "--force"],
            vec![("RUST_LOG", "trace")],
        ),
        (vec!["-vv", "status"], vec![("RUST_LOG", "trace")]),
        (vec!["status", "--json"], vec![]),
    ] {
        env.fake.push_fault(&good, Fault::Status(503));
        let run = env.run_env(&args, &env_vars);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        outputs.push((args, run.stdout, run.stderr));
    }
    // Trace logging really was on (so the test would catch a leak).
    assert!(
        outputs[1].2.contains("TRACE") || outputs[1].2.contains("DEBUG"),
        "{}",
        outputs[1].2
    );
    for (args, stdout, stderr) in &outputs {
        for s in &secrets {
            common::assert_never_prints(&format!("{args:?}: a key"), s, stdout, stderr);
        }
    }
    let db_bytes = env.stored_bytes();
    assert!(db_bytes.len() > 1000, "the store holds the synced rows");
    for s in &secrets {
        assert!(
            !db_bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "the database holds a key"
        );
    }
}

#[test]
fn a_readable_config_with_inline_keys_gets_a_warning() {
    let env = TestEnv::builder().patients(1).appointments_each(0).build();
    std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["status"]);
    run.assert_stderr_has("chmod 600");
    run.assert_stderr_lacks(&env.key("org_1"));
}
