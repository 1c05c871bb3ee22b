//! The PostgreSQL org lease (`org_leases`) on a real server, through the store's own
//! API: taken when free, expired or left by a process of this host that is gone, refused
//! while another holds it; renewed by the process for every lease it holds; renewed by
//! the fence at each commit, which refuses to commit once the lease was lost or lapsed;
//! deleted when released.

mod common;

use std::time::{Duration, Instant};

use common::pg::{self, PgDatabase};
use routiq_sync::resource::Resource;
use routiq_sync::store::postgres::{LEASE, RENEW_EVERY};
use routiq_sync::store::{OrgGuard, Store, StoreError, StoreLocation};

/// A store on `db`'s `public` schema (its own session), as a run opens one.
fn open(db: &PgDatabase) -> Box<dyn Store> {
    routiq_sync::store::open(&StoreLocation::Postgres {
        url: routiq_sync::database_url::PgUrl::parse(&db.url()).unwrap(),
        schema: "public".into(),
    })
    .unwrap()
}

/// `org`'s lease as the server has it: its token, its holder's pid, and the seconds
/// left before it expires on the server's clock.
fn lease(db: &PgDatabase, org: &str) -> Option<(String, i64, f64)> {
    db.client()
        .query_opt(
            "SELECT token, pid,
                    EXTRACT(EPOCH FROM expires_at - clock_timestamp())::float8
             FROM org_leases WHERE org_id = $1",
            &[&org],
        )
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// Changes `org`'s lease row behind its holder's back (`SET ...`).
fn alter_lease(db: &PgDatabase, org: &str, set: &str) {
    let n = db
        .client()
        .execute(
            &format!("UPDATE org_leases SET {set} WHERE org_id = $1"),
            &[&org],
        )
        .unwrap();
    assert_eq!(n, 1, "{org} has a lease");
}

/// Commits one page of org_1's patients `ids` (fenced by the lease).
fn write(store: &mut dyn Store, ids: &[&str]) -> Result<(), StoreError> {
    let page: Vec<routiq_sync::record::Record> = ids
        .iter()
        .map(|id| {
            routiq_sync::record::Record::stub(
                *id,
                1_700_000_000,
                routiq_sync::store::table(Resource::Patients).columns.len(),
            )
        })
        .collect();
    let now = routiq_sync::timestamp::Timestamp::now();
    let pages = [("patients", page.as_slice())];
    store
        .write_route_pages(
            "org_1",
            Resource::Patients,
            &pages,
            None,
            now,
            routiq_sync::store::Commit::Now,
        )
        .map(drop)
}

fn patients(db: &PgDatabase) -> i64 {
    db.client()
        .query_one("SELECT COUNT(*) FROM patients", &[])
        .unwrap()
        .get(0)
}

/// A fresh database and two stores on it (two runs of this process).
type TwoStores = (PgDatabase, Box<dyn Store>, Box<dyn Store>);

/// [`TwoStores`]; `None` to skip.
fn two_stores() -> Option<TwoStores> {
    let db = pg::database()?;
    let (a, b) = (open(&db), open(&db));
    Some((db, a, b))
}

fn take(store: &mut dyn Store, org: &str) -> Option<OrgGuard> {
    store.try_lock_org(org).unwrap()
}

#[test]
fn a_free_lease_is_taken_for_the_lease_time_and_refused_while_held() {
    let Some((db, mut a, mut b)) = two_stores() else {
        return;
    };
    let guard = take(&mut *a, "org_1").expect("the org is free");
    let (_, pid, left) = lease(&db, "org_1").expect("a lease row");
    assert_eq!(pid, i64::from(std::process::id()));
    let lease_secs = LEASE.as_secs_f64();
    assert!(
        left > lease_secs - 5.0 && left <= lease_secs,
        "{left}s left of a {lease_secs}s lease"
    );
    assert!(take(&mut *b, "org_1").is_none(), "taken twice");
    assert!(b.is_org_running("org_1").unwrap());
    assert!(!b.is_org_running("org_2").unwrap());
    // Released: the row goes, and the org is free again.
    drop(guard);
    assert_eq!(lease(&db, "org_1"), None, "released");
    assert!(!b.is_org_running("org_1").unwrap());
    assert!(take(&mut *b, "org_1").is_some());
}

#[test]
fn an_expired_lease_is_taken_over_and_its_old_holder_fenced_off() {
    let Some((db, mut a, mut b)) = two_stores() else {
        return;
    };
    let _old = take(&mut *a, "org_1").expect("the org is free");
    write(&mut *a, &["1"]).expect("the holder commits");
    let (old_token, _, _) = lease(&db, "org_1").unwrap();
    alter_lease(
        &db,
        "org_1",
        "expires_at = clock_timestamp() - interval '1 second'",
    );
    assert!(!b.is_org_running("org_1").unwrap(), "an expired lease");
    let _new = take(&mut *b, "org_1").expect("an expired lease is free");
    let (new_token, _, _) = lease(&db, "org_1").unwrap();
    assert_ne!(new_token, old_token);
    match write(&mut *a, &["2"]) {
        Err(StoreError::LockLost { .. }) => {}
        other => panic!("the old holder committed after losing the lease: {other:?}"),
    }
    assert_eq!(patients(&db), 1, "nothing of the old holder's committed");
    write(&mut *b, &["3"]).expect("the new holder commits");
    assert_eq!(patients(&db), 2);
}

#[test]
fn a_lease_left_by_a_process_of_this_host_that_is_gone_is_taken_at_once() {
    let Some((db, mut a, mut b)) = two_stores() else {
        return;
    };
    let _held = take(&mut *a, "org_1").expect("the org is free");
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let dead = gone.id();
    // Unexpired, but its holder on another host cannot be judged: refused.
    alter_lease(
        &db,
        "org_1",
        &format!("pid = {dead}, host_key = 'another host'"),
    );
    assert!(take(&mut *b, "org_1").is_none(), "another host's lease");
    // The same lease held by a process of this host that no longer runs: free.
    let this_host = lease_host_key(&db);
    alter_lease(&db, "org_1", &format!("host_key = '{this_host}'"));
    assert!(!b.is_org_running("org_1").unwrap(), "its holder is gone");
    let _taken = take(&mut *b, "org_1").expect("a gone holder's lease is free");
    let (_, pid, _) = lease(&db, "org_1").unwrap();
    assert_eq!(pid, i64::from(std::process::id()));
}

/// The `host_key` this process's leases carry (read from a lease it takes).
fn lease_host_key(db: &PgDatabase) -> String {
    let mut store = open(db);
    let _guard = take(&mut *store, "probe").expect("a free org");
    db.client()
        .query_one(
            "SELECT host_key FROM org_leases WHERE org_id = 'probe'",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn the_fence_renews_the_lease_at_each_commit_and_refuses_a_lapsed_one() {
    let Some(db) = pg::database() else {
        return;
    };
    let mut a = open(&db);
    let _held = take(&mut *a, "org_1").expect("the org is free");
    alter_lease(
        &db,
        "org_1",
        "expires_at = clock_timestamp() + interval '5 seconds'",
    );
    write(&mut *a, &["1"]).expect("an unexpired lease commits");
    let (_, _, left) = lease(&db, "org_1").unwrap();
    assert!(
        left > LEASE.as_secs_f64() - 5.0,
        "the commit renewed the lease: {left}s left"
    );
    // Pages held open while the lease was still ours; it lapses before their commit,
    // though no one took it over: the commit is refused all the same.
    let page = [routiq_sync::record::Record::stub(
        "2",
        1_700_000_000,
        routiq_sync::store::table(Resource::Patients).columns.len(),
    )];
    let now = routiq_sync::timestamp::Timestamp::now();
    a.write_route_pages(
        "org_1",
        Resource::Patients,
        &[("patients", &page[..])],
        None,
        now,
        routiq_sync::store::Commit::Held,
    )
    .expect("pages held under the lease");
    alter_lease(
        &db,
        "org_1",
        "expires_at = clock_timestamp() - interval '1 second'",
    );
    match a.commit_held() {
        Err(StoreError::LockLost { .. }) => {}
        other => panic!("committed under a lapsed lease: {other:?}"),
    }
    assert_eq!(patients(&db), 1);
}

#[test]
fn the_process_renews_every_lease_it_holds_and_no_other() {
    let Some(db) = pg::database() else {
        return;
    };
    let mut a = open(&db);
    let _one = take(&mut *a, "org_1").expect("the org is free");
    let _two = take(&mut *a, "org_2").expect("the org is free");
    for org in ["org_1", "org_2"] {
        alter_lease(
            &db,
            org,
            "expires_at = clock_timestamp() + interval '30 seconds'",
        );
    }
    // Another run took org_2 over (its lease lapsed here in between).
    alter_lease(&db, "org_2", "token = 'another run'");
    let began = Instant::now();
    let limit = RENEW_EVERY + Duration::from_secs(5);
    while lease(&db, "org_1").unwrap().2 < 40.0 {
        assert!(
            began.elapsed() < limit,
            "org_1's lease was not renewed within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (token, _, left) = lease(&db, "org_2").unwrap();
    assert_eq!(token, "another run");
    assert!(
        left <= 30.0,
        "another run's lease was renewed: {left}s left"
    );
}
