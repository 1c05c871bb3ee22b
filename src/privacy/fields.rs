//! Checks a policy's paths against the fields Cliniko's API has for the resource
//! ([`Resource::api_fields`]): a misspelt or invented name would otherwise match nothing
//! and leave the field it meant stored.

use super::path::{FieldPath, Segment};
use crate::resource::Resource;

/// `Ok` when `path` names a field of `resource`'s records (a leaf, or an object or list
/// on the way to one); else why not, with the nearest valid name.
pub fn check(resource: Resource, path: &FieldPath) -> Result<(), String> {
    let leaves: Vec<FieldPath> = resource
        .api_fields()
        .iter()
        // The catalogue is written in the path syntax; its own test parses every entry.
        .filter_map(|leaf| FieldPath::parse(leaf).ok())
        .collect();
    let mut below: Vec<&[Segment]> = leaves.iter().map(|l| l.0.as_slice()).collect();
    for (i, segment) in path.0.iter().enumerate() {
        let written = FieldPath(path.0[..i].to_vec());
        let named: Vec<&[Segment]> = below
            .iter()
            .copied()
            .filter(|l| l.get(i).is_some_and(|s| s.name == segment.name))
            .collect();
        let Some(first) = named.first() else {
            return Err(unknown(resource, &written, &segment.name, &below, i));
        };
        if i + 1 == path.0.len() {
            return Ok(());
        }
        let field = FieldPath(path.0[..=i].iter().map(plain).collect());
        if first.len() == i + 1 {
            return Err(format!(
                "`{field}` holds a value, not fields: name `{field}` itself to treat it whole"
            ));
        }
        let rest = FieldPath(path.0[i + 1..].to_vec());
        match (first[i].each, segment.each) {
            (true, false) => {
                return Err(format!(
                    "`{field}` is a list: `{field}[].{rest}` names `{rest}` in each of its \
                     elements"
                ));
            }
            (false, true) => {
                return Err(format!(
                    "`{field}` is an object, not a list: write `{field}.{rest}`"
                ));
            }
            _ => {}
        }
        below = named;
    }
    Ok(())
}

/// `segment` without its `[]`.
fn plain(segment: &Segment) -> Segment {
    Segment {
        name: segment.name.clone(),
        each: false,
    }
}

/// The message for `name`, not a field of what `parent` leads to (the top level when
/// empty); `below` are the leaves under `parent`, whose `i`-th segments are its fields.
fn unknown(
    resource: Resource,
    parent: &FieldPath,
    name: &str,
    below: &[&[Segment]],
    i: usize,
) -> String {
    let mut names: Vec<&str> = below
        .iter()
        .filter_map(|l| l.get(i).map(|s| s.name.as_str()))
        .collect();
    names.dedup();
    let whose = if parent.0.is_empty() {
        format!("Cliniko's {resource} have no field `{name}`")
    } else {
        format!("`{parent}` has no field `{name}`")
    };
    let prefix = if parent.0.is_empty() {
        String::new()
    } else {
        format!("{parent}.")
    };
    match nearest(name, &names) {
        Some(near) => format!("{whose}; the nearest is `{prefix}{near}`"),
        None => format!("{whose}; its fields are {}", names.join(", ")),
    }
}

/// The candidate most like `name`: one holding it (`phone` in `patient_phone_numbers`)
/// or held in it (`medicare` in `medicare_number`), else the fewest edits away; `None`
/// when nothing is close (more than half the name would change).
fn nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let holds = |c: &&&str| c.len() >= 3 && (c.contains(name) || name.contains(**c));
    let by_edits = |c: &&&str| edits(name, c);
    if let Some(c) = candidates.iter().filter(holds).min_by_key(by_edits) {
        return Some(c);
    }
    candidates
        .iter()
        .min_by_key(by_edits)
        .filter(|c| edits(name, c) * 2 <= name.len())
        .copied()
}

/// The Levenshtein distance between `a` and `b` (in bytes: field names are ASCII).
fn edits(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(resource: Resource, path: &str) -> String {
        check(resource, &FieldPath::parse(path).unwrap()).unwrap_err()
    }

    #[test]
    fn the_catalogue_parses_as_paths() {
        for resource in Resource::ALL {
            for leaf in resource.api_fields() {
                assert!(FieldPath::parse(leaf).is_ok(), "{resource}: {leaf}");
            }
        }
    }

    #[test]
    fn documented_fields_pass_and_others_name_the_nearest() {
        for good in [
            "email",
            "medicare",
            "patient_phone_numbers",
            "patient_phone_numbers[].number",
            "custom_fields",
            "custom_fields.sections[].fields[].value",
            "pronouns.nominative",
        ] {
            let path = FieldPath::parse(good).unwrap();
            assert_eq!(check(Resource::Patients, &path), Ok(()), "{good}");
        }
        let cases = [
            (
                "adress_1",
                "Cliniko's patients have no field `adress_1`; the nearest is `address_1`",
            ),
            (
                "phone",
                "Cliniko's patients have no field `phone`; the nearest is `patient_phone_numbers`",
            ),
            (
                "medicare_number",
                "Cliniko's patients have no field `medicare_number`; the nearest is `medicare`",
            ),
            (
                "patient_phone_numbers.number",
                "`patient_phone_numbers` is a list: `patient_phone_numbers[].number` names \
                 `number` in each of its elements",
            ),
            (
                "pronouns[].nominative",
                "`pronouns` is an object, not a list: write `pronouns.nominative`",
            ),
            (
                "email.domain",
                "`email` holds a value, not fields: name `email` itself to treat it whole",
            ),
            (
                "patient_phone_numbers[].numbr",
                "`patient_phone_numbers[]` has no field `numbr`; the nearest is \
                 `patient_phone_numbers[].number`",
            ),
            (
                "zzzzzzzzzzzz",
                "Cliniko's patients have no field `zzzzzzzzzzzz`; its fields are",
            ),
        ];
        for (path, message) in cases {
            let got = why(Resource::Patients, path);
            assert!(got.starts_with(message), "{path}: {got}");
        }
        assert_eq!(
            why(Resource::Appointments, "medicare"),
            "Cliniko's appointments have no field `medicare`; its fields are appointment_type, \
             archived_at, attendees, booking_ip_address, business, cancellation_note, \
             cancellation_reason, cancellation_reason_description, cancelled_at, conflicts, \
             created_at, deleted_at, did_not_arrive, email_reminder_sent, ends_at, \
             has_patient_appointment_notes, id, invoice_status, links, notes, \
             online_booking_policy_accepted, patient, patient_arrived, patient_case, \
             patient_name, practitioner, repeat_rule, repeated_from, repeats, \
             sms_reminder_sent, starts_at, telehealth_url, treatment_note_status, updated_at"
        );
    }
}
