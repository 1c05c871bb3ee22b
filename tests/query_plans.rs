//! Every query the README and docs/dashboard.md show dashboard authors, and every query
//! that `status`, `verify` and the full walk run, is answered from an index: asserted
//! with `EXPLAIN QUERY PLAN` on SQLite and `EXPLAIN` on PostgreSQL (issue 16), so a later
//! change of the indexes cannot quietly lose one. Also: the migration that dropped
//! `appointments_by_patient` and `patients_present` runs on a database of the version
//! before it, on both stores.

#[path = "common/pg.rs"]
mod pg;

use std::path::Path;

use routiq_sync::database_url::PgUrl;
use routiq_sync::resource::Resource;
use routiq_sync::store::postgres::PgStore;
use routiq_sync::store::sqlite::{SqliteStore, create_at_version};
use routiq_sync::store::table;

/// The tables that hold records, state or runs (a full scan of one grows with the data).
fn data_tables() -> Vec<&'static str> {
    routiq_sync::store::org_tables()
}

/// The only documented query that reads whole tables: "records that disappeared in the
/// last 30 days" filters on `deleted_upstream_at` across every org, and no index has
/// ever had that column first (before this change either).
fn reads_whole_tables(sql: &str) -> bool {
    sql.contains("'patient' AS kind")
}

/// The ```sql blocks of `file`: (SQLite ones, PostgreSQL ones marked `<!-- postgres -->`).
fn documented_queries(file: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let (mut sqlite, mut postgres) = (Vec::new(), Vec::new());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```sql\n") {
        let marked = rest[..start].trim_end().ends_with("<!-- postgres -->");
        let body = &rest[start + 7..];
        let end = body.find("```").expect("a closed sql block");
        let sql = body[..end].trim().trim_end_matches(';').to_string();
        rest = &body[end + 3..];
        // The role grants are comments around `SELECT 1`, not a query.
        if sql.starts_with("SELECT 1;") {
            continue;
        }
        if marked {
            postgres.push(sql);
        } else {
            sqlite.push(sql);
        }
    }
    (sqlite, postgres)
}

fn all_documented() -> (Vec<String>, Vec<String>) {
    let (mut sqlite, mut postgres) = documented_queries("README.md");
    let (s, p) = documented_queries("docs/dashboard.md");
    sqlite.extend(s);
    postgres.extend(p);
    (sqlite, postgres)
}

/// The queries of `status`, `verify` and the full walk on SQLite (as in
/// src/store/sqlite), for `resource`'s table.
fn sqlite_store_queries(resource: Resource) -> Vec<String> {
    let t = table(resource).name;
    vec![
        // status: totals, active patients, the newest runs.
        format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL"),
        // verify: the ids present, which of a listing are missing, marking the gone ones.
        format!("SELECT id FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL"),
        format!(
            "SELECT EXISTS (SELECT 1 FROM {t} WHERE org_id = ?1 AND id = ?2
                            AND deleted_upstream_at IS NULL)"
        ),
        format!(
            "UPDATE {t} SET deleted_upstream_at = ?3
             WHERE org_id = ?1 AND id = ?2 AND deleted_upstream_at IS NULL"
        ),
        // The full walk: the upsert finds a stored row by its key; the walk's end.
        format!("SELECT updated_at, raw_json FROM {t} WHERE org_id = ?1 AND id = ?2"),
        format!(
            "UPDATE {t} SET deleted_upstream_at = ?3
             WHERE org_id = ?1 AND id IN (
                   SELECT id FROM {t} WHERE org_id = ?1
                   AND id NOT IN (SELECT id FROM temp.full_seen_ids))
               AND deleted_upstream_at IS NULL
               AND (seen_full_run IS NULL OR seen_full_run <> ?2)"
        ),
        // Retention and `forget --org`.
        format!(
            "DELETE FROM {t} WHERE org_id = ?1
             AND deleted_upstream_at IS NOT NULL AND deleted_upstream_at < ?2"
        ),
        format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1"),
    ]
}

/// The state and run queries every command runs on SQLite (as in src/store/sqlite).
const SQLITE_STATE_QUERIES: &[&str] = &[
    "SELECT COUNT(*) FROM patient_activity WHERE org_id = ?1 AND activity_status = 'active'",
    "SELECT resource, cursor, last_full_at, full_run_id, full_started_at, full_position,
            polled_at, settled_second, settled_read_at, last_verify_at
     FROM sync_state WHERE org_id = ?1",
    "SELECT finished_at FROM runs WHERE org_id = ?1 AND status = 'ok' ORDER BY id DESC LIMIT 1",
    "SELECT active_patients FROM runs
     WHERE org_id = ?1 AND status = 'ok' AND active_patients IS NOT NULL
     ORDER BY id DESC LIMIT 1",
    "SELECT id, org_id FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2",
    "UPDATE runs SET status = 'interrupted' WHERE org_id = ?1 AND status = 'running'",
    "UPDATE sync_state SET full_position = ?3
     WHERE org_id = ?1 AND resource = ?2 AND (full_position IS NULL OR full_position < ?3)",
    "UPDATE sync_state SET settled_second = ?3, settled_read_at = ?4
     WHERE org_id = ?1 AND resource = ?2 AND cursor = ?3",
    "SELECT ids FROM full_seen WHERE org_id = ?1 AND resource = ?2 AND run_id = ?3",
    "DELETE FROM full_seen WHERE org_id = ?1 AND resource = ?2",
    "DELETE FROM runs WHERE org_id = ?1 AND started_at < ?2 AND status <> 'running'
     AND id <> (SELECT MAX(id) FROM runs WHERE org_id = ?1)",
];

/// The detail lines of SQLite's plan for `sql`.
fn sqlite_plan(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    // Plans do not depend on the values; every parameter is NULL.
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    stmt.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The data tables `plan` reads whole (`SCAN t` without an index), by alias or name.
fn sqlite_table_scans(plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|l| l.starts_with("SCAN ") && !l.contains(" USING "))
        .filter(|l| !l.contains("(subquery") && !l.contains("CONSTANT ROW"))
        .cloned()
        .collect()
}

fn assert_sqlite_indexed(conn: &rusqlite::Connection, sql: &str) {
    let plan = sqlite_plan(conn, sql);
    let scans = sqlite_table_scans(&plan);
    if reads_whole_tables(sql) {
        assert_eq!(
            scans,
            ["SCAN patients", "SCAN appointments"],
            "{sql}\n{plan:#?}"
        );
    } else {
        assert!(scans.is_empty(), "a table scan in\n{sql}\n{plan:#?}");
    }
}

/// A new SQLite database of this build, with the temp table the walk's end fills.
fn sqlite_store(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("plans.db")).unwrap();
    store
        .connection()
        .execute_batch("CREATE TEMP TABLE full_seen_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
        .unwrap();
    store
}

/// Runs `check` on every query of one backend: the documented ones, the store's per
/// resource table, and its state and run queries.
fn check_every_query(
    documented: &[String],
    store_queries: fn(Resource) -> Vec<String>,
    state_queries: &[&str],
    mut check: impl FnMut(&str),
) {
    assert!(
        documented.len() >= 8,
        "{} documented queries",
        documented.len()
    );
    let per_table = Resource::ALL.into_iter().flat_map(store_queries);
    let all = documented
        .iter()
        .cloned()
        .chain(per_table)
        .chain(state_queries.iter().map(|q| q.to_string()));
    for sql in all {
        check(&sql);
    }
}

fn assert_every_sqlite_query_indexed(conn: &rusqlite::Connection) {
    let (documented, _) = all_documented();
    check_every_query(
        &documented,
        sqlite_store_queries,
        SQLITE_STATE_QUERIES,
        |sql| assert_sqlite_indexed(conn, sql),
    );
    // Erasing an org counts and deletes its rows in every table.
    for t in data_tables() {
        assert_sqlite_indexed(conn, &format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1"));
    }
}

#[test]
fn every_documented_and_store_query_uses_an_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    assert_every_sqlite_query_indexed(store.connection());
}

#[test]
fn the_view_and_patient_lookups_use_the_activity_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let plan = sqlite_plan(
        store.connection(),
        "SELECT * FROM patient_activity WHERE org_id = ?1 AND activity_status = 'active'",
    )
    .join("\n");
    assert!(
        plan.contains("SEARCH p USING INDEX patients_not_deleted (org_id=?)"),
        "{plan}"
    );
    assert!(plan.contains("appointments_for_activity"), "{plan}");
    assert!(!plan.contains("SCAN a"), "{plan}");
}

/// Index names of `table` in the SQLite file.
fn sqlite_indexes(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_index_migration_runs_on_a_sqlite_file_of_the_version_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    create_at_version(&path, 4).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO appointments (org_id, id, patient_id, starts_at, updated_at, raw_json,
                                       synced_at)
             VALUES ('o', '1', 'p', '2030-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '{}',
                     '2024-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let before = sqlite_indexes(&conn, "appointments");
        assert!(before.contains(&"appointments_by_patient".to_string()));
    }
    let store = SqliteStore::open(&path).unwrap();
    let conn = store.connection();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, routiq_sync::store::CURRENT_VERSION);
    let appointments = sqlite_indexes(conn, "appointments");
    assert!(!appointments.contains(&"appointments_by_patient".to_string()));
    assert!(appointments.contains(&"appointments_for_activity".to_string()));
    assert!(!sqlite_indexes(conn, "patients").contains(&"patients_present".to_string()));
    let kept: i64 = conn
        .query_row("SELECT COUNT(*) FROM appointments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "the rows stay");
    conn.execute_batch("CREATE TEMP TABLE full_seen_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
        .unwrap();
    assert_every_sqlite_query_indexed(conn);
}

/// The queries of `status`, `verify` and the full walk on PostgreSQL (as in
/// src/store/postgres), with literals for parameters (EXPLAIN of PostgreSQL 15 plans no
/// placeholders), for `resource`'s table.
fn postgres_store_queries(resource: Resource) -> Vec<String> {
    let t = table(resource).name;
    vec![
        format!("SELECT COUNT(*) FROM {t} WHERE org_id = 'o' AND deleted_upstream_at IS NULL"),
        format!("SELECT id FROM {t} WHERE org_id = 'o' AND deleted_upstream_at IS NULL"),
        format!(
            "SELECT wanted.id FROM unnest('{{1,2}}'::text[]) WITH ORDINALITY AS wanted (id, n)
             WHERE NOT EXISTS (SELECT 1 FROM {t} AS t WHERE t.org_id = 'o' AND t.id = wanted.id
                               AND t.deleted_upstream_at IS NULL)
             ORDER BY wanted.n"
        ),
        format!(
            "UPDATE {t} SET deleted_upstream_at = now()
             WHERE org_id = 'o' AND id = ANY('{{1,2}}') AND deleted_upstream_at IS NULL"
        ),
        format!("SELECT updated_at, raw_json FROM {t} WHERE org_id = 'o' AND id = '1'"),
        format!(
            "WITH seen AS (
                 SELECT DISTINCT unnest(ids) AS id FROM full_seen
                 WHERE org_id = 'o' AND resource = 'r' AND run_id = 1)
             UPDATE {t} AS t SET deleted_upstream_at = now()
             WHERE t.org_id = 'o' AND t.deleted_upstream_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.id = t.id)"
        ),
        format!(
            "DELETE FROM {t} WHERE org_id = 'o'
             AND deleted_upstream_at IS NOT NULL AND deleted_upstream_at < now()"
        ),
        format!("SELECT COUNT(*) FROM {t} WHERE org_id = 'o'"),
    ]
}

const POSTGRES_STATE_QUERIES: &[&str] = &[
    "SELECT COUNT(*) FROM patient_activity WHERE org_id = 'o' AND activity_status = 'active'",
    "SELECT resource, cursor FROM sync_state WHERE org_id = 'o'",
    "SELECT finished_at FROM runs WHERE org_id = 'o' AND status = 'ok' ORDER BY id DESC LIMIT 1",
    "SELECT active_patients FROM runs
     WHERE org_id = 'o' AND status = 'ok' AND active_patients IS NOT NULL
     ORDER BY id DESC LIMIT 1",
    "SELECT id, org_id FROM runs WHERE org_id = 'o' ORDER BY id DESC LIMIT 10",
    "UPDATE runs SET status = 'interrupted' WHERE org_id = 'o' AND status = 'running'",
    "UPDATE sync_state SET settled_second = now()
     WHERE org_id = 'o' AND resource = 'r' AND cursor = now()",
    "DELETE FROM full_seen WHERE org_id = 'o' AND resource = 'r'",
];

/// PostgreSQL's plan for `sql` with sequential scans made as costly as possible, so a
/// `Seq Scan` left in it means no index can answer (the test tables are empty, where a
/// sequential scan would otherwise always win).
fn postgres_plan(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client.batch_execute("SET enable_seqscan = off").unwrap();
    client
        .query(&format!("EXPLAIN {sql}"), &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn assert_postgres_indexed(client: &mut postgres::Client, sql: &str) {
    let plan = postgres_plan(client, sql);
    let scans: Vec<&str> = data_tables()
        .into_iter()
        .filter(|t| {
            plan.iter()
                .any(|l| l.contains(&format!("Seq Scan on {t} ")))
        })
        .collect();
    if reads_whole_tables(sql) {
        assert_eq!(scans, ["patients", "appointments"], "{sql}\n{plan:#?}");
    } else {
        assert!(scans.is_empty(), "a table scan in\n{sql}\n{plan:#?}");
    }
}

fn assert_every_postgres_query_indexed(client: &mut postgres::Client) {
    let (_, documented) = all_documented();
    check_every_query(
        &documented,
        postgres_store_queries,
        POSTGRES_STATE_QUERIES,
        |sql| assert_postgres_indexed(client, sql),
    );
}

fn pg_store(db: &pg::PgDatabase) -> PgStore {
    PgStore::open(&PgUrl::parse(&db.url()).unwrap(), "public").unwrap()
}

#[test]
fn every_documented_and_store_query_uses_an_index_on_postgres() {
    let Some(db) = pg::database() else {
        return;
    };
    drop(pg_store(&db));
    assert_every_postgres_query_indexed(&mut db.client());
}

fn postgres_indexes(client: &mut postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn the_index_migration_runs_on_a_postgres_schema_of_the_version_before() {
    let Some(db) = pg::database() else {
        return;
    };
    drop(pg_store(&db));
    let mut client = db.client();
    // Version 1 as the build before this one left it: both indexes, no version 2.
    client
        .batch_execute(
            "CREATE INDEX appointments_by_patient ON appointments (org_id, patient_id, starts_at);
             CREATE INDEX patients_present ON patients (org_id, id)
                 WHERE archived_at IS NULL AND deleted_upstream_at IS NULL;
             DELETE FROM schema_migrations WHERE version > 1;
             INSERT INTO appointments (org_id, id, patient_id, starts_at, updated_at, raw_json,
                                       synced_at)
             VALUES ('o', '1', 'p', now(), now(), '{}', now());",
        )
        .unwrap();
    assert!(postgres_indexes(&mut client).contains(&"appointments_by_patient".to_string()));
    drop(pg_store(&db));
    let indexes = postgres_indexes(&mut client);
    assert!(!indexes.contains(&"appointments_by_patient".to_string()));
    assert!(!indexes.contains(&"patients_present".to_string()));
    assert!(indexes.contains(&"appointments_for_activity".to_string()));
    let version: i32 = client
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        i64::from(version),
        routiq_sync::store::postgres::CURRENT_VERSION
    );
    let kept: i64 = client
        .query_one("SELECT COUNT(*) FROM appointments", &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the rows stay");
    assert_every_postgres_query_indexed(&mut client);
}
