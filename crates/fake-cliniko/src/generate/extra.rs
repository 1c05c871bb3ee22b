//! The opt-in resources beyond appointments and invoices: billing (products, billable
//! items, invoice items), schedules (daily availabilities, availability and unavailable
//! blocks) and what surrounds patients (contacts, patient cases, referral sources).
//! Each links to records the account already has, by link objects as Cliniko sends them.

use serde_json::{Number, Value, json};

use super::{DAY, Ids, LINK_BASE, PatientRef, Refs, between, link, obj, ts, updated_after};
use crate::record::{self, Record};
use crate::rng::Rng;
use crate::vocab::{APPOINTMENT_TYPES, CITIES, DOMAINS, FIRST_NAMES, LAST_NAMES, STREETS};
use crate::world::Account;

/// Products a clinic sells: `(name, item code, price including GST in cents, cost in cents)`.
const PRODUCTS: &[(&str, &str, i64, i64)] = &[
    ("Theraband (Red)", "TB-RED", 1250, 420),
    ("Heat Pack", "HP-01", 2495, 900),
    ("Foam Roller", "FR-90", 3900, 1550),
    ("Massage Ball", "MB-02", 995, 310),
    ("Knee Brace", "KB-M", 6400, 2800),
    ("Cold Pack", "CP-01", 1800, 640),
];

/// Third-party payers: `(company, occupation)`.
const PAYERS: &[&str] = &["WorkCover NSW", "TAC Victoria", "Bupa", "Medibank"];

/// What patient cases are called.
const CASE_NAMES: &[&str] = &[
    "Lower back pain",
    "Knee rehabilitation",
    "WorkCover claim",
    "Post-surgical shoulder",
    "Ankle sprain",
    "Neck pain after car accident",
];

/// Why practitioners are away.
const AWAY: &[&str] = &[
    "Annual leave",
    "Staff meeting",
    "Professional development",
    "Personal appointment",
];

/// Money in cents as Cliniko's decimal strings (`"24.95"`).
fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// Money in cents as a JSON number (the spec types some amounts as numbers).
fn money_number(cents: i64) -> Value {
    // Cents over 100 print as the shortest decimal that reads back the same: `24.95`.
    Number::from_f64(cents as f64 / 100.0).map_or(Value::Null, Value::Number)
}

fn date(unix: i64) -> Value {
    match ts(unix) {
        Value::String(s) => json!(s[..10].to_string()),
        other => other,
    }
}

/// A created time at least a year back and the `updated_at` after it.
fn old_times(rng: &mut Rng, now: i64) -> (i64, i64) {
    let created = now - 365 * DAY - between(rng, 0, 400 * DAY);
    (created, updated_after(rng, created, now))
}

/// A record created at `created`, with `id` and `self` link set, from `fields`.
fn record(kind: &str, id: u64, created: i64, updated: i64, fields: Value) -> Record {
    let mut r = obj(json!({
        "id": id.to_string(),
        "created_at": ts(created),
        "updated_at": ts(updated),
        "links": { "self": format!("{LINK_BASE}/{kind}/{id}") },
    }));
    r.extend(obj(fields));
    r
}

/// Archives `r` at a time after its creation, now and then (`updated_at` follows).
fn maybe_archive(rng: &mut Rng, r: &mut Record, p: f64, now: i64) {
    if !rng.chance(p) {
        return;
    }
    let created = record::unix_of(r, "created_at").unwrap_or(now);
    let updated = record::unix_of(r, "updated_at").unwrap_or(now);
    let at = between(rng, created, now);
    r.insert("archived_at".into(), ts(at));
    r.insert("updated_at".into(), ts(at.max(updated)));
}

fn put(acc: &mut Account, collection: &str, records: Vec<Record>) {
    let c = acc.collection_mut(collection);
    for r in records {
        c.put(r);
    }
}

/// Every opt-in resource of this module for one account.
pub(super) fn generate(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    refs: &Refs,
    pats: &[PatientRef],
    now: i64,
) {
    let tax = ids.next(now - 900 * DAY);
    let products = products(rng, ids, acc, tax, now);
    let billable = billable_items(rng, ids, acc, &products, tax, now);
    invoice_items(rng, ids, acc, &products, &billable, now);
    schedules(rng, ids, acc, refs, now);
    let contacts = contacts(rng, ids, acc, now);
    patient_cases(rng, ids, acc, pats, &contacts, now);
    referral_sources(rng, ids, acc, pats, &contacts, now);
}

/// A product on sale: its id, price including GST and price before it (cents).
struct Product {
    id: u64,
    name: &'static str,
    code: &'static str,
    including: i64,
    excluding: i64,
}

fn products(rng: &mut Rng, ids: &mut Ids, acc: &mut Account, tax: u64, now: i64) -> Vec<Product> {
    let mut out = Vec::new();
    let mut records = Vec::new();
    for (name, code, including, cost) in PRODUCTS.iter().take(3 + rng.index(4)) {
        let (created, updated) = old_times(rng, now);
        let id = ids.next(created);
        // GST is 10%: the price before it, to the cent.
        let excluding = (including * 10 + 5) / 11;
        let mut r = record(
            "products",
            id,
            created,
            updated,
            json!({
                "name": name, "item_code": code, "serial_number": null,
                "price_including_tax": money(*including), "price_ex_tax": money(excluding),
                "cost_price": money(*cost), "stock_level": rng.range_i64(0, 40),
                "notes": if rng.chance(0.3) { json!("Reorder at 5") } else { Value::Null },
                "product_supplier": null, "product_supplier_name": "Physio Supplies Co",
                "tax": link(format!("taxes/{tax}")),
                "archived_at": null,
            }),
        );
        maybe_archive(rng, &mut r, 0.15, now);
        records.push(r);
        out.push(Product {
            id,
            name,
            code,
            including: *including,
            excluding,
        });
    }
    put(acc, "products", records);
    out
}

/// The billable items invoices are made of: a service per appointment length, one item
/// per product and a fee. Returns `(service price in dollars, id)` and each product's.
struct Billable {
    services: Vec<(i64, u64)>,
    products: Vec<u64>,
}

fn billable_items(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    products: &[Product],
    tax: u64,
    now: i64,
) -> Billable {
    let mut records = Vec::new();
    let mut out = Billable {
        services: Vec::new(),
        products: Vec::new(),
    };
    let mut item = |rng: &mut Rng, name: &str, kind: &str, code: String, cents: i64| {
        let (created, updated) = old_times(rng, now);
        let id = ids.next(created);
        let mut r = record(
            "billable_items",
            id,
            created,
            updated,
            json!({
                "name": name, "item_type": kind, "item_code": code, "price": money(cents),
                "tax": if kind == "Product" { link(format!("taxes/{tax}")) } else { Value::Null },
                "archived_at": null,
            }),
        );
        maybe_archive(rng, &mut r, 0.05, now);
        records.push(r);
        id
    };
    for (name, _, minutes, _) in APPOINTMENT_TYPES {
        // The price invoices charge for an appointment of this length.
        let dollars = 40 + minutes * 2;
        let id = item(rng, name, "Service", format!("S{minutes}"), dollars * 100);
        out.services.push((dollars, id));
    }
    for p in products {
        out.products.push(item(
            rng,
            p.name,
            "Product",
            p.code.to_string(),
            p.excluding,
        ));
    }
    item(rng, "Late cancellation fee", "Other", "FEE".into(), 4500);
    put(acc, "billable_items", records);
    out
}

/// One or two items per invoice: the consultation, now and then a product sold with it
/// (its GST-inclusive amounts sent as JSON numbers, as the spec types them).
fn invoice_items(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    products: &[Product],
    billable: &Billable,
    now: i64,
) {
    let invoices: Vec<Record> = acc
        .collection("invoices")
        .map(|c| c.ids().into_iter().filter_map(|id| c.get(id)).collect())
        .unwrap_or_default();
    let mut records = Vec::new();
    for inv in invoices {
        let Some(invoice_id) = record::id_of(&inv) else {
            continue;
        };
        let created = record::unix_of(&inv, "created_at").unwrap_or(now);
        let updated = record::unix_of(&inv, "updated_at").unwrap_or(created);
        let dollars: i64 = inv
            .get("total_amount")
            .and_then(Value::as_str)
            .and_then(|a| a.split('.').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let service = billable
            .services
            .iter()
            .find(|(price, _)| *price == dollars)
            .or(billable.services.first())
            .map_or(0, |(_, id)| *id);
        let mut line = |item: Value| {
            let id = ids.next(created);
            let mut r = record("invoice_items", id, created, updated, item);
            r.extend(obj(json!({
                "invoice": link(format!("invoices/{invoice_id}")),
                "archived_at": null, "deleted_at": null,
                "concession_type_name": null, "is_monetary_discount": false,
                "discount_percentage": 0,
            })));
            records.push(r);
        };
        line(json!({
            "name": "Consultation", "code": format!("S{}", (dollars - 40) / 2),
            "quantity": 1, "unit_price": money(dollars * 100), "net_price": money(dollars * 100),
            "discounted_amount": money(dollars * 100), "tax_name": null,
            "tax_rate": 0, "tax_amount": 0, "total_including_tax": dollars,
            "product": null, "billable_item": link(format!("billable_items/{service}")),
        }));
        if !products.is_empty() && rng.chance(0.2) {
            let i = rng.index(products.len());
            let p = &products[i];
            let quantity = rng.range_i64(1, 2);
            let net = p.excluding * quantity;
            line(json!({
                "name": p.name, "code": p.code, "quantity": quantity,
                "unit_price": money(p.excluding), "net_price": money(net),
                "discounted_amount": money(net), "tax_name": "GST", "tax_rate": 10,
                "tax_amount": money_number(p.including * quantity - net),
                "total_including_tax": money_number(p.including * quantity),
                "product": link(format!("products/{}", p.id)),
                "billable_item": link(format!("billable_items/{}", billable.products[i])),
            }));
        }
    }
    put(acc, "invoice_items", records);
}

/// Weekly hours per practitioner at one business, extra sessions, and time away.
fn schedules(rng: &mut Rng, ids: &mut Ids, acc: &mut Account, refs: &Refs, now: i64) {
    let zone = |acc: &Account, business: u64| {
        acc.collection("businesses")
            .and_then(|c| c.get(business))
            .and_then(|b| {
                b.get("time_zone")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "Australia/Sydney".to_string())
    };
    let (mut daily, mut open, mut away) = (Vec::new(), Vec::new(), Vec::new());
    for prac in &refs.practitioners {
        let Some(biz) = rng.pick(&refs.businesses).copied() else {
            continue;
        };
        let tz = zone(acc, biz);
        let days = if rng.chance(0.3) { 1..=6 } else { 1..=5 };
        for day in days {
            let (created, updated) = old_times(rng, now);
            let id = ids.next(created);
            let hours = if day == 6 {
                json!([{"starts_at": "08:00", "ends_at": "12:00"}])
            } else {
                json!([{"starts_at": "08:30", "ends_at": "12:30"},
                       {"starts_at": "13:30", "ends_at": "17:30"}])
            };
            daily.push(record(
                "daily_availabilities",
                id,
                created,
                updated,
                json!({
                    "day_of_week": day, "availabilities": hours,
                    "time_zone": tz, "time_zone_identifier": tz,
                    "business": link(format!("businesses/{biz}")),
                    "practitioner": link(format!("practitioners/{prac}")),
                }),
            ));
        }
        let slot = |rng: &mut Rng, back: i64, ahead: i64| {
            let day = between(rng, now / DAY - back, now / DAY + ahead);
            day * DAY + between(rng, 7, 15) * 3600 - 10 * 3600
        };
        // Every account has at least three (tests delete one twice), whatever the draw.
        if open.len() < 3 || rng.chance(0.5) {
            let starts = slot(rng, 30, 30);
            let created = (starts - between(rng, DAY, 20 * DAY)).min(now);
            let id = ids.next(created);
            let repeat = if rng.chance(0.5) {
                json!({"repeat_type": "Weekly", "number_of_repeats": 4, "repeating_interval": 1})
            } else {
                Value::Null
            };
            open.push(record(
                "availability_blocks",
                id,
                created,
                updated_after(rng, created, now),
                json!({
                    "starts_at": ts(starts), "ends_at": ts(starts + 3 * 3600),
                    "repeat_rule": repeat,
                    "business": link(format!("businesses/{biz}")),
                    "practitioner": link(format!("practitioners/{prac}")),
                }),
            ));
        }
        for _ in 0..1 + rng.index(3) {
            let starts = slot(rng, 60, 60);
            let created = (starts - between(rng, DAY, 30 * DAY)).min(now);
            let id = ids.next(created);
            let hours = *rng.pick(&[1, 2, 8]).unwrap_or(&1);
            let mut r = record(
                "unavailable_blocks",
                id,
                created,
                updated_after(rng, created, now),
                json!({
                    "starts_at": ts(starts), "ends_at": ts(starts + hours * 3600),
                    "notes": rng.pick(AWAY).copied().unwrap_or("Away"),
                    "archived_at": null, "deleted_at": null, "repeat_rule": null,
                    "repeated_from": null, "repeats": null,
                    "conflicts": link(format!("unavailable_blocks/{id}/conflicts")),
                    "business": link(format!("businesses/{biz}")),
                    "practitioner": link(format!("practitioners/{prac}")),
                }),
            );
            maybe_archive(rng, &mut r, 0.1, now);
            away.push(r);
        }
    }
    put(acc, "daily_availabilities", daily);
    put(acc, "availability_blocks", open);
    put(acc, "unavailable_blocks", away);
}

/// An account's contacts: `(id, is a doctor)`.
fn contacts(rng: &mut Rng, ids: &mut Ids, acc: &mut Account, now: i64) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    let mut records = Vec::new();
    for i in 0..4 + rng.index(5) {
        let (created, updated) = old_times(rng, now);
        let id = ids.next(created);
        let doctor = i % 3 != 2;
        let first = *rng.pick(FIRST_NAMES).unwrap_or(&"Sam");
        let last = *rng.pick(LAST_NAMES).unwrap_or(&"Lee");
        let (city, state, post_code, _) = *rng.pick(CITIES).unwrap_or(&CITIES[0]);
        let digits: String = (0..8)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        let email = format!(
            "{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.pick(DOMAINS).unwrap_or(&"example.com")
        );
        let (kind, code, company) = if doctor {
            ("Doctor", 0, "Harbour Medical Centre")
        } else {
            ("3rd Party Payer", 1, *rng.pick(PAYERS).unwrap_or(&"Bupa"))
        };
        let mut r = record(
            "contacts",
            id,
            created,
            updated,
            json!({
                "title": if doctor { "Dr" } else { "" },
                "first_name": first, "last_name": last, "preferred_name": null,
                "company_name": company, "type": kind, "type_code": code,
                "doctor_type": if doctor { json!(*rng.pick(&["general_practitioner", "specialist"]).unwrap_or(&"general_practitioner")) } else { Value::Null },
                "occupation": if doctor { "General Practitioner" } else { "Claims officer" },
                "provider_number": if doctor { json!(format!("{}{}", &digits[..6], "A")) } else { Value::Null },
                "email": email,
                "phone_numbers": [{"number": format!("(02) {} {}", &digits[..4], &digits[4..]),
                                   "normalized_number": format!("612{digits}"), "phone_type": "Work"}],
                "address_1": format!("{} {}", rng.range_i64(1, 300), rng.pick(STREETS).unwrap_or(&"George Street")),
                "address_2": "", "address_3": "",
                "city": city, "state": state, "post_code": post_code,
                "country": "Australia", "country_code": "AU",
                "notes": if rng.chance(0.4) { json!("Prefers reports by fax") } else { Value::Null },
                "archived_at": null, "deleted_at": null,
            }),
        );
        maybe_archive(rng, &mut r, 0.1, now);
        records.push(r);
        out.push((id, doctor));
    }
    put(acc, "contacts", records);
    out
}

/// Cases (a course of treatment, often paid by a third party) for about one patient in
/// twelve.
fn patient_cases(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    pats: &[PatientRef],
    contacts: &[(u64, bool)],
    now: i64,
) {
    let mut records = Vec::new();
    for p in pats {
        if !rng.chance(0.08) {
            continue;
        }
        let created = between(rng, p.created, now);
        let id = ids.next(created);
        let contact = rng
            .pick(contacts)
            .filter(|_| rng.chance(0.5))
            .map_or(Value::Null, |(c, _)| link(format!("contacts/{c}")));
        let funded = !contact.is_null();
        let mut r = record(
            "patient_cases",
            id,
            created,
            updated_after(rng, created, now),
            json!({
                "name": rng.pick(CASE_NAMES).copied().unwrap_or("Treatment"),
                "notes": if rng.chance(0.5) { json!(format!("Referred for {} sessions.", rng.range_i64(4, 12))) } else { Value::Null },
                "issue_date": date(created),
                "expiry_date": if funded { date(created + 180 * DAY) } else { Value::Null },
                "max_sessions": if funded { json!(rng.range_i64(6, 20)) } else { Value::Null },
                "max_invoiceable_amount": if funded { json!(money(rng.range_i64(8, 30) * 10_000 + 50)) } else { Value::Null },
                "closed": rng.chance(0.3), "referral": funded,
                "referral_type": if funded && rng.chance(0.5) { json!("medicare") } else { Value::Null },
                "include_cancelled_attendees": false, "include_dna_attendees": false,
                "attendee_ids": [],
                "archived_at": null,
                "patient": link(format!("patients/{}", p.id)),
                "contact": contact,
                "attendees": link(format!("patient_cases/{id}/attendees")),
                "bookings": link(format!("patient_cases/{id}/bookings")),
                "invoices": link(format!("patient_cases/{id}/invoices")),
                "patient_attachments": link(format!("patient_cases/{id}/patient_attachments")),
            }),
        );
        maybe_archive(rng, &mut r, 0.05, now);
        records.push(r);
    }
    put(acc, "patient_cases", records);
}

/// How about one patient in five found the clinic: a doctor (a contact), another
/// patient, or a channel.
fn referral_sources(
    rng: &mut Rng,
    ids: &mut Ids,
    acc: &mut Account,
    pats: &[PatientRef],
    contacts: &[(u64, bool)],
    now: i64,
) {
    // The account's referral source types ("Doctor", "Friend or family", "Online").
    let types: Vec<u64> = (0..3).map(|_| ids.next(now - 800 * DAY)).collect();
    let doctors: Vec<u64> = contacts.iter().filter(|c| c.1).map(|c| c.0).collect();
    let mut records = Vec::new();
    for (i, p) in pats.iter().enumerate() {
        if !rng.chance(0.2) {
            continue;
        }
        let created = (p.created + between(rng, 0, 600)).min(now);
        let id = ids.next(created);
        let (kind, referrer, referrer_type, subcategory) = match rng.below(3) {
            0 if !doctors.is_empty() => {
                let d = doctors[rng.index(doctors.len())];
                (
                    0,
                    link(format!("contacts/{d}")),
                    json!("Contact"),
                    Value::Null,
                )
            }
            1 if i > 0 => {
                let other = pats[rng.index(i)].id;
                (
                    1,
                    link(format!("patients/{other}")),
                    json!("Patient"),
                    Value::Null,
                )
            }
            _ => {
                let channel = *rng
                    .pick(&["Google", "Instagram", "Walk-in"])
                    .unwrap_or(&"Google");
                (2, Value::Null, Value::Null, json!(channel))
            }
        };
        let mut r = record(
            "referral_sources",
            id,
            created,
            updated_after(rng, created, now),
            json!({
                "notes": if rng.chance(0.3) { json!("Mentioned at first visit") } else { Value::Null },
                "subcategory": subcategory,
                "referrer_type": referrer_type,
                "referrer": referrer,
                "referral_source_type": link(format!("referral_source_types/{}", types[kind])),
                "patient": link(format!("patients/{}", p.id)),
            }),
        );
        // A patient has one referral source, reached through the patient.
        r.insert(
            "links".into(),
            json!({ "self": format!("{LINK_BASE}/patients/{}/referral_source", p.id) }),
        );
        records.push(r);
    }
    put(acc, "referral_sources", records);
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::generate::account;
    use crate::record::{self, Record};
    use crate::timestamp::Timestamp;
    use crate::world::Account;

    fn ids(a: &Account, name: &str) -> HashSet<String> {
        a.collection(name)
            .unwrap()
            .ids()
            .iter()
            .map(u64::to_string)
            .collect()
    }

    fn records(a: &Account, name: &str) -> Vec<Record> {
        let c = a.collection(name).unwrap();
        c.ids().into_iter().filter_map(|id| c.get(id)).collect()
    }

    fn link(r: &Record, name: &str) -> Option<String> {
        r.get(name).and_then(record::link_id).map(str::to_string)
    }

    #[test]
    fn every_link_points_at_a_generated_record() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let a = account(3, 300, 3, now);
        let b = account(3, 300, 3, now);
        let mut archived = 0;
        for (name, links) in [
            ("products", &[][..]),
            ("billable_items", &[][..]),
            (
                "invoice_items",
                &[("invoice", "invoices"), ("billable_item", "billable_items")][..],
            ),
            (
                "daily_availabilities",
                &[
                    ("practitioner", "practitioners"),
                    ("business", "businesses"),
                ][..],
            ),
            (
                "availability_blocks",
                &[
                    ("practitioner", "practitioners"),
                    ("business", "businesses"),
                ][..],
            ),
            (
                "unavailable_blocks",
                &[
                    ("practitioner", "practitioners"),
                    ("business", "businesses"),
                ][..],
            ),
            ("contacts", &[][..]),
            ("patient_cases", &[("patient", "patients")][..]),
            ("referral_sources", &[("patient", "patients")][..]),
        ] {
            let all = records(&a, name);
            assert!(!all.is_empty(), "{name}");
            assert_eq!(all, records(&b, name), "{name}: deterministic");
            for r in &all {
                assert!(
                    record::unix_of(r, "updated_at") >= record::unix_of(r, "created_at"),
                    "{name}: {r:?}"
                );
                archived += usize::from(record::flags(r) & record::FLAG_ARCHIVED != 0);
                for (field, target) in links {
                    let id = link(r, field).unwrap_or_else(|| panic!("{name}.{field}"));
                    assert!(ids(&a, target).contains(&id), "{name}.{field} {id}");
                }
            }
        }
        assert!(archived > 0, "some archivable records are archived");
        let products = ids(&a, "products");
        let sold: Vec<String> = records(&a, "invoice_items")
            .iter()
            .filter_map(|r| link(r, "product"))
            .collect();
        assert!(!sold.is_empty() && sold.iter().all(|p| products.contains(p)));
        let (contacts, patients) = (ids(&a, "contacts"), ids(&a, "patients"));
        for r in records(&a, "patient_cases") {
            assert!(link(&r, "contact").is_none_or(|c| contacts.contains(&c)));
        }
        for r in records(&a, "referral_sources") {
            let known = match r["referrer_type"].as_str() {
                Some("Contact") => &contacts,
                Some("Patient") => &patients,
                _ => {
                    assert!(r["referrer"].is_null());
                    continue;
                }
            };
            assert!(known.contains(&link(&r, "referrer").unwrap()));
        }
    }
}
