//! `verify`: the copy checked against Cliniko by counts, through the binary and the fake.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestEnv};
use fake_cliniko::{FakeOptions, RequestInfo, World};
use routiq_sync::timestamp::Timestamp;

on_both_stores!(
    nothing_differs_costs_one_request_per_route_and_is_recorded,
    three_hard_deletes_among_5000_rows_are_found_with_few_requests,
    a_row_lost_locally_is_fetched_back_and_a_row_gone_upstream_is_marked,
    sync_adds_a_verify_when_verify_every_has_passed,
    changes_while_verify_runs_never_get_a_live_row_marked,
    verify_or_full_killed_at_random_instants_leaves_a_store_the_next_run_makes_exact,
    offsetting_differences_mark_no_live_row_and_full_makes_the_copy_exact,
    a_row_the_first_listing_missed_but_the_second_look_finds_is_not_marked,
    a_refused_page_number_falls_back_to_the_count_alone,
);

/// Requests the fake answered for `org` on paths starting with `prefix`.
fn requests_to(env: &TestEnv, org: &str, prefix: &str) -> u64 {
    env.fake
        .stats(&env.key(org))
        .log
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .count() as u64
}

/// Ids of `table` rows of `org` marked deleted upstream.
fn marked(env: &TestEnv, org: &str, table: &str) -> BTreeSet<String> {
    env.rows(
        &format!("SELECT id FROM {table} WHERE org_id = ?1 AND deleted_upstream_at IS NOT NULL"),
        &[org],
    )
    .into_iter()
    .filter_map(|row| row.into_iter().next().flatten())
    .collect()
}

/// Fails when a patient of `org` that Cliniko still has is marked deleted upstream.
fn assert_no_live_row_marked(env: &TestEnv, org: &str) {
    let server = env.server_rows(org, "patients");
    let wrongly: Vec<String> = marked(env, org, "patients")
        .into_iter()
        .filter(|id| server.contains_key(id))
        .collect();
    assert!(wrongly.is_empty(), "live rows marked deleted: {wrongly:?}");
}

/// Hard-deletes the patients at positions `at` (in id order) of `org` upstream.
fn delete_patients(env: &TestEnv, org: &str, at: &[usize]) -> BTreeSet<String> {
    let key = env.key(org);
    env.fake.with_world(|w| {
        let ids = w.ids(&key, "patients");
        at.iter()
            .map(|&i| {
                w.hard_delete(&key, "patients", &ids[i]).unwrap();
                ids[i].clone()
            })
            .collect()
    })
}

/// The newest run's mode and status.
fn last_run(env: &TestEnv, org: &str) -> (String, String) {
    let rows = env.rows(
        "SELECT mode, status FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
        &[org],
    );
    match rows.as_slice() {
        [row] => (
            row[0].clone().unwrap_or_default(),
            row[1].clone().unwrap_or_default(),
        ),
        other => panic!("no run of {org}: {other:?}"),
    }
}

fn nothing_differs_costs_one_request_per_route_and_is_recorded(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(300)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.reset_stats();
    let run = env.run(&["verify", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 verify ok");
    // A count for patients and appointments; reference data (four routes, one page
    // each) is read whole.
    let log = env.fake.stats(&env.key("org_1")).log;
    assert_eq!(log.len(), 6, "{log:#?}");
    let paths: BTreeSet<&str> = log.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths.len(), 6, "one request per route: {log:#?}");
    assert!(
        log.iter()
            .filter(|r| r.path == "/v1/patients")
            .all(|r| r.query.contains("per_page=1") && r.query.contains("archived_at:*")),
        "{log:#?}"
    );
    assert_eq!(last_run(&env, "org_1"), ("verify".into(), "ok".into()));
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(
        v["orgs"][0]["last_verify_at"].is_string(),
        "{}",
        status.stdout
    );
    assert_eq!(v["orgs"][0]["last_run"]["mode"], "verify");
    assert_eq!(v["orgs"][0]["last_run"]["api_calls"], 6);
    env.assert_in_sync("org_1");
}

fn three_hard_deletes_among_5000_rows_are_found_with_few_requests(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(5000)
        .appointments_each(0)
        .build();
    env.write_config_org_lines("resources = [\"patients\"]");
    env.run(&["sync", "--all"]).expect_code(0);
    let full_walk = requests_to(&env, "org_1", "/v1/patients");
    let key = env.key("org_1");
    let gone = delete_patients(&env, "org_1", &[17, 2500, 4990]);
    env.fake.reset_stats();
    let run = env.run(&["verify", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("written, 3 deleted upstream");
    assert_eq!(marked(&env, "org_1", "patients"), gone);
    env.assert_in_sync("org_1");
    let verify = env.requests("org_1");
    // Per delete: one probe per cut into thirds (each probe counts a part and finds the
    // row at a position in it; 5000 rows down to a page: 4), then a one-page listing;
    // plus the first probe and one request confirming every candidate by id.
    let bound = 1 + 3 * (4 + 1) + 1;
    eprintln!("verify found 3 deletes in {verify} requests; the full walk took {full_walk}");
    assert!(
        verify <= bound,
        "verify took {verify} requests (bound {bound}; full walk {full_walk}): {:#?}",
        env.fake.stats(&key).log
    );
    assert!(verify * 2 < full_walk, "{verify} vs full walk {full_walk}");

    // Found once: the next verify is one count again.
    env.fake.reset_stats();
    env.run(&["verify", "--all"]).expect_code(0);
    assert_eq!(env.requests("org_1"), 1);
}

fn a_row_lost_locally_is_fetched_back_and_a_row_gone_upstream_is_marked(store: Backend) {
    let env = TestEnv::builder().on(store).patients(400).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let ids = env.fake.with_world(|w| w.ids(&key, "patients"));
    let (lost, gone) = (ids[123].clone(), ids[321].clone());
    env.execute("DELETE FROM patients WHERE id = ?1", &[&lost]);
    let cursor = env.cursor("org_1", "patients");
    env.run(&["verify", "--all"]).expect_code(0);
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM patients WHERE id = '{lost}' AND deleted_upstream_at IS NULL"
        )),
        1,
        "the lost row is back"
    );
    assert_eq!(
        env.cursor("org_1", "patients"),
        cursor,
        "verify moves no cursor"
    );
    env.assert_in_sync("org_1");

    env.fake.with_world(|w| {
        w.hard_delete(&key, "patients", &gone).unwrap();
        let appt = w.ids(&key, "individual_appointments")[7].clone();
        w.hard_delete(&key, "individual_appointments", &appt)
            .unwrap();
    });
    env.run(&["verify", "--all"]).expect_code(0);
    assert_eq!(marked(&env, "org_1", "patients"), BTreeSet::from([gone]));
    assert_eq!(marked(&env, "org_1", "appointments").len(), 1);
    env.assert_in_sync("org_1");
}

fn sync_adds_a_verify_when_verify_every_has_passed(store: Backend) {
    let env = TestEnv::builder().on(store).patients(200).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let gone = delete_patients(&env, "org_1", &[50]);
    // An incremental sync does not see a hard delete...
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert!(marked(&env, "org_1", "patients").is_empty());
    // ...a sync two days after the last full walk and verify adds a verify, which does.
    let two_days_ago = Timestamp::from_unix(Timestamp::now().unix() - 2 * 86_400).unwrap();
    env.execute(
        &format!("UPDATE sync_state SET last_full_at = '{two_days_ago}', last_verify_at = NULL"),
        &[],
    );
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 verify ok");
    assert_eq!(marked(&env, "org_1", "patients"), gone);
    env.assert_in_sync("org_1");
}

fn changes_while_verify_runs_never_get_a_live_row_marked(store: Backend) {
    let deleted: Arc<Mutex<Vec<String>>> = Arc::default();
    let env = TestEnv::builder().on(store).patients(3000).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    // Some rows are gone upstream before the check.
    let before = delete_patients(&env, "org_1", &[5, 1500, 2990]);
    deleted.lock().unwrap().extend(before);
    // Every request of the check meets new patients, edits, an archive, a cancellation,
    // a new appointment, and (every third request) a hard delete.
    let hook_deleted = deleted.clone();
    let hook_key = key.clone();
    env.fake
        .set_on_request(Some(Arc::new(move |w: &mut World, info: &RequestInfo| {
            if info.api_key != hook_key {
                return;
            }
            let n = info.request_number;
            w.apply_random_changes(&hook_key, 4, n).unwrap();
            if n.is_multiple_of(3) {
                let ids = w.ids(&hook_key, "patients");
                let id = ids[(n as usize * 7919) % ids.len()].clone();
                w.hard_delete(&hook_key, "patients", &id).unwrap();
                hook_deleted.lock().unwrap().push(id);
            }
        })));
    let run = env.run(&["verify", "--all"]);
    env.fake.set_on_request(None);
    run.expect_code(0);
    assert_no_live_row_marked(&env, "org_1");
    let server = env.server_rows("org_1", "patients");
    // The next incremental brings every change. Deletes whose count a change cancelled
    // out while the check ran (a row created in the same part) wait for the next check.
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    let local = env.local_rows("org_1", "patients");
    for (id, v) in &server {
        assert_eq!(local.get(id), Some(v), "patient {id}");
    }
    let during: BTreeSet<String> = deleted.lock().unwrap().iter().cloned().collect();
    for id in local.keys().filter(|id| !server.contains_key(*id)) {
        assert!(
            during.contains(id),
            "{id} is neither upstream nor deleted by the test"
        );
    }
    env.run(&["verify", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
}

fn verify_or_full_killed_at_random_instants_leaves_a_store_the_next_run_makes_exact(
    store: Backend,
) {
    let opts = FakeOptions {
        latency: Duration::from_millis(4),
        ..FakeOptions::default()
    };
    let env = TestEnv::builder()
        .on(store)
        .patients(2000)
        .options(opts)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let mut seed = 0x5eed_2026_u64;
    let mut below = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut killed_mid_run = 0;
    for i in 0..24 {
        // Give each run work: rows gone upstream.
        env.fake.with_world(|w| {
            let ids = w.ids(&key, "patients");
            for j in 0..3 {
                let id = ids[(i * 37 + j * 611) % ids.len()].clone();
                w.hard_delete(&key, "patients", &id).unwrap();
            }
        });
        let args: &[&str] = if i % 3 == 2 {
            &["full", "--all"]
        } else {
            &["verify", "--all"]
        };
        let mut child = env
            .command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(10 + below(150)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        env.assert_consistent("org_1");
        assert_no_live_row_marked(&env, "org_1");
    }
    assert!(
        killed_mid_run >= 8,
        "only {killed_mid_run} kills landed mid-run"
    );
    env.run(&["verify", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    env.assert_consistent("org_1");
    env.assert_in_sync("org_1");
}

/// Deletes the local patient rows at positions `at` (in id order) of `org`: rows lost
/// from the store, as a bad restore or a stray `DELETE` would.
fn lose_local_patients(env: &TestEnv, org: &str, at: &[usize]) -> BTreeSet<String> {
    let key = env.key(org);
    let ids = env.fake.with_world(|w| w.ids(&key, "patients"));
    at.iter()
        .map(|&i| {
            env.execute("DELETE FROM patients WHERE id = ?1", &[&ids[i]]);
            ids[i].clone()
        })
        .collect()
}

fn offsetting_differences_mark_no_live_row_and_full_makes_the_copy_exact(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(400)
        .appointments_each(0)
        .build();
    env.write_config_org_lines("resources = [\"patients\"]");
    env.run(&["sync", "--all"]).expect_code(0);

    // Neighbours: 2 rows lost locally between 2 rows deleted upstream. Counts agree for
    // every part holding all four, which no split separates: this verify cannot see them
    // (the limit `verify --help` states) and must not mark anything.
    let lost = lose_local_patients(&env, "org_1", &[200, 202]);
    let gone = delete_patients(&env, "org_1", &[201, 203]);
    let run = env.run(&["verify", "--all"]);
    run.expect_code(0);
    assert_no_live_row_marked(&env, "org_1");
    let local = env.local_rows("org_1", "patients");
    eprintln!(
        "neighbours: {} of 2 lost rows back, {} of 2 deletes marked",
        lost.iter().filter(|id| local.contains_key(*id)).count(),
        marked(&env, "org_1", "patients").len()
    );
    // The full walk is the backstop: it makes the copy exact.
    env.run(&["full", "--all"]).expect_code(0);
    assert_no_live_row_marked(&env, "org_1");
    assert_eq!(marked(&env, "org_1", "patients"), gone);
    env.assert_in_sync("org_1");

    // Far apart (lost at the low end, deleted at the high end): the first probe's split
    // falls between them, so counts differ on both sides and verify repairs both.
    let lost = lose_local_patients(&env, "org_1", &[0, 1]);
    let ids = env
        .fake
        .with_world(|w| w.ids(&env.key("org_1"), "patients"));
    let n = ids.len();
    let gone_far = delete_patients(&env, "org_1", &[n - 2, n - 1]);
    env.run(&["verify", "--all"]).expect_code(0);
    assert_no_live_row_marked(&env, "org_1");
    let marked_now = marked(&env, "org_1", "patients");
    assert!(
        gone_far.is_subset(&marked_now),
        "{gone_far:?} {marked_now:?}"
    );
    for id in &lost {
        assert!(
            env.local_rows("org_1", "patients").contains_key(id),
            "lost row {id} is back"
        );
    }
    env.assert_in_sync("org_1");
}

fn a_row_the_first_listing_missed_but_the_second_look_finds_is_not_marked(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(80)
        .appointments_each(0)
        .build();
    env.write_config_org_lines("resources = [\"patients\"]");
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    let ids = env.fake.with_world(|w| w.ids(&key, "patients"));
    let gone = delete_patients(&env, "org_1", &[40]);
    // A stale answer: the listing lacks patient 41, the look by id finds it again.
    let hidden = ids[41].clone();
    let kept: Arc<Mutex<Option<fake_cliniko::Record>>> = Arc::default();
    let (hook_key, hook_id, hook_kept) = (key.clone(), hidden.clone(), kept.clone());
    env.fake
        .set_on_request(Some(Arc::new(move |w: &mut World, info: &RequestInfo| {
            if info.api_key != hook_key {
                return;
            }
            let mut kept = hook_kept.lock().unwrap();
            if info.query.contains("id:=") {
                if let Some(rec) = kept.take() {
                    w.insert_as_is(&hook_key, "patients", rec).unwrap();
                }
            } else if info.per_page > 1 && kept.is_none() {
                *kept = w.hard_delete(&hook_key, "patients", &hook_id).ok();
            }
        })));
    let run = env.run(&["verify", "--all"]);
    env.fake.set_on_request(None);
    run.expect_code(0);
    assert!(
        kept.lock().unwrap().is_none(),
        "the row was hidden and shown again"
    );
    assert_eq!(marked(&env, "org_1", "patients"), gone);
    assert_no_live_row_marked(&env, "org_1");
    env.assert_in_sync("org_1");
}

fn a_refused_page_number_falls_back_to_the_count_alone(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(300)
        .appointments_each(0)
        .build();
    env.write_config_org_lines("resources = [\"patients\"]");
    env.run(&["sync", "--all"]).expect_code(0);
    let gone = delete_patients(&env, "org_1", &[150]);
    // Cliniko does not document its answer to a page past the end: if it refuses the
    // first probe's page number, the count is asked for alone.
    let key = env.key("org_1");
    env.fake.push_fault(&key, fake_cliniko::Fault::Status(400));
    env.fake.reset_stats();
    env.run(&["verify", "--all"]).expect_code(0);
    let log = env.fake.stats(&key).log;
    assert_eq!(log[0].status, 400, "{log:#?}");
    assert!(log[0].query.contains("&page="), "{log:#?}");
    assert!(!log[1].query.contains("&page="), "{log:#?}");
    assert!(
        log[1..].iter().all(|r| !r.query.contains("&page=")),
        "a refused page number is not asked for again: {log:#?}"
    );
    assert_eq!(marked(&env, "org_1", "patients"), gone);
    env.assert_in_sync("org_1");
}
