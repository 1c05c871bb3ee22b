//! Scenario k: `status --json` over many orgs (issue 30), on SQLite and on a durable
//! PostgreSQL (directly, and through PgBouncer in transaction mode when installed). Each
//! org gets what a synced org has: a full walk of patients and appointments, cursors,
//! a verify, a clock check, an account, a privacy state, and a day of run history. On
//! PostgreSQL the statements and round trips `status` costs are counted by a proxy on
//! the loopback that reads the protocol's framing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use routiq_sync::database_url::PgUrl;
use routiq_sync::record::Record;
use routiq_sync::resource::Resource;
use routiq_sync::store::postgres::PgStore;
use routiq_sync::store::sqlite::SqliteStore;
use routiq_sync::store::{
    AccountFacts, AppliedPolicy, Commit, ResourceCounts, RunOutcome, RunStatus, Store,
};
use routiq_sync::timestamp::Timestamp;

use crate::client::{ClientEnv, Store as Backend};
use crate::pg::PgDatabase;
use crate::scenarios::{Bins, Sizes};
use crate::table::{Table, secs, thousands};

/// What an org's full walk stored: patients and appointments.
const PATIENTS: usize = 40;
const APPOINTMENTS: usize = 120;
/// Runs each org's history holds before its last full run (a day every 15 minutes).
const HISTORY_EVERY_MIN: i64 = 15;

/// k. `status --json` for each org count of `sizes`, on each store.
pub fn run(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let samples = Samples::new()?;
    let max = sizes.status_many_orgs.iter().copied().max().unwrap_or(0);
    let orgs: Vec<(String, String)> = (1..=max)
        .map(|i| {
            (
                format!("org_{i:05}"),
                format!("{}{i:05}-au1", "k".repeat(40)),
            )
        })
        .collect();
    crate::pg::durable();
    let mut stores: Vec<(&str, Backend)> = vec![("SQLite", Backend::Sqlite)];
    if let Some(db) = crate::pg::database() {
        stores.push(("PostgreSQL", Backend::Postgres(db)));
    }
    let base = "http://127.0.0.1:9/v1";
    for (name, backend) in stores {
        // One database per store, grown from the smaller count to the larger.
        let env = ClientEnv::new_on(backend.clone(), &bins.client, base, &orgs, 180)?;
        let mut bins_to_time = vec![("", bins.client.clone())];
        if let Some(old) = &bins.baseline {
            bins_to_time.push((" (baseline binary)", old.clone()));
        }
        let mut seeded = 0;
        for &n in &sizes.status_many_orgs {
            let began = Instant::now();
            seed(
                &env,
                &backend,
                &orgs[seeded..n],
                sizes.status_many_history,
                &samples,
            )?;
            let s = format!("k. status --json, {} orgs, {name}", thousands(n as u64));
            t.info(
                &s,
                "seeded",
                format!(
                    "{} orgs more ({} runs, {} rows each) in {}",
                    n - seeded,
                    sizes.status_many_history + 1,
                    PATIENTS + APPOINTMENTS,
                    secs(began.elapsed())
                ),
            );
            seeded = n;
            let config = env.config_variant(n, None)?;
            for (how, bin) in &bins_to_time {
                time_status(&s, how, &env, bin, &config, n, sizes, t)?;
            }
            let Backend::Postgres(db) = &backend else {
                continue;
            };
            for (how, bin) in &bins_to_time {
                count_messages(&s, how, &env, db, bin, n, t)?;
            }
            if let Some(bouncer) = crate::pg::pgbouncer(db, crate::pg::PoolMode::Transaction) {
                let url = db.through(&bouncer).url();
                let config = env.config_variant(n, Some(&url))?;
                for (how, bin) in &bins_to_time {
                    let how = format!(" through PgBouncer (transaction mode){how}");
                    time_status(&s, &how, &env, bin, &config, n, sizes, t)?;
                }
            }
        }
    }
    Ok(())
}

/// Times `bin status --json` with `config` (the median of the repeats), checks its
/// output covers its `orgs` orgs, and adds the figures to `t` under `s`.
#[allow(clippy::too_many_arguments)]
fn time_status(
    s: &str,
    how: &str,
    env: &ClientEnv,
    bin: &Path,
    config: &Path,
    orgs: usize,
    sizes: &Sizes,
    t: &mut Table,
) -> Result<(), String> {
    let mut times = Vec::new();
    for _ in 0..sizes.status_repeats.max(1) {
        let m = crate::child::run_measured(env.command_of(bin, config, &["status", "--json"]))?
            .ok("routiq-sync status --json")?;
        let v: serde_json::Value = serde_json::from_str(&m.stdout)
            .map_err(|e| format!("status --json printed no JSON: {e}"))?;
        let shown = v["orgs"].as_array().map_or(0, Vec::len);
        let patients: u64 = v["orgs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["totals"]["patients"].as_u64())
            .sum();
        if shown != orgs || patients != (orgs * PATIENTS) as u64 {
            return Err(format!(
                "status --json showed {shown} orgs and {patients} patients, not {orgs} and {}",
                orgs * PATIENTS
            ));
        }
        times.push(m.wall);
    }
    times.sort();
    let median = times[times.len() / 2];
    let measure = format!("wall time{how}, median of {}", times.len());
    if how.contains("baseline") {
        t.info(s, &measure, secs(median));
    } else {
        t.check(
            s,
            &measure,
            secs(median),
            "< 200 ms",
            median < Duration::from_millis(200),
        );
    }
    Ok(())
}

/// Runs `bin status --json` for `orgs` orgs once through a counting proxy, and adds the
/// messages it sent and the round trips they took to `t`.
fn count_messages(
    s: &str,
    how: &str,
    env: &ClientEnv,
    db: &PgDatabase,
    bin: &Path,
    orgs: usize,
    t: &mut Table,
) -> Result<(), String> {
    let proxy = CountingProxy::start(&db.host, db.port)?;
    let url = PgDatabase {
        pooler_port: Some(proxy.port),
        ..db.clone()
    }
    .url();
    let config = env.config_variant(orgs, Some(&url))?;
    let ran = crate::child::run_measured(env.command_of(bin, &config, &["status", "--json"]));
    let c = proxy.stop();
    ran?.ok("routiq-sync status --json (counted)")?;
    t.info(
        s,
        &format!("messages to the server{how}"),
        format!(
            "{} ({} statements, {} round trips, {} session{})",
            thousands(c.messages),
            thousands(c.statements),
            thousands(c.round_trips),
            c.sessions,
            if c.sessions == 1 { "" } else { "s" }
        ),
    );
    Ok(())
}

/// Sample records from the fake's generator.
struct Samples {
    patients: Vec<Record>,
    appointments: Vec<Record>,
}

impl Samples {
    fn new() -> Result<Samples, String> {
        let (world, keys) = fake_cliniko::World::demo(1, 60, 3, 7);
        let key = &keys[0].1;
        let get =
            |resource, collection| crate::status_db::samples(&world, key, resource, collection);
        let s = Samples {
            patients: get(Resource::Patients, "patients"),
            appointments: get(Resource::Appointments, "individual_appointments"),
        };
        if s.patients.is_empty() || s.appointments.is_empty() {
            return Err("the generator produced no sample records".into());
        }
        Ok(s)
    }
}

/// Seeds `orgs` into `env`'s store: the run history first (older ids), in one statement,
/// then each org's last full run through the store, as a sync writes it.
fn seed(
    env: &ClientEnv,
    backend: &Backend,
    orgs: &[(String, String)],
    history: usize,
    samples: &Samples,
) -> Result<(), String> {
    let ids: Vec<String> = orgs.iter().map(|(id, _)| id.clone()).collect();
    let open = || -> Result<Box<dyn Store>, String> {
        match backend {
            Backend::Sqlite => SqliteStore::open(&env.db_path())
                .map(|s| Box::new(s) as Box<dyn Store>)
                .map_err(|e| e.to_string()),
            Backend::Postgres(db) => PgUrl::parse(&db.url())
                .map_err(|e| e.to_string())
                .and_then(|url| PgStore::open(&url, "public").map_err(|e| e.to_string()))
                .map(|s| Box::new(s) as Box<dyn Store>),
        }
    };
    drop(open()?);
    insert_history(env, backend, &ids, history)?;
    // Several sessions at once on PostgreSQL (each commit waits for its fsync).
    let workers = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres(_) => 4,
    };
    let chunks: Vec<&[String]> = ids.chunks(ids.len().div_ceil(workers).max(1)).collect();
    let seeded = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || -> Result<(), String> {
                    let mut store = open()?;
                    for org in chunk {
                        seed_org(store.as_mut(), org, samples)
                            .map_err(|e| format!("{org}: {e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err("a seeding thread panicked".into()))
        })
    });
    seeded?;
    // The planner's statistics as a live database has them (autovacuum's ANALYZE), not
    // those of the tables before the seeding.
    if let Backend::Postgres(db) = backend {
        db.client()
            .batch_execute("ANALYZE")
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `history` finished runs per org, 15 minutes apart before the last hour, in one
/// statement.
fn insert_history(
    env: &ClientEnv,
    backend: &Backend,
    ids: &[String],
    history: usize,
) -> Result<(), String> {
    let resources = r#"{"patients":{"mode":"incremental","fetched":1,"written":1,"archived":0,"deleted":0,"api_calls":1},"appointments":{"mode":"incremental","fetched":3,"written":3,"archived":0,"deleted":0,"api_calls":1}}"#;
    let n = history as i64;
    match backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(env.db_path()).map_err(|e| e.to_string())?;
            conn.busy_timeout(Duration::from_secs(60))
                .map_err(|e| e.to_string())?;
            let json = serde_json::to_string(ids).map_err(|e| e.to_string())?;
            conn.execute(
                "WITH RECURSIVE h(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM h WHERE k < ?2)
                 INSERT INTO runs (org_id, mode, status, started_at, finished_at, duration_ms,
                                   api_calls, resources, active_patients)
                 SELECT o.value, 'incremental', 'ok',
                        strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (60 + ?3 * (?2 - h.k + 1)) || ' minutes'),
                        strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (60 + ?3 * (?2 - h.k + 1)) || ' minutes', '+3 seconds'),
                        3000, 2, ?4, 25
                 FROM json_each(?1) AS o, h ORDER BY h.k, o.value",
                rusqlite::params![json, n, HISTORY_EVERY_MIN, resources],
            )
            .map_err(|e| e.to_string())?;
        }
        Backend::Postgres(db) => {
            db.client()
                .execute(
                    "INSERT INTO runs (org_id, mode, status, started_at, finished_at, duration_ms,
                                       api_calls, resources, active_patients)
                     SELECT o, 'incremental', 'ok',
                            now() - make_interval(mins => (60 + $3::bigint * ($2::bigint - k + 1))::int),
                            now() - make_interval(mins => (60 + $3::bigint * ($2::bigint - k + 1))::int)
                                  + interval '3 seconds',
                            3000, 2, $4::text::jsonb, 25
                     FROM unnest($1::text[]) AS o, generate_series(1, $2::bigint) AS k
                     ORDER BY k, o",
                    &[&ids, &n, &HISTORY_EVERY_MIN, &resources],
                )
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One org's last full run, as a sync records it: its walk of patients and
/// appointments (one page each), a verify, the clock check, the account and the privacy
/// policy (none) applied.
fn seed_org(store: &mut dyn Store, org: &str, samples: &Samples) -> Result<(), String> {
    let e = |e: routiq_sync::store::StoreError| e.to_string();
    let now = Timestamp::now();
    let started = now.sub(Duration::from_secs(1_800));
    let run = store.begin_run(org, "full", started).map_err(e)?;
    let mut counts = BTreeMap::new();
    for (resource, sample, n) in [
        (Resource::Patients, &samples.patients, PATIENTS),
        (Resource::Appointments, &samples.appointments, APPOINTMENTS),
    ] {
        store.begin_full(org, resource, run, started).map_err(e)?;
        let page: Vec<Record> = (0..n)
            .map(|i| {
                let mut r = sample[i % sample.len()].clone();
                r.id = format!("{}{i:06}", &org[4..]);
                r.updated_at = started.sub(Duration::from_secs(60 * (n - i) as u64));
                r
            })
            .collect();
        let pages = [(resource.name(), page.as_slice())];
        store
            .write_route_pages(org, resource, &pages, Some(run), started, Commit::Now)
            .map_err(e)?;
        store
            .finish_full(org, resource, run, started, now)
            .map_err(e)?;
        store.mark_polled(org, resource.name(), now).map_err(e)?;
        store.finish_verify(org, resource, started).map_err(e)?;
        counts.insert(
            resource.name().to_string(),
            ResourceCounts {
                mode: "full".into(),
                fetched: n as u64,
                written: n as u64,
                api_calls: 1,
                ..ResourceCounts::default()
            },
        );
    }
    let active = store.active_patients(org, true).map_err(e)?;
    store.record_clock_skew(org, 1, now).map_err(e)?;
    let account = AccountFacts {
        id: format!("acct-{org}"),
        name: Some(format!("Clinic {org}")),
        key_digest: Some("digest".into()),
    };
    store.record_account(org, &account).map_err(e)?;
    let none = AppliedPolicy {
        fingerprint: None,
        rules: None,
        refetch: None,
    };
    store.finish_privacy(org, none, now).map_err(e)?;
    let outcome = RunOutcome {
        status: RunStatus::Ok,
        finished_at: now,
        duration_ms: 1_800_000,
        api_calls: 2,
        error: None,
        resources: counts,
        active_patients: active,
        stopped_by_deadline: false,
    };
    store.finish_run(run, &outcome).map_err(e)
}

/// What the counting proxy saw the clients send.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Messages after the startup packet (every one the protocol frames).
    messages: u64,
    /// Simple queries and extended-protocol executes.
    statements: u64,
    /// Messages the client then waits on (`Sync`, a simple `Query`): one round trip each.
    round_trips: u64,
    sessions: u64,
}

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    statements: AtomicU64,
    round_trips: AtomicU64,
    sessions: AtomicU64,
    /// Client sessions whose bytes are still being forwarded.
    open: AtomicU64,
}

/// A TCP proxy on 127.0.0.1 in front of the benchmark's PostgreSQL that counts the
/// messages its clients send (the protocol's framing: a type byte and a length), until
/// stopped. Plain connections only (the benchmark's URLs say `sslmode=disable`).
struct CountingProxy {
    port: u16,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl CountingProxy {
    fn start(host: &str, port: u16) -> Result<CountingProxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let own = listener.local_addr().map_err(|e| e.to_string())?.port();
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = format!("{host}:{port}");
        let (c, st) = (Arc::clone(&counters), Arc::clone(&stop));
        let accepting = std::thread::spawn(move || {
            for client in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else {
                    continue;
                };
                c.sessions.fetch_add(1, Ordering::Relaxed);
                c.open.fetch_add(1, Ordering::Relaxed);
                let (c2, client2, server2) = (
                    Arc::clone(&c),
                    client.try_clone().ok(),
                    server.try_clone().ok(),
                );
                std::thread::spawn(move || {
                    if let (Some(from), Some(to)) = (client2, server2) {
                        forward_counted(from, to, &c2);
                    }
                    c2.open.fetch_sub(1, Ordering::Relaxed);
                });
                std::thread::spawn(move || copy(server, client));
            }
        });
        Ok(CountingProxy {
            port: own,
            counters,
            stop,
            accepting: Some(accepting),
        })
    }

    /// Stops accepting, waits for the sessions counted to end (their process has exited),
    /// and returns the counts.
    fn stop(mut self) -> Counts {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accepting thread, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accepting.take() {
            let _ = h.join();
        }
        let c = &self.counters;
        // The client has exited; its last bytes may still be on their way through.
        let until = Instant::now() + Duration::from_secs(5);
        while c.open.load(Ordering::Relaxed) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        Counts {
            messages: c.messages.load(Ordering::Relaxed),
            statements: c.statements.load(Ordering::Relaxed),
            round_trips: c.round_trips.load(Ordering::Relaxed),
            sessions: c.sessions.load(Ordering::Relaxed),
        }
    }
}

/// Copies `from` to `to` until either closes.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Copies a client's bytes to the server, counting its messages: first the untyped
/// startup packet, then typed messages.
fn forward_counted(mut from: TcpStream, mut to: TcpStream, c: &Counters) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut started = false;
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&chunk[..n]).is_err() {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        loop {
            if !started {
                // Startup: a length (itself included) and a protocol version.
                let Some(len) = be_u32(&buf, 0) else { break };
                if buf.len() < len {
                    break;
                }
                buf.drain(..len);
                started = true;
                continue;
            }
            let Some(len) = be_u32(&buf, 1) else { break };
            if buf.len() < len + 1 {
                break;
            }
            let kind = buf[0];
            buf.drain(..len + 1);
            c.messages.fetch_add(1, Ordering::Relaxed);
            match kind {
                b'Q' => {
                    c.statements.fetch_add(1, Ordering::Relaxed);
                    c.round_trips.fetch_add(1, Ordering::Relaxed);
                }
                b'E' => {
                    c.statements.fetch_add(1, Ordering::Relaxed);
                }
                b'S' => {
                    c.round_trips.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

fn be_u32(buf: &[u8], at: usize) -> Option<usize> {
    let b = buf.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}
