//! Reference and optional resources through the real binary against the fake Cliniko:
//! they arrive, join, stay off unless enabled, and cost one request per route when
//! nothing changed.

mod common;

use std::collections::BTreeMap;

use common::{Backend, TestEnv};

on_both_stores!(
    reference_resources_arrive_by_default_and_appointments_join_to_them,
    an_incremental_run_with_nothing_changed_costs_one_request_per_route,
    a_quiet_sync_of_every_resource_costs_one_request_per_core_route,
    optional_resources_sync_when_enabled_with_the_same_semantics,
    a_practitioner_moving_between_routes_is_followed_and_reconciled_only_after_both,
    an_unfinished_first_sync_of_practitioners_resumes_each_route_without_false_deletions,
);
use fake_cliniko::Fault;
use routiq_sync::resource::Resource;
use serde_json::json;

/// Asserts the local table holds exactly the server collection's rows (ids, updated_at,
/// archived_at, cancelled_at), ignoring rows marked deleted upstream.
fn assert_table_in_sync(env: &TestEnv, org: &str, collection: &str, table: &str) {
    let server = env.server_rows(org, collection);
    let local = env.local_rows(org, table);
    assert!(!server.is_empty(), "{collection}: the fake has no rows");
    assert_eq!(server, local, "{org} {table}");
}

/// `resource -> api_calls` of the org's newest run.
fn calls_per_resource(env: &TestEnv, org: &str) -> BTreeMap<String, u64> {
    let json = env
        .value(
            "SELECT CAST(resources AS TEXT) FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT 1",
            &[org],
        )
        .expect("a run");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, c)| (k.clone(), c["api_calls"].as_u64().unwrap()))
        .collect()
}

fn reference_resources_arrive_by_default_and_appointments_join_to_them(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(60)
        .appointments_each(3)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    assert_table_in_sync(&env, "org_1", "appointment_types", "appointment_types");
    assert_table_in_sync(&env, "org_1", "practitioners", "practitioners");
    assert_table_in_sync(&env, "org_1", "businesses", "businesses");

    // Every appointment's type, practitioner and business is there.
    for (table, column) in [
        ("appointment_types", "appointment_type_id"),
        ("practitioners", "practitioner_id"),
        ("businesses", "business_id"),
    ] {
        let orphans = env.count(&format!(
            "SELECT COUNT(*) FROM appointments a LEFT JOIN {table} r
                 ON r.org_id = a.org_id AND r.id = a.{column} WHERE r.id IS NULL"
        ));
        assert_eq!(orphans, 0, "appointments whose {column} is not in {table}");
    }
    // The inactive practitioner came from /practitioners/inactive, flagged inactive, and
    // old appointments join to them.
    assert_eq!(
        env.count("SELECT COUNT(*) FROM practitioners WHERE active = 0"),
        1
    );
    assert!(
        env.count(
            "SELECT COUNT(*) FROM appointments a JOIN practitioners p
             ON p.org_id = a.org_id AND p.id = a.practitioner_id WHERE p.active = 0"
        ) > 0
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM practitioners WHERE active = 1 AND display_name IS NOT NULL"
        ),
        env.count("SELECT COUNT(*) FROM practitioners") - 1
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM appointment_types
             WHERE duration_in_minutes > 0 AND color LIKE '#%' AND name IS NOT NULL"
        ),
        env.count("SELECT COUNT(*) FROM appointment_types")
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM businesses WHERE time_zone IS NULL OR business_name IS NULL"
        ),
        0
    );
    // Both practitioner routes have their own cursor.
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM sync_state WHERE org_id = 'org_1' AND cursor IS NOT NULL
             AND resource IN ('practitioners', 'practitioners_inactive')"
        ),
        2
    );
    // Optional resources were neither requested nor stored.
    let stats = env.fake.stats(&env.key("org_1"));
    for path in ["/v1/group_appointments", "/v1/attendees", "/v1/invoices"] {
        assert_eq!(stats.path_count(path), 0, "{path}");
    }
    for table in ["group_appointments", "attendees", "invoices"] {
        assert_eq!(env.count(&format!("SELECT COUNT(*) FROM {table}")), 0);
    }
    // Practitioner routes never get an archived_at filter (a 400 from Cliniko).
    assert!(
        stats
            .log
            .iter()
            .filter(|r| r.path.starts_with("/v1/practitioners"))
            .all(|r| !r.query.contains("archived_at")),
        "{:#?}",
        stats.log
    );
}

/// The eight resources the counts of the next test are about (the catalogue's first
/// eight; every resource is the test after it).
const EIGHT: [&str; 8] = [
    "patients",
    "appointments",
    "appointment_types",
    "practitioners",
    "businesses",
    "group_appointments",
    "attendees",
    "invoices",
];

fn an_incremental_run_with_nothing_changed_costs_one_request_per_route(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(2)
        .build();
    let eight: Vec<Resource> = EIGHT.iter().map(|n| n.parse().unwrap()).collect();
    let all: Vec<String> = eight.iter().map(|r| format!("{:?}", r.name())).collect();
    env.write_config_org_lines(&format!("resources = [{}]", all.join(", ")));
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 incremental ok");
    // One request per route of the 5 resources that are not reference data; reference
    // data was polled by the first sync and is not due again for `reference_every`.
    assert_eq!(
        env.requests("org_1"),
        5,
        "{:#?}",
        env.fake.stats(&env.key("org_1")).log
    );
    let per_resource = calls_per_resource(&env, "org_1");
    let expected: BTreeMap<String, u64> = eight
        .iter()
        .filter(|r| !r.is_reference())
        .map(|r| (r.name().to_string(), r.cursor_keys().len() as u64))
        .collect();
    assert_eq!(per_resource, expected);

    // Once due, reference data is polled: one request per route of it too.
    env.execute(
        "UPDATE sync_state SET polled_at = '2000-01-01T00:00:00Z'",
        &[],
    );
    env.fake.reset_stats();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert_eq!(env.requests("org_1"), 9);
    let per_resource = calls_per_resource(&env, "org_1");
    let expected: BTreeMap<String, u64> = eight
        .iter()
        .map(|r| (r.name().to_string(), r.cursor_keys().len() as u64))
        .collect();
    assert_eq!(per_resource, expected);
    assert_eq!(per_resource["appointment_types"], 1);
    assert_eq!(per_resource["practitioners"], 2);
    assert_eq!(per_resource["businesses"], 1);
}

/// The request floor, stated from the catalogue: a quiet `sync` of an org with every
/// resource enabled costs one request per route of the resources that are not
/// reference data, and once `reference_every` makes reference data due, one per route
/// of it too (docs/dashboard.md, "What is synced").
fn a_quiet_sync_of_every_resource_costs_one_request_per_core_route(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(40)
        .appointments_each(2)
        .build();
    let all: Vec<String> = Resource::ALL
        .iter()
        .map(|r| format!("{:?}", r.name()))
        .collect();
    env.write_config_org_lines(&format!("resources = [{}]", all.join(", ")));
    env.run(&["sync", "--all"]).expect_code(0);
    let routes = |reference: bool| -> u64 {
        Resource::ALL
            .iter()
            .filter(|r| r.is_reference() == reference)
            .map(|r| r.spec().routes.len() as u64)
            .sum()
    };
    let (core, reference) = (routes(false), routes(true));
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md"))
        .unwrap()
        .replace('\n', " ");
    let stated = format!(
        "{core} with everything on ({} when reference data is due)",
        core + reference
    );
    assert!(
        docs.contains(&stated),
        "docs/dashboard.md should say `{stated}`"
    );
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 incremental ok");
    let log = env.fake.stats(&env.key("org_1")).log;
    assert_eq!(env.requests("org_1"), core, "{log:#?}");
    env.execute(
        "UPDATE sync_state SET polled_at = '2000-01-01T00:00:00Z'",
        &[],
    );
    env.fake.reset_stats();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    let log = env.fake.stats(&env.key("org_1")).log;
    assert_eq!(env.requests("org_1"), core + reference, "{log:#?}");
    let per_resource = calls_per_resource(&env, "org_1");
    let expected: BTreeMap<String, u64> = Resource::ALL
        .iter()
        .map(|r| (r.name().to_string(), r.spec().routes.len() as u64))
        .collect();
    assert_eq!(per_resource, expected);
}

#[test]
fn an_appointment_naming_an_unknown_practitioner_polls_practitioners_at_once() {
    let env = TestEnv::builder().patients(30).appointments_each(2).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    // A new practitioner, and an appointment with them, both after the last poll.
    let practitioner = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        let mut p = w.records(&key, "practitioners")[0].clone();
        let id = w.new_id().to_string();
        p.insert("id".into(), json!(id));
        p.insert("active".into(), json!(true));
        w.insert(&key, "practitioners", p).unwrap();
        let appt = w.ids(&key, "individual_appointments")[0].clone();
        w.update(&key, "individual_appointments", &appt, |r| {
            r.insert(
                "practitioner".into(),
                json!({"links": {"self": format!("https://api.au1.cliniko.com/v1/practitioners/{id}")}}),
            );
        })
        .unwrap();
        id
    });
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("polling practitioners now");
    // Patients, appointments, then both practitioner routes; nothing else.
    assert_eq!(env.requests("org_1"), 4, "{:#?}", env.fake.stats(&key).log);
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM practitioners WHERE id = '{practitioner}'"
        )),
        1
    );
    let per_resource = calls_per_resource(&env, "org_1");
    assert_eq!(per_resource.get("practitioners"), Some(&2));
    assert_eq!(per_resource.get("businesses"), None);
}

fn optional_resources_sync_when_enabled_with_the_same_semantics(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(100)
        .appointments_each(2)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.write_config_org_lines(
        "resources = [\"patients\", \"appointments\", \"appointment_types\", \"practitioners\", \
         \"businesses\", \"group_appointments\", \"attendees\", \"invoices\"]",
    );
    // Newly enabled resources get their first (full) sync, the others stay incremental.
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 mixed ok");
    assert_table_in_sync(&env, "org_1", "group_appointments", "group_appointments");
    assert_table_in_sync(&env, "org_1", "attendees", "attendees");
    assert_table_in_sync(&env, "org_1", "invoices", "invoices");
    // Cancelled attendees came too (cancelled_at:*), and everything joins.
    assert!(env.count("SELECT COUNT(*) FROM attendees WHERE cancelled_at IS NOT NULL") > 0);
    let orphans = [
        "SELECT COUNT(*) FROM attendees a LEFT JOIN group_appointments g
         ON g.org_id = a.org_id AND g.id = a.booking_id WHERE g.id IS NULL",
        "SELECT COUNT(*) FROM attendees a LEFT JOIN patients p
         ON p.org_id = a.org_id AND p.id = a.patient_id WHERE p.id IS NULL",
        "SELECT COUNT(*) FROM group_appointments g LEFT JOIN appointment_types t
         ON t.org_id = g.org_id AND t.id = g.appointment_type_id WHERE t.id IS NULL",
        "SELECT COUNT(*) FROM invoices i LEFT JOIN appointments a
         ON a.org_id = i.org_id AND a.id = i.appointment_id WHERE a.id IS NULL",
    ];
    for sql in orphans {
        assert_eq!(env.count(sql), 0, "{sql}");
    }

    // Upstream changes arrive incrementally: an attendee cancelled, an invoice closed,
    // a group appointment archived.
    let key = env.key("org_1");
    let (attendee, invoice, group) = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        let attendee = w
            .records(&key, "attendees")
            .into_iter()
            .find(|r| r["cancelled_at"].is_null())
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap();
        w.cancel(&key, "attendees", &attendee, 30).unwrap();
        let invoice = w.ids(&key, "invoices")[0].clone();
        w.update(&key, "invoices", &invoice, |r| {
            r.insert("status".into(), json!(20));
            r.insert("status_description".into(), json!("Closed"));
        })
        .unwrap();
        let group = w.ids(&key, "group_appointments")[0].clone();
        w.archive(&key, "group_appointments", &group).unwrap();
        (attendee, invoice, group)
    });
    env.fake.reset_stats();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 incremental ok");
    assert_eq!(
        env.requests("org_1"),
        5,
        "one request per route that is not reference data"
    );
    let one = |sql: String| env.count(&sql);
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM attendees WHERE id = '{attendee}' AND cancelled_at IS NOT NULL"
        )),
        1
    );
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM invoices WHERE id = '{invoice}' AND status = 20"
        )),
        1
    );
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM group_appointments WHERE id = '{group}' AND archived_at IS NOT NULL"
        )),
        1
    );

    // A hard delete is only seen by a full sync, which marks the row.
    let gone = env.fake.with_world(|w| {
        let id = w.ids(&key, "invoices")[1].clone();
        w.hard_delete(&key, "invoices", &id).unwrap();
        id
    });
    let run = env.run(&["full", "--all", "--resource", "invoices"]);
    run.expect_code(0);
    run.assert_stderr_has("written, 1 deleted upstream");
    assert_eq!(
        one(format!(
            "SELECT COUNT(*) FROM invoices WHERE id = '{gone}' AND deleted_upstream_at IS NOT NULL"
        )),
        1
    );
    assert_table_in_sync(&env, "org_1", "invoices", "invoices");
}

fn a_practitioner_moving_between_routes_is_followed_and_reconciled_only_after_both(store: Backend) {
    let env = TestEnv::builder().on(store).patients(20).build();
    env.run(&["sync", "--all"]).expect_code(0);
    let key = env.key("org_1");
    // Deactivate one practitioner: it leaves /practitioners for /practitioners/inactive.
    let moved = env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        let active = w
            .records(&key, "practitioners")
            .into_iter()
            .find(|r| r["active"] == json!(true))
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap();
        w.update(&key, "practitioners", &active, |r| {
            r.insert("active".into(), json!(false));
        })
        .unwrap();
        active
    });
    env.run(&["sync", "--all", "--force", "--resource", "practitioners"])
        .expect_code(0);
    let active_of = |id: &str| -> i64 {
        env.value(
            "SELECT active FROM practitioners WHERE id = ?1 AND deleted_upstream_at IS NULL",
            &[id],
        )
        .and_then(|v| v.parse().ok())
        .expect("an active flag")
    };
    assert_eq!(active_of(&moved), 0);
    assert_table_in_sync(&env, "org_1", "practitioners", "practitioners");

    // A full sync whose second route fails reconciles nothing...
    let gone = env.fake.with_world(|w| {
        let id = w
            .records(&key, "practitioners")
            .into_iter()
            .find(|r| r["active"] == json!(true))
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap();
        w.hard_delete(&key, "practitioners", &id).unwrap();
        id
    });
    env.fail_after_first_page("org_1", &[Fault::Status(400)]);
    let run = env.run(&["full", "--all", "--resource", "practitioners"]);
    run.expect_code(1);
    run.assert_stderr_has("HTTP 400");
    let marked = "SELECT COUNT(*) FROM practitioners WHERE deleted_upstream_at IS NOT NULL";
    assert_eq!(env.count(marked), 0, "half a walk reconciles nothing");

    // ...and the next full sync walks both routes again, then reconciles.
    env.fake.reset_stats();
    let run = env.run(&["full", "--all", "--resource", "practitioners"]);
    run.expect_code(0);
    run.assert_stderr_has("written, 1 deleted upstream");
    let stats = env.fake.stats(&key);
    assert_eq!(stats.path_count("/v1/practitioners"), 1);
    assert_eq!(stats.path_count("/v1/practitioners/inactive"), 1);
    assert_eq!(
        env.count(&format!(
                "SELECT COUNT(*) FROM practitioners WHERE id = '{gone}' AND deleted_upstream_at IS NOT NULL"
            )
        ),
        1
    );
    assert_eq!(env.count(marked), 1);
    assert_table_in_sync(&env, "org_1", "practitioners", "practitioners");
}

fn an_unfinished_first_sync_of_practitioners_resumes_each_route_without_false_deletions(
    store: Backend,
) {
    let env = TestEnv::builder().on(store).patients(20).build();
    env.write_config_org_lines("resources = [\"practitioners\"]");
    let key = env.key("org_1");
    env.fail_after_first_page("org_1", &[Fault::Status(400)]);
    env.run(&["sync", "--all"]).expect_code(1);
    // The active route was walked and committed; the inactive one failed.
    let active = env.count("SELECT COUNT(*) FROM practitioners");
    assert!(active >= 2);

    env.fake.reset_stats();
    let run = env.run_env(&["-v", "sync", "--all", "--force"], &[]);
    run.expect_code(0);
    run.assert_stderr_has("resuming the unfinished full sync of practitioners");
    run.assert_stderr_has("org_1 full ok");
    // The active route resumed from its position (its last row, one request).
    let stats = env.fake.stats(&key);
    assert_eq!(stats.path_count("/v1/practitioners"), 1);
    assert_eq!(stats.path_count("/v1/practitioners/inactive"), 1);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM practitioners WHERE deleted_upstream_at IS NOT NULL"),
        0,
        "rows seen before the failure are not marked deleted"
    );
    assert_table_in_sync(&env, "org_1", "practitioners", "practitioners");
}
