//! Whole-program sync behaviour: the real binary against the fake Cliniko over HTTP.

mod common;

use std::sync::Arc;

use common::{Backend, TestEnv};
use fake_cliniko::{FakeOptions, Fault, Timestamp, World};
use routiq_sync::file_lock::{self, LockOutcome};

on_both_stores!(full_then_incremental_makes_the_minimum_requests);

fn full_then_incremental_makes_the_minimum_requests(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(250)
        .appointments_each(2)
        .build();
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 full ok");
    env.assert_in_sync("org_1");
    // 250 patients and 500 appointments: 3 + 5 pages (+1 if the last page is full),
    // plus one request for each of the 4 reference routes (appointment types, active and
    // inactive practitioners, businesses: one page each), nothing else.
    let full_requests = env.requests("org_1");
    assert!(
        full_requests <= 14,
        "full sync used {full_requests} requests"
    );

    let key = env.key("org_1");
    env.fake
        .with_world(|w| w.apply_random_changes(&key, 20, 3))
        .unwrap();
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 incremental ok");
    let stats = env.fake.stats(&key);
    assert_eq!(
        stats.requests, DEFAULT_ROUTES,
        "one request per core route of the default resources: {:#?}",
        stats.log
    );
    env.assert_in_sync("org_1");
}

/// Requests of an incremental sync with nothing changed, default resources: patients and
/// individual appointments. Reference data (appointment types, both practitioner routes,
/// businesses) waits for `reference_every`, or for a record naming an id the store lacks.
const DEFAULT_ROUTES: u64 = 2;

/// Asserts the run's log lines report writes and every count is 0 (a bare `0 written`
/// needle would also match `10 written`).
fn assert_nothing_written(run: &common::Run) {
    let counts: Vec<&str> = run
        .stderr
        .split(" written")
        .filter_map(|before| before.rsplit(' ').next())
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
        .collect();
    assert!(
        !counts.is_empty() && counts.iter().all(|n| *n == "0"),
        "wanted only `0 written`, got {counts:?}:\n{}",
        run.stderr
    );
}

on_both_stores!(a_quiet_clinic_costs_one_request_per_route);

fn a_quiet_clinic_costs_one_request_per_route(store: Backend) {
    let env = TestEnv::builder().on(store).patients(30).build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    assert_eq!(env.requests("org_1"), DEFAULT_ROUTES);
    assert_nothing_written(&run);
    run.assert_stderr_has("org_1 incremental ok");
}

#[test]
fn a_quiet_patients_and_appointments_org_costs_exactly_two_requests() {
    let env = TestEnv::builder().patients(30).build();
    env.write_config_org_lines("resources = [\"patients\", \"appointments\"]");
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    assert_eq!(env.requests("org_1"), 2);
    assert_nothing_written(&run);
}

on_both_stores!(archived_cancelled_and_new_records_arrive_and_hard_deletes_are_marked_by_full);

fn archived_cancelled_and_new_records_arrive_and_hard_deletes_are_marked_by_full(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let (archived, cancelled, deleted) = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        let patients = w.ids(&key, "patients");
        let appts = w.ids(&key, "individual_appointments");
        w.archive(&key, "patients", &patients[0]).unwrap();
        w.cancel(&key, "individual_appointments", &appts[0], 10)
            .unwrap();
        w.hard_delete(&key, "patients", &patients[1]).unwrap();
        (patients[0].clone(), appts[0].clone(), patients[1].clone())
    });
    env.fake
        .with_world(|w| w.apply_random_changes(&key, 3, 9))
        .unwrap();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    let archived_at = env.value(
        "SELECT archived_at FROM patients WHERE id = ?1",
        &[&archived],
    );
    assert!(
        archived_at.is_some(),
        "archived patient arrives with archived_at"
    );
    let cancelled_at = env.value(
        "SELECT cancelled_at FROM appointments WHERE id = ?1",
        &[&cancelled],
    );
    assert!(
        cancelled_at.is_some(),
        "cancelled appointment arrives with cancelled_at"
    );
    // An incremental sync cannot see a hard delete.
    let marked = format!(
        "SELECT COUNT(*) FROM patients WHERE id = '{deleted}' AND deleted_upstream_at IS NOT NULL"
    );
    assert_eq!(env.count(&marked), 0);

    let run = env.run(&["full", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("written, 1 deleted upstream");
    assert_eq!(
        env.count(&marked),
        1,
        "hard-deleted patient is marked, not removed"
    );
    env.assert_in_sync("org_1");
}

on_both_stores!(a_full_walk_that_fails_part_way_marks_nothing);

fn a_full_walk_that_fails_part_way_marks_nothing(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(250)
        .appointments_each(0)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let gone = env.fake.with_world(|w| {
        let id = w.ids(&key, "patients")[5].clone();
        w.hard_delete(&key, "patients", &id).unwrap();
        id
    });
    // Page 1 answers normally (a zero delay); page 2 gets a 400, which is not retried.
    env.fail_after_first_page("org_1", &[Fault::Status(400)]);
    let run = env.run(&["full", "--all", "--resource", "patients"]);
    run.expect_code(1);
    run.assert_stderr_has("HTTP 400");
    let marked = "SELECT COUNT(*) FROM patients WHERE deleted_upstream_at IS NOT NULL";
    assert_eq!(
        env.count(marked),
        0,
        "an incomplete walk reconciles nothing"
    );
    env.run(&["full", "--all"]).expect_code(0);
    let gone_marked = format!(
        "SELECT COUNT(*) FROM patients WHERE id = '{gone}' AND deleted_upstream_at IS NOT NULL"
    );
    assert_eq!(env.count(marked), 1);
    assert_eq!(env.count(&gone_marked), 1);
}

on_both_stores!(a_record_updated_mid_walk_is_not_lost);

fn a_record_updated_mid_walk_is_not_lost(store: Backend) {
    let (world, orgs) = World::demo(1, 400, 1, 5);
    let key = orgs[0].1.clone();
    let hook_key = key.clone();
    let opts = FakeOptions {
        on_request: Some(Arc::new(
            move |w: &mut World, info: &fake_cliniko::RequestInfo| {
                // While the walk is on its third page, change rows it has already passed
                // and rows still ahead of it.
                if info.request_number == 3 {
                    let ids = w.ids(&hook_key, "patients");
                    for id in ids.iter().step_by(37) {
                        let _ = w.touch(&hook_key, "patients", id);
                    }
                    let _ = w.archive(&hook_key, "patients", &ids[1]);
                }
            },
        )),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .world(world, orgs)
        .options(opts)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    let patient_pages = env.fake.stats(&key).path_count("/v1/patients");
    assert!(
        patient_pages > 4,
        "touched rows were walked again ({patient_pages} pages)"
    );
}

on_both_stores!(more_than_a_page_sharing_one_second_is_walked_completely);

fn more_than_a_page_sharing_one_second_is_walked_completely(store: Backend) {
    let (mut world, orgs) = World::demo(1, 300, 1, 8);
    let key = orgs[0].1.clone();
    let ids = world.ids(&key, "patients");
    let bulk = Timestamp::parse("2026-01-05T10:00:00Z").unwrap();
    world
        .set_updated_at_many(&key, "patients", &ids[..250], bulk)
        .unwrap();
    let opts = FakeOptions {
        shuffle_ties: true,
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .world(world, orgs)
        .options(opts)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    let stepped_inside_the_second = env
        .fake
        .stats(&key)
        .log
        .iter()
        .any(|r| r.query.contains("id:>"));
    assert!(
        stepped_inside_the_second,
        "the walk used an id:> filter inside the tie"
    );

    // And incrementally: a second bulk update at one second, after the cursor.
    let bulk2 = env.fake.with_world(|w| w.now());
    env.fake
        .with_world(|w| w.set_updated_at_many(&key, "patients", &ids[20..290], bulk2))
        .unwrap();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    env.assert_in_sync("org_1");
}

#[test]
fn a_locked_org_is_skipped_and_the_others_still_sync() {
    let env = TestEnv::builder().orgs(2).patients(20).build();
    let held = match file_lock::try_lock(&env.lock_dir(), "org_1").unwrap() {
        LockOutcome::Acquired(l) => l,
        LockOutcome::Busy => panic!("lock busy"),
    };
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 skipped: another routiq-sync run holds its lock");
    assert_eq!(env.requests("org_1"), 0);
    env.assert_in_sync("org_2");
    drop(held);
}

#[test]
fn a_wrong_key_fails_its_org_only() {
    let env = TestEnv::builder().orgs(2).patients(30).build();
    let bad = "wrongwrongwrongwrongkey-au1".to_string();
    env.write_config_with(
        "",
        &[
            ("org_1".into(), env.key("org_1")),
            ("org_2".into(), bad.clone()),
        ],
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    run.assert_stderr_has("org_2");
    run.assert_stderr_has("rejected the API key");
    run.assert_never_prints("the rejected key", &bad);
    env.assert_in_sync("org_1");
}

on_both_stores!(recently_synced_orgs_are_skipped_unless_forced);

fn recently_synced_orgs_are_skipped_unless_forced(store: Backend) {
    let env = TestEnv::builder().on(store).patients(10).build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("skipped: synced recently");
    assert_eq!(env.requests("org_1"), 0);
    env.run(&["sync", "--org", "org_1", "--force"])
        .expect_code(0);
    assert_eq!(env.requests("org_1"), DEFAULT_ROUTES);
}

#[test]
fn a_settled_bulk_second_is_not_read_again() {
    let env = TestEnv::builder().patients(500).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    // 450 patients updated in one second (an import), on Cliniko's clock.
    env.fake.with_world(|w| {
        let now = w.now();
        w.set_now(now.add(std::time::Duration::from_secs(5)));
        for id in w.ids(&key, "patients").into_iter().take(450) {
            w.update(&key, "patients", &id, |r| {
                r.insert("notes".into(), serde_json::json!("imported"));
            })
            .unwrap();
        }
    });
    let patient_requests = |env: &TestEnv| env.fake.stats(&key).path_count("/v1/patients");
    // Read at once: Cliniko's clock is not yet past the second by the margin, so the
    // next walk reads the second again (it might still gain rows).
    for _ in 0..2 {
        env.fake.reset_stats();
        env.run(&["sync", "--all", "--force"]).expect_code(0);
        assert!(
            patient_requests(&env) >= 5,
            "{:#?}",
            env.fake.stats(&key).log
        );
    }
    env.assert_in_sync("org_1");
    // Ten minutes later the walk reads it once more, now settled...
    env.fake
        .with_world(|w| w.advance(std::time::Duration::from_secs(600)));
    env.fake.reset_stats();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert!(patient_requests(&env) >= 5);
    // ...and from then on a quiet incremental costs one request per core route.
    for _ in 0..2 {
        env.fake.reset_stats();
        env.run(&["sync", "--all", "--force"]).expect_code(0);
        assert_eq!(
            env.requests("org_1"),
            DEFAULT_ROUTES,
            "{:#?}",
            env.fake.stats(&key).log
        );
    }
    let log = env.fake.stats(&key).log;
    assert!(
        log.iter()
            .any(|r| r.path == "/v1/patients" && r.query.contains("updated_at:>2")),
        "the walk starts after the settled second: {log:#?}"
    );
    // A change after it is still found.
    let changed = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(1));
        let id = w.ids(&key, "patients")[3].clone();
        w.archive(&key, "patients", &id).unwrap();
        id
    });
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM patients WHERE id = '{changed}' AND archived_at IS NOT NULL"
        )),
        1
    );
    env.assert_in_sync("org_1");
}

/// The harness's `assert_in_sync` compares every column and `raw_json`, not only ids and
/// timestamps: a change to any one of them fails it.
#[test]
fn assert_in_sync_notices_a_typed_column_or_raw_json_that_differs() {
    for change in [
        "UPDATE patients SET email = 'someone.else@example.com'",
        "UPDATE patients SET phone = NULL",
        "UPDATE appointments SET practitioner_id = '1'",
        "UPDATE appointments SET starts_at = '2001-01-01T00:00:00Z'",
        "UPDATE patients SET raw_json = json_set(raw_json, '$.notes', 'changed')",
    ] {
        let env = TestEnv::builder().patients(3).build();
        env.run(&["sync", "--all"]).expect_code(0);
        env.assert_in_sync("org_1");
        assert!(env.execute(change, &[]) > 0, "{change} changed no row");
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.assert_in_sync("org_1")));
        assert!(caught.is_err(), "assert_in_sync missed: {change}");
    }
}
