//! Out-of-band routes for a benchmark driving the fake from another process: request
//! counts (`GET /__stats`) and data changes (`POST /__change`). They sit outside `/v1`,
//! need no API key, are never counted, limited or delayed, and name orgs by their org id
//! (never by key). The fake only listens on 127.0.0.1.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::http::Reply;
use super::query;
use super::rng::Rng;
use super::stats::StatsBook;
use super::world::World;

/// Paths starting with this are admin routes.
pub const PREFIX: &str = "/__";

/// Answers an admin request for `path` (`raw_query` still percent-encoded).
pub fn answer(
    world: &mut World,
    stats: &StatsBook,
    post: bool,
    path: &str,
    raw_query: &str,
) -> Reply {
    match (path, post) {
        ("/__stats", false) => Reply::json(200, stats_json(world, stats).to_string()),
        ("/__change", true) => match change(world, raw_query) {
            Ok(v) => Reply::json(200, v.to_string()),
            Err(e) => Reply::message(400, &e),
        },
        ("/__stats" | "/__change", _) => Reply::message(405, "Wrong method for this admin route."),
        _ => Reply::message(404, "Not found."),
    }
}

/// `{"requests": N, "rate_limited": N, "orgs": {"org_1": {"requests", "rate_limited",
/// "by_path", "statuses"}}}`.
pub fn stats_json(world: &World, stats: &StatsBook) -> Value {
    let (mut requests, mut limited) = (0, 0);
    let mut orgs = Map::new();
    for key in world.api_keys() {
        let Some(org) = world.account(&key).map(|a| a.org_id.clone()) else {
            continue;
        };
        let s = stats.get(&key);
        requests += s.requests;
        limited += s.rate_limited;
        let statuses: Map<String, Value> = s
            .statuses
            .iter()
            .map(|(code, n)| (code.to_string(), json!(n)))
            .collect();
        orgs.insert(
            org,
            json!({
                "requests": s.requests,
                "rate_limited": s.rate_limited,
                "by_path": s.by_path,
                "statuses": statuses,
            }),
        );
    }
    json!({ "requests": requests, "rate_limited": limited, "orgs": orgs })
}

/// `?org=ID&patients=N&appointments=N[&delete_patients=N&delete_at=HOW&seed=S]`: edits
/// the notes of N visible patients and N visible individual appointments of the org,
/// spread over its records, so their `updated_at` becomes now; then hard-deletes
/// `delete_patients` visible patients: spread out (the default), at random positions, or
/// neighbours at a random place (`clustered`). Answers how many of each changed.
fn change(world: &mut World, raw_query: &str) -> Result<Value, String> {
    let params = query::parse_pairs(raw_query);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let org = get("org").ok_or("`org` is required")?;
    let count = |name: &str| -> Result<usize, String> {
        get(name).map_or(Ok(0), |v| {
            v.parse().map_err(|_| format!("`{name}` must be a number"))
        })
    };
    let wanted = [
        ("patients", count("patients")?),
        ("individual_appointments", count("appointments")?),
    ];
    let key = world
        .api_keys()
        .into_iter()
        .find(|k| world.account(k).is_some_and(|a| a.org_id == org))
        .ok_or_else(|| format!("no org `{org}`"))?;
    let mut changed = Vec::new();
    for (resource, n) in wanted {
        let ids = visible_ids(world, &key, resource);
        let step = (ids.len() / n.max(1)).max(1);
        let picked: Vec<String> = ids.iter().step_by(step).take(n).cloned().collect();
        for id in &picked {
            world
                .update(&key, resource, id, |r| {
                    r.insert("notes".into(), json!("Changed by the benchmark."));
                })
                .map_err(|e| e.to_string())?;
        }
        changed.push(picked.len());
    }
    let deletes = count("delete_patients")?;
    let ids = visible_ids(world, &key, "patients");
    let seed = count("seed")? as u64;
    let picked = match get("delete_at").unwrap_or("spread") {
        "spread" => spread(ids.len(), deletes),
        "random" => random_positions(ids.len(), deletes, seed),
        "clustered" => clustered(ids.len(), deletes, seed),
        other => {
            return Err(format!(
                "`delete_at` must be spread, random or clustered, not `{other}`"
            ));
        }
    };
    let mut deleted = 0;
    for at in picked {
        world
            .hard_delete(&key, "patients", &ids[at])
            .map_err(|e| e.to_string())?;
        deleted += 1;
    }
    Ok(json!({ "patients": changed[0], "appointments": changed[1], "deleted_patients": deleted }))
}

/// `n` positions of `len`, evenly spaced with half a step before the first.
fn spread(len: usize, n: usize) -> Vec<usize> {
    let step = (len / (n + 1)).max(1);
    (step / 2..len).step_by(step).take(n).collect()
}

/// `n` distinct positions of `len` drawn at random (the same for the same seed), as
/// real deletes fall anywhere in the id range.
fn random_positions(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut picked = BTreeSet::new();
    while picked.len() < n.min(len) {
        picked.insert(rng.index(len));
    }
    picked.into_iter().collect()
}

/// `n` neighbouring positions of `len` at a random place (the same for the same seed).
fn clustered(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let start = Rng::new(seed).index(len.saturating_sub(n) + 1);
    (start..len).take(n).collect()
}

/// Ids of the records shown by default (not archived, cancelled or inactive), ascending.
fn visible_ids(world: &World, key: &str, resource: &str) -> Vec<String> {
    let Some(coll) = world.account(key).and_then(|a| a.collection(resource)) else {
        return Vec::new();
    };
    coll.ids()
        .into_iter()
        .filter(|id| coll.stored(*id).is_some_and(|s| s.flags == 0))
        .map(|id| id.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_positions_are_distinct_and_in_range() {
        assert_eq!(spread(100, 3), [12, 37, 62]);
        let r = random_positions(1000, 10, 7);
        assert_eq!(r.len(), 10);
        assert!(r.windows(2).all(|w| w[0] < w[1]) && r[9] < 1000);
        assert_eq!(r, random_positions(1000, 10, 7));
        let c = clustered(1000, 10, 7);
        assert_eq!(c.len(), 10);
        assert!(c.windows(2).all(|w| w[1] == w[0] + 1) && c[9] < 1000);
        assert_eq!(random_positions(3, 5, 1), [0, 1, 2]);
    }

    #[test]
    fn stats_and_changes() {
        let (mut world, orgs) = World::demo(1, 30, 1, 7);
        let key = &orgs[0].1;
        let mut book = StatsBook::new(10);
        book.arrive(key);
        book.record(
            key,
            super::super::stats::LoggedRequest {
                number: 1,
                path: "/v1/patients".into(),
                query: String::new(),
                status: 200,
            },
        );
        let v = stats_json(&world, &book);
        assert_eq!(v["requests"], 1);
        assert_eq!(v["orgs"]["org_1"]["by_path"]["/v1/patients"], 1);
        assert!(!v.to_string().contains(key.as_str()), "no API key in stats");

        let before = world.records(key, "patients");
        let r = answer(
            &mut world,
            &book,
            true,
            "/__change",
            "org=org_1&patients=5&appointments=3",
        );
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (v["patients"].as_u64(), v["appointments"].as_u64()),
            (Some(5), Some(3))
        );
        let after = world.records(key, "patients");
        let edited = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert_eq!(edited, 5);
        assert_eq!(
            answer(&mut world, &book, false, "/__change", "").status,
            405
        );
        assert_eq!(
            answer(&mut world, &book, true, "/__change", "org=nope").status,
            400
        );
    }
}
