//! docs/dashboard.md, done as a dashboard author reads it: the read-only role it sets up
//! on PostgreSQL (created by a superuser, named in the config, granted by the next sync)
//! works for the owner role docs/postgres.md creates, and reads every documented query
//! but writes nothing.

mod common;

use common::pg::{self, PgDatabase};
use common::{Backend, TestEnv};

/// docs/dashboard.md.
fn page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md"))
        .expect("docs/dashboard.md")
}

/// The ```sql blocks right after the line `<!-- {marker} -->`.
fn blocks_marked(page: &str, marker: &str) -> Vec<String> {
    blocks_in(page, marker, "sql")
}

/// The ```{lang} blocks right after the line `<!-- {marker} -->`.
fn blocks_in(page: &str, marker: &str, lang: &str) -> Vec<String> {
    page.split(&format!("<!-- {marker} -->\n```{lang}\n"))
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_read_only_role_works_as_documented_for_the_documented_owner() {
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return;
    };
    let env = TestEnv::builder()
        .patients(10)
        .appointments_each(2)
        .on(Backend::Postgres(db.clone()))
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let page = page();
    // One role per test database: roles are the whole cluster's.
    let role = format!("dashboard_{}", db.name);
    let as_written = |block: &String| block.replace("dashboard", &role);
    let superuser = blocks_marked(&page, "postgres superuser");
    let config = blocks_in(&page, "dashboard config", "toml");
    assert_eq!(
        (superuser.len(), config.len()),
        (1, 1),
        "one set-up block for the superuser, one for the config"
    );
    let mut admin = pg::admin_client().expect("the server that made the database");
    admin
        .batch_execute(&as_written(&superuser[0]))
        .unwrap_or_else(|e| panic!("as a superuser: {e:?}"));
    // The owner is the role the tests log in as, made as docs/postgres.md makes `routiq`:
    // LOGIN, owning the database, no CREATEROLE. It grants nothing by hand: the config
    // names the role, and the next sync grants it.
    let mut as_owner = db.client();
    let roles_line = config[0]
        .lines()
        .find(|l| l.starts_with("dashboard_roles"))
        .expect("the config block names the dashboard's role")
        .replace("\"dashboard\"", &format!("{role:?}"));
    env.write_config_org_lines(&roles_line);
    env.run(&["sync", "--all"]).expect_code(0);
    let dashboard = PgDatabase {
        user: role.clone(),
        password: "choose-another".to_string(),
        ..db.clone()
    };
    let mut reader = dashboard.client();
    let queries = blocks_marked(&page, "postgres");
    assert!(queries.len() >= 8, "{} PostgreSQL queries", queries.len());
    for sql in &queries {
        reader
            .query(sql.as_str(), &[])
            .unwrap_or_else(|e| panic!("as {role}:\n{sql}\n{e:?}"));
    }
    let active: i64 = reader
        .query_one("SELECT COUNT(*) FROM patient_activity", &[])
        .expect("the view")
        .get(0);
    assert_eq!(active, 10);
    let refused = reader
        .batch_execute("DELETE FROM patients")
        .expect_err("a reader may not delete");
    assert_eq!(
        refused.code(),
        Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    // A view the owner adds later (a newer routiq-sync's migration) is readable too, from
    // the next sync.
    as_owner
        .batch_execute("CREATE VIEW added_later AS SELECT 1 AS x")
        .unwrap();
    env.run(&["sync", "--all"]).expect_code(0);
    let later: i32 = reader
        .query_one("SELECT x FROM added_later", &[])
        .expect("a table added later")
        .get(0);
    assert_eq!(later, 1);
}

#[test]
fn the_page_says_deleted_rows_are_purged_and_the_privacy_policy_shapes_the_columns() {
    let page = page();
    let default =
        routiq_sync::config::format_duration(routiq_sync::config::DEFAULT_PURGE_DELETED_AFTER);
    assert!(
        page.contains(&format!(
            "**Rows are removed** once they have been marked `deleted_upstream_at` for longer \
             than\n  `purge_deleted_after` (default `\"{default}\"`)"
        )),
        "docs/dashboard.md must say when rows deleted upstream are removed"
    );
    for promise in ["never deletes rows", "never removed"] {
        assert!(
            !page.contains(promise),
            "docs/dashboard.md still says `{promise}`"
        );
    }
    assert!(
        page.contains("- **The privacy policy** ([privacy.md](privacy.md)) decides what the columns and\n  `raw_json` hold"),
        "docs/dashboard.md must say the privacy policy changes what columns hold"
    );
}
