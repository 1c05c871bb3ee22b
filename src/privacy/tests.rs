use serde_json::json;

use super::*;

fn paths(list: &[&str]) -> Vec<FieldPath> {
    list.iter().map(|p| FieldPath::parse(p).unwrap()).collect()
}

fn recommended(org: &str, secret: &str) -> OrgPolicy {
    let patients = ResourcePolicy {
        keep: None,
        drop: paths(&["medicare", "dva_card_number", "notes", "emergency_contact"]),
        hash: paths(&["email", "patient_phone_numbers[].number"]),
        year: paths(&["date_of_birth"]),
    };
    OrgPolicy::new(
        org,
        vec![(Resource::Patients, patients)],
        Some(HashSecret::new(secret)),
    )
}

fn patient() -> Map<String, Value> {
    let Value::Object(obj) = json!({
        "id": "1", "updated_at": "2024-01-01T00:00:00Z", "first_name": "Ann",
        "email": "ann@example.com", "date_of_birth": "1985-04-02", "medicare": "2123456701",
        "notes": "knee", "emergency_contact": "Bob 0400",
        "patient_phone_numbers": [{"number": "0400 111 222", "phone_type": "Mobile"}, "odd"],
    }) else {
        unreachable!()
    };
    obj
}

#[test]
fn drop_hash_and_year() {
    let policy = recommended("manly", "a secret of enough length");
    let mut rec = patient();
    assert!(policy.apply(Resource::Patients, &mut rec));
    for gone in ["medicare", "notes", "emergency_contact"] {
        assert!(!rec.contains_key(gone), "{gone}");
    }
    assert_eq!(rec["date_of_birth"], "1985");
    assert_eq!(rec["first_name"], "Ann");
    let email = rec["email"].as_str().unwrap();
    assert!(is_pseudonym(email), "{email}");
    assert_eq!(email, policy.pseudonym("ann@example.com"));
    let number = rec["patient_phone_numbers"][0]["number"].as_str().unwrap();
    assert_eq!(number, policy.pseudonym("0400 111 222"));
    assert_eq!(rec["patient_phone_numbers"][1], "odd");
    // Applying again to stored data changes nothing: nothing forbidden is left.
    let mut again = rec.clone();
    assert!(!policy.apply_stored(Resource::Patients, &mut again));
    assert_eq!(again, rec);
    // Other resources are untouched.
    let mut other = patient();
    assert!(!policy.apply(Resource::Appointments, &mut other));
}

#[test]
fn pseudonyms_are_keyed_by_secret_and_org() {
    let a = recommended("manly", "secret one, long enough");
    let b = recommended("bondi", "secret one, long enough");
    let c = recommended("manly", "secret two, long enough");
    let v = "ann@example.com";
    assert_ne!(a.pseudonym(v), b.pseudonym(v));
    assert_ne!(a.pseudonym(v), c.pseudonym(v));
    // HMAC-SHA256(key = secret, message = org id, NUL, value), checked independently
    // (RFC 4231 test case 2 style: key "Jefe").
    let jefe = OrgPolicy::new("what do ya want ", vec![], Some(HashSecret::new("Jefe")));
    // message = "what do ya want " + "\0" + "for nothing?" is not RFC's message, so compare
    // with a direct HMAC computation instead.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
    mac.update(b"what do ya want \0for nothing?");
    assert_eq!(
        jefe.pseudonym("for nothing?"),
        hex(&mac.finalize().into_bytes())
    );
}

#[test]
fn keep_is_an_allow_list_with_nested_paths() {
    let keep = ResourcePolicy {
        keep: Some(paths(&["first_name", "patient_phone_numbers[].phone_type"])),
        ..ResourcePolicy::default()
    };
    let policy = OrgPolicy::new("x", vec![(Resource::Patients, keep)], None);
    let mut rec = patient();
    rec.insert("added_by_cliniko_later".into(), json!("secret"));
    policy.apply(Resource::Patients, &mut rec);
    let keys: Vec<&str> = rec.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["first_name", "id", "patient_phone_numbers", "updated_at"]
    );
    assert_eq!(
        rec["patient_phone_numbers"],
        json!([{"phone_type": "Mobile"}])
    );
}

#[test]
fn year_never_keeps_an_odd_date() {
    for (input, out) in [
        (json!("1985-04-02"), json!("1985")),
        (json!("1985"), json!("1985")),
        (json!("02/04/1985"), Value::Null),
        (json!(""), json!("")),
        (Value::Null, Value::Null),
        (json!(1985), Value::Null),
    ] {
        let mut v = input.clone();
        year_value(&mut v);
        assert_eq!(v, out, "{input}");
    }
}

#[test]
fn fingerprint_changes_with_rules_and_secret_only() {
    let a = recommended("manly", "secret one, long enough");
    let same = recommended("manly", "secret one, long enough");
    let other_secret = recommended("manly", "secret two, long enough");
    let fa = a.fingerprint().unwrap();
    assert_eq!(fa.len(), 64);
    assert_eq!(Some(fa.clone()), same.fingerprint());
    assert_ne!(Some(fa.clone()), other_secret.fingerprint());
    // Any change of a rule is a new policy: a path added to each rule, or moved between
    // rules, or the same rules on another resource.
    let rules = a.for_resource(Resource::Patients).unwrap().clone();
    let with = |change: &dyn Fn(&mut ResourcePolicy)| {
        let mut p = rules.clone();
        change(&mut p);
        OrgPolicy::new("manly", vec![(Resource::Patients, p)], a.secret.clone())
            .fingerprint()
            .unwrap()
    };
    let occupation = || paths(&["occupation"]).remove(0);
    let changed = [
        with(&|p| p.drop.push(occupation())),
        with(&|p| p.hash.push(occupation())),
        with(&|p| p.year.push(occupation())),
        with(&|p| p.keep = Some(vec![occupation()])),
        with(&|p| {
            let email = p.hash.remove(0);
            p.drop.push(email);
        }),
        OrgPolicy::new(
            "manly",
            vec![(Resource::Appointments, rules.clone())],
            a.secret.clone(),
        )
        .fingerprint()
        .unwrap(),
    ];
    for (i, f) in changed.iter().enumerate() {
        assert_ne!(f, &fa, "change {i} kept the fingerprint");
    }
    // The secret enters only as a keyed digest: neither it nor its plain SHA-256 is in
    // the hashed text, so the fingerprint differs from one over the rules with either.
    let rules_text = a.rules_text().unwrap();
    let secret = "secret one, long enough";
    for plain in [secret.to_string(), hex(&Sha256::digest(secret.as_bytes()))] {
        let text = format!("routiq-sync privacy policy v1\n{rules_text}secret={plain}\n");
        assert_ne!(hex(&Sha256::digest(text.as_bytes())), fa);
    }
    assert!(!rules_text.contains(secret));
    assert_eq!(OrgPolicy::new("manly", vec![], None).fingerprint(), None);
    let no_secret = OrgPolicy {
        secret: None,
        ..recommended("manly", "x")
    };
    assert_eq!(no_secret.fingerprint(), None);
    assert_eq!(
        format!("{:?}", HashSecret::new("hunter2")),
        "HashSecret(<hidden>)"
    );
}
