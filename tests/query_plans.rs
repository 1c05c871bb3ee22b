//! Every query the README and docs/dashboard.md show dashboard authors, and every
//! statement the stores run (their own texts, from `store::sqlite::statements` and
//! `store::postgres::statements`, which include the shared `store::sql` in their
//! dialect, and from `store::snapshot::statements`), is answered through an index
//! condition: asserted with `EXPLAIN QUERY PLAN` on SQLite and `EXPLAIN` on PostgreSQL
//! (issue 16), so a later change of the indexes cannot quietly lose one. A scan of a
//! whole index (`SCAN t USING INDEX`, an `Index Scan` without `Index Cond`) counts as a
//! table scan; the queries that read whole tables by design are listed by name with the
//! reason, and every statement of the `statements` modules is planned. Also: the
//! migration that dropped `appointments_by_patient` and `patients_present` runs on a
//! database of the version before it, on both stores.

#[path = "common/pg.rs"]
mod pg;

use std::path::Path;

use routiq_sync::database_url::PgUrl;
use routiq_sync::store::postgres::{PgStore, statements as pg_statements};
use routiq_sync::store::snapshot::statements::{self as snapshot, Dialect};
use routiq_sync::store::sql;
use routiq_sync::store::sqlite::{SqliteStore, create_at_version, statements};

/// The tables that hold records, state or runs (a full scan of one grows with the data).
fn data_tables() -> Vec<&'static str> {
    routiq_sync::store::org_tables()
}

/// The documented queries that read whole tables by design, by name (the
/// `<!-- query: NAME -->` line above each in the docs), with the reason. Every other
/// query must find its rows through an index condition: a scan of a whole table, or of a
/// whole index in its order, grows with the data.
const WHOLE_TABLE_QUERIES: &[(&str, &str)] = &[
    (
        "gone-upstream-30-days",
        "filters on `deleted_upstream_at` across every org, and no index has that column \
         first: an index for a rare audit query would cost every write",
    ),
    (
        "no-visit-6-months",
        "the re-engagement list is about every patient of every clinic: it reads them all, \
         with their appointments, by design",
    ),
    (
        "last-run-per-org",
        "one row per org from the run history: no table lists the orgs, so every org's runs \
         are read (through `runs_by_org`); `keep_runs` bounds them",
    ),
    (
        "active-seen-90-days",
        "a time window across every clinic: no index leads with `starts_at`, so every \
         clinic's current appointments are read (a per-clinic dashboard adds \
         `org_id = ...` and is served by the org's indexes)",
    ),
    (
        "booked-next-7-days",
        "a time window across every clinic, as `active-seen-90-days`",
    ),
];

/// The store statements that read whole tables by design, by their text in each
/// dialect, with the reason.
fn whole_table_statements() -> [(&'static str, &'static str); 2] {
    [
        (
            sql::STORED_ORGS.get(sql::Dialect::Sqlite),
            "every org with data (`status`, `forget`): no table lists the orgs, so the org \
             ids of two covering indexes are read whole",
        ),
        (sql::STORED_ORGS.get(sql::Dialect::Postgres), "as on SQLite"),
    ]
}

/// The reason `name` may read whole tables, if it is listed.
fn reads_whole_tables(name: &str) -> Option<&'static str> {
    WHOLE_TABLE_QUERIES
        .iter()
        .copied()
        .chain(whole_table_statements())
        .find(|(listed, _)| *listed == name)
        .map(|(_, why)| why)
}

/// A query the tests plan: its name (a documented query's `<!-- query: NAME -->`, which
/// it shares with its version for the other store; a store statement's own text) and its
/// text.
type Query = (String, String);

/// The ```sql blocks of `file`: (SQLite ones, PostgreSQL ones marked `<!-- postgres -->`),
/// each named by the `<!-- query: NAME -->` line above it.
fn documented_queries(file: &str) -> (Vec<Query>, Vec<Query>) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let (mut sqlite, mut postgres) = (Vec::new(), Vec::new());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```sql\n") {
        let before = rest[..start].trim_end();
        let marker = before.lines().last().unwrap_or("").trim();
        let marked = marker == "<!-- postgres -->";
        let name = before
            .trim_end_matches("<!-- postgres -->")
            .trim_end()
            .rsplit('\n')
            .next()
            .and_then(|l| l.strip_prefix("<!-- query: "))
            .and_then(|l| l.strip_suffix(" -->"))
            .map(str::to_string);
        let body = &rest[start + 7..];
        let end = body.find("```").expect("a closed sql block");
        let sql = body[..end].trim().trim_end_matches(';').to_string();
        rest = &body[end + 3..];
        // `<!-- postgres WHO -->`: the dashboard role's set-up, not a query.
        if !marked && marker.starts_with("<!-- postgres") {
            continue;
        }
        let name = name.unwrap_or_else(|| {
            panic!("{file}: no `<!-- query: NAME -->` line above the query\n{sql}")
        });
        let queries = if marked { &mut postgres } else { &mut sqlite };
        assert!(
            !queries.iter().any(|(n, _)| *n == name),
            "{file}: two queries named {name}"
        );
        queries.push((name, sql));
    }
    (sqlite, postgres)
}

fn all_documented() -> (Vec<Query>, Vec<Query>) {
    let (mut sqlite, mut postgres) = documented_queries("README.md");
    let (s, p) = documented_queries("docs/dashboard.md");
    sqlite.extend(s);
    postgres.extend(p);
    (sqlite, postgres)
}

/// Store statements, named by their text.
fn store_queries(statements: Vec<String>) -> Vec<Query> {
    statements.into_iter().map(|s| (s.clone(), s)).collect()
}

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

/// The tables `plan` reads whole: `SCAN t`, and `SCAN t USING [COVERING] INDEX i` too
/// (every entry of the index, in its order), by alias or name.
fn sqlite_table_scans(plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|l| l.starts_with("SCAN "))
        .filter(|l| !l.contains("(subquery") && !l.contains("CONSTANT ROW"))
        // The statement's own parameter (a snapshot's org ids, a JSON array), not a table.
        .filter(|l| !l.starts_with("SCAN json_each VIRTUAL TABLE"))
        .cloned()
        .collect()
}

/// `Err` with the plan when `query` reads a whole table and is not listed to.
fn sqlite_indexed(conn: &rusqlite::Connection, (name, sql): &Query) -> Result<(), String> {
    let plan = sqlite_plan(conn, sql);
    let scans = sqlite_table_scans(&plan);
    if scans.is_empty() || reads_whole_tables(name).is_some() {
        Ok(())
    } else {
        Err(format!("{name}:\n{sql}\n{plan:#?}"))
    }
}

/// A new SQLite database of this build, with the temp table the walk's end fills.
fn sqlite_store(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("plans.db")).unwrap();
    store
        .connection()
        .execute_batch(statements::CREATE_SEEN_IDS)
        .unwrap();
    store
}

/// Runs `check` on every query of one backend, the documented ones, then the store's,
/// and panics naming every query it finds reading a whole table.
fn check_every_query(
    documented: &[Query],
    store: &[Query],
    mut check: impl FnMut(&Query) -> Result<(), String>,
) {
    assert!(
        documented.len() >= 8,
        "{} documented queries",
        documented.len()
    );
    assert!(store.len() >= 20, "{} store statements", store.len());
    for (name, _) in WHOLE_TABLE_QUERIES {
        assert!(
            documented.iter().any(|(n, _)| n == name),
            "the whole-table read {name:?} is no documented query's name"
        );
    }
    let scans: Vec<String> = documented
        .iter()
        .chain(store)
        .filter_map(|q| check(q).err())
        .collect();
    assert!(
        scans.is_empty(),
        "{} queries read a whole table or index (add the index they need, or list them in \
         WHOLE_TABLE_QUERIES or WHOLE_TABLE_STATEMENTS with the reason):\n\n{}",
        scans.len(),
        scans.join("\n\n")
    );
}

/// Every documented query, and every statement the SQLite store runs: the texts it
/// prepares ([`statements::planned`]), not copies.
fn assert_every_sqlite_query_indexed(conn: &rusqlite::Connection) {
    let (documented, _) = all_documented();
    let mut store = statements::planned();
    store.extend(snapshot::planned(Dialect::Sqlite));
    check_every_query(&documented, &store_queries(store), |q| {
        sqlite_indexed(conn, q)
    });
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
    assert_eq!(version, routiq_sync::store::sqlite::CURRENT_VERSION);
    let appointments = sqlite_indexes(conn, "appointments");
    assert!(!appointments.contains(&"appointments_by_patient".to_string()));
    assert!(appointments.contains(&"appointments_for_activity".to_string()));
    assert!(!sqlite_indexes(conn, "patients").contains(&"patients_present".to_string()));
    let kept: i64 = conn
        .query_row("SELECT COUNT(*) FROM appointments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "the rows stay");
    conn.execute_batch(statements::CREATE_SEEN_IDS).unwrap();
    assert_every_sqlite_query_indexed(conn);
}

/// The PostgreSQL tables that hold records, state, runs or leases.
fn postgres_data_tables() -> Vec<&'static str> {
    let mut tables = data_tables();
    tables.push("org_leases");
    tables
}

/// PostgreSQL's generic plan for `sql` (the plan for any values of its parameters, as a
/// statement the store prepares may run with), with sequential scans made as costly as
/// possible, so a `Seq Scan` left in it means no index can answer (the test tables are
/// empty, where a sequential scan would otherwise always win). `EXPLAIN` of PostgreSQL
/// 15 plans no placeholders: `sql` is prepared as it stands, then its generic plan
/// explained with every parameter NULL.
fn postgres_plan(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .batch_execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
        .unwrap();
    let params = client
        .prepare(sql)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .params()
        .len();
    client
        .batch_execute(&format!("PREPARE planned AS {sql}"))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    let nulls = vec!["NULL"; params].join(", ");
    let execute = if params == 0 {
        "EXPLAIN EXECUTE planned".to_string()
    } else {
        format!("EXPLAIN EXECUTE planned ({nulls})")
    };
    let plan = client
        .query(&execute, &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .iter()
        .map(|r| r.get(0))
        .collect();
    client.batch_execute("DEALLOCATE planned").unwrap();
    plan
}

/// The tables `plan` reads whole: a `Seq Scan`, or an `Index Scan` / `Index Only Scan`
/// without an `Index Cond` (every entry of the index: what `enable_seqscan = off` turns
/// a sequential scan into when any index of the table will do).
fn postgres_table_scans(plan: &[String]) -> Vec<String> {
    let data = postgres_data_tables();
    let on_data_table = |line: &str| {
        line.split(" on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|t| data.contains(&t))
    };
    let mut scans = Vec::new();
    for (i, line) in plan.iter().enumerate() {
        if !on_data_table(line) {
            continue;
        }
        let node = line.trim_start().trim_start_matches("-> ").trim_start();
        // The node's own detail lines run up to the next node (`->`).
        let details = plan[i + 1..].iter().take_while(|l| !l.contains("->"));
        let whole = node.starts_with("Seq Scan")
            || ((node.starts_with("Index Scan") || node.starts_with("Index Only Scan"))
                && !details
                    .clone()
                    .any(|l| l.trim_start().starts_with("Index Cond:")));
        if whole {
            scans.push(node.to_string());
        }
    }
    scans
}

/// `Err` with the plan when `query` reads a whole table and is not listed to.
fn postgres_indexed(client: &mut postgres::Client, (name, sql): &Query) -> Result<(), String> {
    let plan = postgres_plan(client, sql);
    let scans = postgres_table_scans(&plan);
    if scans.is_empty() || reads_whole_tables(name).is_some() {
        Ok(())
    } else {
        Err(format!("{name}:\n{sql}\n{plan:#?}"))
    }
}

/// Every documented query, and every statement the PostgreSQL store runs: the texts it
/// executes ([`pg_statements::planned`]), not copies. One transaction, which the
/// staging tables the upserts read live in. Not planned: `VACUUM (FULL)` (no plan; it
/// rewrites the whole table by design), and the staging tables' own `TRUNCATE` and
/// `COPY` (temporary tables of the transaction, no data table).
fn assert_every_postgres_query_indexed(client: &mut postgres::Client) {
    let (_, documented) = all_documented();
    client.batch_execute("BEGIN").unwrap();
    let mut store = pg_statements::planned(client).unwrap();
    store.extend(snapshot::planned(Dialect::Postgres));
    let store = store_queries(store);
    check_every_query(&documented, &store, |q| postgres_indexed(client, q));
    client.batch_execute("ROLLBACK").unwrap();
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
    let mut client = db.client();
    // Version 1 as the build of that version left it: both indexes, no later version.
    routiq_sync::store::postgres::create_at_version(&mut client, 1).unwrap();
    client
        .batch_execute(
            "INSERT INTO appointments (org_id, id, patient_id, starts_at, updated_at, raw_json,
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

/// Store code that may build SQL over a data table outside the `statements` modules:
/// the upserts (which `statements::planned` of each backend plans), the migrations'
/// bookkeeping (`schema_migrations`, no data) and the reader roles' row security and
/// grants (`ALTER TABLE`, `GRANT`, `REVOKE` of each org table: no data read or written).
const BUILDS_SQL_ELSEWHERE: &[&str] = &[
    "sqlite/upsert.rs",
    "postgres/staging.rs",
    "postgres/schema.rs",
    "postgres/tenants.rs",
];

/// Every statement over a data table lives in a `statements` module, so the tests
/// above plan it: no other file of the two backends names a data table after `FROM`,
/// `INTO`, `UPDATE`, `JOIN` or `TABLE`, nor interpolates a table there (its unit tests
/// aside).
#[test]
fn no_store_statement_over_a_data_table_is_written_outside_the_statements_modules() {
    let mut tables = postgres_data_tables();
    tables.push("patient_activity");
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut found = Vec::new();
    for backend in ["sqlite", "postgres", "snapshot"] {
        for entry in std::fs::read_dir(store.join(backend)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{backend}/{}", path.file_name().unwrap().to_string_lossy());
            if !name.ends_with(".rs") || name.ends_with("/statements.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let words: Vec<&str> = line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '{'))
                    .filter(|w| !w.is_empty())
                    .collect();
                for pair in words.windows(2) {
                    let verb = ["FROM", "INTO", "UPDATE", "JOIN", "TABLE"].contains(&pair[0]);
                    let named = tables.contains(&pair[1]);
                    let built =
                        pair[1].starts_with('{') && !BUILDS_SQL_ELSEWHERE.contains(&name.as_str());
                    if verb && (named || built) {
                        found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "move these into the statements module:\n{found:#?}"
    );
}

/// What a `statements` module defines that is not a statement to plan, with why.
const NOT_PLANNED: &[(&str, &str)] = &[
    (
        "sqlite/statements.rs/CREATE_SEEN_IDS",
        "creates the walk's temporary table (the tests create it before planning)",
    ),
    (
        "postgres/statements.rs/vacuum_full",
        "`VACUUM (FULL)` has no plan: it rewrites the whole table by design",
    ),
];

/// Every statement constant, static and builder of the statements modules (the two
/// backends' own, the shared one and the status snapshot's) is in its module's `planned()` (which the tests
/// above plan: each backend's includes the shared one's), or in [`NOT_PLANNED`] with the
/// reason: a statement added without a plan fails here, not in production.
#[test]
fn every_statement_of_the_statements_modules_is_planned() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut missing = Vec::new();
    // Each module, and whether its `planned()` must include the shared statements.
    for (module, with_shared) in [
        ("sqlite/statements.rs", true),
        ("postgres/statements.rs", true),
        ("snapshot/statements.rs", false),
        ("sql/mod.rs", false),
    ] {
        let text = std::fs::read_to_string(store.join(module)).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let at = code.find("pub fn planned(").expect("a planned() function");
        let planned: Vec<&str> = code[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        if with_shared && !code[at..].contains("sql::planned(") {
            missing.push(format!("{module}: the shared statements (sql::planned)"));
        }
        let defined = code[..at].lines().filter_map(|l| {
            let l = l.trim_start();
            let name = l
                .strip_prefix("pub const ")
                .or_else(|| l.strip_prefix("pub static "))
                .or_else(|| l.strip_prefix("pub fn "))?;
            name.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        });
        for name in defined {
            let key = format!("{module}/{name}");
            if !planned.contains(&name) && !NOT_PLANNED.iter().any(|(k, _)| *k == key) {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add these to their module's planned(), or to NOT_PLANNED with the reason: {missing:?}"
    );
}
