//! PostgreSQL-only behaviour through the real binary: `check`, bad URLs, a wrong
//! password and an unreachable server (the password never shown), the URL from
//! `database_url_env`, `pg_schema`, and a schema newer than the binary.

mod common;

use common::{Backend, TestEnv, TestEnvBuilder, pg::PgDatabase};

/// A test env on a fresh PostgreSQL database, or `None` (skip) when there is none.
fn pg_env(env: TestEnvBuilder) -> Option<(TestEnv, PgDatabase)> {
    let store = Backend::postgres()?;
    let Backend::Postgres(db) = &store else {
        unreachable!("postgres() gives a PostgreSQL backend")
    };
    let db = db.clone();
    Some((env.on(store).build(), db))
}

/// Where the store of `db`'s `public` schema is, for tests that open it themselves.
fn public_schema(db: &PgDatabase) -> routiq_sync::store::StoreLocation {
    routiq_sync::store::StoreLocation::Postgres {
        url: routiq_sync::database_url::PgUrl::parse(&db.url()).unwrap(),
        schema: "public".into(),
    }
}

fn assert_no_password(run: &common::Run, password: &str) {
    run.assert_never_prints("the password", password);
}

#[test]
fn check_shows_the_server_and_probes_it_without_the_password() {
    let Some((env, db)) = pg_env(TestEnv::builder().appointments_each(0)) else {
        return;
    };
    let run = env.run(&["check"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("Store (PostgreSQL)"), "{out}");
    assert!(
        out.contains(&format!(
            "host 127.0.0.1, port {}, database {}, schema public",
            db.port, db.name
        )),
        "{out}"
    );
    assert!(out.contains("connect    ok: PostgreSQL 15"), "{out}");
    assert!(
        out.contains("tls        not in use (sslmode=disable)"),
        "{out}"
    );
    assert!(out.contains("not created yet"), "{out}");
    assert!(out.contains("may create tables"), "{out}");
    assert!(out.contains(&format!("{}:****@", db.user)), "{out}");
    assert!(out.contains("lease on the server"), "{out}");
    assert!(out.contains("pooler     none detected"), "{out}");
    assert_no_password(&run, &db.password);

    env.run(&["sync", "--all"]).expect_code(0);
    let run = env.run(&["check"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains(&format!(
            "schema     version {} (current)",
            routiq_sync::store::postgres::CURRENT_VERSION
        )),
        "{}",
        run.stdout
    );
    let status = env.run(&["status", "--json"]);
    status.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let shown = v["database"].as_str().unwrap();
    assert!(
        shown.starts_with("postgres://") && shown.contains(":****@"),
        "{shown}"
    );
    assert_no_password(&status, &db.password);
}

#[test]
fn a_wrong_password_fails_every_org_naming_the_server_but_not_the_password() {
    let Some((env, db)) = pg_env(TestEnv::builder().orgs(2).appointments_each(0)) else {
        return;
    };
    let wrong = "WrongPasswordXyz987";
    env.set_config_line(
        "database",
        &format!("database = {:?}", db.url_with_password(wrong)),
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    let target = format!("host 127.0.0.1, port {}, database {}", db.port, db.name);
    for org in ["org_1", "org_2"] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(org) && l.contains("FAILED"))
            .unwrap_or_else(|| panic!("no failure line for {org}:\n{}", run.stderr));
        assert!(line.contains(&target), "{line}");
        assert!(line.contains("password"), "{line}");
    }
    assert_eq!(env.requests("org_1"), 0, "nothing was fetched");
    assert_no_password(&run, wrong);
    assert_no_password(&run, &db.password);
    let check = env.run(&["check"]);
    check.expect_code(1);
    assert!(
        check.stdout.contains("connect    PROBLEM"),
        "{}",
        check.stdout
    );
    assert_no_password(&check, wrong);
}

#[test]
fn an_unreachable_server_fails_every_org_and_bad_urls_exit_2() {
    let env = TestEnv::builder().orgs(2).appointments_each(0).build();
    let secret = "UnusedPassword4242";
    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.write_config("pg_schema = \"routiq\"");
    let set_database =
        |value: &str| env.set_config_line("database", &format!("database = {value:?}"));
    set_database(&format!(
        "postgres://u:{secret}@127.0.0.1:{free}/clinics?sslmode=disable"
    ));
    let run = env.run(&["sync", "--all"]);
    run.expect_code(1);
    let target = format!("host 127.0.0.1, port {free}, database clinics");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("FAILED") && l.contains(&target))
            .count(),
        2,
        "{}",
        run.stderr
    );
    assert_no_password(&run, secret);

    for bad in [
        format!("postgres://u:{secret}@127.0.0.1:notaport/clinics"),
        format!("postgres://u:{secret}@127.0.0.1/clinics?sslmode=sometimes"),
        format!("postgresql://u:{secret}@/clinics"),
    ] {
        set_database(&bad);
        for cmd in [&["sync", "--all"][..], &["status"], &["check"]] {
            let run = env.run(cmd);
            assert_eq!(run.code, 2, "{bad} {cmd:?}: {}", run.stderr);
            run.assert_stderr_has("`database`");
            assert_no_password(&run, secret);
        }
    }
}

#[test]
fn the_url_can_come_from_database_url_env_into_its_own_schema() {
    let Some((env, db)) = pg_env(TestEnv::builder().patients(20)) else {
        return;
    };
    env.set_config_line(
        "database",
        "database_url_env = \"DATABASE_URL\"\npg_schema = \"clinic_data\"",
    );
    let url = db.url();
    let run = env.run_env(&["sync", "--all"], &[("DATABASE_URL", &url)]);
    run.expect_code(0);
    assert_no_password(&run, &db.password);
    let mut client = db.client();
    let n: i64 = client
        .query_one("SELECT COUNT(*) FROM clinic_data.patients", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 20);
    let in_public: bool = client
        .query_one("SELECT to_regclass('public.patients') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!in_public, "the tables live in pg_schema only");
    // Without the variable: a config error naming the key.
    let run = env.run(&["sync", "--all"]);
    run.expect_code(2);
    run.assert_stderr_has("`database_url_env`");
}

#[test]
fn a_schema_from_a_newer_build_is_refused_untouched() {
    let Some((env, db)) = pg_env(TestEnv::builder().appointments_each(0)) else {
        return;
    };
    env.run(&["sync", "--all"]).expect_code(0);
    let mut client = db.client();
    client
        .batch_execute("INSERT INTO schema_migrations (version) VALUES (99)")
        .unwrap();
    let runs = || -> i64 {
        db.client()
            .query_one("SELECT COUNT(*) FROM runs", &[])
            .unwrap()
            .get(0)
    };
    let before = runs();
    let run = env.run(&["sync", "--all", "--force"]);
    run.expect_code(2);
    run.assert_stderr_has("newer");
    assert_eq!(runs(), before, "nothing was written");
    // The first sync's requests (its account check, GET /settings, among them).
    assert_eq!(
        env.requests("org_1"),
        1 + 2 + 4,
        "no request after the refusal"
    );
}

#[test]
fn every_primary_key_starts_with_org_id() {
    let Some((env, db)) = pg_env(TestEnv::builder().appointments_each(0)) else {
        return;
    };
    env.run(&["sync", "--all"]).expect_code(0);
    let rows = db
        .client()
        .query(
            "SELECT t.relname::text, a.attname::text
             FROM pg_index AS i
             JOIN pg_class AS t ON t.oid = i.indrelid
             JOIN pg_namespace AS n ON n.oid = t.relnamespace
             JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
             WHERE i.indisprimary AND n.nspname = 'public' AND t.relname <> 'schema_migrations'",
            &[],
        )
        .unwrap();
    assert!(rows.len() >= 10, "{} primary keys", rows.len());
    for r in rows {
        let (table, first): (String, String) = (r.get(0), r.get(1));
        assert_eq!(first, "org_id", "{table}");
    }
}

#[test]
fn an_org_locked_on_another_host_is_skipped_and_status_shows_it_running() {
    let Some((env, db)) = pg_env(TestEnv::builder().orgs(2).patients(10)) else {
        return;
    };
    use routiq_sync::store::StoreLocation;
    let url = routiq_sync::database_url::PgUrl::parse(&db.url()).unwrap();
    let location = StoreLocation::Postgres {
        url,
        schema: "public".into(),
    };
    // "Another host": a session of this test process holding org_1's advisory lock.
    let mut other = routiq_sync::store::open(&location).unwrap();
    let held = other.try_lock_org("org_1").unwrap().expect("org_1 free");
    assert!(other.try_lock_org("org_1").unwrap().is_none(), "held once");
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("org_1 skipped: another routiq-sync run holds its lock");
    assert_eq!(env.requests("org_1"), 0);
    env.assert_in_sync("org_2");
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["sync_running"], true, "{}", status.stdout);
    assert_eq!(v["orgs"][1]["sync_running"], false, "{}", status.stdout);
    drop(held);
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["orgs"][0]["sync_running"], false, "released");
    env.run(&["sync", "--org", "org_1"]).expect_code(0);
    env.assert_in_sync("org_1");
}

#[test]
fn the_dashboard_queries_for_postgresql_run() {
    let Some((env, db)) = pg_env(TestEnv::builder().orgs(2).patients(40).appointments_each(3))
    else {
        return;
    };
    env.run(&["sync", "--all"]).expect_code(0);
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("<!-- postgres -->\n```sql\n")
        .skip(1)
        .map(|rest| rest.split("\n```").next().unwrap_or_default())
        .collect();
    assert!(blocks.len() >= 8, "{} PostgreSQL queries", blocks.len());
    let mut client = db.client();
    for sql in blocks {
        client
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}\n{e:?}"));
    }
}

#[test]
fn tls_follows_sslmode_and_sslrootcert() {
    let Some((env, db)) = pg_env(TestEnv::builder().appointments_each(0)) else {
        return;
    };
    let Some(ca) = common::pg::tls_ca() else {
        common::pg::skip(
            "the test server has no TLS certificate (openssl missing, or an external \
             ROUTIQ_TEST_DATABASE_URL server)",
        );
        return;
    };
    let ca = ca.display().to_string();
    let url = |host: &str, tls: &str| {
        format!(
            "postgres://{}:{}@{host}:{}/{}?{tls}",
            db.user, db.password, db.port, db.name
        )
    };
    let with_database = |value: &str| {
        env.set_config_line("database", &format!("database = {value:?}"));
        env.run(&["check"])
    };
    // Encrypted, unverified.
    let run = with_database(&url("127.0.0.1", "sslmode=require"));
    run.expect_code(0);
    assert!(
        run.stdout.contains("tls        in use (sslmode=require)"),
        "{}",
        run.stdout
    );
    // The certificate names localhost: verify-full needs that name and the CA.
    let run = with_database(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("tls        in use (sslmode=verify-full)"),
        "{}",
        run.stdout
    );
    env.run(&["sync", "--all"]).expect_code(0);
    let run = with_database(&url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    run.expect_code(1);
    assert!(run.stdout.contains("connect    PROBLEM"), "{}", run.stdout);
    // verify-ca checks the chain only; `require` with a root certificate is verify-ca.
    for tls in [
        format!("sslmode=verify-ca&sslrootcert={ca}"),
        format!("sslmode=require&sslrootcert={ca}"),
    ] {
        let run = with_database(&url("127.0.0.1", &tls));
        run.expect_code(0);
        assert!(
            run.stdout.contains("tls        in use (sslmode=verify-ca)"),
            "{}",
            run.stdout
        );
    }
    // Not signed by a root we trust (the Mozilla set).
    let run = with_database(&url("localhost", "sslmode=verify-full"));
    run.expect_code(1);
    assert!(run.stdout.contains("connect    PROBLEM"), "{}", run.stdout);
    let sync = env.run(&["sync", "--all", "--force"]);
    sync.expect_code(1);
    assert_no_password(&sync, &db.password);
    let run = with_database(&url(
        "127.0.0.1",
        "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
    ));
    assert!(
        run.stdout.contains("sslrootcert /nonexistent/ca.pem"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_expired_lease_stops_the_writes_of_that_org() {
    let Some((env, db)) = pg_env(TestEnv::builder().patients(10)) else {
        return;
    };
    use routiq_sync::store::StoreError;
    use routiq_sync::timestamp::Timestamp;
    let location = public_schema(&db);
    let page = |id: &str| patient_page(&[id], 1_700_000_000);
    let now = Timestamp::now();
    let mut store = routiq_sync::store::open(&location).unwrap();
    let _held = store.try_lock_org("org_1").unwrap().expect("org_1 free");
    write(&mut *store, &page("1"), now).unwrap();
    // Its renewals failed (a network cut, a long server outage): the lease lapsed.
    let lapsed = env.execute(
        "UPDATE org_leases SET expires_at = now() - interval '1 second' WHERE org_id = 'org_1'",
        &[],
    );
    assert_eq!(lapsed, 1, "one lease was held");
    std::thread::sleep(std::time::Duration::from_millis(200));
    match write(&mut *store, &page("2"), now) {
        Err(e @ StoreError::LockLost { .. }) => {
            assert!(e.to_string().contains("lost the lock on org org_1"), "{e}")
        }
        other => panic!("a write after the lock was lost: {other:?}"),
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        1,
        "nothing written after the lock was lost"
    );
    // Another host can take the org now, and the first run's writes stay refused.
    let mut other = routiq_sync::store::open(&location).unwrap();
    let _taken = other
        .try_lock_org("org_1")
        .unwrap()
        .expect("an expired lease is free");
    assert!(matches!(
        write(&mut *store, &page("3"), now),
        Err(StoreError::LockLost { .. })
    ));
}

#[test]
fn a_held_lease_is_renewed_while_its_run_goes_on() {
    let Some((env, db)) = pg_env(TestEnv::builder().patients(10)) else {
        return;
    };
    use routiq_sync::store::postgres::{LEASE, RENEW_EVERY};
    let location = public_schema(&db);
    let mut store = routiq_sync::store::open(&location).unwrap();
    let _held = store.try_lock_org("org_1").unwrap().expect("org_1 free");
    // Brought near its end, as if the run had gone on for most of a lease without a
    // commit; only the renewer can push it back.
    let shortened = env.execute(
        "UPDATE org_leases SET expires_at = clock_timestamp() + interval '20 seconds' \
         WHERE org_id = 'org_1'",
        &[],
    );
    assert_eq!(shortened, 1, "one lease was held");
    let left = || {
        env.value(
            "SELECT EXTRACT(EPOCH FROM expires_at - clock_timestamp())::bigint::text \
             FROM org_leases WHERE org_id = 'org_1'",
            &[],
        )
        .and_then(|s| s.parse::<i64>().ok())
        .expect("the lease is still there")
    };
    std::thread::sleep(RENEW_EVERY + std::time::Duration::from_secs(2));
    let after = left();
    assert!(
        after > 20 && after <= LEASE.as_secs() as i64,
        "renewed to a whole lease: {after} s left"
    );
    assert!(store.is_org_running("org_1").unwrap());
}

#[test]
fn a_live_lease_of_another_host_is_taken_only_once_it_expires() {
    let Some((env, db)) = pg_env(TestEnv::builder().patients(10)) else {
        return;
    };
    let location = public_schema(&db);
    drop(routiq_sync::store::open(&location).unwrap());
    // A process of another host took org_1 and was killed (no renewals): its pid means
    // nothing here, so only the expiry frees the org.
    env.execute(
        "INSERT INTO org_leases (org_id, token, holder, host_key, pid, pid_start, taken_at, expires_at)
         VALUES ('org_1', 'elsewhere', 'other-host pid 1', 'another boot/pid:[1]', 1, 1, now(),
                 now() + interval '3 seconds')",
        &[],
    );
    let mut store = routiq_sync::store::open(&location).unwrap();
    assert!(
        store.try_lock_org("org_1").unwrap().is_none(),
        "held elsewhere"
    );
    assert!(store.is_org_running("org_1").unwrap());
    let run = env.run(&["sync", "--all"]);
    assert!(
        run.stderr
            .contains("org_1 skipped: another routiq-sync run holds its lock"),
        "{}",
        run.stderr
    );
    std::thread::sleep(std::time::Duration::from_millis(3500));
    assert!(!store.is_org_running("org_1").unwrap(), "expired");
    env.run(&["sync", "--all"]).expect_code(0);
    env.assert_in_sync("org_1");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM org_leases"),
        0,
        "the run released the lease it took over"
    );
}

#[test]
fn a_lease_of_a_killed_process_on_this_host_is_taken_at_once() {
    let Some((env, _db)) = pg_env(TestEnv::builder().patients(10)) else {
        return;
    };
    env.run(&["sync", "--all"]).expect_code(0);
    // A process of this host that no longer runs (its pid taken, and exited), holding a
    // lease that has a minute left.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let host_key = format!(
        "{}/{}",
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .unwrap()
            .trim(),
        std::fs::read_link("/proc/self/ns/pid").unwrap().display()
    );
    env.execute(
        &format!(
            "INSERT INTO org_leases (org_id, token, holder, host_key, pid, pid_start, taken_at, expires_at)
             VALUES ('org_1', 'killed', 'this host', '{host_key}', {pid}, 1, now(),
                     now() + interval '1 minute')"
        ),
        &[],
    );
    env.run(&["sync", "--all", "--force"]).expect_code(0);
    assert!(
        env.count("SELECT COUNT(*) FROM runs WHERE status = 'ok'") >= 2,
        "the org was synced again at once"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM org_leases"), 0);
}

#[test]
fn a_database_that_does_not_exist_is_a_setup_error() {
    let Some((env, db)) = pg_env(TestEnv::builder().appointments_each(0)) else {
        return;
    };
    let url = db
        .url()
        .replace(&format!("/{}?", db.name), &format!("/{}_missing?", db.name));
    env.set_config_line("database", &format!("database = {url:?}"));
    let run = env.run(&["sync", "--all"]);
    run.expect_code(2);
    run.assert_stderr_has("cannot be used as configured")
        .assert_stderr_has("create the database");
    assert_eq!(env.requests("org_1"), 0, "nothing ran");
    assert_no_password(&run, &db.password);
}

/// Sessions opened on `db` so far, once every other session on it has ended (a backend
/// adds itself to `pg_stat_database.sessions` when its statistics are flushed, at exit at
/// the latest).
fn sessions_after_others_left(client: &mut postgres::Client, db: &PgDatabase) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&db.name],
            )
            .unwrap()
            .get(0);
        if others == 0 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    client
        .execute("SELECT pg_stat_clear_snapshot()", &[])
        .unwrap();
    client
        .query_one(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1",
            &[&db.name],
        )
        .unwrap()
        .get(0)
}

#[test]
fn check_uses_one_session_for_all_orgs() {
    let Some((env, db)) = pg_env(TestEnv::builder().orgs(4).patients(3).appointments_each(0))
    else {
        return;
    };
    env.run(&["sync", "--all"]).expect_code(0);
    let mut client = db.client();
    let before = sessions_after_others_left(&mut client, &db);
    let run = env.run(&["check"]);
    let after = sessions_after_others_left(&mut client, &db);
    run.expect_code(0);
    assert_eq!(
        run.stdout.matches("lease on the server").count(),
        4,
        "{}",
        run.stdout
    );
    // Our own session may be counted between the two reads, when its statistics are
    // flushed; one per org (the old behaviour) would be 5 or more.
    assert!(
        after - before <= 2,
        "check opened {} sessions for 4 orgs",
        after - before
    );
}

/// Each row's `xmin` and `xmax` (the transaction that wrote it, and one that updated,
/// deleted or locked it), by table and id.
fn row_versions(env: &TestEnv) -> Vec<Vec<Option<String>>> {
    env.rows(
        "SELECT 'patients', id, xmin::text, xmax::text FROM patients
         UNION ALL SELECT 'appointments', id, xmin::text, xmax::text FROM appointments
         ORDER BY 1, 2",
        &[],
    )
}

#[test]
fn a_second_full_and_a_verify_over_unchanged_data_leave_every_row_untouched() {
    let Some((env, _db)) = pg_env(TestEnv::builder().patients(60).appointments_each(2)) else {
        return;
    };
    env.run(&["full", "--all"]).expect_code(0);
    let before = row_versions(&env);
    assert_eq!(before.len(), 180, "60 patients and 120 appointments stored");
    env.run(&["full", "--all"]).expect_code(0);
    env.run(&["verify", "--all"]).expect_code(0);
    // Not rewritten (a new xmin, a dead row) and not even locked (a new xmax, WAL).
    assert_eq!(row_versions(&env), before, "unchanged rows were written");
    env.assert_in_sync("org_1");
}

/// A PostgreSQL store of `db` holding `org`'s lock (the guard is returned with it).
fn locked_store(
    db: &PgDatabase,
    org: &str,
) -> (
    Box<dyn routiq_sync::store::Store>,
    routiq_sync::store::OrgGuard,
) {
    let location = public_schema(db);
    let mut store = routiq_sync::store::open(&location).unwrap();
    let guard = store.try_lock_org(org).unwrap().expect("the org is free");
    (store, guard)
}

/// One patient page of `ids`, all updated at `ts`.
fn patient_page(ids: &[&str], ts: i64) -> Vec<routiq_sync::record::Record> {
    use routiq_sync::resource::Resource;
    ids.iter()
        .map(|id| {
            routiq_sync::record::Record::stub(
                *id,
                ts,
                routiq_sync::store::table(Resource::Patients).columns.len(),
            )
        })
        .collect()
}

/// Writes `page` of org_1's patients into the store's held transaction.
fn hold(store: &mut dyn routiq_sync::store::Store, page: &[routiq_sync::record::Record]) {
    use routiq_sync::resource::Resource;
    use routiq_sync::store::Commit;
    let now = routiq_sync::timestamp::Timestamp::now();
    let pages = [("patients", page)];
    store
        .write_route_pages("org_1", Resource::Patients, &pages, None, now, Commit::Held)
        .unwrap();
}

/// Commits `page` of org_1's patients, read from their main route.
fn write(
    store: &mut dyn routiq_sync::store::Store,
    page: &[routiq_sync::record::Record],
    now: routiq_sync::timestamp::Timestamp,
) -> Result<routiq_sync::store::PageWrite, routiq_sync::store::StoreError> {
    use routiq_sync::resource::Resource;
    use routiq_sync::store::Commit;
    let pages = [("patients", page)];
    store.write_route_pages("org_1", Resource::Patients, &pages, None, now, Commit::Now)
}

/// A fresh database with one org, a store holding org_1's lock, and a held first page
/// of patients `ids` (updated at `ts`); `None` (skip) without PostgreSQL.
fn holding(
    ids: &[&str],
    ts: i64,
) -> Option<(
    TestEnv,
    PgDatabase,
    Box<dyn routiq_sync::store::Store>,
    routiq_sync::store::OrgGuard,
)> {
    let (env, db) = pg_env(TestEnv::builder().appointments_each(0))?;
    let (mut store, guard) = locked_store(&db, "org_1");
    hold(&mut *store, &patient_page(ids, ts));
    Some((env, db, store, guard))
}

#[test]
fn held_pages_are_invisible_until_committed_and_dropped_with_the_session() {
    let Some((env, db, mut store, _guard)) = holding(&["1", "2"], 1_700_000_000) else {
        return;
    };
    let rows = || env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'");
    let cursor = || env.cursor("org_1", "patients");
    hold(&mut *store, &patient_page(&["3", "4"], 1_700_000_100));
    assert_eq!(rows(), 0, "held pages are not visible to other sessions");
    assert_eq!(cursor(), None, "nor is their cursor");
    store.commit_held().unwrap();
    assert_eq!(rows(), 4, "committed together");
    let committed = cursor().expect("the cursor moved with the rows");

    // A kill (the session ends) with a batch held: its rows and cursor are gone.
    let page = patient_page(&["5"], 1_700_000_200);
    hold(&mut *store, &page);
    drop(store);
    assert_eq!(rows(), 4, "the held batch was dropped");
    assert_eq!(cursor(), Some(committed), "its cursor never moved");
    // Its row locks went with it: the next run writes the same rows without waiting.
    let (mut next, _guard) = {
        drop(_guard);
        locked_store(&db, "org_1")
    };
    let now = routiq_sync::timestamp::Timestamp::now();
    write(&mut *next, &page, now).unwrap();
    assert_eq!(rows(), 5);
}

#[test]
fn a_lease_taken_over_while_pages_are_held_rolls_them_back_at_the_commit() {
    use routiq_sync::store::StoreError;
    let Some((env, _db, mut store, _guard)) = holding(&["1", "2"], 1_700_000_000) else {
        return;
    };
    // Another host took the org over (this run's lease had lapsed in between).
    let taken = env.execute(
        "UPDATE org_leases SET token = 'another host', expires_at = now() + interval '1 minute'
         WHERE org_id = 'org_1'",
        &[],
    );
    assert_eq!(taken, 1, "one lease was held");
    match store.commit_held() {
        Err(StoreError::LockLost { .. }) => {}
        other => panic!("held pages committed after the lock was lost: {other:?}"),
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM patients WHERE org_id = 'org_1'"),
        0,
        "nothing committed after the lock was lost"
    );
    assert_eq!(env.cursor("org_1", "patients"), None);
}

#[test]
fn a_run_fits_in_jobs_plus_one_connections_and_waits_for_a_free_slot() {
    let Some((env, db)) = pg_env(TestEnv::builder().orgs(8).patients(300)) else {
        return;
    };
    let limit = |n: i32| {
        db.client()
            .batch_execute(&format!("ALTER DATABASE {} CONNECTION LIMIT {n}", db.name))
            .expect("connection limit");
    };
    // `jobs` sessions and the one that renews the leases: nothing more, as the server
    // sees it while the run goes on (no limit set: an extra session would show).
    let (run, peak) = sessions_while_running(&env, &db, &["full", "--all", "--jobs", "4"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    eprintln!("at most {peak} sessions at once for --jobs 4");
    assert!(
        peak <= 5,
        "{peak} sessions at once for --jobs 4\n{}",
        run.stderr
    );
    assert!(
        peak >= 2,
        "the sampling saw {peak} session(s): it cannot see the run"
    );
    // Fewer slots than that: the sessions refused (53300) wait for one to free.
    limit(3);
    let run = env.run(&["full", "--all", "--jobs", "4"]);
    limit(-1);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (org, _) in &env.orgs {
        env.assert_in_sync(org);
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM runs WHERE status = 'ok'"),
        16,
        "every org synced in both runs"
    );
}

/// Runs the binary with `args` while sampling, from a session on another database, how
/// many client sessions `db` has: the run and the most seen at once.
fn sessions_while_running(env: &TestEnv, db: &PgDatabase, args: &[&str]) -> (common::Run, i64) {
    let mut admin = common::pg::admin_client().expect("the test PostgreSQL");
    let sessions = admin
        .prepare(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname::text = $1 AND backend_type = 'client backend'",
        )
        .expect("prepare the sampling query");
    // Files, not pipes: a full pipe would stall the run while it is sampled.
    let (out, err) = (env.dir.path().join("out"), env.dir.path().join("err"));
    let mut child = env
        .command(args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn routiq-sync");
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        let now: i64 = admin.query_one(&sessions, &[&db.name]).unwrap().get(0);
        peak = peak.max(now);
    };
    let run = common::Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
    };
    (run, peak)
}
