//! The clinic KPIs of docs/dashboard.md, proven against an independent computation: a
//! small known clinic (businesses in two time zones and one without, daylight-saving
//! changes inside a month, appointments either side of local midnight, late and early
//! cancellations, a "did not arrive", an archived appointment, patients new in a month)
//! synced through the real binary from the fake Cliniko; every KPI of
//! `appointment_kpi_facts`, `new_patient_facts` and `invoice_kpi_facts` (with a
//! cancelled and an archived invoice) and new patients by referral source, per org, business and practitioner
//! and per local day, week and month, and every documented KPI query,
//! checked on both stores against figures this test computes from the records with its
//! own calendar arithmetic (jiff), never from the views.

mod common;

use std::collections::BTreeMap;

use common::{Backend, TestEnv};
use fake_cliniko::generate::LINK_BASE;
use fake_cliniko::{Account, Record, World};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::{Value, json};

const KEY: &str = "kpitestkeykpitestkeykpitestkey0001-au1";
const HOUR: i64 = 3600;

fn obj(v: Value) -> Record {
    v.as_object().cloned().unwrap()
}

fn link(path: &str) -> Value {
    json!({ "links": { "self": format!("{LINK_BASE}/{path}") } })
}

fn wire(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// What the diary says of one appointment.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Booked,
    Arrived,
    DidNotArrive,
    /// Cancelled this many seconds before the start (negative: after it).
    Cancelled(i64),
    Archived,
}

/// One appointment as the test knows it.
struct Appt {
    /// Which of the clinic's patients.
    patient: usize,
    business: usize,
    practitioner: &'static str,
    starts: i64,
    outcome: Outcome,
}

/// The five appointment KPIs of a group.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Kpis {
    booked: i64,
    attended: i64,
    cancelled: i64,
    late_cancelled: i64,
    did_not_arrive: i64,
}

impl Kpis {
    fn add(&mut self, a: &Appt) {
        self.booked += 1;
        match a.outcome {
            Outcome::Arrived => self.attended += 1,
            Outcome::DidNotArrive => self.did_not_arrive += 1,
            Outcome::Cancelled(before) => {
                self.cancelled += 1;
                if before < 24 * HOUR {
                    self.late_cancelled += 1;
                }
            }
            Outcome::Booked | Outcome::Archived => {}
        }
    }

    fn row(self) -> Vec<String> {
        [
            self.booked,
            self.attended,
            self.cancelled,
            self.late_cancelled,
            self.did_not_arrive,
        ]
        .map(|n| n.to_string())
        .to_vec()
    }
}

/// The businesses: (name, IANA zone; `None`: Cliniko names none, counted on UTC days).
const BUSINESSES: [(&str, Option<&str>); 3] = [
    ("New York", Some("America/New_York")),
    ("Melbourne", Some("Australia/Melbourne")),
    ("Nowhere", None),
];

const P1: &str = "1000000000000000007";
const P2: &str = "1000000000000000009";

fn zone(business: usize) -> TimeZone {
    BUSINESSES[business]
        .1
        .map_or(TimeZone::UTC, |z| TimeZone::get(z).unwrap())
}

/// `local` (`YYYY-MM-DDTHH:MM`) at `business`, as Unix seconds.
fn at(business: usize, local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    dt.to_zoned_datetime(zone(business))
        .unwrap()
        .timestamp()
        .as_second()
}

/// The clinic: New York moves to daylight time on 8 March 2026, Melbourne leaves it on
/// 5 April 2026.
fn appointments() -> Vec<Appt> {
    use Outcome::*;
    let (ny, mel, utc) = (0, 1, 2);
    let a = |business, practitioner, local: &str, outcome| Appt {
        patient: 0,
        business,
        practitioner,
        starts: at(business, local),
        outcome,
    };
    let appts = vec![
        // Local February, UTC March.
        a(ny, P1, "2026-02-28T22:30", Arrived),
        a(ny, P1, "2026-03-01T00:30", Arrived),
        // Either side of the daylight-saving change, the same local day.
        a(ny, P1, "2026-03-08T01:30", DidNotArrive),
        a(ny, P2, "2026-03-08T03:30", Arrived),
        a(ny, P2, "2026-03-09T09:00", Cancelled(2 * HOUR)),
        a(ny, P2, "2026-03-10T09:00", Cancelled(72 * HOUR)),
        a(ny, P1, "2026-03-16T10:00", Cancelled(-HOUR / 2)),
        // Exactly 24 hours before is not late.
        a(ny, P1, "2026-03-17T10:00", Cancelled(24 * HOUR)),
        a(ny, P1, "2026-03-15T10:00", Archived),
        // Local March, UTC April.
        a(ny, P1, "2026-03-31T23:30", Booked),
        // Local March, UTC February.
        a(mel, P1, "2026-03-01T00:30", Arrived),
        // A Sunday night and the Monday after: two ISO weeks.
        a(mel, P2, "2026-03-29T23:30", Arrived),
        a(mel, P2, "2026-03-30T00:15", DidNotArrive),
        a(mel, P2, "2026-03-31T23:30", Cancelled(HOUR)),
        // Local April, UTC March.
        a(mel, P1, "2026-04-01T00:30", Arrived),
        // Either side of the change back to standard time.
        a(mel, P2, "2026-04-05T01:30", Arrived),
        a(mel, P2, "2026-04-05T09:00", DidNotArrive),
        a(utc, P1, "2026-03-31T23:30", Arrived),
        a(utc, P2, "2026-04-01T00:00", Cancelled(30 * HOUR)),
    ];
    let mut appts = appts;
    // Patient 1, new in March at Melbourne: a cancelled appointment before the first
    // does not make them new earlier; visits within 90 days count, later ones do not.
    let b = |patient, business, practitioner, local: &str, outcome| Appt {
        patient,
        business,
        practitioner,
        starts: at(business, local),
        outcome,
    };
    appts.extend([
        b(1, mel, P1, "2026-03-01T10:00", Cancelled(48 * HOUR)),
        b(1, mel, P1, "2026-03-03T10:00", Arrived),
        b(1, mel, P2, "2026-03-20T10:00", Arrived),
        b(1, mel, P1, "2026-04-01T10:00", DidNotArrive),
        b(1, mel, P1, "2026-05-30T10:00", Arrived),
        b(1, mel, P1, "2026-06-10T10:00", Arrived),
        // Patient 2, new on local 31 March in New York (1 April in UTC), seen once.
        b(2, ny, P2, "2026-03-31T22:00", Arrived),
        // Patient 3, new in April at the business without a zone (UTC days).
        b(3, utc, P1, "2026-04-02T09:00", DidNotArrive),
        b(3, ny, P1, "2026-04-10T09:00", Arrived),
        // Patient 4: only an archived appointment: never new.
        b(4, ny, P2, "2026-03-12T09:00", Archived),
    ]);
    appts
}

/// A period an appointment falls in, by the test's own calendar.
#[derive(Clone, Copy)]
enum Period {
    Day,
    Week,
    Month,
}

fn period(a: &Appt, p: Period) -> String {
    let day: Date = jiff::Timestamp::from_second(a.starts)
        .unwrap()
        .to_zoned_datetime(zone(a.business))
        .date();
    let d = match p {
        Period::Day => day,
        Period::Week => day
            .checked_sub(jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset())))
            .unwrap(),
        Period::Month => day.first_of_month(),
    };
    d.to_string()
}

/// Whom a group is of.
#[derive(Clone, Copy)]
enum Scope {
    Org,
    Business,
    Practitioner,
    BusinessPractitioner,
}

/// The expected rows `[keys.., period, booked, attended, cancelled, late, dna]`, ordered
/// by key then period, of the appointments `keep` keeps.
fn expected(
    appts: &[Appt],
    ids: &[String],
    scope: Scope,
    p: Period,
    keep: impl Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<Vec<String>, Kpis> = BTreeMap::new();
    for a in appts.iter().filter(|a| a.outcome != Outcome::Archived) {
        let when = period(a, p);
        if !keep(&when) {
            continue;
        }
        let mut key = group_key(a, ids, scope);
        key.push(when);
        groups.entry(key).or_default().add(a);
    }
    groups
        .into_iter()
        .map(|(mut k, v)| {
            k.extend(v.row());
            k
        })
        .collect()
}

/// Whom `a` counts for in `scope`.
fn group_key(a: &Appt, ids: &[String], scope: Scope) -> Vec<String> {
    let business = ids[a.business].clone();
    match scope {
        Scope::Org => vec!["org_1".to_string()],
        Scope::Business => vec![business],
        Scope::Practitioner => vec![a.practitioner.to_string()],
        Scope::BusinessPractitioner => vec![business, a.practitioner.to_string()],
    }
}

/// Each patient's first appointment neither cancelled nor archived (this clinic has no
/// two at the same start).
fn firsts(appts: &[Appt]) -> BTreeMap<usize, &Appt> {
    let counted = |a: &&Appt| {
        matches!(
            a.outcome,
            Outcome::Booked | Outcome::Arrived | Outcome::DidNotArrive
        )
    };
    let mut first: BTreeMap<usize, &Appt> = BTreeMap::new();
    for a in appts.iter().filter(counted) {
        let f = first.entry(a.patient).or_insert(a);
        if a.starts < f.starts {
            *f = a;
        }
    }
    first
}

/// Each patient's referral source type in Cliniko, if any (patient 4 is never new).
const REFERRALS: &[(usize, &str)] = &[(1, "5001"), (2, "5001"), (3, "5002"), (4, "5002")];

/// The expected rows `[referral source type or "none", period, new patients]`.
fn expected_referrals(appts: &[Appt], p: Period, keep: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (patient, f) in firsts(appts) {
        let when = period(f, p);
        if !keep(&when) {
            continue;
        }
        let source = REFERRALS
            .iter()
            .find(|(r, _)| *r == patient)
            .map_or("none", |(_, t)| t);
        *groups.entry((source.to_string(), when)).or_default() += 1;
    }
    groups
        .into_iter()
        .map(|((source, when), n)| vec![source, when, n.to_string()])
        .collect()
}

/// The expected new-patient rows `[keys.., period, new patients, attended within 90
/// days]` (and the PVA when `pva`), ordered by key then period: each patient counted
/// once, where and when their first appointment neither cancelled nor archived is.
fn expected_new(
    appts: &[Appt],
    ids: &[String],
    scope: Scope,
    p: Period,
    keep: impl Fn(&str) -> bool,
    pva: bool,
) -> Vec<Vec<String>> {
    let first = firsts(appts);
    let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    for (patient, f) in &first {
        let when = period(f, p);
        if !keep(&when) {
            continue;
        }
        let visits = appts
            .iter()
            .filter(|b| b.patient == *patient && b.outcome == Outcome::Arrived)
            .filter(|b| b.starts >= f.starts && b.starts < f.starts + 90 * 86_400)
            .count() as i64;
        let mut key = group_key(f, ids, scope);
        key.push(when);
        let g = groups.entry(key).or_default();
        g.0 += 1;
        g.1 += visits;
    }
    groups
        .into_iter()
        .map(|(mut k, (n, visits))| {
            k.extend([n.to_string(), visits.to_string()]);
            if pva {
                k.push((visits as f64 / n as f64).to_string());
            }
            k
        })
        .collect()
}

/// One invoice as the test knows it: (business, practitioner, issue date, total as
/// Cliniko sends it, status, archived).
type Inv = (usize, &'static str, &'static str, &'static str, i64, bool);

/// Invoices either side of month and week ends; a cancelled one (status 30, "Closed")
/// and an archived one count for nothing; open, paid and open-credit ones count.
const INVOICES: &[Inv] = &[
    (0, P1, "2026-02-28", "85.0", 20, false),
    (0, P1, "2026-03-01", "85.0", 20, false),
    (0, P1, "2026-03-01", "33.10", 10, false),
    (0, P2, "2026-03-08", "120.55", 20, false),
    (0, P2, "2026-03-09", "99.99", 30, false),
    (1, P1, "2026-03-29", "60.0", 40, false),
    (1, P1, "2026-03-30", "0.05", 20, false),
    (1, P2, "2026-03-31", "150.0", 20, true),
    (1, P2, "2026-04-01", "70.25", 10, false),
    (2, P1, "2026-03-15", "10.10", 20, false),
];

/// `"33.10"` in cents, by the test's own reading of the text.
fn cents(total: &str) -> i64 {
    let (whole, frac) = total.split_once('.').unwrap_or((total, "0"));
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap()
}

/// The expected revenue rows `[keys.., period, invoices, cents]` of the counted invoices.
fn expected_revenue(
    ids: &[String],
    scope: Scope,
    p: Period,
    keep: impl Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    for &(business, practitioner, issued, total, status, archived) in INVOICES {
        if status == 30 || archived {
            continue;
        }
        let day: Date = issued.parse().unwrap();
        let when = match p {
            Period::Day => day,
            Period::Week => day
                .checked_sub(
                    jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset())),
                )
                .unwrap(),
            Period::Month => day.first_of_month(),
        }
        .to_string();
        if !keep(&when) {
            continue;
        }
        let business = ids[business].clone();
        let mut key = match scope {
            Scope::Org => vec!["org_1".to_string()],
            Scope::Business => vec![business],
            Scope::Practitioner => vec![practitioner.to_string()],
            Scope::BusinessPractitioner => vec![business, practitioner.to_string()],
        };
        key.push(when);
        let g = groups.entry(key).or_default();
        g.0 += 1;
        g.1 += cents(total);
    }
    groups
        .into_iter()
        .map(|(mut k, (n, c))| {
            k.extend([n.to_string(), c.to_string()]);
            k
        })
        .collect()
}

fn world(appts: &[Appt]) -> (World, Vec<String>) {
    let mut world = World::new();
    world.add_account(KEY, Account::new("org_1"));
    let ids: Vec<String> = BUSINESSES
        .iter()
        .map(|(name, zone)| {
            let rec = obj(json!({"business_name": name, "display_name": name,
                                 "time_zone_identifier": zone}));
            world.insert(KEY, "businesses", rec).unwrap()
        })
        .collect();
    let patients: Vec<String> = (0..5)
        .map(|n| {
            let rec = obj(json!({"first_name": format!("Pat{n}"), "last_name": "Test"}));
            world.insert(KEY, "patients", rec).unwrap()
        })
        .collect();
    for a in appts {
        let cancelled = match a.outcome {
            Outcome::Cancelled(before) => json!(wire(a.starts - before)),
            _ => Value::Null,
        };
        let archived = match a.outcome {
            Outcome::Archived => json!(wire(a.starts - 48 * HOUR)),
            _ => Value::Null,
        };
        let rec = obj(json!({
            "starts_at": wire(a.starts),
            "ends_at": wire(a.starts + 1800),
            "cancelled_at": cancelled,
            "archived_at": archived,
            "did_not_arrive": a.outcome == Outcome::DidNotArrive,
            "patient_arrived": a.outcome == Outcome::Arrived,
            "patient": link(&format!("patients/{}", patients[a.patient])),
            "practitioner": link(&format!("practitioners/{}", a.practitioner)),
            "business": link(&format!("businesses/{}", ids[a.business])),
        }));
        world.insert(KEY, "individual_appointments", rec).unwrap();
    }
    for &(patient, source_type) in REFERRALS {
        let rec = obj(json!({
            "patient": link(&format!("patients/{}", patients[patient])),
            "referral_source_type": link(&format!("referral_source_types/{source_type}")),
            "referrer_type": null,
            "subcategory": "Google",
        }));
        world.insert(KEY, "referral_sources", rec).unwrap();
    }
    let descriptions = [
        (10, "Open"),
        (20, "Paid"),
        (30, "Closed"),
        (40, "Open credit"),
    ];
    for (n, &(business, practitioner, issued, total, status, archived)) in
        INVOICES.iter().enumerate()
    {
        let description = descriptions.iter().find(|(s, _)| *s == status).unwrap().1;
        let rec = obj(json!({
            "number": n + 1,
            "issue_date": issued,
            "status": status,
            "status_description": description,
            "total_amount": total,
            "archived_at": if archived { json!("2026-04-02T00:00:00Z") } else { Value::Null },
            "patient": link(&format!("patients/{}", patients[0])),
            "practitioner": link(&format!("practitioners/{practitioner}")),
            "business": link(&format!("businesses/{}", ids[business])),
        }));
        world.insert(KEY, "invoices", rec).unwrap();
    }
    (world, ids)
}

/// `sql`'s rows, every value as text (dates `YYYY-MM-DD` on both stores).
fn rows(env: &TestEnv, sql: &str) -> Vec<Vec<String>> {
    let Backend::Postgres(db) = &env.store else {
        return env
            .rows(sql, &[])
            .into_iter()
            .map(|r| r.into_iter().map(|v| v.unwrap_or_default()).collect())
            .collect();
    };
    use postgres::types::Type;
    let found = db
        .client()
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}\n{e:?}"));
    found
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let ty = row.columns()[i].type_().clone();
                    if ty == Type::DATE {
                        row.get::<_, time::Date>(i).to_string()
                    } else if ty == Type::FLOAT8 {
                        row.get::<_, f64>(i).to_string()
                    } else if ty == Type::INT8 {
                        row.get::<_, i64>(i).to_string()
                    } else {
                        row.get::<_, String>(i)
                    }
                })
                .collect()
        })
        .collect()
}

/// docs/dashboard.md's KPI queries for this store, in the page's order.
fn documented_kpi_queries(postgres: bool) -> Vec<String> {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md"))
        .expect("docs/dashboard.md");
    let section = page
        .split("\n## Clinic KPIs\n")
        .nth(1)
        .expect("a Clinic KPIs section");
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(start) = rest.find("```sql\n") {
        let marked = rest[..start].trim_end().ends_with("<!-- postgres -->");
        let body = &rest[start + 7..];
        let end = body.find("```").expect("a closed sql block");
        if marked == postgres {
            out.push(body[..end].to_string());
        }
        rest = &body[end + 3..];
    }
    out
}

on_both_stores!(appointment_kpis_match_an_independent_computation);

fn appointment_kpis_match_an_independent_computation(store: Backend) {
    let appts = appointments();
    let (world, ids) = world(&appts);
    let env = TestEnv::builder()
        .on(store)
        .world(world, vec![("org_1".to_string(), KEY.to_string())])
        .build();
    env.write_config_org_lines(
        r#"resources = ["patients", "appointments", "businesses", "invoices", "referral_sources"]"#,
    );
    let run = env.run(&["sync", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("1 business(es) have no time zone");

    let sums = "SUM(booked), SUM(attended), SUM(cancelled), SUM(late_cancelled), \
                SUM(did_not_arrive)";
    for (scope, keys) in [
        (Scope::Org, "org_id"),
        (Scope::Business, "business_id"),
        (Scope::Practitioner, "practitioner_id"),
        (Scope::BusinessPractitioner, "business_id, practitioner_id"),
    ] {
        for (p, column) in [
            (Period::Day, "local_day"),
            (Period::Week, "local_week"),
            (Period::Month, "local_month"),
        ] {
            let sql = format!(
                "SELECT {keys}, CAST({column} AS TEXT) AS period, {sums} \
                 FROM appointment_kpi_facts WHERE org_id = 'org_1' \
                 GROUP BY {keys}, period ORDER BY {keys}, period"
            );
            let want = expected(&appts, &ids, scope, p, |_| true);
            assert!(!want.is_empty());
            assert_eq!(rows(&env, &sql), want, "{sql}");
            let sql = format!(
                "SELECT {keys}, CAST({column} AS TEXT) AS period, COUNT(*), \
                 CAST(SUM(attended_within_90_days) AS BIGINT) \
                 FROM new_patient_facts WHERE org_id = 'org_1' \
                 GROUP BY {keys}, period ORDER BY {keys}, period"
            );
            let want = expected_new(&appts, &ids, scope, p, |_| true, false);
            assert!(!want.is_empty());
            assert_eq!(rows(&env, &sql), want, "{sql}");
            let sql = format!(
                "SELECT {keys}, CAST({column} AS TEXT) AS period, COUNT(*), \
                 CAST(SUM(total_cents) AS BIGINT) \
                 FROM invoice_kpi_facts WHERE org_id = 'org_1' \
                 GROUP BY {keys}, period ORDER BY {keys}, period"
            );
            let want = expected_revenue(&ids, scope, p, |_| true);
            assert!(!want.is_empty());
            assert_eq!(rows(&env, &sql), want, "{sql}");
        }
    }
    for column in ["local_day", "local_week", "local_month"] {
        let p = match column {
            "local_day" => Period::Day,
            "local_week" => Period::Week,
            _ => Period::Month,
        };
        let sql = format!(
            "SELECT COALESCE(s.referral_source_type_id, 'none') AS source, \
             CAST(f.{column} AS TEXT) AS period, COUNT(*) \
             FROM new_patient_facts AS f LEFT JOIN referral_sources AS s \
             ON s.org_id = f.org_id AND s.patient_id = f.patient_id \
             AND s.archived_at IS NULL AND s.deleted_upstream_at IS NULL \
             WHERE f.org_id = 'org_1' GROUP BY source, period ORDER BY source, period"
        );
        assert_eq!(
            rows(&env, &sql),
            expected_referrals(&appts, p, |_| true),
            "{sql}"
        );
    }

    // The documented queries: March 2026 per business and practitioner, weeks starting
    // in March per business, days of March for the clinic.
    let march = |d: &str| d.starts_with("2026-03-");
    let want = [
        expected(
            &appts,
            &ids,
            Scope::BusinessPractitioner,
            Period::Month,
            march,
        ),
        expected(&appts, &ids, Scope::Business, Period::Week, march),
        expected(&appts, &ids, Scope::Org, Period::Day, march),
        expected_new(
            &appts,
            &ids,
            Scope::BusinessPractitioner,
            Period::Month,
            march,
            true,
        ),
        expected_revenue(&ids, Scope::BusinessPractitioner, Period::Month, march),
        expected_referrals(&appts, Period::Month, march),
    ];
    let queries = documented_kpi_queries(matches!(env.store, Backend::Postgres(_)));
    assert_eq!(queries.len(), want.len(), "{queries:#?}");
    for (sql, want) in queries.iter().zip(want) {
        assert!(!want.is_empty());
        assert_eq!(rows(&env, sql), want, "{sql}");
    }
}

/// The documented KPI queries on one org of 20,000 patients and 1,000,000 appointments
/// (three businesses in three time zones, four years), timed (median of 5) with their
/// plans, on PostgreSQL. Run with
/// `ROUTIQ_REQUIRE_POSTGRES=1 cargo test --test clinic_kpis kpi_cost_postgres -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark: seeds 1,000,000 appointments"]
fn kpi_cost_postgres() {
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
    let mut client = db.client();
    let began = std::time::Instant::now();
    client
        .batch_execute(
            "INSERT INTO businesses (org_id, id, business_name, time_zone_identifier,
                                     updated_at, raw_json, synced_at)
             VALUES ('org_1', '1', 'NY', 'America/New_York', now(), '{}', now()),
                    ('org_1', '2', 'MEL', 'Australia/Melbourne', now(), '{}', now()),
                    ('org_1', '3', 'LON', 'Europe/London', now(), '{}', now());
             INSERT INTO patients (org_id, id, first_name, updated_at, raw_json, synced_at)
             SELECT 'org_1', p::text, 'P' || p, now(), '{}', now()
             FROM generate_series(1, 20000) AS p;
             INSERT INTO appointments (org_id, id, starts_at, ends_at, cancelled_at, patient_id,
                                       practitioner_id, business_id, did_not_arrive,
                                       patient_arrived, updated_at, raw_json, synced_at)
             SELECT 'org_1', n::text, s, s + interval '30 minutes',
                    CASE WHEN n % 13 = 0 THEN s - (n % 72) * interval '1 hour' END,
                    (1 + n % 20000)::text, (1 + n % 10)::text, (1 + n % 3)::text,
                    CASE WHEN n % 29 = 0 THEN 1 ELSE 0 END,
                    CASE WHEN n % 29 <> 0 THEN 1 ELSE 0 END, now(), '{}', now()
             FROM generate_series(1, 1000000) AS n,
                  LATERAL (SELECT timestamptz '2024-01-01T00:00:00Z'
                                  + (n % 1461) * interval '1 day'
                                  + (n % 10) * interval '1 hour' AS s) AS at;
             INSERT INTO invoices (org_id, id, issue_date, status, total_amount, practitioner_id,
                                   business_id, patient_id, updated_at, raw_json, synced_at)
             SELECT 'org_1', n::text, to_char(date '2024-01-01' + (n % 1461), 'YYYY-MM-DD'),
                    CASE WHEN n % 31 = 0 THEN 30 ELSE 20 END, '85.0', (1 + n % 10)::text,
                    (1 + n % 3)::text, (1 + n % 20000)::text, now(), '{}', now()
             FROM generate_series(1, 500000) AS n;",
        )
        .expect("seed");
    store.refresh_local_offsets("org_1").expect("offsets");
    client.batch_execute("VACUUM ANALYZE").expect("vacuum");
    println!("seeded in {:.1} s", began.elapsed().as_secs_f64());
    let queries = documented_kpi_queries(true);
    for sql in &queries {
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                client.query(sql.as_str(), &[]).expect("query");
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let plan: Vec<String> = client
            .query(&format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}"), &[])
            .expect("plan")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let first = sql.lines().nth(3).unwrap_or_default();
        println!("\n{first}\nmedian {:.0} ms\n{}", times[2], plan.join("\n"));
    }
}
