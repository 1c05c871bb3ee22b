//! Processes that open the database at the same moment: creating the file, switching it
//! to WAL, migrating an older schema, and `status` reading during any of these. Every
//! process waits its turn; none exits 2 (config error) because the file was busy.

mod common;

use std::process::Child;
use std::time::Duration;

use common::{Run, TestEnv};
use fake_cliniko::FakeOptions;

/// Waits for `child` and returns its exit code and output.
fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for routiq-sync"))
}

/// What went wrong in one trial, or nothing.
fn trial_problems(trial: usize, syncs: usize) -> Vec<String> {
    let env = TestEnv::builder().orgs(3).build();
    assert!(!env.db_path().exists());
    let mut children: Vec<Child> = (0..syncs).map(|_| env.spawn(&["sync", "--all"])).collect();
    children.insert(syncs / 2, env.spawn(&["status", "--json"]));
    let runs: Vec<Run> = children.into_iter().map(finish).collect();
    let mut problems = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let status = i == syncs / 2;
        let ok = if status {
            matches!(run.code, 0 | 1)
        } else {
            run.code == 0
        };
        if !ok {
            let what = if status {
                "status --json"
            } else {
                "sync --all"
            };
            problems.push(format!(
                "trial {trial}: {what} exited {}: {}",
                run.code,
                run.stderr.trim()
            ));
        }
    }
    for (org, _) in &env.orgs {
        if !env.walked_once(org) {
            problems.push(format!("trial {trial}: {org} walks {:?}", env.walks(org)));
        }
        let runs = env.count(&format!(
            "SELECT COUNT(*) FROM runs WHERE org_id = '{org}' AND status = 'ok'"
        ));
        if runs != 1 {
            problems.push(format!("trial {trial}: {org} has {runs} ok runs"));
        }
    }
    problems
}

#[test]
fn first_runs_started_together_on_a_new_database_all_succeed_and_sync_each_org_once() {
    let mut problems = Vec::new();
    for trial in 0..45 {
        // 3, 4 and 5 syncs in turn, each with one `status --json` among them.
        problems.extend(trial_problems(trial, 3 + trial % 3));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn three_processes_opening_an_older_schema_migrate_it_once_and_all_succeed() {
    for from in 1..routiq_sync::store::sqlite::CURRENT_VERSION {
        for trial in 0..8 {
            let env = TestEnv::builder().orgs(2).build();
            routiq_sync::store::sqlite::create_at_version(&env.db_path(), from)
                .expect("old database");
            if trial % 2 == 1 {
                // Either journal mode: a rollback-journal file is also switched to WAL
                // while the others read it.
                env.db()
                    .pragma_update(None, "journal_mode", "WAL")
                    .expect("WAL");
            }
            let children: Vec<Child> = [
                &["sync", "--all"][..],
                &["status", "--json"][..],
                &["sync", "--all"][..],
            ]
            .iter()
            .map(|args| env.spawn(args))
            .collect();
            let runs: Vec<Run> = children.into_iter().map(finish).collect();
            runs[0].expect_code(0);
            runs[2].expect_code(0);
            assert!(
                matches!(runs[1].code, 0 | 1),
                "from v{from}, trial {trial}: status exited {}: {}",
                runs[1].code,
                runs[1].stderr
            );
            let version = env.count("PRAGMA user_version");
            assert_eq!(version, routiq_sync::store::sqlite::CURRENT_VERSION);
            // Migrated once: every table and index of the schema exists exactly once,
            // which a second run of a migration's ALTER/CREATE statements would break.
            let fresh = TestEnv::builder().patients(1).build();
            drop(routiq_sync::store::sqlite::SqliteStore::open(&fresh.db_path()).expect("new"));
            let schema = "SELECT COUNT(*) FROM sqlite_schema";
            assert_eq!(env.count(schema), fresh.count(schema), "from v{from}");
            for (org, _) in &env.orgs {
                assert!(
                    env.walked_once(org),
                    "from v{from}, trial {trial}: {org} walks {:?}",
                    env.walks(org)
                );
            }
        }
    }
}

#[test]
fn status_polled_during_a_first_full_sync_never_errors() {
    let opts = FakeOptions {
        latency: Duration::from_millis(5),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .orgs(2)
        .patients(800)
        .appointments_each(2)
        .options(opts)
        .build();
    let mut sync = env.spawn(&["sync", "--all"]);
    let mut polls = 0;
    // Bounded: a sync that never ends fails the wait below, not this loop.
    while polls < 2000 && sync.try_wait().expect("poll sync").is_none() {
        let run = env.run(&["status", "--json"]);
        polls += 1;
        assert!(
            matches!(run.code, 0 | 1),
            "poll {polls}: status exited {}: {}",
            run.code,
            run.stderr
        );
        if run.code == 0 || env.db_path().exists() {
            serde_json::from_str::<serde_json::Value>(&run.stdout)
                .unwrap_or_else(|e| panic!("poll {polls}: {e}: {}", run.stdout));
        }
    }
    finish(sync).expect_code(0);
    assert!(polls >= 2, "only {polls} polls during the sync");
    env.run(&["status", "--json"]).expect_code(0);
}
