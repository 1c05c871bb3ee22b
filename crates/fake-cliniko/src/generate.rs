//! Realistic, seed-deterministic Cliniko data: accounts, demo worlds and random changes.

mod extra;

use std::fmt;

use serde_json::{Value, json};

use super::collection::Stored;
use super::record::{self, Record};
use super::rng::{Rng, splitmix64};
use super::vocab::*;
use super::world::{Account, ID_BASE, World, WorldError, id_for_time};
use crate::timestamp::Timestamp;

const DAY: i64 = 86_400;
/// Host used inside generated link objects (clients only read the last path segment).
pub const LINK_BASE: &str = "https://api.au1.cliniko.com/v1";

fn link(path: impl fmt::Display) -> Value {
    json!({ "links": { "self": format!("{LINK_BASE}/{path}") } })
}

fn ts(unix: i64) -> Value {
    Value::String(
        Timestamp::from_unix(unix)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    )
}

fn obj(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => Record::new(),
    }
}

/// Issues increasing 19-digit ids that follow creation time.
struct Ids {
    last: u64,
    rng: Rng,
}

impl Ids {
    fn next(&mut self, created_unix: i64) -> u64 {
        let t = Timestamp::from_unix(created_unix).unwrap_or_else(Timestamp::now);
        self.last = id_for_time(t, &mut self.rng)
            .max(self.last + 1)
            .max(ID_BASE);
        self.last
    }
}

/// Ids of the reference records appointments link to.
#[derive(Debug, Clone, Default)]
struct Refs {
    /// Active practitioners: every appointment can be with them.
    practitioners: Vec<u64>,
    /// Active and inactive practitioners: appointments long past can be with either.
    all_practitioners: Vec<u64>,
    businesses: Vec<u64>,
    /// Individual appointment types, `(id, minutes)`.
    types: Vec<(u64, i64)>,
}

/// Class types (more than one attendee) for group appointments:
/// `(name, category, minutes, max_attendees)`.
const GROUP_TYPES: &[(&str, &str, i64, i64)] = &[
    ("Clinical Pilates Class", "Pilates", 60, 8),
    ("Hydrotherapy Group", "Hydrotherapy", 45, 6),
];

/// Appointment type colours, by position.
const COLOURS: &[&str] = &[
    "#7ab8e0", "#e07a7a", "#8fd18f", "#e0c87a", "#b07ae0", "#7ae0d4", "#e0a07a", "#a0a0a0",
];

/// An appointment before this many days ago may be with a practitioner now inactive.
const FORMER_PRACTITIONER_DAYS: i64 = 180;

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn phone_numbers(rng: &mut Rng) -> Value {
    let mobile = |rng: &mut Rng| {
        let d = digits(rng, 8);
        json!({
            "number": format!("04{} {} {}", &d[..2], &d[2..5], &d[5..]),
            "normalized_number": format!("614{d}"),
            "phone_type": "Mobile",
        })
    };
    let home = |rng: &mut Rng| {
        let d = digits(rng, 8);
        json!({
            "number": format!("(03) {} {}", &d[..4], &d[4..]),
            "normalized_number": format!("613{d}"),
            "phone_type": "Home",
        })
    };
    let roll = rng.below(100);
    Value::Array(match roll {
        0..15 => vec![],
        15..65 => vec![mobile(rng)],
        65..85 => vec![mobile(rng), home(rng)],
        85..95 => vec![home(rng)],
        _ => {
            let d = digits(rng, 8);
            vec![
                mobile(rng),
                json!({"number": format!("02 {d}"), "normalized_number": format!("612{d}"), "phone_type": "Work"}),
            ]
        }
    })
}

/// One patient created at `created` and last updated at `updated` (UNIX seconds).
fn patient(rng: &mut Rng, id: u64, created: i64, updated: i64) -> Record {
    let first = *rng.pick(FIRST_NAMES).unwrap_or(&"Alex");
    let last = *rng.pick(LAST_NAMES).unwrap_or(&"Smith");
    let (city, state, post_code, tz) = *rng.pick(CITIES).unwrap_or(&CITIES[0]);
    let email = if rng.chance(0.85) {
        let ascii = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        };
        let local = format!("{}.{}", ascii(first), ascii(last));
        json!(format!(
            "{local}{}@{}",
            rng.below(1000),
            rng.pick(DOMAINS).unwrap_or(&"example.com")
        ))
    } else {
        Value::Null
    };
    let dob = if rng.chance(0.95) {
        json!(format!(
            "{}-{:02}-{:02}",
            rng.range_i64(1940, 2020),
            rng.range_i64(1, 12),
            rng.range_i64(1, 28)
        ))
    } else {
        Value::Null
    };
    let title = *rng
        .pick(&["Mr", "Ms", "Mrs", "Dr", "Mx", ""])
        .unwrap_or(&"");
    let sex = *rng
        .pick(&["Male", "Female", "Female", "Male", "Intersex", ""])
        .unwrap_or(&"");
    let preferred = if rng.chance(0.1) {
        json!(first.chars().take(3).collect::<String>())
    } else {
        Value::Null
    };
    let street_no = rng.range_i64(1, 300);
    let street = *rng.pick(STREETS).unwrap_or(&"George Street");
    let mut rec = obj(json!({
        "id": id.to_string(),
        "created_at": ts(created),
        "updated_at": ts(updated),
        "archived_at": null,
        "deleted_at": null,
        "merged_at": null,
        "title": title,
        "first_name": first,
        "last_name": last,
        "preferred_first_name": preferred,
        "label": format!("{first} {last}"),
        "email": email,
        "date_of_birth": dob,
        "sex": sex,
        "gender_identity": null,
        "pronouns": null,
        "address_1": format!("{street_no} {street}"),
        "address_2": if rng.chance(0.2) { json!(format!("Unit {}", rng.range_i64(1, 40))) } else { json!("") },
        "address_3": "",
        "city": city,
        "state": state,
        "post_code": post_code,
        "country": "Australia",
        "country_code": "AU",
        "time_zone": tz,
    }));
    // Split in two: one `json!` this size exceeds the macro recursion limit.
    rec.extend(obj(json!({
        "patient_phone_numbers": phone_numbers(rng),
        "notes": if rng.chance(0.1) { json!("Prefers afternoon appointments.") } else { json!("") },
        "appointment_notes": null,
        "occupation": rng.pick(OCCUPATIONS).copied().unwrap_or(""),
        "emergency_contact": "",
        "medicare": if rng.chance(0.6) { json!(digits(rng, 10)) } else { json!("") },
        "medicare_reference_number": if rng.chance(0.6) { json!(rng.range_i64(1, 9).to_string()) } else { json!("") },
        "dva_card_number": null,
        "old_reference_id": if rng.chance(0.05) { json!(format!("LEG-{}", rng.below(100_000))) } else { json!("") },
        "referral_source": rng.pick(REFERRALS).copied().unwrap_or(""),
        "reminder_type": *rng.pick(&["SMS & Email", "SMS", "Email", "None"]).unwrap_or(&"SMS"),
        "receives_confirmation_emails": rng.chance(0.8),
        "accepted_privacy_policy": if rng.chance(0.7) { json!(true) } else { Value::Null },
        "accepted_email_marketing": rng.chance(0.3),
        "accepted_sms_marketing": rng.chance(0.2),
        "invoice_default_to": null,
        "invoice_email": null,
        "invoice_extra_information": null,
        "custom_fields": null,
        "appointments": link(format!("patients/{id}/appointments")),
        "attendees": link(format!("patients/{id}/attendees")),
        "concession_type": null,
        "invoices": link(format!("patients/{id}/invoices")),
        "latest_booking": null,
        "medical_alerts": link(format!("patients/{id}/medical_alerts")),
        "merged_with_patient": null,
        "patient_attachments": link(format!("patients/{id}/attachments")),
        "referring_doctor": null,
        "links": { "self": format!("{LINK_BASE}/patients/{id}") },
    })));
    rec
}

/// What an appointment needs to know about its patient.
struct PatientRef {
    id: u64,
    created: i64,
    name: String,
}

impl PatientRef {
    fn of(rec: &Record) -> PatientRef {
        let text = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        PatientRef {
            id: record::id_of(rec).unwrap_or(0),
            created: record::unix_of(rec, "created_at").unwrap_or(0),
            name: format!("{} {}", text("first_name"), text("last_name"))
                .trim()
                .to_string(),
        }
    }
}

/// Timestamps and type of one appointment, chosen together so they are consistent.
struct ApptTimes {
    created: i64,
    updated: i64,
    starts: i64,
    minutes: i64,
    /// The appointment type (one of [`Refs::types`]).
    type_id: u64,
}

fn appointment(
    rng: &mut Rng,
    id: u64,
    patient: &PatientRef,
    refs: &Refs,
    t: &ApptTimes,
    now: i64,
) -> Record {
    let pid = patient.id;
    let practitioners = if t.starts < now - FORMER_PRACTITIONER_DAYS * DAY {
        &refs.all_practitioners
    } else {
        &refs.practitioners
    };
    let prac = rng.pick(practitioners).copied().unwrap_or(0);
    let biz = rng.pick(&refs.businesses).copied().unwrap_or(0);
    let typ = t.type_id;
    let past = t.starts + t.minutes * 60 < now;
    let name = &patient.name;
    obj(json!({
        "id": id.to_string(),
        "created_at": ts(t.created),
        "updated_at": ts(t.updated),
        "starts_at": ts(t.starts),
        "ends_at": ts(t.starts + t.minutes * 60),
        "archived_at": null,
        "cancelled_at": null,
        "deleted_at": null,
        "cancellation_reason": null,
        "cancellation_reason_description": null,
        "cancellation_note": null,
        "did_not_arrive": past && rng.chance(0.03),
        "patient_arrived": past && rng.chance(0.9),
        "email_reminder_sent": past || rng.chance(0.3),
        "sms_reminder_sent": past || rng.chance(0.3),
        "online_booking_policy_accepted": null,
        "has_patient_appointment_notes": false,
        "invoice_status": if past { json!(*rng.pick(&[1, 2, 3]).unwrap_or(&1)) } else { Value::Null },
        "treatment_note_status": if past { json!(*rng.pick(&[0, 1, 2]).unwrap_or(&0)) } else { Value::Null },
        "notes": if rng.chance(0.05) { json!("Running 5 min late") } else { Value::Null },
        "patient_name": name,
        "booking_ip_address": null,
        "telehealth_url": null,
        "repeat_rule": null,
        "patient": link(format!("patients/{pid}")),
        "practitioner": link(format!("practitioners/{prac}")),
        "business": link(format!("businesses/{biz}")),
        "appointment_type": link(format!("appointment_types/{typ}")),
        "attendees": link(format!("individual_appointments/{id}/attendees")),
        "conflicts": link(format!("individual_appointments/{id}/conflicts")),
        "patient_case": null,
        "repeated_from": null,
        "repeats": link(format!("individual_appointments?q[]=repeated_from_id:={id}")),
        "links": { "self": format!("{LINK_BASE}/individual_appointments/{id}") },
    }))
}

/// A time between `lo` and `hi` (inclusive; `lo` when `hi < lo`).
fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range_i64(lo, hi.max(lo))
}

/// An `updated_at` for a record created at `created`: often untouched, else edited later.
fn updated_after(rng: &mut Rng, created: i64, now: i64) -> i64 {
    if rng.chance(0.4) {
        created
    } else {
        between(rng, created, now)
    }
}

/// Reference data: businesses, practitioners (one inactive), appointment types, the user.
fn reference(rng: &mut Rng, ids: &mut Ids, acc: &mut Account, now: i64) -> Refs {
    let mut refs = Refs::default();
    let old = |rng: &mut Rng| now - 365 * DAY - between(rng, 0, 600 * DAY);
    let user_created = old(rng);
    let user_id = ids.next(user_created);
    let user = obj(json!({
        "id": user_id.to_string(),
        "title": "",
        "first_name": "Practice",
        "last_name": "Manager",
        "email": format!("manager{}@example.com", rng.below(10_000)),
        "role": "administrator",
        "time_zone": "Sydney",
        "user_active": true,
        "created_at": ts(user_created),
        "updated_at": ts(between(rng, user_created, now)),
        "links": { "self": format!("{LINK_BASE}/users/{user_id}") },
    }));
    acc.user = user.clone();
    acc.collection_mut("users").put(user);
    for name in BUSINESSES.iter().take(1 + rng.index(3)) {
        let created = old(rng);
        let id = ids.next(created);
        refs.businesses.push(id);
        let (city, state, post_code, tz) = *rng.pick(CITIES).unwrap_or(&CITIES[0]);
        acc.collection_mut("businesses").put(obj(json!({
            "id": id.to_string(),
            "business_name": name,
            "display_name": name,
            "label": name,
            "address_1": format!("{} {}", rng.range_i64(1, 200), rng.pick(STREETS).unwrap_or(&"")),
            "city": city, "state": state, "post_code": post_code,
            "country": "Australia", "country_code": "AU",
            "time_zone": tz, "time_zone_identifier": tz,
            "show_in_online_bookings": true,
            "appointment_type_ids": [],
            "archived_at": null, "deleted_at": null,
            "created_at": ts(created), "updated_at": ts(between(rng, created, now)),
            "links": { "self": format!("{LINK_BASE}/businesses/{id}") },
        })));
    }
    for (i, (name, category, minutes, max)) in APPOINTMENT_TYPES.iter().enumerate() {
        let created = old(rng);
        let id = ids.next(created);
        refs.types.push((id, *minutes));
        acc.collection_mut("appointment_types").put(obj(json!({
            "id": id.to_string(),
            "name": name, "category": category, "color": COLOURS[i % COLOURS.len()],
            "description": "", "duration_in_minutes": minutes, "max_attendees": max,
            "online_payments_mode": "no_payment", "show_in_online_bookings": true,
            "appointment_confirmation_template_ids": [], "appointment_reminder_template_ids": [],
            "archived_at": null,
            "created_at": ts(created), "updated_at": ts(between(rng, created, now)),
            "links": { "self": format!("{LINK_BASE}/appointment_types/{id}") },
        })));
    }
    let type_ids: Vec<String> = refs.types.iter().map(|t| t.0.to_string()).collect();
    for b in &refs.businesses {
        acc.collection_mut("businesses").modify(*b, |r| {
            r.insert("appointment_type_ids".into(), json!(type_ids));
        });
    }
    let n = 3 + rng.index(5);
    for i in 0..n {
        let created = old(rng);
        let id = ids.next(created);
        let active = i + 1 < n;
        if active {
            refs.practitioners.push(id);
        }
        refs.all_practitioners.push(id);
        let first = *rng.pick(FIRST_NAMES).unwrap_or(&"Sam");
        let last = *rng.pick(LAST_NAMES).unwrap_or(&"Lee");
        let designation = *rng.pick(DESIGNATIONS).unwrap_or(&"Physiotherapist");
        acc.collection_mut("practitioners").put(obj(json!({
            "id": id.to_string(),
            "first_name": first, "last_name": last, "title": "",
            "display_name": format!("{first} {last}"), "label": format!("{first} {last}"),
            "designation": designation, "description": "",
            "active": active, "show_in_online_bookings": active,
            "created_at": ts(created), "updated_at": ts(between(rng, created, now)),
            "user": link(format!("users/{}", ID_BASE + rng.below(1_000_000_000))),
            "default_appointment_type": link(format!("appointment_types/{}", refs.types.first().map_or(0, |t| t.0))),
            "appointments": link(format!("practitioners/{id}/appointments")),
            "links": { "self": format!("{LINK_BASE}/practitioners/{id}") },
        })));
    }
    refs
}

/// A realistic account: `patients` patients with `appointments_per_patient` individual
/// appointments each, plus practitioners, businesses, appointment types and a user.
/// Timestamps spread over the year before `now`; deterministic for a `seed`.
pub fn account(
    seed: u64,
    patients: usize,
    appointments_per_patient: usize,
    now: Timestamp,
) -> Account {
    let mut rng = Rng::new(seed);
    let now = now.unix();
    let mut ids = Ids {
        last: 0,
        rng: Rng::new(splitmix64(seed ^ 0x1d5)),
    };
    let mut acc = Account::new(format!("org_{}", seed % 1000));
    let refs = reference(&mut rng, &mut ids, &mut acc, now);

    // Patients, created in time order so ids and insertion order follow creation.
    let mut created: Vec<i64> = (0..patients)
        .map(|_| now - between(&mut rng, 0, 365 * DAY))
        .collect();
    created.sort_unstable();
    let mut pats = Vec::with_capacity(patients);
    let pc = acc.collection_mut("patients");
    pc.begin_bulk();
    for c in created {
        let id = ids.next(c);
        let updated = updated_after(&mut rng, c, now);
        let mut p = patient(&mut rng, id, c, updated);
        if rng.chance(0.03) {
            let at = between(&mut rng, c, now);
            p.insert("archived_at".into(), ts(at));
            p.insert("updated_at".into(), ts(at.max(updated)));
        }
        pats.push(PatientRef::of(&p));
        pc.put(p);
    }
    pc.end_bulk();

    // Appointments: starts from a year ago to 60 days ahead, on the quarter hour.
    let mut appts: Vec<(ApptTimes, usize)> =
        Vec::with_capacity(patients * appointments_per_patient);
    for (pi, p) in pats.iter().enumerate() {
        let p_created = p.created;
        for _ in 0..appointments_per_patient {
            let day = between(
                &mut rng,
                (p_created - 7 * DAY).max(now - 365 * DAY),
                now + 60 * DAY,
            ) / DAY;
            let starts = day * DAY + between(&mut rng, 28, 72) * 900 - 10 * 3600;
            let (type_id, minutes) = refs
                .types
                .get(rng.index(refs.types.len()))
                .copied()
                .unwrap_or((0, 30));
            // Booked up to three weeks ahead; future ones were booked in the last month.
            let mut created = starts - between(&mut rng, 0, 21 * DAY);
            if created > now {
                created = now - between(&mut rng, 0, 30 * DAY);
            }
            let soon_after_patient = p_created + between(&mut rng, 0, 3600.min(now - p_created));
            let created = created.max(soon_after_patient).min(now);
            let updated = if starts < now && rng.chance(0.7) {
                between(&mut rng, (starts + minutes * 60).min(now).max(created), now)
            } else {
                updated_after(&mut rng, created, now)
            };
            appts.push((
                ApptTimes {
                    created,
                    updated,
                    starts,
                    minutes,
                    type_id,
                },
                pi,
            ));
        }
    }
    appts.sort_by_key(|(t, _)| t.created);

    let mut billable = Vec::new();
    let ac = acc.collection_mut("individual_appointments");
    ac.begin_bulk();
    for (t, pi) in &appts {
        let id = ids.next(t.created);
        let mut a = appointment(&mut rng, id, &pats[*pi], &refs, t, now);
        let mut updated = t.updated;
        if rng.chance(0.04) {
            let at = between(&mut rng, t.created, t.starts.min(now));
            let code = *rng.pick(&[10, 20, 30, 31, 40, 50, 60]).unwrap_or(&50);
            a.insert("cancelled_at".into(), ts(at));
            a.insert("cancellation_reason".into(), json!(code));
            a.insert(
                "cancellation_reason_description".into(),
                json!(super::world::reason_text(code)),
            );
            updated = updated.max(at);
        }
        if rng.chance(0.02) {
            let at = between(&mut rng, t.created, now);
            a.insert("archived_at".into(), ts(at));
            updated = updated.max(at);
        }
        a.insert("updated_at".into(), ts(updated));
        let ended = t.starts + t.minutes * 60;
        if ended < now && ended >= now - INVOICE_DAYS * DAY && record::flags(&a) == 0 {
            billable.push(Billable::of(&a, t));
        }
        ac.put(a);
    }
    ac.end_bulk();
    // Classes and invoices come from their own random stream, so adding them left the
    // patients and individual appointments of every seed unchanged.
    let mut extra = Rng::new(splitmix64(seed ^ 0x6a0));
    classes(&mut extra, &mut ids, &mut acc, &refs, &pats, now);
    invoices(&mut extra, &mut ids, &mut acc, &billable, now);
    // The other opt-in resources, from a stream of their own again.
    let mut more = Rng::new(splitmix64(seed ^ 0x9c3));
    extra::generate(&mut more, &mut ids, &mut acc, &refs, &pats, now);
    for name in ["group_appointments", "attendees", "bookings", "invoices"] {
        acc.collection_mut(name);
    }
    acc
}

/// Invoices are generated for appointments that ended within this many days.
const INVOICE_DAYS: i64 = 60;

/// What an invoice needs from the appointment it bills.
struct Billable {
    id: String,
    patient: Value,
    practitioner: Value,
    business: Value,
    ended: i64,
    minutes: i64,
}

impl Billable {
    fn of(a: &Record, t: &ApptTimes) -> Billable {
        let get = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
        Billable {
            id: a
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_string(),
            patient: get("patient"),
            practitioner: get("practitioner"),
            business: get("business"),
            ended: t.starts + t.minutes * 60,
            minutes: t.minutes,
        }
    }
}

/// Class types, weekly-ish group appointments over the last four months and the next
/// month, and their attendees (patients of the account; a few cancelled).
fn classes(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    refs: &Refs,
    pats: &[PatientRef],
    now: i64,
) {
    if pats.is_empty() || refs.practitioners.is_empty() {
        return;
    }
    let mut types = Vec::new();
    for (i, (name, category, minutes, max)) in GROUP_TYPES.iter().enumerate() {
        let created = now - 400 * DAY - between(rng, 0, 300 * DAY);
        let id = ids.next(created);
        types.push((id, *minutes, *max));
        acc.collection_mut("appointment_types").put(obj(json!({
            "id": id.to_string(),
            "name": name, "category": category,
            "color": COLOURS[(APPOINTMENT_TYPES.len() + i) % COLOURS.len()],
            "description": "", "duration_in_minutes": minutes, "max_attendees": max,
            "online_payments_mode": "no_payment", "show_in_online_bookings": true,
            "appointment_confirmation_template_ids": [], "appointment_reminder_template_ids": [],
            "archived_at": null,
            "created_at": ts(created), "updated_at": ts(created),
            "links": { "self": format!("{LINK_BASE}/appointment_types/{id}") },
        })));
    }
    let count = (pats.len() / 25).max(1);
    let mut starts: Vec<i64> = (0..count)
        .map(|_| {
            let day = between(rng, now / DAY - 120, now / DAY + 30);
            day * DAY + between(rng, 7, 19) * 3600 - 10 * 3600
        })
        .collect();
    starts.sort_unstable();
    let mut group = Vec::new();
    let mut attendees = Vec::new();
    for start in starts {
        let (type_id, minutes, max) = types[rng.index(types.len())];
        let created = (start - between(rng, 7 * DAY, 28 * DAY)).min(now);
        let id = ids.next(created);
        let prac = rng.pick(&refs.practitioners).copied().unwrap_or(0);
        let biz = rng.pick(&refs.businesses).copied().unwrap_or(0);
        let past = start + minutes * 60 < now;
        let mut patient_ids = Vec::new();
        for _ in 0..between(rng, 2, max) {
            let p = &pats[rng.index(pats.len())];
            if patient_ids.contains(&p.id.to_string()) {
                continue;
            }
            patient_ids.push(p.id.to_string());
            let at_created = created.max(p.created).min(now);
            let att_id = ids.next(at_created);
            let cancelled = rng
                .chance(0.08)
                .then(|| between(rng, at_created, start.min(now)));
            let mut updated = if past {
                between(rng, (start + minutes * 60).min(now), now)
            } else {
                at_created
            };
            if let Some(c) = cancelled {
                updated = updated.max(c);
            }
            attendees.push(obj(json!({
                "id": att_id.to_string(),
                "created_at": ts(at_created),
                "updated_at": ts(updated),
                "arrived": if past && cancelled.is_none() { json!(rng.chance(0.9)) } else { Value::Null },
                "archived_at": null,
                "deleted_at": null,
                "cancelled_at": cancelled.map_or(Value::Null, ts),
                "cancellation_reason": cancelled.map(|_| json!(50)).unwrap_or(Value::Null),
                "cancellation_reason_description": if cancelled.is_some() { json!("Other") } else { json!("") },
                "cancellation_note": null,
                "notes": null,
                "booking": link(format!("bookings/{id}")),
                "appointment": link(format!("group_appointments/{id}")),
                "patient": link(format!("patients/{}", p.id)),
                "invoices": link(format!("attendees/{att_id}/invoices")),
                "links": { "self": format!("{LINK_BASE}/attendees/{att_id}") },
            })));
        }
        let updated = if past {
            between(rng, (start + minutes * 60).min(now), now)
        } else {
            created
        };
        group.push(obj(json!({
            "id": id.to_string(),
            "created_at": ts(created),
            "updated_at": ts(updated),
            "starts_at": ts(start),
            "ends_at": ts(start + minutes * 60),
            "archived_at": null,
            "deleted_at": null,
            "max_attendees": max,
            "notes": null,
            "patient_ids": patient_ids,
            "repeat_rule": null,
            "repeats": null,
            "appointment_type": link(format!("appointment_types/{type_id}")),
            "business": link(format!("businesses/{biz}")),
            "practitioner": link(format!("practitioners/{prac}")),
            "attendees": link(format!("group_appointments/{id}/attendees")),
            "conflicts": link(format!("group_appointments/{id}/conflicts")),
            "links": { "self": format!("{LINK_BASE}/group_appointments/{id}") },
        })));
    }
    let gc = acc.collection_mut("group_appointments");
    for g in group {
        gc.put(g);
    }
    let ac = acc.collection_mut("attendees");
    for a in attendees {
        ac.put(a);
    }
}

/// Invoices for most appointments that ended in the last [`INVOICE_DAYS`] days: issued
/// when the appointment ended, most of them paid (closed) since.
fn invoices(rng: &mut Rng, ids: &mut Ids, acc: &mut Account, billable: &[Billable], now: i64) {
    let ic = acc.collection_mut("invoices");
    let mut number = 1000;
    for b in billable {
        if !rng.chance(0.8) {
            continue;
        }
        number += 1;
        let created = b.ended.min(now);
        let id = ids.next(created);
        let closed = rng.chance(0.75).then(|| between(rng, created, now));
        let amount = 40 + b.minutes * 2;
        let date = Timestamp::from_unix(b.ended)
            .map(|t| t.to_string()[..10].to_string())
            .unwrap_or_default();
        ic.put(obj(json!({
            "id": id.to_string(),
            "number": number,
            "issue_date": date,
            "status": if closed.is_some() { 20 } else { 10 },
            "status_description": if closed.is_some() { "Closed" } else { "Open" },
            "total_amount": format!("{amount}.0"),
            "net_amount": format!("{amount}.0"),
            "tax_amount": "0.0",
            "discounted_amount": "0.0",
            "notes": "",
            "created_at": ts(created),
            "updated_at": ts(closed.unwrap_or(created)),
            "archived_at": null,
            "deleted_at": null,
            "closed_at": closed.map_or(Value::Null, ts),
            "appointment": link(format!("appointments/{}", b.id)),
            "business": b.business,
            "practitioner": b.practitioner,
            "patient": b.patient,
            "links": { "self": format!("{LINK_BASE}/invoices/{id}") },
        })));
    }
}

const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SHARDS: &[&str] = &["au1", "au2", "au3", "uk1", "ca1", "eu1"];

/// A plausible Cliniko API key: 44 base64-ish characters plus a `-shard` suffix.
pub fn api_key(rng: &mut Rng, shard: &str) -> String {
    let body: String = (0..44)
        .map(|_| char::from(KEY_CHARS[rng.index(KEY_CHARS.len())]))
        .collect();
    format!("{body}-{shard}")
}

/// What [`World::apply_random_changes`] did (ids of the records touched).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Patients created.
    pub new_patients: Vec<String>,
    /// Patients edited.
    pub edited_patients: Vec<String>,
    /// Patients archived.
    pub archived_patients: Vec<String>,
    /// Appointments cancelled.
    pub cancelled_appointments: Vec<String>,
    /// Appointments created.
    pub new_appointments: Vec<String>,
}

impl Changes {
    /// Number of records changed or created.
    pub fn total(&self) -> usize {
        self.new_patients.len()
            + self.edited_patients.len()
            + self.archived_patients.len()
            + self.cancelled_appointments.len()
            + self.new_appointments.len()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} new patients, {} edited, {} archived; {} new appointments, {} cancelled",
            self.new_patients.len(),
            self.edited_patients.len(),
            self.archived_patients.len(),
            self.new_appointments.len(),
            self.cancelled_appointments.len()
        )
    }
}

/// Ids of the records of `resource` passing `keep`, ascending.
fn ids_where(w: &World, key: &str, resource: &str, keep: impl Fn(&Stored) -> bool) -> Vec<u64> {
    let Some(c) = w.account(key).and_then(|a| a.collection(resource)) else {
        return Vec::new();
    };
    let mut v: Vec<u64> = c
        .iter()
        .filter(|(_, s)| keep(s))
        .map(|(id, _)| id)
        .collect();
    v.sort_unstable();
    v
}

impl World {
    /// A world of `orgs` generated accounts and their `(org_id, api_key)` pairs
    /// (`org_1`, `org_2`, …). Deterministic for a seed, apart from the clock (`now`).
    pub fn demo(
        orgs: usize,
        patients: usize,
        appointments_per_patient: usize,
        seed: u64,
    ) -> (World, Vec<(String, String)>) {
        let mut world = World::new();
        let now = world.now();
        let mut rng = Rng::new(seed);
        let mut pairs = Vec::with_capacity(orgs);
        for i in 0..orgs {
            let org_id = format!("org_{}", i + 1);
            let key = api_key(&mut rng, SHARDS[i % SHARDS.len()]);
            let mut acc = account(
                splitmix64(seed.wrapping_add(i as u64)),
                patients,
                appointments_per_patient,
                now,
            );
            acc.org_id = org_id.clone();
            world.add_account(key.clone(), acc);
            pairs.push((org_id, key));
        }
        (world, pairs)
    }

    /// Applies about `n` changes to `key`'s account as a clinic would between two syncs:
    /// some new patients (about a third of `n`, at least one), the rest edits of existing
    /// patients, plus one patient archived, one appointment cancelled and one new
    /// appointment. Every change has `updated_at` = [`World::now`].
    pub fn apply_random_changes(
        &mut self,
        key: &str,
        n: usize,
        seed: u64,
    ) -> Result<Changes, WorldError> {
        if self.account(key).is_none() {
            return Err(WorldError::UnknownKey);
        }
        let mut rng = Rng::new(seed);
        let mut ch = Changes::default();
        let now = self.now().unix();
        let new_count = (n / 3).max(1);
        for _ in 0..new_count {
            let id = self.new_id();
            let p = patient(&mut rng, id, now, now);
            ch.new_patients.push(self.insert(key, "patients", p)?);
        }
        let visible = ids_where(self, key, "patients", |s| s.flags == 0);
        let existing: Vec<u64> = visible
            .iter()
            .copied()
            .filter(|id| !ch.new_patients.contains(&id.to_string()))
            .collect();
        let mut pool = existing.clone();
        rng.shuffle(&mut pool);
        for id in pool
            .iter()
            .take(n.saturating_sub(new_count))
            .map(u64::to_string)
        {
            let phone = phone_numbers(&mut rng);
            let street = rng.pick(STREETS).copied().unwrap_or("George Street");
            let no = rng.range_i64(1, 300);
            let which = rng.below(3);
            self.update(key, "patients", &id, |r| match which {
                0 => {
                    r.insert("patient_phone_numbers".into(), phone);
                }
                1 => {
                    r.insert("address_1".into(), json!(format!("{no} {street}")));
                }
                _ => {
                    r.insert("notes".into(), json!(format!("Updated note {no}")));
                }
            })?;
            ch.edited_patients.push(id);
        }
        let archivable: Vec<u64> = existing
            .iter()
            .copied()
            .filter(|id| !ch.edited_patients.contains(&id.to_string()))
            .collect();
        if let Some(id) = rng.pick(&archivable).map(u64::to_string) {
            self.archive(key, "patients", &id)?;
            ch.archived_patients.push(id);
        }
        let appts = ids_where(self, key, "individual_appointments", |s| s.flags == 0);
        if let Some(id) = rng.pick(&appts).map(u64::to_string) {
            let code = *rng.pick(&[10, 30, 40, 50]).unwrap_or(&50);
            self.cancel(key, "individual_appointments", &id, code)?;
            ch.cancelled_appointments.push(id);
        }
        let refs = self.refs(key);
        let patient_id = rng.pick(&visible).copied();
        if let Some(p) = patient_id.and_then(|id| self.record(key, "patients", &id.to_string())) {
            let starts = (now / 900 + 96 + rng.range_i64(0, 96 * 14)) * 900;
            let (type_id, minutes) = refs.types.first().copied().unwrap_or((0, 30));
            let id = self.new_id();
            let t = ApptTimes {
                created: now,
                updated: now,
                starts,
                minutes,
                type_id,
            };
            let a = appointment(&mut rng, id, &PatientRef::of(&p), &refs, &t, now);
            ch.new_appointments
                .push(self.insert(key, "individual_appointments", a)?);
        }
        Ok(ch)
    }

    fn refs(&self, key: &str) -> Refs {
        let active = |s: &Stored| s.flags == 0;
        let mut refs = Refs {
            practitioners: ids_where(self, key, "practitioners", active),
            all_practitioners: ids_where(self, key, "practitioners", |s| {
                s.flags & !record::FLAG_INACTIVE == 0
            }),
            businesses: ids_where(self, key, "businesses", active),
            types: Vec::new(),
        };
        for id in ids_where(self, key, "appointment_types", active) {
            let Some(r) = self.record(key, "appointment_types", &id.to_string()) else {
                continue;
            };
            let int = |k: &str| r.get(k).and_then(Value::as_i64);
            // Classes are not individual appointment types.
            if int("max_attendees").unwrap_or(1) > 1 {
                continue;
            }
            refs.types
                .push((id, int("duration_in_minutes").unwrap_or(30)));
        }
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Fields;

    #[test]
    fn generated_account_is_consistent_and_deterministic() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let a = account(7, 300, 3, now);
        let b = account(7, 300, 3, now);
        let pa = a.collection("patients").unwrap();
        assert_eq!(pa.len(), 300);
        let ap = a.collection("individual_appointments").unwrap();
        assert_eq!(ap.len(), 900);
        assert_eq!(
            pa.stored(pa.ids()[5]).map(|s| s.json.clone()),
            b.collection("patients")
                .unwrap()
                .stored(pa.ids()[5])
                .map(|s| s.json.clone())
        );
        let mut seconds = std::collections::HashSet::new();
        let (mut archived, mut cancelled) = (0, 0);
        for (id, s) in pa.iter().chain(ap.iter()) {
            assert_eq!(id.to_string().len(), 19);
            assert!(
                s.updated >= s.created && s.updated <= now.unix(),
                "{}",
                s.json
            );
            assert!(s.created >= now.unix() - 366 * DAY);
            seconds.insert(s.updated);
            archived += usize::from(s.flags & record::FLAG_ARCHIVED != 0);
            cancelled += usize::from(s.flags & record::FLAG_CANCELLED != 0);
        }
        assert!(seconds.len() > 1000, "{}", seconds.len());
        assert!((10..150).contains(&archived), "{archived}");
        assert!((10..100).contains(&cancelled), "{cancelled}");
        for (_, s) in ap.iter() {
            let rec = s.record();
            let starts = record::unix_of(&rec, "starts_at").unwrap();
            assert!(starts <= now.unix() + 61 * DAY && starts >= now.unix() - 367 * DAY);
            let pid = s.value("patient_id").unwrap();
            assert!(pa.get(pid.as_str().unwrap().parse().unwrap()).is_some());
        }
    }

    #[test]
    fn links_point_at_generated_records() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let a = account(3, 200, 3, now);
        let ids = |name: &str| -> std::collections::HashSet<String> {
            a.collection(name)
                .unwrap()
                .ids()
                .iter()
                .map(u64::to_string)
                .collect()
        };
        let (types, pracs, bizs, pats) = (
            ids("appointment_types"),
            ids("practitioners"),
            ids("businesses"),
            ids("patients"),
        );
        let link =
            |rec: &Record, name: &str| record::link_id(&rec[name]).map(str::to_string).unwrap();
        let mut used_types = std::collections::HashSet::new();
        let mut inactive_used = false;
        let inactive: Vec<String> = a
            .collection("practitioners")
            .unwrap()
            .iter()
            .filter(|(_, s)| s.flags & record::FLAG_INACTIVE != 0)
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(inactive.len(), 1);
        for (_, s) in a.collection("individual_appointments").unwrap().iter() {
            let r = s.record();
            assert!(types.contains(&link(&r, "appointment_type")));
            assert!(pracs.contains(&link(&r, "practitioner")));
            assert!(bizs.contains(&link(&r, "business")));
            used_types.insert(link(&r, "appointment_type"));
            inactive_used |= inactive.contains(&link(&r, "practitioner"));
        }
        assert_eq!(
            used_types.len(),
            APPOINTMENT_TYPES.len(),
            "every type is used"
        );
        assert!(
            inactive_used,
            "old appointments can be with a former practitioner"
        );
        let groups = ids("group_appointments");
        assert_eq!(groups.len(), 8);
        let attendees = a.collection("attendees").unwrap();
        assert!(attendees.len() >= 16);
        for (_, s) in attendees.iter() {
            let r = s.record();
            assert!(groups.contains(&link(&r, "booking")));
            assert!(pats.contains(&link(&r, "patient")));
        }
        for (_, s) in a.collection("group_appointments").unwrap().iter() {
            assert!(types.contains(&link(&s.record(), "appointment_type")));
        }
        let appts = ids("individual_appointments");
        let invoices = a.collection("invoices").unwrap();
        assert!(invoices.len() > 20, "{}", invoices.len());
        for (_, s) in invoices.iter() {
            assert!(appts.contains(&link(&s.record(), "appointment")));
        }
    }

    #[test]
    fn demo_and_random_changes() {
        let (mut w, orgs) = World::demo(2, 50, 2, 1);
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs[0].0, "org_1");
        assert!(orgs[0].1.ends_with("-au1") && orgs[1].1.ends_with("-au2"));
        let key = orgs[0].1.clone();
        let before = w.count(&key, "patients");
        let ch = w.apply_random_changes(&key, 6, 9).unwrap();
        assert_eq!(ch.new_patients.len(), 2);
        assert_eq!(ch.edited_patients.len(), 4);
        assert_eq!(
            (
                ch.archived_patients.len(),
                ch.cancelled_appointments.len(),
                ch.new_appointments.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(w.count(&key, "patients"), before + 2);
        let id = &ch.cancelled_appointments[0];
        assert!(!w.record(&key, "individual_appointments", id).unwrap()["cancelled_at"].is_null());
        assert!(ch.to_string().contains("2 new patients"));
    }
}
