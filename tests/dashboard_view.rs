//! The `patient_activity` view, every column, on a small hand-built clinic synced through
//! the real binary from the fake Cliniko; and `status` showing active patients.

mod common;

use common::{Backend, TestEnv};
use routiq_sync::fake::generate::LINK_BASE;
use routiq_sync::fake::{Account, Record, World};
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
}

impl Clinic {
    fn new() -> Clinic {
        let mut world = World::new();
        world.add_account(KEY, Account::new("org_1"));
        let now = world.now().unix();
        Clinic { world, now }
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
        let starts = self.at(days);
        let ends = Timestamp::from_unix(self.now + days * DAY + 1800)
            .unwrap()
            .to_string();
        let mut rec = obj(json!({
            "starts_at": starts,
            "ends_at": ends,
            "archived_at": null,
            "cancelled_at": null,
            "patient": link(&format!("patients/{patient}")),
            "practitioner": link("practitioners/1000000000000000007"),
            "business": link("businesses/1000000000000000008"),
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

    let orgs = vec![("org_1".to_string(), KEY.to_string())];
    let env = TestEnv::builder()
        .on(store)
        .world(c.world.clone(), orgs)
        .build();
    env.run(&["sync", "--all"]).expect_code(0);
    env.fake.with_world(|w| {
        w.hard_delete(KEY, "patients", &gone).unwrap();
        w.hard_delete(KEY, "individual_appointments", &deleted_appt)
            .unwrap();
    });
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
