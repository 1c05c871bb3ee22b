//! The `patient_activity` view, every column, on a small hand-built clinic synced through
//! the real binary from the fake Cliniko; `status` showing active patients; and every
//! example query of docs/dashboard.md answering what its text says, with the same rows
//! in the same order on both stores.

mod common;

use common::{Backend, TestEnv};
use fake_cliniko::generate::LINK_BASE;
use fake_cliniko::{Account, Record, World};
use routiq_sync::timestamp::Timestamp;
use serde_json::{Value, json};

const DAY: i64 = 86_400;
const KEY: &str = "viewtestkeyviewtestkeyviewtestkey01-au1";

fn obj(v: Value) -> Record {
    v.as_object().cloned().unwrap()
}

fn link(path: &str) -> Value {
    json!({ "links": { "self": format!("{LINK_BASE}/{path}") } })
}

/// Builds one clinic in a fake world, with times relative to the world's (real) clock.
struct Clinic {
    world: World,
    now: i64,
    /// The practitioner and business the next appointments name (the fixed ids name
    /// none that is synced).
    practitioner: String,
    business: String,
}

impl Clinic {
    fn new() -> Clinic {
        let mut world = World::new();
        world.add_account(KEY, Account::new("org_1"));
        let now = world.now().unix();
        Clinic {
            world,
            now,
            practitioner: "1000000000000000007".into(),
            business: "1000000000000000008".into(),
        }
    }

    fn practitioner(&mut self, display_name: &str) -> String {
        let rec = obj(json!({"first_name": display_name, "last_name": "Test",
                             "display_name": display_name, "active": true}));
        self.world.insert(KEY, "practitioners", rec).unwrap()
    }

    fn business(&mut self, name: &str) -> String {
        let rec = obj(json!({"business_name": name, "display_name": name}));
        self.world.insert(KEY, "businesses", rec).unwrap()
    }

    /// `days` from now (negative: ago), as stored.
    fn at(&self, days: i64) -> String {
        Timestamp::from_unix(self.now + days * DAY)
            .unwrap()
            .to_string()
    }

    fn appointment_type(&mut self, name: &str) -> String {
        let rec = obj(json!({"name": name, "duration_in_minutes": 30, "max_attendees": 1}));
        self.world.insert(KEY, "appointment_types", rec).unwrap()
    }

    fn patient(&mut self, first: &str, email: Option<&str>, phones: Option<Value>) -> String {
        let mut rec = obj(json!({
            "first_name": first,
            "last_name": "Test",
            "email": email,
            "archived_at": null,
        }));
        if let Some(p) = phones {
            rec.insert("patient_phone_numbers".into(), p);
        }
        self.world.insert(KEY, "patients", rec).unwrap()
    }

    /// An appointment starting `days` from now; `hidden` is `""`, `"cancelled"` or
    /// `"archived"`.
    fn appointment(
        &mut self,
        patient: &str,
        type_id: Option<&str>,
        days: i64,
        hidden: &str,
    ) -> String {
        self.appointment_at(patient, type_id, self.now + days * DAY, hidden)
    }

    /// An appointment of 30 minutes starting at `starts` (Unix seconds).
    fn appointment_at(
        &mut self,
        patient: &str,
        type_id: Option<&str>,
        starts: i64,
        hidden: &str,
    ) -> String {
        let ends = Timestamp::from_unix(starts + 1800).unwrap().to_string();
        let starts = Timestamp::from_unix(starts).unwrap().to_string();
        let mut rec = obj(json!({
            "starts_at": starts,
            "ends_at": ends,
            "archived_at": null,
            "cancelled_at": null,
            "patient": link(&format!("patients/{patient}")),
            "practitioner": link(&format!("practitioners/{}", self.practitioner)),
            "business": link(&format!("businesses/{}", self.business)),
            "appointment_type": type_id.map_or(Value::Null, |t| link(&format!("appointment_types/{t}"))),
        }));
        match hidden {
            "cancelled" => {
                rec.insert("cancelled_at".into(), json!(self.at(-1)));
            }
            "archived" => {
                rec.insert("archived_at".into(), json!(self.at(-1)));
            }
            _ => {}
        }
        self.world
            .insert(KEY, "individual_appointments", rec)
            .unwrap()
    }
}

/// `c`'s clinic synced to `store` as org_1, then `patient` and `appointment` deleted in
/// Cliniko (the next full sync marks them).
fn synced_then_deleted_upstream(
    store: Backend,
    c: &Clinic,
    patient: &str,
    appointment: &str,
) -> TestEnv {
    let env = TestEnv::builder()
        .on(store)
        .world(
            c.world.clone(),
            vec![("org_1".to_string(), KEY.to_string())],
        )
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.with_world(|w| {
        w.hard_delete(KEY, "patients", patient).unwrap();
        w.hard_delete(KEY, "individual_appointments", appointment)
            .unwrap();
    });
    env
}

/// One row of the view, every column.
#[derive(Debug, PartialEq, Eq)]
struct Activity {
    org_id: String,
    patient_id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    recent: i64,
    upcoming: i64,
    total: i64,
    first_at: Option<String>,
    last_at: Option<String>,
    next_at: Option<String>,
    next_type: Option<String>,
    primary_type: Option<String>,
    status: String,
}

// The same data gives the same rows on both stores.
on_both_stores!(patient_activity_every_column_on_a_hand_built_clinic);

fn patient_activity_every_column_on_a_hand_built_clinic(store: Backend) {
    let mut c = Clinic::new();
    let standard = c.appointment_type("Standard Consultation");
    // A second type with the same name (another business's copy): counted together.
    let standard_b = c.appointment_type("Standard Consultation");
    let review = c.appointment_type("Review");
    let initial = c.appointment_type("Initial Consultation");
    let home = json!({"number": "(03) 9999 0000", "phone_type": "Home"});
    let mobile = json!({"number": "0400 111 222", "phone_type": "Mobile"});
    let work = json!({"number": "02 8888 0000", "phone_type": "Work"});

    // Both recent and upcoming.
    let both = c.patient(
        "Both",
        Some("both@example.com"),
        Some(json!([home, mobile])),
    );
    c.appointment(&both, Some(&standard), -10, "");
    c.appointment(&both, Some(&review), 5, "");
    c.appointment(&both, Some(&standard_b), -100, "");
    // Recent only; a cancelled and an archived future appointment do not count.
    let recent = c.patient("Recent", None, Some(json!([home])));
    c.appointment(&recent, Some(&initial), -3, "");
    c.appointment(&recent, Some(&review), 2, "cancelled");
    c.appointment(&recent, Some(&review), 3, "archived");
    // Upcoming only; the tie (one Initial, one Review) goes to the type booked latest.
    let upcoming = c.patient("Upcoming", Some("up@example.com"), Some(json!([])));
    c.appointment(&upcoming, Some(&initial), -60, "");
    c.appointment(&upcoming, Some(&review), 20, "");
    // Neither: seen 45 days ago; a cancelled and an upstream-deleted recent one.
    let neither = c.patient("Neither", None, Some(json!([work, mobile])));
    c.appointment(&neither, Some(&standard), -45, "");
    c.appointment(&neither, Some(&standard), -5, "cancelled");
    let deleted_appt = c.appointment(&neither, Some(&review), -2, "");
    // No appointments and no phone field at all.
    let nothing = c.patient("Nothing", None, None);
    // Archived and (later) hard-deleted patients are not in the view.
    let archived = c.patient("Archived", None, None);
    c.appointment(&archived, Some(&review), -1, "");
    c.appointment(&archived, Some(&review), 1, "");
    let archived_at = c.at(-1);
    c.world
        .update(KEY, "patients", &archived, |r| {
            r.insert("archived_at".into(), json!(archived_at));
        })
        .unwrap();
    let gone = c.patient("Gone", None, None);
    c.appointment(&gone, Some(&review), -1, "");
    c.appointment(&gone, Some(&review), 1, "");
    // Two appointments at the same next start: the lower id (Review, booked first) is
    // the next one; the type tie (one each, same latest start) goes to the name first
    // in alphabetical order.
    let double = c.patient("Double", None, Some(json!([mobile])));
    c.appointment(&double, Some(&review), 7, "");
    c.appointment(&double, Some(&initial), 7, "");
    // Around the 30-day edge, and a type that was never synced / no type at all.
    let edge = c.patient("Edge", None, None);
    c.appointment(&edge, Some(&standard), -31, "");
    c.appointment(&edge, Some(&review), -29, "");
    let untyped = c.patient("Untyped", None, None);
    c.appointment(&untyped, Some("1000000000000000099"), -1, "");
    c.appointment(&untyped, None, 1, "");

    let env = synced_then_deleted_upstream(store, &c, &gone, &deleted_appt);
    let run = env.run(&["full", "--all"]);
    run.expect_code(0);
    run.assert_stderr_has("written, 1 deleted upstream");

    let at = |d: i64| Some(c.at(d));
    let s = |v: &str| Some(v.to_string());
    #[allow(clippy::too_many_arguments)]
    let row = |id: &str,
               first: &str,
               email: Option<&str>,
               phone: Option<&str>,
               counts: (i64, i64, i64),
               dates: (Option<String>, Option<String>, Option<String>),
               next_type: Option<String>,
               primary_type: Option<String>,
               status: &str| Activity {
        org_id: "org_1".into(),
        patient_id: id.into(),
        first_name: s(first),
        last_name: s("Test"),
        email: email.map(str::to_string),
        phone: phone.map(str::to_string),
        recent: counts.0,
        upcoming: counts.1,
        total: counts.2,
        first_at: dates.0,
        last_at: dates.1,
        next_at: dates.2,
        next_type,
        primary_type,
        status: status.into(),
    };
    let expected = vec![
        row(
            &both,
            "Both",
            Some("both@example.com"),
            Some("0400 111 222"),
            (1, 1, 3),
            (at(-100), at(-10), at(5)),
            s("Review"),
            s("Standard Consultation"),
            "active",
        ),
        row(
            &recent,
            "Recent",
            None,
            Some("(03) 9999 0000"),
            (1, 0, 1),
            (at(-3), at(-3), None),
            None,
            s("Initial Consultation"),
            "recent_only",
        ),
        row(
            &upcoming,
            "Upcoming",
            Some("up@example.com"),
            None,
            (0, 1, 2),
            (at(-60), at(-60), at(20)),
            s("Review"),
            s("Review"),
            "has_upcoming",
        ),
        row(
            &neither,
            "Neither",
            None,
            Some("0400 111 222"),
            (0, 0, 1),
            (at(-45), at(-45), None),
            None,
            s("Standard Consultation"),
            "inactive",
        ),
        row(
            &nothing,
            "Nothing",
            None,
            None,
            (0, 0, 0),
            (None, None, None),
            None,
            None,
            "inactive",
        ),
        row(
            &double,
            "Double",
            None,
            Some("0400 111 222"),
            (0, 2, 2),
            (at(7), None, at(7)),
            s("Review"),
            s("Initial Consultation"),
            "has_upcoming",
        ),
        row(
            &edge,
            "Edge",
            None,
            None,
            (1, 0, 2),
            (at(-31), at(-29), None),
            None,
            s("Review"),
            "recent_only",
        ),
        row(
            &untyped,
            "Untyped",
            None,
            None,
            (1, 1, 2),
            (at(-1), at(-1), at(1)),
            None,
            None,
            "active",
        ),
    ];

    let rows = env.rows(
        "SELECT org_id, patient_id, first_name, last_name, email, phone,
                recent_appointment_count, upcoming_appointment_count, total_appointment_count,
                first_appointment_at, last_appointment_at, next_appointment_at,
                next_appointment_type, primary_appointment_type, activity_status
         FROM patient_activity ORDER BY length(patient_id), patient_id",
        &[],
    );
    let got: Vec<Activity> = rows
        .into_iter()
        .map(|r| {
            let n = |i: usize| {
                r[i].as_deref()
                    .and_then(|v| v.parse().ok())
                    .expect("a count")
            };
            Activity {
                org_id: r[0].clone().unwrap_or_default(),
                patient_id: r[1].clone().unwrap_or_default(),
                first_name: r[2].clone(),
                last_name: r[3].clone(),
                email: r[4].clone(),
                phone: r[5].clone(),
                recent: n(6),
                upcoming: n(7),
                total: n(8),
                first_at: r[9].clone(),
                last_at: r[10].clone(),
                next_at: r[11].clone(),
                next_type: r[12].clone(),
                primary_type: r[13].clone(),
                status: r[14].clone().unwrap_or_default(),
            }
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }

    // `status` counts the active patients (Both and Untyped).
    let run = env.run(&["status", "--json"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let totals = &doc["orgs"][0]["totals"];
    assert_eq!(totals["active_patients"], 2, "{totals}");
    assert_eq!(totals["patients"], 9, "archived ones count as present rows");
    assert!(totals["appointments"].as_u64().is_some());
    let run = env.run(&["status"]);
    run.expect_code(0);
    let header = run.stdout.lines().next().unwrap_or_default();
    assert!(header.contains("ACTIVE"), "{}", run.stdout);
}

/// docs/dashboard.md's example queries: (SQLite ones, PostgreSQL ones), each list in the
/// page's order (the page writes them in the same order for both stores).
fn documented_queries() -> (Vec<String>, Vec<String>) {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md"))
        .expect("docs/dashboard.md");
    let (mut sqlite, mut postgres) = (Vec::new(), Vec::new());
    let mut marker = "";
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        // The clinic KPIs' queries have their own test (tests/clinic_kpis.rs).
        if line == "## Clinic KPIs" {
            break;
        }
        // A query's name (`<!-- query: NAME -->`, for the plan tests) says nothing of
        // where it runs.
        if line.starts_with("<!-- query: ") {
            continue;
        }
        if line.starts_with("<!--") {
            marker = line;
            continue;
        }
        if line != "```sql" {
            if !line.trim().is_empty() {
                marker = "";
            }
            continue;
        }
        let sql: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        match marker {
            "" => sqlite.push(sql.join("\n")),
            "<!-- postgres -->" => postgres.push(sql.join("\n")),
            // The read-only role's set-up, not a query.
            _ => {}
        }
        marker = "";
    }
    (sqlite, postgres)
}

/// `sql`'s rows on the test's store, every value as text (SQLite's form); a PostgreSQL
/// column of a type a dashboard would show oddly (`numeric`: `150.0000000000000000`)
/// fails the test.
fn query_rows(env: &TestEnv, sql: &str) -> Vec<Vec<Option<String>>> {
    let Backend::Postgres(db) = &env.store else {
        return env.rows(sql, &[]);
    };
    use postgres::types::Type;
    let rows = db
        .client()
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}\n{e:?}"));
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let column = &row.columns()[i];
                    match column.type_().clone() {
                        Type::INT8 => row.get::<_, Option<i64>>(i).map(|v| v.to_string()),
                        Type::TEXT => row.get::<_, Option<String>>(i),
                        Type::TIMESTAMPTZ => row
                            .get::<_, Option<time::OffsetDateTime>>(i)
                            .map(|t| Timestamp::from_datetime(t).to_string()),
                        Type::DATE => row.get::<_, Option<time::Date>>(i).map(|d| {
                            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
                        }),
                        other => panic!(
                            "column `{}` is {other}: a dashboard shows it oddly; cast it\n{sql}",
                            column.name()
                        ),
                    }
                })
                .collect()
        })
        .collect()
}

/// One appointment of the clinic as the test knows it.
struct Booking {
    id: String,
    patient: String,
    practitioner: &'static str,
    type_name: &'static str,
    starts: i64,
    /// Not cancelled, archived or deleted upstream: what every query counts.
    counted: bool,
}

/// One patient of the clinic as the test knows it.
struct Person {
    id: String,
    first: &'static str,
    email: Option<&'static str>,
    phone: Option<&'static str>,
    /// Neither archived nor deleted upstream.
    present: bool,
}

impl Person {
    /// `org_id, id, first_name, last_name, email`: how the patient queries begin a row.
    fn org_id_to_email(&self) -> Vec<Option<String>> {
        vec![
            Some("org_1".to_string()),
            Some(self.id.clone()),
            Some(self.first.to_string()),
            Some("Test".to_string()),
            self.email.map(str::to_string),
        ]
    }
}

// The same clinic gives the same rows, in the same order, on both stores.
on_both_stores!(every_documented_query_answers_what_the_page_says);

fn every_documented_query_answers_what_the_page_says(store: Backend) {
    let mut c = Clinic::new();
    let now = c.now;
    // Monday 00:00 UTC of next week (1970-01-01 was a Thursday).
    let today = now.div_euclid(DAY);
    let next_monday = (today - (today + 3).rem_euclid(7) + 7) * DAY;
    let standard = c.appointment_type("Standard");
    let review = c.appointment_type("Review");
    let alice = c.practitioner("Dr Alice");
    let bob = c.practitioner("Dr Bob");
    c.business = c.business("Bondi Clinic");
    let home = json!({"number": "(03) 9999 0000", "phone_type": "Home"});
    let mobile = json!({"number": "0400 111 222", "phone_type": "Mobile"});

    let mut people: Vec<Person> = Vec::new();
    let mut bookings: Vec<Booking> = Vec::new();
    let mut person = |c: &mut Clinic,
                      first: &'static str,
                      email: Option<&'static str>,
                      phones: Option<Value>,
                      phone: Option<&'static str>| {
        let id = c.patient(first, email, phones);
        people.push(Person {
            id: id.clone(),
            first,
            email,
            phone,
            present: true,
        });
        id
    };
    // (patient, practitioner, type, start, hidden): each booking, recorded for the model.
    let mut book = |c: &mut Clinic,
                    patient: &str,
                    who: &'static str,
                    type_name: &'static str,
                    starts: i64,
                    hidden: &str| {
        c.practitioner = if who == "Dr Alice" { &alice } else { &bob }.clone();
        let type_id = if type_name == "Standard" {
            &standard
        } else {
            &review
        };
        let id = c.appointment_at(patient, Some(type_id), starts, hidden);
        bookings.push(Booking {
            id: id.clone(),
            patient: patient.to_string(),
            practitioner: who,
            type_name,
            starts,
            counted: hidden.is_empty(),
        });
        id
    };
    let days = |d: i64| now + d * DAY;
    // Seen 10 days ago, booked next week: active. Two numbers, the Mobile one is `phone`.
    let ann = person(
        &mut c,
        "Ann",
        Some("ann@example.com"),
        Some(json!([home, mobile])),
        Some("0400 111 222"),
    );
    book(&mut c, &ann, "Dr Alice", "Standard", days(-10), "");
    book(
        &mut c,
        &ann,
        "Dr Alice",
        "Review",
        next_monday + DAY + 9 * 3600,
        "",
    );
    // Active too, booked at the very same start as Ann (a tie the order must break).
    let kim = person(&mut c, "Kim", None, None, None);
    book(&mut c, &kim, "Dr Bob", "Review", days(-2), "");
    book(
        &mut c,
        &kim,
        "Dr Bob",
        "Standard",
        next_monday + DAY + 9 * 3600,
        "",
    );
    // Lapsed 60 days ago, nothing booked.
    let ben = person(&mut c, "Ben", Some("ben@example.com"), None, None);
    book(&mut c, &ben, "Dr Bob", "Standard", days(-60), "");
    book(&mut c, &ben, "Dr Bob", "Standard", days(-75), "");
    // Lapsed 300 days ago; a cancelled booking does not count as booked. Home first:
    // `raw_json`'s first number is not its `phone`.
    let cat = person(
        &mut c,
        "Cat",
        None,
        Some(json!([home, mobile])),
        Some("0400 111 222"),
    );
    book(&mut c, &cat, "Dr Bob", "Review", days(-300), "");
    book(&mut c, &cat, "Dr Bob", "Review", days(5), "cancelled");
    // Lapsed 300 days ago but booked in 3 days: not to re-engage.
    let dan = person(&mut c, "Dan", None, None, None);
    book(&mut c, &dan, "Dr Bob", "Standard", days(-300), "");
    book(&mut c, &dan, "Dr Alice", "Review", days(3), "");
    // Never seen, nothing booked.
    person(&mut c, "Eve", Some("eve@example.com"), None, None);
    // Never seen, booked next week: not to re-engage.
    let fay = person(&mut c, "Fay", None, None, None);
    book(
        &mut c,
        &fay,
        "Dr Alice",
        "Standard",
        next_monday + 2 * DAY + 10 * 3600,
        "",
    );
    // Seen 5 days ago; a visit 20 days ago is deleted in Cliniko later.
    let gus = person(&mut c, "Gus", None, None, None);
    book(&mut c, &gus, "Dr Bob", "Review", days(-5), "");
    let gus_deleted = book(&mut c, &gus, "Dr Bob", "Standard", days(-20), "");
    // Lapsed 200 and 250 days ago.
    let joe = person(
        &mut c,
        "Joe",
        None,
        Some(json!([home])),
        Some("(03) 9999 0000"),
    );
    book(&mut c, &joe, "Dr Alice", "Standard", days(-200), "");
    book(&mut c, &joe, "Dr Alice", "Standard", days(-250), "");
    // Archived: in no list.
    let hal = person(&mut c, "Hal", None, None, None);
    book(&mut c, &hal, "Dr Alice", "Standard", days(-400), "");
    let archived_at = c.at(-1);
    c.world
        .update(KEY, "patients", &hal, |r| {
            r.insert("archived_at".into(), json!(archived_at));
        })
        .unwrap();
    // Deleted in Cliniko after the first sync.
    let ivy = person(&mut c, "Ivy", None, None, None);
    for p in people.iter_mut().filter(|p| p.id == hal || p.id == ivy) {
        p.present = false;
    }
    for b in bookings.iter_mut().filter(|b| b.id == gus_deleted) {
        b.counted = false;
    }

    let env = synced_then_deleted_upstream(store, &c, &ivy, &gus_deleted);
    env.run(&["full", "--all"]).expect_code(0);

    // What each query's text promises, from the model.
    let t = |unix: i64| Timestamp::from_unix(unix).unwrap().to_string();
    let text = |v: &str| Some(v.to_string());
    let org = || text("org_1");
    let counted = |p: &Person| {
        bookings
            .iter()
            .filter(|b| b.counted && b.patient == p.id)
            .collect::<Vec<_>>()
    };
    let last_past = |p: &Person| {
        counted(p)
            .iter()
            .map(|b| b.starts)
            .filter(|s| *s <= now)
            .max()
    };
    let next = |p: &Person| {
        counted(p)
            .into_iter()
            .filter(|b| b.starts > now)
            .min_by_key(|b| (b.starts, b.id.len(), b.id.clone()))
    };
    let recent = |p: &Person| {
        counted(p)
            .iter()
            .any(|b| b.starts >= now - 30 * DAY && b.starts <= now)
    };

    // 1. Seen in the last 90 days, most recent first.
    let mut seen: Vec<(i64, &Person, usize)> = people
        .iter()
        .filter(|p| p.present)
        .filter_map(|p| {
            let visits: Vec<i64> = counted(p)
                .iter()
                .map(|b| b.starts)
                .filter(|s| *s >= now - 90 * DAY && *s <= now)
                .collect();
            Some((*visits.iter().max()?, p, visits.len()))
        })
        .collect();
    seen.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then((a.1.id.len(), &a.1.id).cmp(&(b.1.id.len(), &b.1.id)))
    });
    let seen_rows: Vec<Vec<Option<String>>> = seen
        .iter()
        .map(|(last, p, n)| {
            let mut row = p.org_id_to_email();
            row.extend([Some(t(*last)), Some(n.to_string())]);
            row
        })
        .collect();

    // 2. Booked per day for the next 7 days (UTC days).
    let mut per_day = std::collections::BTreeMap::<String, usize>::new();
    for b in bookings
        .iter()
        .filter(|b| b.counted && b.starts >= now && b.starts < now + 7 * DAY)
    {
        *per_day.entry(t(b.starts)[..10].to_string()).or_default() += 1;
    }
    let day_rows: Vec<Vec<Option<String>>> = per_day
        .iter()
        .map(|(day, n)| vec![org(), text(day), Some(n.to_string())])
        .collect();

    // 3. To re-engage: nothing booked, no visit for 6 months or never; never seen last.
    let mut lapsed: Vec<(Option<i64>, &Person)> = people
        .iter()
        .filter(|p| p.present && next(p).is_none())
        .map(|p| (last_past(p), p))
        .filter(|(last, _)| last.is_none_or(|l| l < now - 183 * DAY))
        .collect();
    lapsed.sort_by_key(|(last, p)| (last.is_none(), *last, p.id.len(), p.id.clone()));
    let lapsed_rows: Vec<Vec<Option<String>>> = lapsed
        .iter()
        .map(|(last, p)| {
            let mut row = p.org_id_to_email();
            row.extend([p.phone.map(str::to_string), last.map(t)]);
            row
        })
        .collect();

    // 4. Disappeared: as marked, newest mark first.
    let mark = |table: &str, id: &str| {
        env.value(
            &format!("SELECT deleted_upstream_at FROM {table} WHERE id = ?1"),
            &[id],
        )
    };
    let mut gone = [
        ("patient", ivy.clone(), mark("patients", &ivy)),
        (
            "appointment",
            gus_deleted.clone(),
            mark("appointments", &gus_deleted),
        ),
    ];
    gone.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let gone_rows: Vec<Vec<Option<String>>> = gone
        .iter()
        .map(|(kind, id, at)| vec![text(kind), org(), text(id), at.as_deref().map(canonical)])
        .collect();

    // 5. The last run: the full one, ok.
    let last_run = env.rows(
        "SELECT org_id, mode, status, finished_at, api_calls, error FROM runs ORDER BY id DESC LIMIT 1",
        &[],
    );
    assert_eq!(last_run[0][1..3], [text("full"), text("ok")]);

    // 6. Active (seen in 30 days and booked), soonest next appointment first.
    let mut active: Vec<(&Booking, &Person)> = people
        .iter()
        .filter(|p| p.present && recent(p))
        .filter_map(|p| Some((next(p)?, p)))
        .collect();
    active.sort_by_key(|(b, p)| (b.starts, p.id.len(), p.id.clone()));
    let active_rows: Vec<Vec<Option<String>>> = active
        .iter()
        .map(|(b, p)| {
            vec![
                text(p.first),
                text("Test"),
                p.phone.map(str::to_string),
                p.email.map(str::to_string),
                Some(t(b.starts)),
                text(b.type_name),
                text(b.practitioner),
                text("Bondi Clinic"),
            ]
        })
        .collect();

    // 7. Lapsed in the last 60 days: not recent, not booked, seen within 90 days.
    let mut dropped: Vec<(i64, &Person)> = people
        .iter()
        .filter(|p| p.present && !recent(p) && next(p).is_none())
        .filter_map(|p| Some((last_past(p)?, p)))
        .filter(|(last, _)| *last >= now - 90 * DAY)
        .collect();
    dropped.sort_by_key(|(last, p)| (-last, p.id.len(), p.id.clone()));
    let dropped_rows: Vec<Vec<Option<String>>> = dropped
        .iter()
        .map(|(last, p)| {
            let names: Vec<&str> = counted(p).iter().map(|b| b.type_name).collect();
            assert!(
                names.windows(2).all(|w| w[0] == w[1]),
                "one type each: no tie rule needed"
            );
            vec![
                text(p.first),
                text("Test"),
                p.phone.map(str::to_string),
                p.email.map(str::to_string),
                Some(t(*last)),
                text(names[0]),
                Some(names.len().to_string()),
            ]
        })
        .collect();

    // 8. Next week (Monday to Sunday, UTC) per practitioner, busiest first.
    let mut week = std::collections::BTreeMap::<&str, usize>::new();
    for b in bookings
        .iter()
        .filter(|b| b.counted && b.starts >= next_monday && b.starts < next_monday + 7 * DAY)
    {
        *week.entry(b.practitioner).or_default() += 1;
    }
    let mut week: Vec<(&str, usize)> = week.into_iter().collect();
    week.sort_by_key(|(who, n)| (std::cmp::Reverse(*n), *who));
    let week_rows: Vec<Vec<Option<String>>> = week
        .iter()
        .map(|(who, n)| vec![text(who), Some(n.to_string()), Some((n * 30).to_string())])
        .collect();

    let expected = [
        ("seen in the last 90 days", seen_rows),
        ("booked per day", day_rows),
        ("to re-engage", lapsed_rows),
        ("disappeared", gone_rows),
        ("the last run", last_run),
        ("active with their next appointment", active_rows),
        ("lapsed in the last 60 days", dropped_rows),
        ("next week per practitioner", week_rows),
    ];
    // The clinic holds an answer for each: none of them is empty.
    assert!(expected.iter().all(|(_, rows)| !rows.is_empty()));
    let (sqlite, postgres) = documented_queries();
    let queries = match env.store {
        Backend::Sqlite => sqlite,
        Backend::Postgres(_) => postgres,
    };
    assert_eq!(queries.len(), expected.len(), "{queries:#?}");
    for (sql, (what, rows)) in queries.iter().zip(&expected) {
        let got: Vec<Vec<Option<String>>> = query_rows(&env, sql)
            .into_iter()
            .map(|r| r.into_iter().map(|v| v.map(|v| canonical(&v))).collect())
            .collect();
        assert_eq!(&got, rows, "{what}:\n{sql}");
    }
}

/// A timestamp in the one form both stores' rows are compared in; other text as it is.
fn canonical(value: &str) -> String {
    Timestamp::parse(value).map_or_else(|| value.to_string(), |t| t.to_string())
}
