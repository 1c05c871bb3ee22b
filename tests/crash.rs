//! Kills, signals and overlapping runs: the database stays consistent, cursors never
//! pass committed rows, each org is synced once, and the next run completes the work.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::{Backend, TestEnv, signal};
use fake_cliniko::FakeOptions;

/// A tiny seeded generator, so a failing run can be replayed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

on_both_stores!(
    sigkill_at_random_moments_never_corrupts_and_the_next_run_catches_up,
    sigterm_stops_between_pages_and_is_recorded,
    overlapping_runs_sync_each_org_once,
);

fn sigkill_at_random_moments_never_corrupts_and_the_next_run_catches_up(store: Backend) {
    let opts = FakeOptions {
        latency: Duration::from_millis(4),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .patients(2000)
        .options(opts)
        .build();
    let mut rng = XorShift(0x5eed_2026);
    let mut killed_mid_run = 0;
    let mut i = 0;
    // At least 20 kills must land while a run is under way; bounded in case runs finish fast.
    while killed_mid_run < 20 && i < 60 {
        i += 1;
        // Alternate fresh full walks and syncs that resume the unfinished one.
        let args: &[&str] = if i % 2 == 0 {
            &["full", "--all"]
        } else {
            &["sync", "--all", "--force"]
        };
        let before = env.requests("org_1");
        let mut child = env.spawn(args);
        if matches!(env.store, Backend::Postgres(_)) {
            // Opening sessions (SCRAM, debug build) takes most of 300 ms: count the
            // random instant from the run's first API request, so kills land mid-walk.
            while env.requests("org_1") == before && child.try_wait().expect("try_wait").is_none() {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(300)));
        if child.try_wait().expect("try_wait").is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        env.assert_consistent("org_1");
    }
    assert!(
        killed_mid_run >= 20,
        "only {killed_mid_run} kills landed mid-run"
    );
    let committed = env.count("SELECT COUNT(*) FROM patients");
    eprintln!(
        "crash test: {i} runs started, {killed_mid_run} killed mid-run, {committed} patients committed before the final run"
    );
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    env.assert_consistent("org_1");
    env.assert_in_sync("org_1");
    let interrupted = env.count("SELECT COUNT(*) FROM runs WHERE status = 'interrupted'");
    assert!(
        interrupted >= 1,
        "killed runs are recorded as interrupted by the next run"
    );
}

fn sigterm_stops_between_pages_and_is_recorded(store: Backend) {
    let opts = FakeOptions {
        latency: Duration::from_millis(20),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .patients(3000)
        .appointments_each(0)
        .options(opts)
        .build();
    let mut child = env.spawn(&["sync", "--all"]);
    // Wait until the run has committed something, then look at status meanwhile.
    env.wait_for_patients_cursor("org_1", &mut child, Duration::from_secs(20));
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).expect("status json");
    assert_eq!(v["orgs"][0]["sync_running"], true, "{}", status.stdout);
    assert_eq!(v["orgs"][0]["last_run"]["status"], "running");

    signal(&child, "TERM");
    env.assert_interrupted_then_caught_up(child, "org_1");
}

fn overlapping_runs_sync_each_org_once(store: Backend) {
    let opts = FakeOptions {
        latency: Duration::from_millis(10),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .orgs(4)
        .patients(300)
        .options(opts)
        .build();
    let children: Vec<Child> = (0..3)
        .map(|_| env.spawn(&["sync", "--all", "--jobs", "2"]))
        .collect();
    assert_each_org_synced_once(&env, children);
}

/// Three "hosts" (their own config file and lock folder each) run `sync --all` at once
/// against one PostgreSQL database: the advisory locks share the orgs out.
#[test]
fn hosts_with_their_own_lock_folders_sync_each_org_once_on_postgres() {
    let Some(store) = Backend::postgres() else {
        return;
    };
    let opts = FakeOptions {
        latency: Duration::from_millis(10),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .orgs(6)
        .patients(300)
        .options(opts)
        .build();
    let children: Vec<Child> = (0..3)
        .map(|n| {
            let mut cmd = env.bare_command(&[]);
            cmd.arg("-c")
                .arg(env.config_for_host(n))
                .args(["sync", "--all", "--jobs", "2"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().expect("spawn routiq-sync")
        })
        .collect();
    assert_each_org_synced_once(&env, children);
}

/// Waits for `children` (each exit 0) and checks every org was walked exactly once and
/// is in sync.
fn assert_each_org_synced_once(env: &TestEnv, children: Vec<Child>) {
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        common::assert_lacks(&stderr, "database is locked");
    }
    for (org, _) in &env.orgs {
        let walks = env.walks(org);
        assert!(walks.len() >= 2, "{org}: {walks:?}");
        assert!(
            walks.values().all(|&n| n == 1),
            "{org} was walked more than once: {walks:?}"
        );
        env.assert_in_sync(org);
    }
}
