//! Every resource of the catalogue, enabled together, through the real binary against
//! the fake Cliniko, on both stores: each table holds exactly the fake's records (ids,
//! times, typed columns derived independently, `common::catalogue`), hidden rows
//! included where the route opts them in; changes arrive incrementally; a quiet sync
//! costs one request per route of the resources that are not reference data; a record
//! deleted in the fake is marked by `verify` and by `full`; `status --json` and `check`
//! list every resource. Nothing here names a resource: a resource added to the
//! catalogue is tested by adding it.

mod common;

use std::collections::BTreeMap;

use common::catalogue::expected_columns;
use common::{Backend, TestEnv};
use fake_cliniko::endpoints::find;
use routiq_sync::resource::{Kind, Resource};
use routiq_sync::timestamp::Timestamp;
use serde_json::Value;

on_both_stores!(every_resource_syncs_exactly_at_the_request_floor_and_sees_deletes);

/// `id -> (updated_at, archived_at, typed columns)`; a rule's column is `None`.
type Rows = BTreeMap<String, (String, String, Vec<Option<Option<String>>>)>;

/// The fake's collection behind `resource`'s routes.
fn collection(resource: Resource) -> &'static str {
    let ep = find(resource.spec().routes[0].path).expect("the fake serves every route");
    ep.collection
}

fn canonical(t: Option<&str>) -> String {
    t.and_then(Timestamp::parse)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// What the fake holds for `resource` (every record: each route lists its hidden ones).
fn server(env: &TestEnv, resource: Resource) -> Rows {
    let key = env.key("org_1");
    let records = env
        .fake
        .with_world(|w| w.records(&key, collection(resource)));
    records
        .into_iter()
        .map(|r| {
            let text = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
            let raw = Value::Object(r.clone()).to_string();
            (
                text("id").unwrap(),
                (
                    canonical(text("updated_at").as_deref()),
                    canonical(text("archived_at").as_deref()),
                    expected_columns(resource, &raw),
                ),
            )
        })
        .collect()
}

/// What the store holds for `resource`, rows marked deleted upstream left out; the
/// typed columns a rule gives are `None`, as in [`server`].
fn local(env: &TestEnv, resource: Resource) -> Rows {
    let columns = resource.spec().columns;
    let select: Vec<String> = columns
        .iter()
        .map(|c| match c.kind {
            // `numeric` on PostgreSQL: its text is the digits stored.
            Kind::Decimal => format!("CAST({} AS TEXT)", c.name),
            _ => c.name.to_string(),
        })
        .collect();
    let sql = format!(
        "SELECT id, updated_at, archived_at, {} FROM {} WHERE org_id = ?1 AND deleted_upstream_at IS NULL",
        select.join(", "),
        resource.name()
    );
    env.rows(&sql, &["org_1"])
        .into_iter()
        .map(|row| {
            let typed = columns
                .iter()
                .zip(&row[3..])
                .map(|(c, v)| match c.source {
                    routiq_sync::resource::Source::Rule(_) => None,
                    _ if c.kind == Kind::Timestamp => {
                        Some(v.as_deref().map(|t| canonical(Some(t))))
                    }
                    _ => Some(v.clone()),
                })
                .collect();
            (
                row[0].clone().unwrap(),
                (
                    canonical(row[1].as_deref()),
                    canonical(row[2].as_deref()),
                    typed,
                ),
            )
        })
        .collect()
}

fn assert_every_table_in_sync(env: &TestEnv, when: &str) {
    for resource in Resource::ALL {
        let (server, local) = (server(env, resource), local(env, resource));
        assert!(!server.is_empty(), "{resource}: the fake has no records");
        assert_eq!(server.len(), local.len(), "{when}: {resource}: rows");
        for (id, want) in &server {
            assert_eq!(local.get(id), Some(want), "{when}: {resource} {id}");
        }
    }
}

/// One record of `resource` the fake holds, chosen by position among its ids.
fn some_id(env: &TestEnv, resource: Resource, at: usize) -> String {
    let key = env.key("org_1");
    let ids = env.fake.with_world(|w| w.ids(&key, collection(resource)));
    ids[at % ids.len()].clone()
}

fn deleted_upstream(env: &TestEnv, resource: Resource, id: &str) -> bool {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE org_id = 'org_1' AND id = ?1 AND deleted_upstream_at IS NOT NULL",
        resource.name()
    );
    env.value(&sql, &[id]).as_deref() == Some("1")
}

/// Hard-deletes one record of every resource in the fake; returns them.
fn delete_one_of_each(env: &TestEnv, at: usize) -> Vec<(Resource, String)> {
    let key = env.key("org_1");
    Resource::ALL
        .iter()
        .map(|r| {
            let id = some_id(env, *r, at);
            env.fake
                .with_world(|w| w.hard_delete(&key, collection(*r), &id))
                .unwrap();
            (*r, id)
        })
        .collect()
}

fn every_resource_syncs_exactly_at_the_request_floor_and_sees_deletes(store: Backend) {
    let env = TestEnv::builder()
        .on(store)
        .patients(150)
        .appointments_each(2)
        .build();
    let names: Vec<String> = Resource::ALL
        .iter()
        .map(|r| format!("{:?}", r.name()))
        .collect();
    env.write_config_org_lines(&format!("resources = [{}]", names.join(", ")));
    env.run(&["sync", "--all"]).expect_code(0);
    assert_every_table_in_sync(&env, "first sync");

    // A quiet sync: one request per route of the resources that are not reference data.
    let core: u64 = Resource::ALL
        .iter()
        .filter(|r| !r.is_reference())
        .map(|r| r.spec().routes.len() as u64)
        .sum();
    env.fake.reset_stats();
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    let key = env.key("org_1");
    assert_eq!(
        env.requests("org_1"),
        core,
        "{:#?}",
        env.fake.stats(&key).log
    );

    // Upstream, one record of each resource changes, and one of each whose route lists
    // archived records is archived; with reference data due, one sync brings them all.
    env.fake.with_world(|w| {
        w.advance(std::time::Duration::from_secs(5));
        for r in Resource::ALL {
            let ids = w.ids(&key, collection(r));
            w.update(&key, collection(r), &ids[0], |rec| {
                rec.insert("changed_upstream".into(), Value::from(true));
            })
            .unwrap();
            if r.spec().routes[0].include_hidden.contains(&"archived_at") {
                let visible = w
                    .records(&key, collection(r))
                    .into_iter()
                    .filter(|rec| rec["archived_at"].is_null())
                    .map(|rec| rec["id"].as_str().unwrap().to_string())
                    .next_back()
                    .unwrap();
                w.archive(&key, collection(r), &visible).unwrap();
            }
        }
    });
    env.execute(
        "UPDATE sync_state SET polled_at = '2000-01-01T00:00:00Z'",
        &[],
    );
    env.run(&["sync", "--all", "--force"])
        .expect_code(0)
        .assert_stderr_has("org_1 incremental ok");
    assert_every_table_in_sync(&env, "after changes upstream");

    // Deletes: `verify` finds them by counts and ids, `full` by its walk.
    for (command, at) in [("verify", 1), ("full", 2)] {
        let gone = delete_one_of_each(&env, at);
        env.run(&[command, "--all"]).expect_code(0);
        for (resource, id) in &gone {
            assert!(
                deleted_upstream(&env, *resource, id),
                "{command}: {resource} {id} not marked deleted upstream"
            );
        }
        assert_every_table_in_sync(&env, command);
    }

    // `status --json` and `check` name every resource.
    let status = env.run(&["status", "--json"]);
    status.expect_code(0);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    let org = &v["orgs"][0];
    for r in Resource::ALL {
        assert!(
            org["cursors"].get(r.name()).is_some(),
            "status: cursor of {r}"
        );
        let rows = local(&env, r).len() as u64;
        assert_eq!(org["totals"][r.name()].as_u64(), Some(rows), "status: {r}");
    }
    let check = env.run(&["check"]);
    check.expect_code(0);
    let listed = Resource::ALL.map(Resource::name).join(", ");
    assert!(check.stdout.contains(&listed), "check: {}", check.stdout);
}
