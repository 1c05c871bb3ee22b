//! End-to-end tests: a real fake server on 127.0.0.1 driven with `ureq`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::timestamp::Timestamp;

const UA: &str = "Routiq Sync Tests (ops@example.com)";

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

struct Resp {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn ids(&self, list_key: &str) -> Vec<String> {
        self.json()[list_key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn get_with(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Result<Resp, ureq::Error> {
    let mut rq = agent.get(url);
    for (k, v) in headers {
        rq = rq.header(*k, *v);
    }
    let mut r = rq.call()?;
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_lowercase(),
                v.to_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string()?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn get(fake: &FakeCliniko, key: &str, path_and_query: &str) -> Resp {
    let auth = format!("Basic {}", b64(&format!("{key}:")));
    let url = format!("{}{}", fake.base_url(), path_and_query);
    get_with(
        &agent(Duration::from_secs(10)),
        &url,
        &[
            ("Authorization", &auth),
            ("User-Agent", UA),
            ("Accept", "application/json"),
        ],
    )
    .unwrap()
}

/// `q[]` in its percent-encoded form, as clients send it.
fn q(filter: &str) -> String {
    let enc: String = filter
        .chars()
        .map(|c| match c {
            ':' => "%3A".to_string(),
            '>' => "%3E".to_string(),
            '<' => "%3C".to_string(),
            '=' => "%3D".to_string(),
            '*' => "%2A".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("q%5B%5D={enc}")
}

fn start(opts: FakeOptions) -> (FakeCliniko, String) {
    let (world, orgs) = World::demo(1, 120, 2, 5);
    let fake = FakeCliniko::start(world, opts).unwrap();
    (fake, orgs[0].1.clone())
}

#[test]
fn auth_headers_and_user() {
    let (fake, key) = start(FakeOptions::default());
    let a = agent(Duration::from_secs(5));
    let url = format!("{}/patients", fake.base_url());
    let r = get_with(&a, &url, &[("User-Agent", UA)]).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.body.trim(), "HTTP Basic: Access denied.");
    assert!(r.headers["content-type"].starts_with("text/plain"));
    let bad = format!("Basic {}", b64("nope-au1:"));
    assert_eq!(
        get_with(&a, &url, &[("Authorization", &bad), ("User-Agent", UA)])
            .unwrap()
            .status,
        401
    );

    let auth = format!("Basic {}", b64(&format!("{key}:")));
    let r = get_with(&a, &url, &[("Authorization", &auth)]).unwrap();
    assert_eq!(
        r.status, 403,
        "ureq's default User-Agent has no contact email"
    );
    assert!(r.json()["message"].as_str().unwrap().contains("User-Agent"));
    let r = get_with(
        &a,
        &url,
        &[
            ("Authorization", &auth),
            ("User-Agent", UA),
            ("Accept", "text/html"),
        ],
    )
    .unwrap();
    assert_eq!(r.status, 406);

    let r = get(&fake, &key, "/user");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["role"], "administrator");
    // The key also works without its shard suffix, as Cliniko documents.
    let bare = key.rsplit_once('-').unwrap().0;
    assert_eq!(get(&fake, bare, "/user").status, 200);
    assert_eq!(get(&fake, &key, "/nothing").status, 404);
    let s = fake.stats(&key);
    assert_eq!(s.path_count("/v1/user"), 2);
    assert_eq!(s.status_count(403), 1);
}

#[test]
fn bad_requests_are_400_with_a_message() {
    let (fake, key) = start(FakeOptions::default());
    let cases = [
        ("/patients?per_page=101".to_string(), "per_page"),
        ("/patients?per_page=0".to_string(), "per_page"),
        (
            format!("/patients?{}", q("cancelled_at:*")),
            "This column is not searchable.",
        ),
        (
            "/patients?updated_since=2024-01-01T00%3A00%3A00Z".to_string(),
            "updated_since",
        ),
        (
            format!("/patients?{}", q("updated_at:=2024-01-01T00:00:00Z")),
            "operator",
        ),
        (
            format!("/patients?{}", q("updated_at:>=2024-01-01")),
            "date-time",
        ),
        ("/patients?sort=bogus".to_string(), "sort"),
        (
            format!("/individual_appointments?{}", q("patient_id:>x")),
            "integer",
        ),
    ];
    for (path, needle) in cases {
        let r = get(&fake, &key, &path);
        assert_eq!(r.status, 400, "{path}");
        let msg = r.json()["message"].as_str().unwrap().to_string();
        assert!(msg.contains(needle), "{path}: {msg}");
    }
}

#[test]
fn the_opt_in_routes_take_exactly_their_filters() {
    let (fake, key) = start(FakeOptions::default());
    // Routes the spec gives an archived_at filter hide archived records; the others
    // have none to send (a 400), and no archived records.
    for (path, list_key, archived) in [
        ("/invoice_items", "invoice_items", true),
        ("/products", "products", true),
        ("/billable_items", "billable_items", true),
        ("/daily_availabilities", "daily_availabilities", false),
        ("/availability_blocks", "availability_blocks", false),
        ("/unavailable_blocks", "unavailable_blocks", true),
        ("/patient_cases", "patient_cases", true),
        ("/contacts", "contacts", true),
        ("/referral_sources", "referral_sources", false),
    ] {
        let walk = format!(
            "{path}?per_page=100&sort=updated_at,id&{}&{}",
            q("updated_at:>=2000-01-01T00:00:00Z"),
            q("id:>1")
        );
        let r = get(&fake, &key, &walk);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let listed = r.json()["total_entries"].as_u64().unwrap();
        let all = fake.with_world(|w| w.count(&key, list_key)) as u64;
        let opted = get(&fake, &key, &format!("{walk}&{}", q("archived_at:*")));
        if archived {
            assert_eq!(opted.status, 200, "{path}");
            assert_eq!(opted.json()["total_entries"].as_u64(), Some(all), "{path}");
            assert!(listed <= all, "{path}");
        } else {
            assert_eq!(opted.status, 400, "{path}");
            assert_eq!(listed, all, "{path}: nothing hidden");
        }
        assert_eq!(
            get(&fake, &key, &format!("{path}?{}", q("cancelled_at:*"))).status,
            400,
            "{path}"
        );
    }
    // Link filters read the link objects.
    let invoice = fake.with_world(|w| w.ids(&key, "invoices")[0].clone());
    let r = get(
        &fake,
        &key,
        &format!("/invoice_items?{}", q(&format!("invoice_id:={invoice}"))),
    );
    assert!(r.json()["total_entries"].as_u64().unwrap() >= 1);
}

#[test]
fn hidden_records_need_opting_in() {
    let (fake, key) = start(FakeOptions::default());
    let all = fake.with_world(|w| w.records(&key, "patients"));
    let archived: BTreeSet<String> = all
        .iter()
        .filter(|r| !r["archived_at"].is_null())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!archived.is_empty());
    let r = get(&fake, &key, "/patients?per_page=100");
    assert_eq!(r.json()["total_entries"], all.len() - archived.len());
    let r = get(
        &fake,
        &key,
        &format!("/patients?per_page=100&{}", q("archived_at:*")),
    );
    assert_eq!(r.json()["total_entries"], all.len());
    let r = get(
        &fake,
        &key,
        &format!("/patients?per_page=100&{}", q("archived_at:?")),
    );
    assert_eq!(
        r.ids("patients").into_iter().collect::<BTreeSet<_>>(),
        archived
    );

    let appts = fake.with_world(|w| w.records(&key, "individual_appointments"));
    let visible = appts
        .iter()
        .filter(|r| r["archived_at"].is_null() && r["cancelled_at"].is_null())
        .count();
    let path = "/individual_appointments?per_page=1";
    assert_eq!(get(&fake, &key, path).json()["total_entries"], visible);
    let both = format!("{path}&{}&{}", q("archived_at:*"), q("cancelled_at:*"));
    assert_eq!(get(&fake, &key, &both).json()["total_entries"], appts.len());

    // Hard-deleted records are simply gone.
    let gone = all[0]["id"].as_str().unwrap().to_string();
    fake.with_world(|w| w.hard_delete(&key, "patients", &gone))
        .unwrap();
    let r = get(
        &fake,
        &key,
        &format!(
            "/patients?per_page=100&{}&{}",
            q("archived_at:*"),
            q(&format!("id:={gone}"))
        ),
    );
    assert_eq!(r.json()["total_entries"], 0);
}

#[test]
fn pagination_links() {
    let (fake, key) = start(FakeOptions::default());
    let base = format!(
        "/patients?{}&per_page=40&sort=updated_at,id",
        q("archived_at:*")
    );
    let r = get(&fake, &key, &base).json();
    assert_eq!(r["total_entries"], 120);
    let next = r["links"]["next"].as_str().unwrap();
    assert!(next.starts_with(&fake.base_url()));
    assert!(
        next.contains("per_page=40")
            && next.contains("sort=updated_at,id")
            && next.contains("page=2")
    );
    assert!(next.contains("q%5B%5D=archived_at%3A%2A"));
    assert!(r["links"].get("previous").is_none());
    let path = next.strip_prefix(&fake.base_url()).unwrap();
    let r2 = get(&fake, &key, path).json();
    assert!(r2["links"]["previous"].as_str().unwrap().contains("page=1"));
    let r3 = get(&fake, &key, &format!("{base}&page=3")).json();
    assert_eq!(r3["patients"].as_array().unwrap().len(), 40);
    assert!(
        r3["links"].get("next").is_none(),
        "no next on the last page"
    );
    assert!(r3["links"]["self"].as_str().unwrap().contains("page=3"));
    let r4 = get(&fake, &key, &format!("{base}&page=4")).json();
    assert_eq!(
        (
            r4["patients"].as_array().unwrap().len(),
            r4["total_entries"].as_u64()
        ),
        (0, Some(120))
    );
}

/// A keyset walk: `updated_at:>=T` sorted by `updated_at,id`, draining ties on the last
/// second with `updated_at:<=T` + `id:>X` before moving past it.
fn keyset_walk(fake: &FakeCliniko, key: &str) -> Vec<String> {
    let hidden = format!("{}&{}", q("archived_at:*"), q("cancelled_at:*"));
    let mut seen = Vec::new();
    let mut cursor: Option<(String, String)> = None;
    let mut draining = false;
    for _ in 0..100_000 {
        let filters = match (&cursor, draining) {
            (None, _) => String::new(),
            (Some((t, x)), true) => format!(
                "&{}&{}&{}",
                q(&format!("updated_at:>={t}")),
                q(&format!("updated_at:<={t}")),
                q(&format!("id:>{x}"))
            ),
            (Some((t, _)), false) => format!("&{}", q(&format!("updated_at:>{t}"))),
        };
        let path =
            format!("/individual_appointments?per_page=100&sort=updated_at,id&{hidden}{filters}");
        let r = get(fake, key, &path);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        let rows = v["individual_appointments"].as_array().unwrap();
        for row in rows {
            seen.push(row["id"].as_str().unwrap().to_string());
        }
        match rows.last() {
            Some(last) => {
                cursor = Some((
                    last["updated_at"].as_str().unwrap().to_string(),
                    last["id"].as_str().unwrap().to_string(),
                ));
                // A full page may leave more rows in the same second: drain them next.
                draining = rows.len() == 100;
            }
            None if draining => draining = false,
            None => return seen,
        }
    }
    panic!("walk did not finish");
}

#[test]
fn keyset_walk_sees_every_record_once() {
    let (world, orgs) = World::demo(1, 120, 3, 11);
    let key = orgs[0].1.clone();
    let opts = FakeOptions {
        shuffle_ties: true,
        ..FakeOptions::default()
    };
    let fake = FakeCliniko::start(world, opts).unwrap();
    let ids = fake.with_world(|w| {
        let ids = w.ids(&key, "individual_appointments");
        // 250 rows share one second: more than two pages of ties.
        let t = Timestamp::parse("2025-06-01T12:00:00Z").unwrap();
        w.set_updated_at_many(&key, "individual_appointments", &ids[10..260], t)
            .unwrap();
        ids
    });
    let seen = keyset_walk(&fake, &key);
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates");
    assert_eq!(unique, ids.into_iter().collect::<BTreeSet<_>>());
}

#[test]
fn hook_changes_data_between_pages() {
    let (world, orgs) = World::demo(1, 60, 0, 3);
    let key = orgs[0].1.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = Arc::clone(&calls);
    let hook: RequestHook = Arc::new(move |w: &mut World, info: &RequestInfo| {
        c2.fetch_add(1, Ordering::SeqCst);
        if info.page == 2 {
            // A patient from page 1 changes: with page-number walking it moves to the end.
            let first = w.ids(&info.api_key, "patients")[0].clone();
            w.touch(&info.api_key, "patients", &first).unwrap();
        }
    });
    let fake = FakeCliniko::start(
        world,
        FakeOptions {
            on_request: Some(hook),
            ..FakeOptions::default()
        },
    )
    .unwrap();
    let p1 = get(
        &fake,
        &key,
        "/patients?per_page=30&sort=updated_at,id&q%5B%5D=archived_at%3A%2A",
    );
    let p2 = get(
        &fake,
        &key,
        "/patients?per_page=30&sort=updated_at,id&q%5B%5D=archived_at%3A%2A&page=2",
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let first = fake.with_world(|w| w.ids(&key, "patients")[0].clone());
    assert!(p2.ids("patients").last() == Some(&first) || p1.ids("patients").contains(&first));
    let log = fake.stats(&key).log;
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[1].query,
        "per_page=30&sort=updated_at,id&q[]=archived_at:*&page=2"
    );
}

#[test]
fn rate_limit_answers_429_with_reset() {
    let (fake, key) = start(FakeOptions {
        rate_limit_per_minute: Some(3),
        ..FakeOptions::default()
    });
    for _ in 0..3 {
        assert_eq!(get(&fake, &key, "/user").status, 200);
    }
    let r = get(&fake, &key, "/patients");
    assert_eq!(r.status, 429);
    let reset: u64 = r.headers["x-ratelimit-reset"].parse().unwrap();
    let now = u64::try_from(Timestamp::now().unix()).unwrap();
    assert!(reset >= now && reset <= now + 61, "{reset} vs {now}");
    assert!(r.json()["message"].is_string());
    assert_eq!(fake.stats(&key).rate_limited, 1);
    fake.reset_stats();
    assert_eq!(get(&fake, &key, "/user").status, 200);
}

#[test]
fn injected_faults_apply_once_each() {
    let (fake, key) = start(FakeOptions::default());
    let path = "/patients?per_page=5";
    let rl = |header| Fault::RateLimited {
        reset_in_secs: 7,
        header,
    };
    fake.push_fault(&key, Fault::Status(503));
    fake.push_fault(&key, Fault::StatusText(502, "Bad Gateway".into()));
    fake.push_fault(&key, rl(ResetHeader::XRateLimitReset));
    fake.push_fault(&key, rl(ResetHeader::RetryAfterSeconds));
    fake.push_fault(&key, rl(ResetHeader::RetryAfterHttpDate));
    fake.push_fault(&key, rl(ResetHeader::None));
    fake.push_fault(&key, Fault::Garbage);
    fake.push_fault(&key, Fault::Truncated);
    fake.push_fault(&key, Fault::MissingEnvelope);

    let r = get(&fake, &key, path);
    assert_eq!((r.status, r.json()["message"].is_string()), (503, true));
    let r = get(&fake, &key, path);
    assert_eq!((r.status, r.body.as_str()), (502, "Bad Gateway"));
    let r = get(&fake, &key, path);
    assert_eq!(r.status, 429);
    assert!(r.headers["x-ratelimit-reset"].parse::<u64>().is_ok());
    assert_eq!(get(&fake, &key, path).headers["retry-after"], "7");
    assert!(get(&fake, &key, path).headers["retry-after"].ends_with(" GMT"));
    let r = get(&fake, &key, path);
    assert!(
        r.status == 429
            && !r.headers.contains_key("retry-after")
            && !r.headers.contains_key("x-ratelimit-reset")
    );
    let r = get(&fake, &key, path);
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    let r = get(&fake, &key, path);
    assert_eq!(r.status, 200);
    assert!(
        r.body.starts_with("{\"patients\":[") && serde_json::from_str::<Value>(&r.body).is_err()
    );
    assert_eq!(get(&fake, &key, path).json(), json!({}));
    assert_eq!(
        get(&fake, &key, path).json()["patients"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(fake.stats(&key).rate_limited, 4);

    fake.push_fault(&key, Fault::Delay(Duration::from_millis(800)));
    let auth = format!("Basic {}", b64(&format!("{key}:")));
    let url = format!("{}{path}", fake.base_url());
    let quick = agent(Duration::from_millis(200));
    let res = get_with(
        &quick,
        &url,
        &[
            ("Authorization", &auth),
            ("User-Agent", UA),
            ("Accept", "*/*"),
        ],
    );
    assert!(
        matches!(res, Err(ureq::Error::Timeout(_))),
        "{:?}",
        res.err()
    );
}

#[test]
fn random_5xx_with_probability_one() {
    let (fake, key) = start(FakeOptions {
        random_5xx: Some((1.0, 9)),
        ..FakeOptions::default()
    });
    for _ in 0..5 {
        assert!((500..=503).contains(&get(&fake, &key, "/patients").status));
    }
}

#[test]
fn shuffle_ties_changes_order_of_equal_rows() {
    let (fake, key) = start(FakeOptions {
        shuffle_ties: true,
        ..FakeOptions::default()
    });
    let t = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    fake.with_world(|w| {
        let ids = w.ids(&key, "patients");
        w.set_updated_at_many(&key, "patients", &ids, t).unwrap();
    });
    let path = format!(
        "/patients?per_page=100&sort=updated_at&{}",
        q("archived_at:*")
    );
    let a = get(&fake, &key, &path).ids("patients");
    let b = get(&fake, &key, &path).ids("patients");
    assert_ne!(a, b, "tied rows should come back in a different order");
    // With an id tiebreak the order is total and stable.
    let path = format!(
        "/patients?per_page=100&sort=updated_at,id&{}",
        q("archived_at:*")
    );
    assert_eq!(
        get(&fake, &key, &path).ids("patients"),
        get(&fake, &key, &path).ids("patients")
    );
}

#[test]
fn filters_compare_ids_as_integers_and_sort_by_starts_at() {
    let mut world = World::new();
    world.add_account("key-au1", Account::new("org_x"));
    for id in ["9", "10", "1000000000000000000"] {
        let rec = json!({"id": id, "first_name": "A"})
            .as_object()
            .cloned()
            .unwrap();
        world.insert("key-au1", "patients", rec).unwrap();
    }
    let fake = FakeCliniko::start(
        world,
        FakeOptions {
            workers: 2,
            ..FakeOptions::default()
        },
    )
    .unwrap();
    let r = get(
        &fake,
        "key-au1",
        &format!("/patients?sort=id&{}", q("id:>9")),
    );
    assert_eq!(r.ids("patients"), ["10", "1000000000000000000"]);
    let r = get(&fake, "key-au1", "/patients?sort=id:desc");
    assert_eq!(r.ids("patients"), ["1000000000000000000", "10", "9"]);
    fake.stop();
}

#[test]
fn latency_is_served_in_parallel() {
    let (fake, key) = start(FakeOptions {
        latency: Duration::from_millis(100),
        ..FakeOptions::default()
    });
    let fake = Arc::new(fake);
    let t0 = std::time::Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (fake, key) = (Arc::clone(&fake), key.clone());
            std::thread::spawn(move || {
                for _ in 0..3 {
                    assert_eq!(get(&fake, &key, "/patients?per_page=100").status, 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(300));
    assert!(
        took < Duration::from_millis(1500),
        "8 clients x 3 requests took {took:?}"
    );
    assert_eq!(fake.stats(&key).requests, 24);
}

/// Throughput check for the benchmark's access pattern; run with
/// `cargo test --release --lib bench_keyset_walk -- --ignored --nocapture`.
#[test]
#[ignore = "slow; a benchmark of the fake itself"]
fn bench_keyset_walk() {
    let t0 = std::time::Instant::now();
    let (world, orgs) = World::demo(1, 66_667, 2, 1);
    let key = orgs[0].1.clone();
    println!("generated in {:?}", t0.elapsed());
    let fake = FakeCliniko::start(world, FakeOptions::default()).unwrap();
    let t1 = std::time::Instant::now();
    let seen = keyset_walk(&fake, &key);
    let requests = fake.stats(&key).requests;
    println!(
        "walked {} appointments in {requests} requests, {:?} ({:?}/request)",
        seen.len(),
        t1.elapsed(),
        t1.elapsed() / u32::try_from(requests).unwrap()
    );
    assert_eq!(
        seen.len(),
        fake.with_world(|w| w.count(&key, "individual_appointments"))
    );
    // The worst case for counting: page 1 of everything, asked many times.
    let t2 = std::time::Instant::now();
    let path = format!(
        "/individual_appointments?per_page=100&sort=updated_at,id&{}",
        q("updated_at:>=2000-01-01T00:00:00Z")
    );
    for _ in 0..100 {
        assert_eq!(get(&fake, &key, &path).status, 200);
    }
    println!(
        "100 x page 1 with hidden-row counting over 133k rows: {:?}",
        t2.elapsed()
    );
    let t3 = std::time::Instant::now();
    for _ in 0..5 {
        assert_eq!(
            get(
                &fake,
                &key,
                "/individual_appointments?per_page=100&sort=starts_at"
            )
            .status,
            200
        );
    }
    println!("5 x general path (scan + sort 133k): {:?}", t3.elapsed());
}
