//! Builds a large database for the `status` scenario directly through the crate's Store
//! API (the same upserts a sync makes), from records the fake's generator produces.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use fake_cliniko::World;
use routiq_sync::cliniko::parse_record;
use routiq_sync::record::Record;
use routiq_sync::resource::Resource;
use routiq_sync::store::sqlite::SqliteStore;
use routiq_sync::store::{
    Commit, Records, ResourceCounts, RunLog, RunOutcome, RunStatus, SyncState,
};
use routiq_sync::timestamp::Timestamp;

/// Rows written per transaction while building (bigger than a sync's pages: faster).
const BATCH: usize = 5_000;
/// Finished runs recorded per org besides the full sync, so the history is not trivial.
const HISTORY: usize = 30;

/// Realistic records of `resource` from the fake's generator, parsed as a sync would.
pub fn samples(world: &World, key: &str, resource: Resource, collection: &str) -> Vec<Record> {
    world
        .records(key, collection)
        .into_iter()
        .filter_map(|r| parse_record(resource, serde_json::Value::Object(r)).ok())
        .collect()
}

/// Fills `db` with `rows_per_org` rows (a quarter patients, the rest appointments) for
/// each of `orgs`, each org with a finished full sync and a run history.
pub fn build(db: &Path, orgs: &[String], rows_per_org: usize) -> Result<(), String> {
    let mut store = SqliteStore::open(db).map_err(|e| e.to_string())?;
    let (world, keys) = World::demo(1, 250, 3, 7);
    let key = &keys[0].1;
    let patients = samples(&world, key, Resource::Patients, "patients");
    let appointments = samples(
        &world,
        key,
        Resource::Appointments,
        "individual_appointments",
    );
    if patients.is_empty() || appointments.is_empty() {
        return Err("the generator produced no sample records".into());
    }
    let now = Timestamp::now();
    let first = now.sub(Duration::from_secs(400 * 86_400)).unix();
    let e = |e: routiq_sync::store::StoreError| e.to_string();
    for (o, org) in orgs.iter().enumerate() {
        let started = now.sub(Duration::from_secs(3_600));
        let run = store.begin_run(org, "full", started).map_err(e)?;
        let mut counts = BTreeMap::new();
        let n_patients = rows_per_org / 4;
        for (resource, sample, n) in [
            (Resource::Patients, &patients, n_patients),
            (
                Resource::Appointments,
                &appointments,
                rows_per_org - n_patients,
            ),
        ] {
            store.begin_full(org, resource, run, started).map_err(e)?;
            let mut done = 0;
            while done < n {
                let batch: Vec<Record> = (done..(done + BATCH).min(n))
                    .map(|i| {
                        let mut r = sample[i % sample.len()].clone();
                        // Unique, increasing ids and update times, like a real walk.
                        r.id = (1_000_000_000_000_000_000u64 + (o * rows_per_org + i) as u64)
                            .to_string();
                        r.updated_at =
                            Timestamp::from_unix(first + i as i64 * 60).unwrap_or(r.updated_at);
                        r
                    })
                    .collect();
                let pages = [(resource.name(), batch.as_slice())];
                store
                    .write_route_pages(org, resource, &pages, Some(run), started, Commit::Now)
                    .map_err(e)?;
                done += batch.len();
            }
            store
                .finish_full(org, resource, run, started, now)
                .map_err(e)?;
            counts.insert(
                resource.name().to_string(),
                ResourceCounts {
                    mode: "full".into(),
                    fetched: n as u64,
                    written: n as u64,
                    api_calls: n.div_ceil(100) as u64,
                    ..ResourceCounts::default()
                },
            );
        }
        // As the engine does: the view's count, taken once at the end of each run (the
        // bench's clock is the host's, which agrees with itself).
        let active = store.active_patients(org, true).map_err(e)?;
        let outcome = |mode_counts: BTreeMap<String, ResourceCounts>, calls| RunOutcome {
            status: RunStatus::Ok,
            finished_at: now,
            duration_ms: 1_000,
            api_calls: calls,
            error: None,
            resources: mode_counts,
            active_patients: active,
            stopped_by_deadline: false,
        };
        let calls = counts.values().map(|c| c.api_calls).sum();
        store.finish_run(run, &outcome(counts, calls)).map_err(e)?;
        for _ in 0..HISTORY {
            let id = store.begin_run(org, "incremental", now).map_err(e)?;
            store
                .finish_run(id, &outcome(BTreeMap::new(), 2))
                .map_err(e)?;
        }
    }
    Ok(())
}
