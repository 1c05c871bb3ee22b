//! Read-only users can read: `status` (every format) works for a user who may read the
//! SQLite file but not write it or its folder, and `check` names a permission problem
//! instead of calling the file "not SQLite". The tests run as root and run the binary as
//! `nobody` (via `runuser`).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{Run, TestEnv};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs the binary as `nobody` with the test's config; `None` when `runuser` cannot
/// (missing, or not root): the test is then skipped (a failure in CI).
#[track_caller]
fn as_nobody(env: &TestEnv, args: &[&str]) -> Option<Run> {
    let out = match Command::new("runuser")
        .args([
            "-u",
            "nobody",
            "--",
            env!("CARGO_BIN_EXE_routiq-sync"),
            "-c",
        ])
        .arg(env.config_path())
        .args(args)
        .env_remove("RUST_LOG")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            common::pg::skip(&format!("`runuser` cannot be started: {e}"));
            return None;
        }
    };
    let run = Run::from(out);
    if run.stderr.contains("runuser:") {
        common::pg::skip(&format!(
            "`runuser` cannot run the binary as nobody: {}",
            run.stderr.trim()
        ));
        return None;
    }
    Some(run)
}

/// A synced store that `nobody` may read but not write: the file and config 0644, the
/// folder 0755 and root's, and no `-wal`/`-shm` left beside the file (as after the last
/// connection closed), which `nobody` may not create.
fn readable_store() -> TestEnv {
    let env = TestEnv::builder().patients(20).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let db = env.db_path();
    let conn = env.db();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    chmod(env.dir.path(), 0o755);
    chmod(&db, 0o644);
    chmod(&env.config_path(), 0o644);
    env
}

#[test]
fn status_works_for_a_user_who_may_only_read_the_database() {
    let env = readable_store();
    let before = std::fs::read(env.db_path()).unwrap();
    let Some(table) = as_nobody(&env, &["status"]) else {
        return;
    };
    table.expect_code(0);
    assert!(
        table.stdout.contains("the org is healthy"),
        "{}",
        table.stdout
    );
    let json = as_nobody(&env, &["status", "--json"]).unwrap();
    json.expect_code(0);
    assert!(json.stdout.contains("\"healthy\": true"), "{}", json.stdout);
    let metrics = as_nobody(&env, &["status", "--format", "openmetrics"]).unwrap();
    metrics.expect_code(0);
    assert!(
        metrics
            .stdout
            .contains("routiq_sync_healthy{org=\"org_1\"} 1"),
        "{}",
        metrics.stdout
    );
    assert_eq!(
        std::fs::read(env.db_path()).unwrap(),
        before,
        "status wrote nothing"
    );
    // check says what this user may and may not do.
    let check = as_nobody(&env, &["check"]).unwrap();
    assert!(
        check.stdout.contains(&format!(
            "exists, schema version {} (current); readable but not writable by this user: `status` works, `sync` needs write access to the file and its folder",
            routiq_sync::store::sqlite::CURRENT_VERSION
        )),
        "{}",
        check.stdout
    );
    // The root user's next sync goes on normally.
    env.run(&["sync", "--all", "--force"]).expect_code(0);
}

#[test]
fn check_names_a_database_this_user_may_not_read() {
    let env = readable_store();
    chmod(&env.db_path(), 0o600);
    let Some(check) = as_nobody(&env, &["check"]) else {
        return;
    };
    check.expect_code(1);
    assert!(
        check.stdout.contains(
            "PROBLEM: this user may not read it (permission denied): give the user running routiq-sync read access"
        ),
        "{}",
        check.stdout
    );
    assert!(
        !check.stdout.contains("cannot be read as a SQLite database"),
        "{}",
        check.stdout
    );
}
