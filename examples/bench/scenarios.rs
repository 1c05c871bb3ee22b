//! The five scenarios of the benchmark (issue 4), each adding its figures and targets to
//! the table. Sizes are parameters, so the smoke test runs the same code at tiny sizes.

use std::path::PathBuf;
use std::time::Duration;

use crate::child::{Measured, run_measured};
use crate::client::{ClientEnv, Store};
use crate::fake::{FakeServer, FakeSpec};
use crate::table::{Table, mib, secs, thousands};

/// Client pacing when the fake has no limit: high enough never to wait.
const UNLIMITED_RPM: u32 = 1_000_000;
/// Records per page (Cliniko's maximum `per_page`, which the client uses).
const PER_PAGE: u64 = 100;

/// The release binaries under test.
#[derive(Debug, Clone)]
pub struct Bins {
    pub client: PathBuf,
    pub fake: PathBuf,
    /// Another `routiq-sync` (an older build) that scenario k also times, on the same
    /// databases.
    pub baseline: Option<PathBuf>,
}

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// a: records of each full-sync run (one org), and runs per size (the median is shown).
    pub full_sync: Vec<usize>,
    pub full_sync_runs: usize,
    /// b: records of the org, and how many patients and appointments change (each).
    pub incremental_records: usize,
    pub changed: usize,
    /// c: orgs, records per org, simulated latency and the two `--jobs` values compared.
    pub orgs: usize,
    pub org_records: usize,
    pub latency_ms: u64,
    pub jobs: [usize; 2],
    /// d: records, the fake's limit per minute, and the client paces to try.
    pub limited_records: usize,
    pub rate_limit: u32,
    pub client_rpm: Vec<u32>,
    /// e: orgs, rows in total, and how many times `status --json` is timed.
    pub status_orgs: usize,
    pub status_rows: usize,
    pub status_repeats: usize,
    /// h: records of the SQLite-vs-PostgreSQL full sync, and runs per store (median).
    pub pg_records: usize,
    pub pg_runs: usize,
    /// i: orgs and records per org shared by several processes on one PostgreSQL
    /// database (latency from c), `--jobs` of each, and how many processes.
    pub hosts_orgs: usize,
    pub hosts_records: usize,
    pub hosts_jobs: usize,
    pub hosts: usize,
    /// f and g: records of the org whose writes and verify are measured.
    pub bytes_records: usize,
    /// k: the org counts `status --json` is timed at (one database, grown), and the
    /// runs of history each org has before its last.
    pub status_many_orgs: Vec<usize>,
    pub status_many_history: usize,
}

impl Sizes {
    /// The sizes issue 4 asks for.
    pub fn full() -> Sizes {
        Sizes {
            full_sync: vec![20_000, 200_000],
            full_sync_runs: 3,
            incremental_records: 20_000,
            changed: 20,
            orgs: 50,
            org_records: 1_000,
            latency_ms: 150,
            jobs: [1, 8],
            limited_records: 20_000,
            rate_limit: 200,
            client_rpm: vec![200, 180],
            status_orgs: 20,
            status_rows: 1_000_000,
            status_repeats: 7,
            pg_records: 200_000,
            pg_runs: 3,
            hosts_orgs: 24,
            hosts_records: 1_000,
            hosts_jobs: 4,
            hosts: 3,
            bytes_records: 80_000,
            status_many_orgs: vec![300, 1_000],
            status_many_history: 96,
        }
    }

    /// Smaller sizes for a run of about a minute.
    pub fn quick() -> Sizes {
        Sizes {
            full_sync: vec![2_000, 20_000],
            incremental_records: 2_000,
            orgs: 16,
            org_records: 200,
            limited_records: 2_000,
            client_rpm: vec![200],
            status_rows: 100_000,
            status_repeats: 5,
            pg_records: 20_000,
            pg_runs: 1,
            bytes_records: 20_000,
            ..Sizes::full()
        }
    }

    /// Tiny sizes for the smoke test in `cargo test` (seconds; timings meaningless).
    #[allow(dead_code)] // used by tests/bench_smoke.rs
    pub fn tiny() -> Sizes {
        Sizes {
            full_sync: vec![200, 400],
            full_sync_runs: 1,
            incremental_records: 200,
            orgs: 3,
            org_records: 40,
            latency_ms: 5,
            jobs: [1, 2],
            limited_records: 200,
            client_rpm: vec![200],
            status_orgs: 2,
            status_rows: 400,
            status_repeats: 1,
            pg_records: 400,
            pg_runs: 1,
            hosts_orgs: 6,
            hosts_records: 40,
            bytes_records: 400,
            status_many_orgs: vec![2, 3],
            status_many_history: 3,
            ..Sizes::full()
        }
    }
}

/// Runs scenario `which` (`a`..`k`), adding its rows to `table`.
pub fn run(which: char, bins: &Bins, sizes: &Sizes, table: &mut Table) -> Result<(), String> {
    match which {
        'a' => full_sync(bins, sizes, table),
        'b' => incremental(bins, sizes, table),
        'c' => many_orgs(bins, sizes, table),
        'd' => rate_limited(bins, sizes, table),
        'e' => status(bins, sizes, table),
        'f' => bytes_written(bins, sizes, table),
        'g' => verify_cost(bins, sizes, table),
        'h' => sqlite_vs_postgres(bins, sizes, table),
        'i' => hosts_share_orgs(bins, sizes, table),
        'j' => postgres_rewrites(bins, sizes, table),
        'k' => crate::status_orgs::run(bins, sizes, table),
        other => Err(format!(
            "unknown scenario `{other}` (expected one of a to k)"
        )),
    }
}

fn cpu(m: &Measured) -> String {
    format!(
        "{} (user {} + sys {})",
        secs(m.cpu()),
        secs(m.user),
        secs(m.sys)
    )
}

fn expect_rows(env: &ClientEnv, want: usize) -> Result<u64, String> {
    let got = env.present_rows()?;
    if got != want as u64 {
        return Err(format!("the store holds {got} rows, expected {want}"));
    }
    Ok(got)
}

/// `full --all` from an empty store, `times` times (at least once): each run's figures,
/// and the requests and rows of the last.
fn full_runs(
    env: &ClientEnv,
    fake: &FakeServer,
    spec: &FakeSpec,
    times: usize,
) -> Result<(Vec<Measured>, u64, u64), String> {
    let mut runs = Vec::new();
    let (mut requests, mut rows) = (0, 0);
    for _ in 0..times.max(1) {
        env.reset_db()?;
        let before = fake.counts()?;
        runs.push(env.run(&["full", "--all"])?);
        requests = (fake.counts()? - before).requests;
        rows = expect_rows(env, spec.per_org())?;
    }
    Ok((runs, requests, rows))
}

/// a. Full sync of one org at each size: time, CPU, rows per second, peak RSS.
fn full_sync(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let mut peaks = Vec::new();
    for &n in &sizes.full_sync {
        let spec = FakeSpec::records(n);
        let fake = FakeServer::start(&bins.fake, &spec)?;
        let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?;
        let (mut runs, requests, rows) = full_runs(&env, &fake, &spec, sizes.full_sync_runs)?;
        let peak = runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0);
        runs.sort_by_key(|m| m.wall);
        let m = &runs[runs.len() / 2];
        let s = format!("a. full sync, {} records", thousands(rows));
        let rate = rows as f64 / m.wall.as_secs_f64();
        let of = if runs.len() > 1 {
            format!(", median of {}", runs.len())
        } else {
            String::new()
        };
        t.info(&s, &format!("wall time{of}"), secs(m.wall));
        t.info(&s, "client CPU", cpu(m));
        t.info(&s, "API requests", thousands(requests));
        t.check(
            &s,
            "rows/second end to end",
            thousands(rate as u64),
            ">= 50,000",
            rate >= 50_000.0,
        );
        t.check(
            &s,
            "client peak RSS (highest run)",
            mib(peak),
            "<= 40 MiB",
            peak <= 40 * 1024,
        );
        peaks.push((rows, peak));
        if Some(&n) == sizes.full_sync.last() {
            privacy_cost(bins, &fake, &spec, sizes, (m, requests), t)?;
        }
    }
    if let (Some(&(n0, r0)), Some(&(n1, r1))) = (peaks.first(), peaks.last())
        && peaks.len() > 1
    {
        let growth = r1 as f64 / r0.max(1) as f64 - 1.0;
        t.check(
            "a. full sync",
            &format!(
                "peak RSS change {} -> {} records",
                thousands(n0),
                thousands(n1)
            ),
            format!("{:+.1}%", growth * 100.0),
            "within 10%",
            growth.abs() <= 0.10,
        );
    }
    Ok(())
}

/// a. The same full sync under the recommended privacy policy (docs/privacy.md): client
/// CPU within 10% of the run without it (medians), and no more requests.
fn privacy_cost(
    bins: &Bins,
    fake: &FakeServer,
    spec: &FakeSpec,
    sizes: &Sizes,
    (plain, plain_requests): (&Measured, u64),
    t: &mut Table,
) -> Result<(), String> {
    let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?
        .with_privacy_policy()?;
    let (mut runs, requests, rows) = full_runs(&env, fake, spec, sizes.full_sync_runs)?;
    runs.sort_by_key(|m| m.cpu());
    let m = &runs[runs.len() / 2];
    let s = format!(
        "a. full sync, {} records, recommended privacy policy",
        thousands(rows)
    );
    t.info(&s, "wall time", secs(m.wall));
    t.info(&s, "client CPU", cpu(m));
    let ratio = m.cpu().as_secs_f64() / plain.cpu().as_secs_f64().max(1e-9);
    t.check(
        &s,
        "client CPU vs without the policy",
        format!("{ratio:.3}x"),
        "<= 1.10x",
        ratio <= 1.10,
    );
    t.check(
        &s,
        "API requests vs without the policy",
        format!("{} vs {}", thousands(requests), thousands(plain_requests)),
        "no more",
        requests <= plain_requests,
    );
    Ok(())
}

/// b. Incremental sync after a few changes: API requests (the minimum is 1 per resource).
fn incremental(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec::records(sizes.incremental_records);
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?;
    env.run(&["full", "--all"])?;
    let org = &fake.orgs[0].0;
    fake.change(org, sizes.changed, sizes.changed)?;
    let before = fake.counts()?;
    // --force: the full sync just now would otherwise make `sync` skip the org as recent.
    let m = env.run(&["sync", "--all", "--force"])?;
    let used = fake.counts()? - before;
    let changed = env.rows_changed_by_benchmark()?;
    if changed != 2 * sizes.changed as u64 {
        return Err(format!(
            "the incremental sync stored {changed} changed rows, expected {}",
            2 * sizes.changed
        ));
    }
    let s = format!(
        "b. incremental, {} + {} changed of {}",
        sizes.changed,
        sizes.changed,
        thousands(spec.per_org() as u64)
    );
    t.check(
        &s,
        "API requests",
        used.requests.to_string(),
        "= 2 (1 per resource)",
        used.requests == 2,
    );
    t.info(&s, "wall time", secs(m.wall));
    t.info(&s, "client CPU", cpu(&m));
    Ok(())
}

/// c. Many orgs behind a slow network: `--jobs 1` against `--jobs 8`.
fn many_orgs(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec {
        orgs: sizes.orgs,
        latency_ms: sizes.latency_ms,
        ..FakeSpec::records(sizes.org_records)
    };
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?;
    let s = format!(
        "c. {} orgs x {} records, {} ms latency",
        sizes.orgs,
        thousands(spec.per_org() as u64),
        sizes.latency_ms
    );
    let mut walls = Vec::new();
    for jobs in sizes.jobs {
        env.reset_db()?;
        let before = fake.counts()?;
        let m = env.run(&["full", "--all", "--jobs", &jobs.to_string()])?;
        let used = fake.counts()? - before;
        expect_rows(&env, spec.orgs * spec.per_org())?;
        t.info(
            &s,
            &format!("wall time, --jobs {jobs}"),
            format!("{} ({} requests)", secs(m.wall), used.requests),
        );
        walls.push(m.wall);
    }
    let speedup = walls[0].as_secs_f64() / walls[1].as_secs_f64().max(1e-9);
    t.check(
        &s,
        &format!("speed-up, --jobs {} vs {}", sizes.jobs[1], sizes.jobs[0]),
        format!("{speedup:.1}x"),
        ">= 6x",
        speedup >= 6.0,
    );
    Ok(())
}

/// d. Full sync against the fake's rate limit: records per minute against the ceiling of
/// `limit x 100`, and the 429s received.
fn rate_limited(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec {
        rate_limit: Some(sizes.rate_limit),
        ..FakeSpec::records(sizes.limited_records)
    };
    let ceiling = u64::from(sizes.rate_limit) * PER_PAGE;
    for &rpm in &sizes.client_rpm {
        // A fresh fake per run: the previous run's requests would still fill its window.
        let fake = FakeServer::start(&bins.fake, &spec)?;
        let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, rpm)?;
        let m = env.run(&["full", "--all"])?;
        let used = fake.counts()?;
        let rows = expect_rows(&env, spec.per_org())?;
        let per_minute = rows as f64 / m.wall.as_secs_f64() * 60.0;
        let share = per_minute / ceiling as f64;
        let s = format!(
            "d. {} records, fake limit {}/min, client {rpm}/min",
            thousands(rows),
            sizes.rate_limit
        );
        t.info(
            &s,
            "wall time",
            format!("{} ({} requests)", secs(m.wall), used.requests),
        );
        let value = format!(
            "{} ({:.1}% of {})",
            thousands(per_minute as u64),
            share * 100.0,
            thousands(ceiling)
        );
        if rpm >= sizes.rate_limit {
            t.check(
                &s,
                "records/minute",
                value,
                ">= 90% of the ceiling",
                share >= 0.90,
            );
        } else {
            // Pacing below the limit caps the run at rpm/limit of the ceiling by design.
            t.info(
                &s,
                &format!(
                    "records/minute (pacing caps it at {:.0}%)",
                    f64::from(rpm) / f64::from(sizes.rate_limit) * 100.0
                ),
                value,
            );
        }
        t.check(
            &s,
            "HTTP 429 received",
            used.rate_limited.to_string(),
            "0",
            used.rate_limited == 0,
        );
    }
    Ok(())
}

/// e. `status --json` on a large database.
fn status(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let orgs: Vec<(String, String)> = (1..=sizes.status_orgs)
        .map(|i| (format!("org_{i}"), format!("{}{i:04}-au1", "k".repeat(40))))
        .collect();
    // Nothing listens here: status never calls the API.
    let env = ClientEnv::new(&bins.client, "http://127.0.0.1:9/v1", &orgs, 180)?;
    let ids: Vec<String> = orgs.iter().map(|(id, _)| id.clone()).collect();
    let per_org = sizes.status_rows / sizes.status_orgs.max(1);
    let built = std::time::Instant::now();
    crate::status_db::build(&env.db_path(), &ids, per_org)?;
    let build_time = built.elapsed();
    let size = std::fs::metadata(env.db_path()).map_or(0, |m| m.len());
    let s = format!(
        "e. status --json, {} rows over {} orgs",
        thousands((per_org * ids.len()) as u64),
        ids.len()
    );
    t.info(
        &s,
        "database",
        format!(
            "{} MiB, built in {}",
            size / (1024 * 1024),
            secs(build_time)
        ),
    );
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..sizes.status_repeats.max(1) {
        let m = env.run(&["status", "--json"])?;
        let v: serde_json::Value = serde_json::from_str(&m.stdout)
            .map_err(|e| format!("status --json printed no JSON: {e}"))?;
        let total: u64 = v["orgs"]
            .as_array()
            .map(|orgs| {
                orgs.iter()
                    .filter_map(|o| o["totals"].as_object())
                    .flat_map(|t| t.values().filter_map(serde_json::Value::as_u64))
                    .sum()
            })
            .unwrap_or(0);
        if total != (per_org * ids.len()) as u64 {
            return Err(format!("status --json totals add up to {total}"));
        }
        times.push(m.wall);
    }
    times.sort();
    let median = times[times.len() / 2];
    t.check(
        &s,
        &format!("latency, median of {}", times.len()),
        secs(median),
        "< 50 ms",
        median < Duration::from_millis(50),
    );
    t.info(
        &s,
        "latency, slowest",
        secs(*times.last().unwrap_or(&median)),
    );
    Ok(())
}

/// A client of `bins` on `store` against `fake`, with no pacing of its own.
fn unpaced_env(store: Store, bins: &Bins, fake: &FakeServer) -> Result<ClientEnv, String> {
    ClientEnv::new_on(
        store,
        &bins.client,
        &fake.base_url,
        &fake.orgs,
        UNLIMITED_RPM,
    )
}

/// A fresh database on the benchmark's PostgreSQL (fsync on), or why there is none.
fn postgres() -> Result<Store, String> {
    crate::pg::durable();
    crate::pg::database()
        .map(Store::Postgres)
        .ok_or_else(|| "no PostgreSQL available (see tests/common/pg.rs)".to_string())
}

/// h. The same full sync into SQLite and into a local PostgreSQL: throughput and peak RSS.
fn sqlite_vs_postgres(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec::records(sizes.pg_records);
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let s = format!("h. full sync, {} records", thousands(spec.per_org() as u64));
    let mut rates = Vec::new();
    // The same database through a PgBouncer in each mode (Debian's `pgbouncer`), when
    // installed: what Supabase, Neon and Railway hand out.
    let direct = postgres()?;
    let Store::Postgres(db) = &direct else {
        unreachable!("postgres() gives a PostgreSQL store")
    };
    let bouncers: Vec<(&str, crate::pg::PgBouncer)> = [
        ("PgBouncer session", crate::pg::PoolMode::Session),
        ("PgBouncer transaction", crate::pg::PoolMode::Transaction),
    ]
    .into_iter()
    .filter_map(|(name, mode)| crate::pg::pgbouncer(db, mode).map(|b| (name, b)))
    .collect();
    let mut stores = vec![("SQLite", Store::Sqlite), ("PostgreSQL", direct.clone())];
    for (name, bouncer) in &bouncers {
        stores.push((name, Store::Postgres(db.through(bouncer))));
    }
    for (name, store) in stores {
        let env = unpaced_env(store, bins, &fake)?;
        let mut runs = Vec::new();
        for _ in 0..sizes.pg_runs.max(1) {
            env.reset_db()?;
            runs.push(env.run(&["full", "--all"])?);
            expect_rows(&env, spec.per_org())?;
        }
        let peak = runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0);
        runs.sort_by_key(|m| m.wall);
        let m = &runs[runs.len() / 2];
        let rate = spec.per_org() as f64 / m.wall.as_secs_f64();
        t.info(
            &s,
            &format!("{name}: rows/second (median of {})", runs.len()),
            format!(
                "{} ({}, CPU {})",
                thousands(rate as u64),
                secs(m.wall),
                secs(m.cpu())
            ),
        );
        if name == "PostgreSQL" {
            t.check(
                &s,
                "PostgreSQL: client peak RSS",
                mib(peak),
                "<= 30 MiB",
                peak <= 30 * 1024,
            );
        } else if name == "SQLite" {
            t.info(&s, "SQLite: client peak RSS", mib(peak));
        } else {
            // The time a full takes through the pooler, to a direct connection's.
            let ratio = rates[1] / rate.max(1e-9);
            t.check(
                &s,
                &format!("{name}: time / direct PostgreSQL's"),
                format!("{ratio:.2}x"),
                "<= 1.5x",
                ratio <= 1.5,
            );
        }
        rates.push(rate);
    }
    let share = rates[1] / rates[0].max(1e-9);
    t.check(
        &s,
        "PostgreSQL throughput / SQLite's",
        format!("{:.0}%", share * 100.0),
        ">= 90%",
        share >= 0.90,
    );
    Ok(())
}

/// i. Several processes (hosts: own config and lock folder each) run `sync --all` at the
/// same moment against one PostgreSQL database, against one process alone.
fn hosts_share_orgs(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec {
        orgs: sizes.hosts_orgs,
        latency_ms: sizes.latency_ms,
        ..FakeSpec::records(sizes.hosts_records)
    };
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let s = format!(
        "i. {} orgs x {} records, {} ms latency, PostgreSQL",
        spec.orgs,
        thousands(spec.per_org() as u64),
        sizes.latency_ms
    );
    let jobs = sizes.hosts_jobs.to_string();
    let args = ["sync", "--all", "--jobs", jobs.as_str()];
    let mut walls = Vec::new();
    for processes in [1, sizes.hosts] {
        let env = unpaced_env(postgres()?, bins, &fake)?;
        let before = fake.counts()?;
        let started = std::time::Instant::now();
        let children: Vec<_> = (0..processes)
            .map(|n| {
                let cmd = env.command(&env.config_for_host(n)?, &args);
                Ok(std::thread::spawn(move || run_measured(cmd)))
            })
            .collect::<Result<_, String>>()?;
        for child in children {
            child
                .join()
                .map_err(|_| "a measuring thread panicked".to_string())??
                .ok("routiq-sync sync")?;
        }
        let wall = started.elapsed();
        let used = fake.counts()? - before;
        expect_rows(&env, spec.orgs * spec.per_org())?;
        let runs = env.runs_per_org()?;
        let once = runs.len() == spec.orgs && runs.iter().all(|(_, n)| *n == 1);
        t.info(
            &s,
            &format!("wall time, {processes} process(es) x --jobs {jobs}"),
            format!("{} ({} requests)", secs(wall), used.requests),
        );
        t.check(
            &s,
            &format!("{processes} process(es): each org synced once"),
            format!(
                "{} orgs, {} runs",
                runs.len(),
                runs.iter().map(|r| r.1).sum::<i64>()
            ),
            &format!("{} orgs, 1 run each", spec.orgs),
            once,
        );
        walls.push(wall);
    }
    let speedup = walls[0].as_secs_f64() / walls[1].as_secs_f64().max(1e-9);
    t.check(
        &s,
        &format!("speed-up, {} processes vs 1", sizes.hosts),
        format!("{speedup:.1}x"),
        ">= 2.5x",
        speedup >= 2.5,
    );
    Ok(())
}
/// The database's size on disk (the file, plus any WAL left behind).
fn db_bytes(env: &ClientEnv) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", env.db_path().display())).ok())
        .map(|m| m.len())
        .sum()
}

/// f. Bytes the client writes (`wchar`): a first full sync against the database it
/// leaves, then a second full sync and a verify over unchanged data.
fn bytes_written(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec::records(sizes.bytes_records);
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?;
    let first = env.run(&["full", "--all"])?;
    expect_rows(&env, spec.per_org())?;
    let size = db_bytes(&env);
    let second = env.run(&["full", "--all"])?;
    let verify = env.run(&["verify", "--all"])?;
    let after = db_bytes(&env);
    let s = format!(
        "f. bytes written, {} records",
        thousands(spec.per_org() as u64)
    );
    let wchar = |m: &Measured| {
        m.wchar
            .ok_or_else(|| "/proc/<pid>/io shows no wchar on this system".to_string())
    };
    let (w1, w2, w3) = (wchar(&first)?, wchar(&second)?, wchar(&verify)?);
    let ratio = |w: u64, of: u64| w as f64 / of.max(1) as f64;
    t.info(&s, "database size after the first full", mib(size / 1024));
    t.check(
        &s,
        "first full: written / database",
        format!("{} ({:.2}x)", mib(w1 / 1024), ratio(w1, size)),
        "<= 2.5x",
        ratio(w1, size) <= 2.5,
    );
    t.check(
        &s,
        "second full, unchanged data",
        format!("{} ({:.1}%)", mib(w2 / 1024), 100.0 * ratio(w2, after)),
        "<= 5% of the database",
        ratio(w2, after) <= 0.05,
    );
    t.info(
        &s,
        "verify, unchanged data",
        format!("{} ({:.2}%)", mib(w3 / 1024), 100.0 * ratio(w3, after)),
    );
    Ok(())
}

/// g. The requests a verify needs to find 1, 3 and 10 hard deletes, at random ids and
/// clustered, against a full walk's. Each case deletes more patients of the same copy:
/// the rows earlier verifies marked are no longer counted locally.
fn verify_cost(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec::records(sizes.bytes_records);
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let env = ClientEnv::new(&bins.client, &fake.base_url, &fake.orgs, UNLIMITED_RPM)?;
    let before = fake.counts()?;
    env.run(&["full", "--all"])?;
    let full = (fake.counts()? - before).requests;
    let before = fake.counts()?;
    env.run(&["verify", "--all"])?;
    let quiet = (fake.counts()? - before).requests;
    let s = format!("g. verify, {} records", thousands(spec.per_org() as u64));
    t.info(&s, "full walk: API requests", thousands(full));
    t.check(
        &s,
        "verify, nothing differs",
        quiet.to_string(),
        "= 2 (1 per route)",
        quiet == 2,
    );
    let org = &fake.orgs[0].0;
    let pct = |n: u64| 100.0 * n as f64 / full.max(1) as f64;
    let mut marked = 0;
    for how in ["random", "clustered"] {
        for n in [1, 3, 10] {
            // Random places differ by seed: three draws, the worst one checked.
            let seeds: &[u64] = if how == "random" { &[1, 2, 3] } else { &[1] };
            let mut found = Vec::new();
            let mut last = None;
            for &seed in seeds {
                fake.hard_delete(org, n, how, seed)?;
                let before = fake.counts()?;
                last = Some(env.run(&["verify", "--all"])?);
                found.push((fake.counts()? - before).requests);
                marked += n as u64;
                let deleted = env.count_rows("deleted_upstream_at IS NOT NULL")?;
                if deleted != marked {
                    return Err(format!(
                        "after {n} deletes ({how}, seed {seed}) {deleted} rows are marked \
                         deleted, expected {marked}"
                    ));
                }
            }
            let worst = found.iter().copied().max().unwrap_or(0);
            let each: Vec<String> = found.iter().map(u64::to_string).collect();
            let value = format!("{} ({:.1}% of the full walk)", each.join(" / "), pct(worst));
            let measure = format!("verify, {n} hard deletes, {how}");
            if n == 3 && how == "random" {
                t.check(
                    &s,
                    &measure,
                    value,
                    "<= 5% of the full walk",
                    worst * 20 <= full,
                );
                if let Some(m) = &last {
                    t.info(&s, "client CPU (3 random deletes)", cpu(m));
                }
            } else {
                t.info(&s, &measure, value);
            }
        }
    }
    Ok(())
}

/// What PostgreSQL's statistics and WAL position show of the two synced tables.
struct PgWrites {
    /// Bytes of WAL written since the cluster began (`pg_current_wal_lsn()`).
    wal: i64,
    /// Rows, and updates, HOT updates and dead rows counted, per table.
    tables: Vec<(String, [i64; 4])>,
    /// Both tables with their indexes and TOAST, in bytes.
    size: i64,
}

fn pg_writes(db: &crate::pg::PgDatabase) -> Result<PgWrites, String> {
    // Each client's backend reports its counts as it exits, just after the client.
    std::thread::sleep(Duration::from_secs(1));
    let mut client = db.client();
    let e = |e: postgres::Error| e.to_string();
    let wal: i64 = client
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
            &[],
        )
        .map_err(e)?
        .get(0);
    let tables = client
        .query(
            "SELECT relname::text, n_live_tup, n_tup_upd, n_tup_hot_upd, n_dead_tup
             FROM pg_stat_user_tables WHERE relname IN ('patients', 'appointments')
             ORDER BY relname",
            &[],
        )
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)]))
        .collect();
    let size: i64 = client
        .query_one(
            "SELECT (pg_total_relation_size('patients') + pg_total_relation_size('appointments'))::bigint",
            &[],
        )
        .map_err(e)?
        .get(0);
    Ok(PgWrites { wal, tables, size })
}

/// j. A second full sync and a verify over unchanged data on a durable PostgreSQL: rows
/// updated (`pg_stat_user_tables`) and WAL written (`pg_current_wal_lsn()`), against the
/// tables' rows and size after the first full sync.
fn postgres_rewrites(bins: &Bins, sizes: &Sizes, t: &mut Table) -> Result<(), String> {
    let spec = FakeSpec::records(sizes.bytes_records);
    let fake = FakeServer::start(&bins.fake, &spec)?;
    let env = unpaced_env(postgres()?, bins, &fake)?;
    let db = env.postgres().ok_or("scenario j needs PostgreSQL")?;
    let s = format!(
        "j. PostgreSQL, second full + verify, {} unchanged records",
        thousands(spec.per_org() as u64)
    );
    env.run(&["full", "--all"])?;
    expect_rows(&env, spec.per_org())?;
    let before = pg_writes(db)?;
    let second = env.run(&["full", "--all"])?;
    let verify = env.run(&["verify", "--all"])?;
    expect_rows(&env, spec.per_org())?;
    let after = pg_writes(db)?;
    t.info(
        &s,
        "tables' size after the first full (with indexes)",
        mib((before.size / 1024) as u64),
    );
    t.info(
        &s,
        "wall time, second full / verify",
        format!("{} / {}", secs(second.wall), secs(verify.wall)),
    );
    for ((name, b), (_, a)) in before.tables.iter().zip(&after.tables) {
        let rows = b[0].max(1);
        let updated = a[1] - b[1];
        let share = updated as f64 / rows as f64;
        t.check(
            &s,
            &format!("{name}: rows updated (HOT), dead rows after"),
            format!(
                "{} of {} ({:.2}%) ({}), {}",
                thousands(updated as u64),
                thousands(rows as u64),
                100.0 * share,
                thousands((a[2] - b[2]) as u64),
                thousands(a[3] as u64)
            ),
            "<= 1% of the rows",
            share <= 0.01,
        );
    }
    let wal = after.wal - before.wal;
    let share = wal as f64 / before.size.max(1) as f64;
    t.check(
        &s,
        "WAL written",
        format!(
            "{} ({:.2}% of the tables)",
            mib((wal / 1024) as u64),
            100.0 * share
        ),
        "<= 5% of the tables' size",
        share <= 0.05,
    );
    Ok(())
}
