//! One database, many clinics: each org's `dashboard_roles` read that org and nothing
//! else, proven by trying to break it on a real PostgreSQL, as each reader role with its
//! own password, directly and through PgBouncer in transaction mode (the sync too goes
//! through the pooler then). Every org table and every view of the schema shows only the
//! role's orgs; `SET ROLE`, `RESET ROLE`, `set_config`, `SET SESSION AUTHORIZATION`,
//! writing, reading or forging the mapping, another org's `runs.error`, `pg_stats` and a
//! function of the reader's own in a `WHERE` clause show nothing of another org; an org
//! is invisible until granted; a role taken out of the config, or whose org is
//! forgotten, sees nothing of it.

mod common;

use std::collections::BTreeSet;

use common::pg::{self, PgBouncer, PgDatabase, PoolMode};
use common::{Backend, TestEnv};
use postgres::GenericClient;

/// A reader role of this test's database: its name and password.
struct Reader {
    name: String,
    password: String,
}

impl Reader {
    fn new(db: &PgDatabase, prefix: &str) -> Reader {
        Reader {
            name: format!("{prefix}_{}", db.name),
            password: format!("pw-{prefix}-Secret9"),
        }
    }

    /// A session as this role, directly or through `bouncer`.
    fn connect(&self, db: &PgDatabase, bouncer: Option<&PgBouncer>) -> postgres::Client {
        let port = bouncer.map_or(db.port, |b| b.port);
        let url = format!(
            "postgres://{}:{}@{}:{port}/{}?sslmode=disable",
            self.name, self.password, db.host, db.name
        );
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect as {}: {e}", self.name))
    }
}

/// The org ids `sql` (one text column) returns.
fn orgs_of(c: &mut impl GenericClient, sql: &str) -> BTreeSet<String> {
    c.query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Every relation a reader may be given: the org tables and the views of the schema
/// (found in the catalog, so views a later migration adds are covered).
fn relations(owner: &mut postgres::Client) -> Vec<String> {
    let mut names: Vec<String> = routiq_sync::store::org_tables()
        .iter()
        .map(|t| t.to_string())
        .collect();
    let views = owner
        .query(
            "SELECT viewname::text FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .expect("views");
    assert!(
        views.len() >= 2,
        "patient_activity and counted_appointments"
    );
    names.extend(views.iter().map(|r| r.get::<_, String>(0)));
    names
}

/// `sql` fails for the reader, in a savepoint (so a transaction around it goes on).
fn refused(c: &mut impl GenericClient, sql: &str) -> postgres::Error {
    let mut sp = c.transaction().expect("savepoint");
    let err = sp
        .batch_execute(sql)
        .expect_err(&format!("a reader must not run: {sql}"));
    sp.rollback().expect("rollback to the savepoint");
    err
}

/// Reads as `reader` every relation and asserts it shows rows of `allowed` orgs only,
/// and all of them in the main tables and views.
fn assert_sees(
    db: &PgDatabase,
    bouncer: Option<&PgBouncer>,
    reader: &Reader,
    relations: &[String],
    allowed: &[&str],
) {
    let allowed = set(allowed);
    let mut session = reader.connect(db, bouncer);
    // In a transaction: through a transaction-mode pooler a statement's parse and run
    // would otherwise reach different server connections.
    let mut c = session.transaction().expect("begin");
    let mut owner = db.client();
    for rel in relations {
        let sql = format!("SELECT DISTINCT org_id FROM {rel}");
        let seen = orgs_of(&mut c, &sql);
        assert!(
            seen.is_subset(&allowed),
            "{} reads {rel}: {seen:?}, may only {allowed:?}",
            reader.name
        );
        if [
            "patients",
            "appointments",
            "runs",
            "sync_state",
            "patient_activity",
        ]
        .contains(&rel.as_str())
        {
            assert_eq!(seen, allowed, "{} reads {rel}", reader.name);
            for org in &allowed {
                let count = format!("SELECT count(*) FROM {rel} WHERE org_id = '{org}'");
                let mine: i64 = c.query_one(&count, &[]).expect("count").get(0);
                let all: i64 = owner.query_one(&count, &[]).expect("count").get(0);
                assert_eq!(mine, all, "{} reads all of {org} in {rel}", reader.name);
            }
        }
    }
}

/// Every way out tried as `reader`, who may read `mine` only, and not `other`.
fn try_to_break(
    db: &PgDatabase,
    bouncer: Option<&PgBouncer>,
    reader: &Reader,
    other: &Reader,
    mine: &str,
) {
    let only_mine = set(&[mine]);
    let mut session = reader.connect(db, bouncer);
    // One transaction: through a transaction-mode pooler a session's state lives as long
    // as its transaction.
    let mut c = session.transaction().expect("begin");
    let patients = "SELECT DISTINCT org_id FROM patients";
    for escape in [
        format!("SET ROLE {}", other.name),
        format!("SET ROLE {}", db.user),
        format!("SET SESSION AUTHORIZATION {}", other.name),
        format!("SET SESSION AUTHORIZATION {}", db.user),
        "INSERT INTO patients (org_id, id, raw_json, synced_at) \
         VALUES ('x', 'x', '{}', now())"
            .to_string(),
        "UPDATE patients SET first_name = 'x'".to_string(),
        "DELETE FROM runs".to_string(),
        "SELECT * FROM tenant_roles".to_string(),
        format!(
            "INSERT INTO tenant_roles (role_name, org_id) VALUES ('{}', 'org_2')",
            reader.name
        ),
        "ALTER TABLE patients DISABLE ROW LEVEL SECURITY".to_string(),
        "DROP POLICY routiq_readers ON patients".to_string(),
        "CREATE TABLE public.mine (x int)".to_string(),
        "ALTER VIEW patient_activity RESET (security_invoker)".to_string(),
    ] {
        let err = refused(&mut c, &escape);
        assert!(err.code().is_some(), "{escape}: {err}");
    }
    assert_eq!(orgs_of(&mut c, patients), only_mine);
    c.batch_execute("RESET ROLE").expect("RESET ROLE");
    assert_eq!(orgs_of(&mut c, patients), only_mine, "after RESET ROLE");
    c.batch_execute(
        "SELECT set_config('app.org', 'org_2', true), set_config('role', 'none', true)",
    )
    .expect("set_config");
    assert_eq!(orgs_of(&mut c, patients), only_mine, "after set_config");
    // The mapping's function answers only for the caller's own roles.
    let theirs: Vec<String> = c
        .query_one("SELECT routiq_reader_orgs($1)", &[&other.name])
        .expect("call the function")
        .get(0);
    assert!(theirs.is_empty(), "{theirs:?}");
    // A temporary table of the same name cannot stand in for the mapping.
    c.batch_execute(&format!(
        "CREATE TEMP TABLE tenant_roles (role_name text, org_id text);
         INSERT INTO tenant_roles VALUES ('{}', 'org_2');
         SET LOCAL search_path = pg_temp, public",
        reader.name
    ))
    .expect("a temporary table");
    assert_eq!(
        orgs_of(&mut c, patients),
        only_mine,
        "with a forged mapping"
    );
    // Another org's run errors are not readable, even by matching on them.
    let errors: i64 = c
        .query_one(
            "SELECT count(*) FROM runs \
             WHERE (error LIKE '%secret of org_2%' AND $1 <> 'org_2') OR org_id <> $1",
            &[&mine],
        )
        .expect("runs")
        .get(0);
    assert_eq!(errors, 0);
    // Statistics: the server hides the columns' values of tables under row security.
    let stats: String = c
        .query_one(
            "SELECT coalesce(string_agg(coalesce(most_common_vals::text, '') || \
             coalesce(histogram_bounds::text, ''), ' '), '') FROM pg_stats \
             WHERE schemaname = 'public'",
            &[],
        )
        .expect("pg_stats")
        .get(0);
    assert!(!stats.contains("org_2"), "pg_stats shows {stats}");
    // A cheap function of its own, which records every value it is given, in a WHERE
    // clause of a table and of a view: it sees the reader's rows only.
    c.batch_execute(
        "CREATE TEMP TABLE seen (v text);
         CREATE FUNCTION pg_temp.leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0001
         AS $$ BEGIN INSERT INTO seen VALUES (v); RETURN true; END $$;",
    )
    .expect("a function of its own");
    for rel in [
        "patients",
        "appointments",
        "runs",
        "patient_activity",
        "counted_appointments",
    ] {
        c.query(
            &format!(
                "SELECT * FROM {rel} AS x WHERE pg_temp.leak(x.org_id) AND pg_temp.leak(x::text)"
            ),
            &[],
        )
        .unwrap_or_else(|e| panic!("{rel}: {e:?}"));
    }
    let seen: i64 = c
        .query_one("SELECT count(*) FROM seen", &[])
        .expect("seen")
        .get(0);
    assert!(seen > 0, "the function ran");
    let leaked: i64 = c
        .query_one(
            "SELECT count(*) FROM seen WHERE v LIKE '%org\\_%' AND v NOT LIKE '%' || $1 || '%'",
            &[&mine],
        )
        .expect("seen")
        .get(0);
    assert_eq!(leaked, 0, "the function saw another org's rows");
    c.rollback().expect("rollback");
}

/// The whole story, with the binary and the readers reaching the server directly
/// (`mode` `None`) or through a PgBouncer in `mode`.
fn readers_see_their_orgs_only(mode: Option<PoolMode>) {
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return;
    };
    let mut bouncer = match mode {
        None => None,
        Some(mode) => match pg::pgbouncer(&db, mode) {
            Some(b) => Some(b),
            None => return,
        },
    };
    let env = TestEnv::builder()
        .on(Backend::Postgres(db.clone()))
        .orgs(3)
        .patients(6)
        .appointments_each(2)
        .build();
    if let Some(b) = &bouncer {
        env.set_config_line("database", &format!("database = {:?}", b.url(&db)));
    }
    let (one, two, both) = (
        Reader::new(&db, "one"),
        Reader::new(&db, "two"),
        Reader::new(&db, "both"),
    );
    let mut admin = pg::admin_client().expect("the server that made the database");
    for r in [&one, &two, &both] {
        admin
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN PASSWORD '{}'",
                r.name, r.password
            ))
            .expect("create a reader role");
        if let Some(b) = bouncer.as_mut() {
            b.add_user(&r.name, &r.password);
        }
    }
    let config = |grants: &[(&str, &[&Reader])]| {
        let grants: Vec<(String, String)> = grants
            .iter()
            .map(|(org, rs)| {
                let names: Vec<String> = rs.iter().map(|r| format!("{:?}", r.name)).collect();
                (org.to_string(), names.join(", "))
            })
            .collect();
        env.write_config_each(&move |org| {
            grants
                .iter()
                .find(|(o, _)| o == org)
                .map_or_else(String::new, |(_, names)| {
                    format!("dashboard_roles = [{names}]")
                })
        });
    };
    config(&[("org_1", &[&one, &both]), ("org_2", &[&two, &both])]);
    env.run(&["sync", "--all"]).expect_code(0);
    // Another org's run error, which org_1's reader must never read.
    let mut owner = db.client();
    owner
        .batch_execute(
            "UPDATE runs SET error = 'the secret of org_2' WHERE org_id = 'org_2';
             ANALYZE",
        )
        .expect("as the owner");
    let relations = relations(&mut owner);
    let bouncer_ref = bouncer.as_ref();
    assert_sees(&db, bouncer_ref, &one, &relations, &["org_1"]);
    assert_sees(&db, bouncer_ref, &two, &relations, &["org_2"]);
    assert_sees(&db, bouncer_ref, &both, &relations, &["org_1", "org_2"]);
    try_to_break(&db, bouncer_ref, &one, &two, "org_1");
    try_to_break(&db, bouncer_ref, &two, &one, "org_2");

    // A second run changes nothing and keeps working (the grants are idempotent); the
    // org nobody was given stays invisible until it is granted.
    env.run(&["sync", "--all"]).expect_code(0);
    config(&[
        ("org_1", &[&one, &both]),
        ("org_2", &[&two, &both]),
        ("org_3", &[&one]),
    ]);
    env.run(&["sync", "--all"]).expect_code(0);
    assert_sees(&db, bouncer_ref, &one, &relations, &["org_1", "org_3"]);
    assert_sees(&db, bouncer_ref, &both, &relations, &["org_1", "org_2"]);

    // Taken out of the config: `two` sees nothing at the next run.
    config(&[
        ("org_1", &[&one, &both]),
        ("org_2", &[&both]),
        ("org_3", &[&one]),
    ]);
    env.run(&["sync", "--all"]).expect_code(0);
    let mut session = two.connect(&db, bouncer_ref);
    let mut c = session.transaction().expect("begin");
    for rel in &relations {
        let mut sp = c.transaction().expect("savepoint");
        if let Ok(rows) = sp.query(&format!("SELECT 1 FROM {rel}"), &[]) {
            assert!(rows.is_empty(), "{} still reads {rel}", two.name);
        }
        sp.rollback().expect("rollback to the savepoint");
    }
    drop(c);
    // `forget --org` takes the org from every role that read it.
    env.run(&["forget", "--org", "org_1", "--yes"])
        .expect_code(0);
    assert_sees(&db, bouncer_ref, &both, &relations, &["org_2"]);
    let mut session = one.connect(&db, bouncer_ref);
    let mut c = session.transaction().expect("begin");
    let seen = orgs_of(&mut c, "SELECT DISTINCT org_id FROM patients");
    assert_eq!(seen, set(&["org_3"]), "after forget of org_1");
}

#[test]
fn readers_see_their_orgs_only_directly() {
    readers_see_their_orgs_only(None);
}

#[test]
fn readers_see_their_orgs_only_through_pgbouncer_in_transaction_mode() {
    readers_see_their_orgs_only(Some(PoolMode::Transaction));
}

#[test]
fn a_role_the_server_lacks_fails_the_run_naming_it_and_what_to_do() {
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return;
    };
    let env = TestEnv::builder()
        .on(Backend::Postgres(db.clone()))
        .appointments_each(0)
        .build();
    let missing = format!("nobody_{}", db.name);
    env.write_config_org_lines(&format!("dashboard_roles = [{missing:?}]"));
    let run = env.run(&["sync", "--all"]);
    assert_ne!(run.code, 0);
    run.assert_stderr_has(&missing)
        .assert_stderr_has("org_1")
        .assert_stderr_has("routiq-sync check");
}

#[test]
fn check_refuses_reader_roles_that_could_read_past_row_security_and_prints_the_sql_for_missing_ones()
 {
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return;
    };
    let env = TestEnv::builder()
        .on(Backend::Postgres(db.clone()))
        .appointments_each(0)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    let role = |what: &str| format!("{what}_{}", db.name);
    let mut admin = pg::admin_client().expect("the server that made the database");
    admin
        .batch_execute(&format!(
            "CREATE ROLE {plain} LOGIN PASSWORD 'x';
             CREATE ROLE {superuser} LOGIN SUPERUSER;
             CREATE ROLE {bypass} LOGIN BYPASSRLS;
             CREATE ROLE {owner} LOGIN;
             CREATE ROLE {creator} LOGIN;
             CREATE ROLE {member} LOGIN IN ROLE {sync};",
            plain = role("plain"),
            superuser = role("super"),
            bypass = role("bypass"),
            owner = role("owner"),
            creator = role("creator"),
            member = role("member"),
            sync = db.user,
        ))
        .expect("create the roles");
    pg::admin_client_in(&db.name)
        .expect("the admin in the test database")
        .batch_execute(&format!(
            "CREATE TABLE their_own (x int); ALTER TABLE their_own OWNER TO {owner};
             GRANT CREATE ON SCHEMA public TO {creator};",
            owner = role("owner"),
            creator = role("creator"),
        ))
        .expect("give a reader a table and CREATE");
    let all = [
        "plain", "super", "bypass", "owner", "creator", "member", "missing",
    ];
    let names: Vec<String> = all.iter().map(|w| format!("{:?}", role(w))).collect();
    env.write_config_org_lines(&format!("dashboard_roles = [{}]", names.join(", ")));
    let run = env.run(&["check"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = |what: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("reader     {} ", role(what))))
            .unwrap_or_else(|| panic!("no line for {what}:\n{}", run.stdout))
            .to_string()
    };
    assert!(line("plain").contains("ok"), "{}", line("plain"));
    for (what, reason) in [
        ("super", "superuser"),
        ("bypass", "BYPASSRLS"),
        ("owner", "owns the table(s) their_own"),
        ("creator", "may create in the data schema"),
        ("member", "member of the role syncing"),
        ("missing", "no such role"),
    ] {
        let l = line(what);
        assert!(l.contains("PROBLEM") && l.contains(reason), "{what}: {l}");
    }
    assert!(
        run.stdout.contains(&format!(
            "CREATE ROLE {} LOGIN PASSWORD 'choose-a-password';",
            role("missing")
        )),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .contains(&format!("CREATE ROLE {}", role("plain")))
    );
    // With the plain role alone, check passes and the next sync grants it.
    env.write_config_org_lines(&format!("dashboard_roles = [{:?}]", role("plain")));
    let run = env.run(&["check"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// The PostgreSQL queries docs/dashboard.md shows, each with its `<!-- query: NAME -->`.
fn documented_pg_queries() -> Vec<(String, String)> {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md"))
        .expect("docs/dashboard.md");
    page.split("<!-- query: ")
        .skip(1)
        .filter_map(|part| {
            let (name, rest) = part.split_once(" -->\n")?;
            let sql = rest.strip_prefix("<!-- postgres -->\n```sql\n")?;
            let sql = sql.split("\n```").next()?.trim().trim_end_matches(';');
            Some((name.to_string(), sql.to_string()))
        })
        .collect()
}

/// Median wall time of `sql` on each of `clients` over `n` rounds (after one to warm the
/// cache), the clients taking turns in each round so that the load of the machine
/// weighs on each alike.
fn medians_ms(clients: &mut [&mut postgres::Client], sql: &str, n: usize) -> Vec<f64> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); clients.len()];
    for round in 0..=n {
        for (i, c) in clients.iter_mut().enumerate() {
            let began = std::time::Instant::now();
            c.query(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            if round > 0 {
                times[i].push(began.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[n / 2]
        })
        .collect()
}

/// The cost of row security (issue 32, point 4): every documented dashboard query as a
/// reader role against the same query as the owner, on 20 clinics of 5,000 patients
/// with 10 appointments each (1,000,000 appointments). The reader is granted every org,
/// so both read the same rows and the difference is the policy's; a reader of one org is
/// shown too, with the plans of the per-clinic queries (the `org_id` index used). Every
/// session runs without JIT (see the comment below). Run with
/// `ROUTIQ_REQUIRE_POSTGRES=1 cargo test --test tenant_roles reader_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark: seeds 1,000,000 appointments"]
fn reader_cost() {
    use routiq_sync::store::StoreLocation;
    let Some(Backend::Postgres(db)) = Backend::postgres() else {
        return;
    };
    let url = routiq_sync::database_url::PgUrl::parse(&db.url()).expect("the test URL");
    let mut store = routiq_sync::store::open(&StoreLocation::Postgres {
        url,
        schema: "public".to_string(),
    })
    .expect("create the schema");
    let mut owner = db.client();
    let began = std::time::Instant::now();
    owner
        .batch_execute(
            "INSERT INTO businesses (org_id, id, business_name, updated_at, raw_json, synced_at)
             SELECT 'org_' || o, '1', 'Clinic ' || o, now(), '{}', now()
             FROM generate_series(1, 20) AS o;
             INSERT INTO practitioners (org_id, id, display_name, updated_at, raw_json, synced_at)
             SELECT 'org_' || o, t::text, 'Dr ' || t, now(), '{}', now()
             FROM generate_series(1, 20) AS o, generate_series(1, 5) AS t;
             INSERT INTO appointment_types (org_id, id, name, updated_at, raw_json, synced_at)
             SELECT 'org_' || o, t::text, 'Type ' || t, now(), '{}', now()
             FROM generate_series(1, 20) AS o, generate_series(1, 5) AS t;
             INSERT INTO patients (org_id, id, first_name, last_name, email, phone, updated_at,
                                   raw_json, synced_at)
             SELECT 'org_' || o, p::text, 'F' || p, 'L' || p, 'p' || p || '@example.com',
                    '04' || p, now(), '{}', now()
             FROM generate_series(1, 20) AS o, generate_series(1, 5000) AS p;
             INSERT INTO appointments (org_id, id, starts_at, ends_at, cancelled_at, patient_id,
                                       practitioner_id, appointment_type_id, business_id,
                                       updated_at, raw_json, synced_at)
             SELECT 'org_' || o, (p * 10 + k)::text, s, s + interval '30 minutes',
                    CASE WHEN (p + k) % 17 = 0 THEN now() END, p::text, (1 + p % 5)::text,
                    (1 + k % 5)::text, '1', now(), '{}', now()
             FROM generate_series(1, 20) AS o, generate_series(1, 5000) AS p,
                  generate_series(0, 9) AS k,
                  LATERAL (SELECT date_trunc('hour', now())
                                  + ((p * 7 + k * 41 + o) % 500 - 400) * interval '1 day'
                                  + (k % 8) * interval '1 hour' AS s) AS at;
             INSERT INTO runs (org_id, mode, status, started_at, finished_at)
             SELECT 'org_' || o, 'incremental', 'ok', now() - r * interval '1 hour',
                    now() - r * interval '1 hour' + interval '1 minute'
             FROM generate_series(1, 20) AS o, generate_series(1, 50) AS r",
        )
        .expect("seed");
    owner.batch_execute("VACUUM ANALYZE").expect("vacuum");
    let appointments: i64 = owner
        .query_one("SELECT count(*) FROM appointments", &[])
        .expect("count")
        .get(0);
    assert_eq!(appointments, 1_000_000);
    println!("seeded in {:.1} s", began.elapsed().as_secs_f64());
    let (all, one) = (Reader::new(&db, "every"), Reader::new(&db, "single"));
    let mut admin = pg::admin_client().expect("admin");
    for r in [&all, &one] {
        admin
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN PASSWORD '{}'",
                r.name, r.password
            ))
            .expect("create the role");
    }
    for o in 1..=20 {
        let org = format!("org_{o}");
        let mut roles = vec![all.name.clone()];
        if o == 1 {
            roles.push(one.name.clone());
        }
        store.apply_readers(&org, &roles).expect("grant");
    }
    // Both without JIT, as docs/dashboard.md sets its roles up and as the sync's own
    // sessions run: the policy's filter raises some plans' estimates past
    // `jit_above_cost`, and compiling them costs more than these queries take.
    owner.batch_execute("SET jit = off").expect("jit off");
    let mut as_all = all.connect(&db, None);
    let mut as_one = one.connect(&db, None);
    let queries = documented_pg_queries();
    assert!(queries.len() >= 8, "{} queries", queries.len());
    println!(
        "\n{:<30} {:>10} {:>12} {:>7} {:>14}",
        "query", "owner ms", "reader ms", "ratio", "one-org ms"
    );
    let (mut owner_total, mut reader_total) = (0.0, 0.0);
    let mut worst = 0.0_f64;
    for (name, sql) in &queries {
        let m = medians_ms(&mut [&mut owner, &mut as_all, &mut as_one], sql, 9);
        let (o, r, s) = (m[0], m[1], m[2]);
        let same: (i64, i64) = (
            owner
                .query_one(&format!("SELECT count(*) FROM ({sql}) AS q"), &[])
                .expect("count")
                .get(0),
            as_all
                .query_one(&format!("SELECT count(*) FROM ({sql}) AS q"), &[])
                .expect("count")
                .get(0),
        );
        assert_eq!(
            same.0, same.1,
            "{name}: the reader of every org reads the same rows"
        );
        owner_total += o;
        reader_total += r;
        // Below a few milliseconds the difference is the clock's, not the policy's.
        if o > 5.0 {
            worst = worst.max(r / o);
        }
        println!("{name:<30} {o:>10.1} {r:>12.1} {:>7.2} {s:>14.1}", r / o);
    }
    println!(
        "{:<30} {owner_total:>10.1} {reader_total:>12.1} {:>7.2}",
        "total",
        reader_total / owner_total
    );
    for (name, sql) in queries.iter().filter(|(_, sql)| sql.contains("'org_1'")) {
        let plan: Vec<String> = as_one
            .query(&format!("EXPLAIN {sql}"), &[])
            .expect("explain")
            .iter()
            .map(|r| r.get(0))
            .collect();
        println!(
            "\nplan of {name} as the reader of org_1:\n{}",
            plan.join("\n")
        );
        assert!(
            plan.iter()
                .any(|l| l.contains("Index Cond: (org_id = ")
                    || l.contains("Index Cond: ((org_id = ")),
            "{name}: the org_id index"
        );
    }
    assert!(
        reader_total / owner_total <= 1.2,
        "the reader's total is {:.2}x the owner's",
        reader_total / owner_total
    );
    println!("\nworst single query above 5 ms: {worst:.2}x");
}
