//! The schema is one interface on both backends: every record table has the columns
//! the resource catalogue lists (what the stores write), with the types it gives them, SQLite's `pragma_table_info` and
//! PostgreSQL's `information_schema.columns` agree on every table, and both views have
//! the same columns in the same order.

#[path = "common/pg.rs"]
mod pg;

use routiq_sync::database_url::PgUrl;
use routiq_sync::resource::{Kind, Resource};
use routiq_sync::store::postgres::PgStore;
use routiq_sync::store::sqlite::SqliteStore;
use routiq_sync::store::{COMMON_COLUMNS, SQLITE_LEGACY_COLUMNS, org_tables, table};

const VIEWS: &[&str] = &["patient_activity", "counted_appointments"];

fn sqlite_columns(conn: &rusqlite::Connection, relation: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([relation], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn postgres_columns(client: &mut postgres::Client, relation: &str) -> Vec<String> {
    client
        .query(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&relation],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// What `tables.rs` says a resource's table holds, in no particular order.
fn listed(resource: Resource) -> Vec<String> {
    let mut columns: Vec<String> = COMMON_COLUMNS
        .iter()
        .chain(table(resource).columns)
        .map(|c| c.to_string())
        .collect();
    columns.sort();
    columns
}

fn sorted(mut columns: Vec<String>) -> Vec<String> {
    columns.sort();
    columns
}

fn sqlite_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("schema.db")).unwrap();
    (dir, store)
}

#[test]
fn sqlite_record_tables_have_the_listed_columns() {
    let (_dir, store) = sqlite_store();
    for resource in Resource::ALL {
        let name = table(resource).name;
        let found: Vec<String> = sqlite_columns(store.connection(), name)
            .into_iter()
            .filter(|c| !SQLITE_LEGACY_COLUMNS.contains(&c.as_str()))
            .collect();
        assert_eq!(sorted(found), listed(resource), "SQLite table {name}");
    }
    for view in VIEWS {
        assert!(
            !sqlite_columns(store.connection(), view).is_empty(),
            "SQLite has the view {view}"
        );
    }
}

#[test]
fn postgres_and_sqlite_have_the_same_tables_columns_and_views() {
    let Some(db) = pg::database() else {
        return;
    };
    drop(PgStore::open(&PgUrl::parse(&db.url()).unwrap(), "public").unwrap());
    let mut client = db.client();
    let (_dir, store) = sqlite_store();
    let conn = store.connection();
    for resource in Resource::ALL {
        let name = table(resource).name;
        assert_eq!(
            sorted(postgres_columns(&mut client, name)),
            listed(resource),
            "PostgreSQL table {name}"
        );
    }
    for name in org_tables() {
        let sqlite: Vec<String> = sqlite_columns(conn, name)
            .into_iter()
            .filter(|c| !SQLITE_LEGACY_COLUMNS.contains(&c.as_str()))
            .collect();
        assert!(!sqlite.is_empty(), "SQLite has the table {name}");
        assert_eq!(
            sorted(postgres_columns(&mut client, name)),
            sorted(sqlite),
            "table {name}: PostgreSQL against SQLite"
        );
    }
    for view in VIEWS {
        let sqlite = sqlite_columns(conn, view);
        assert!(!sqlite.is_empty(), "SQLite has the view {view}");
        assert_eq!(
            postgres_columns(&mut client, view),
            sqlite,
            "view {view}: the same columns in the same order"
        );
    }
}

/// `(column, type)` of `relation`'s columns that the catalogue lists for `resource`.
fn catalogue_types(resource: Resource, ty: fn(Kind) -> &'static str) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = resource
        .spec()
        .columns
        .iter()
        .map(|c| (c.name.to_string(), ty(c.kind).to_string()))
        .collect();
    columns.sort();
    columns
}

#[test]
fn sqlite_record_columns_have_the_catalogues_types() {
    let (_dir, store) = sqlite_store();
    for resource in Resource::ALL {
        let name = table(resource).name;
        let mut stmt = store
            .connection()
            .prepare("SELECT name, type FROM pragma_table_info(?1)")
            .unwrap();
        let found: Vec<(String, String)> = stmt
            .query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let mut found: Vec<(String, String)> = found
            .into_iter()
            .filter(|(c, _)| table(resource).columns.contains(&c.as_str()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            catalogue_types(resource, Kind::sqlite_type),
            "SQLite table {name}"
        );
    }
}

#[test]
fn postgres_record_columns_have_the_catalogues_types() {
    let Some(db) = pg::database() else {
        return;
    };
    drop(PgStore::open(&PgUrl::parse(&db.url()).unwrap(), "public").unwrap());
    let mut client = db.client();
    for resource in Resource::ALL {
        let name = table(resource).name;
        let mut found: Vec<(String, String)> = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1",
                &[&name],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .filter(|(c, _): &(String, String)| table(resource).columns.contains(&c.as_str()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            catalogue_types(resource, Kind::postgres_type),
            "PostgreSQL table {name}"
        );
    }
}
