//! Times the `patient_activity` view on a large database: builds one with 20 orgs and
//! 1,000,000 appointments (schema and indexes exactly as a sync creates them), then
//! prints how long `WHERE org_id = ? AND activity_status = 'active'` takes.
//!
//! ```sh
//! cargo run --release --example activity_bench                 # 20 orgs, 1,000,000 appointments
//! cargo run --release --example activity_bench -- 5 100000     # orgs, appointments
//! cargo run --release --example activity_bench -- 20 1000000 /tmp/activity.db   # keep the file
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fake_cliniko::rng::Rng;
use routiq_sync::store::Records;
use routiq_sync::store::sqlite::SqliteStore;
use routiq_sync::timestamp::Timestamp;
use rusqlite::{Connection, params};

const DAY: i64 = 86_400;
const APPOINTMENTS_PER_PATIENT: usize = 5;
const TYPES: &[&str] = &[
    "Initial Consultation",
    "Standard Consultation",
    "Extended Consultation",
    "Review",
    "Telehealth Consultation",
    "Remedial Massage 60",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orgs: usize = args.first().map_or(Ok(20), |s| s.parse())?;
    let appointments: usize = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let (path, _tmp) = match args.get(2) {
        Some(p) => (PathBuf::from(p), None),
        None => {
            let dir = std::env::temp_dir().join(format!("activity-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            (dir.join("routiq.db"), Some(TempDir(dir)))
        }
    };
    if path.exists() {
        std::fs::remove_file(&path)?;
    }

    let began = Instant::now();
    drop(SqliteStore::open(&path)?); // creates the schema, indexes and view like a sync does
    let patients_per_org = (appointments / orgs / APPOINTMENTS_PER_PATIENT).max(1);
    build(&path, orgs, appointments, patients_per_org)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "built {orgs} orgs, {} patients, {appointments} appointments in {:.1}s ({} MB): {}",
        orgs * patients_per_org,
        began.elapsed().as_secs_f64(),
        size / 1_000_000,
        path.display()
    );

    let store = SqliteStore::open_read_only(&path)?.ok_or("database vanished")?;
    let conn = store.connection();
    let sql = "SELECT org_id, patient_id, first_name, last_name, email, phone,
                      recent_appointment_count, upcoming_appointment_count,
                      total_appointment_count, first_appointment_at, last_appointment_at,
                      next_appointment_at, next_appointment_type, primary_appointment_type,
                      activity_status
               FROM patient_activity WHERE org_id = ?1 AND activity_status = 'active'";
    println!("\nquery plan:");
    let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let lines = plan.query_map(["org_1"], |r| r.get::<_, String>(3))?;
    for line in lines {
        println!("  {}", line?);
    }

    println!("\nper org (first run after opening, then the median of 5):");
    let mut worst = Duration::ZERO;
    let mut total_active = 0;
    for i in [1, orgs / 2 + 1, orgs] {
        let org = format!("org_{i}");
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..6 {
            let t = Instant::now();
            let mut stmt = conn.prepare_cached(sql)?;
            rows = stmt.query_map([&org], |_| Ok(()))?.count();
            times.push(t.elapsed());
        }
        let first = times[0];
        let mut warm = times[1..].to_vec();
        warm.sort();
        let median = warm[warm.len() / 2];
        worst = worst.max(first).max(median);
        println!(
            "  {org}: {rows} active patients of {patients_per_org}: first {:.1} ms, median {:.1} ms",
            ms(first),
            ms(median)
        );
    }
    let t = Instant::now();
    for i in 1..=orgs {
        // The bench's clock is the host's, which agrees with itself.
        total_active += store
            .active_patients(&format!("org_{i}"), true)?
            .unwrap_or(0);
    }
    let count_all = t.elapsed();
    println!(
        "\nstatus's count of active patients, all {orgs} orgs: {total_active} in {:.1} ms ({:.1} ms per org)",
        ms(count_all),
        ms(count_all) / orgs as f64
    );
    println!("slowest single-org query: {:.1} ms", ms(worst));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Fills the database: per org, the appointment types, `patients_per_org` patients and
/// its share of the appointments, spread from two years ago to 60 days ahead, about 4%
/// cancelled and 2% archived, as a synced database would hold them.
fn build(
    path: &std::path::Path,
    orgs: usize,
    appointments: usize,
    patients_per_org: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let now = Timestamp::now().unix();
    let ts = |t: i64| Timestamp::from_unix(t).map_or_else(String::new, |t| t.to_string());
    let synced = ts(now);
    let mut rng = Rng::new(2026);
    let padding = "x".repeat(1200); // patients' raw JSON is a couple of KB in practice
    let mut next_id: u64 = 1_000_000_000_000_000_000;
    let mut id = || {
        next_id += 1;
        next_id.to_string()
    };
    for o in 1..=orgs {
        let org = format!("org_{o}");
        let tx = conn.transaction()?;
        {
            let mut types = tx.prepare(
                "INSERT INTO appointment_types (org_id, id, name, duration_in_minutes,
                 max_attendees, created_at, updated_at, raw_json, synced_at)
                 VALUES (?1, ?2, ?3, 30, 1, ?4, ?4, '{}', ?4)",
            )?;
            let mut type_ids = Vec::new();
            for name in TYPES {
                let tid = id();
                types.execute(params![org, tid, name, synced])?;
                type_ids.push(tid);
            }
            let mut patient = tx.prepare(
                "INSERT INTO patients (org_id, id, first_name, last_name, email, phone,
                 created_at, updated_at, archived_at, raw_json, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10)",
            )?;
            let mut pids = Vec::with_capacity(patients_per_org);
            for p in 0..patients_per_org {
                let pid = id();
                let created = ts(now - 800 * DAY + rng.range_i64(0, 700 * DAY));
                let archived = rng
                    .chance(0.03)
                    .then(|| ts(now - rng.range_i64(0, 300 * DAY)));
                let raw = format!(r#"{{"id":"{pid}","first_name":"P{p}","notes":"{padding}"}}"#);
                patient.execute(params![
                    org,
                    pid,
                    format!("P{p}"),
                    "Test",
                    format!("p{p}@example.com"),
                    format!("04{:08}", rng.below(100_000_000)),
                    created,
                    archived,
                    raw,
                    synced
                ])?;
                pids.push(pid);
            }
            let mut appt = tx.prepare(
                "INSERT INTO appointments (org_id, id, starts_at, ends_at, cancelled_at,
                 patient_id, practitioner_id, appointment_type_id, business_id, created_at,
                 updated_at, archived_at, raw_json, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '1', ?7, '1', ?8, ?8, ?9, ?10, ?11)",
            )?;
            let share = appointments / orgs + usize::from(o <= appointments % orgs);
            for _ in 0..share {
                let aid = id();
                let starts = now - 730 * DAY + rng.range_i64(0, 790 * DAY) / 900 * 900;
                let created = ts(starts - rng.range_i64(0, 21 * DAY));
                let cancelled = rng.chance(0.04).then(|| ts(starts - DAY));
                let archived = rng.chance(0.02).then(|| ts(starts));
                let pid = &pids[rng.index(pids.len())];
                let tid = &type_ids[rng.index(type_ids.len())];
                let raw = format!(r#"{{"id":"{aid}","patient":"{pid}","notes":null}}"#);
                appt.execute(params![
                    org,
                    aid,
                    ts(starts),
                    ts(starts + 1800),
                    cancelled,
                    pid,
                    tid,
                    created,
                    archived,
                    raw,
                    synced
                ])?;
            }
        }
        tx.commit()?;
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// Removes the temporary folder when the benchmark ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
