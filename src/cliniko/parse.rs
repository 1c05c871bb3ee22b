//! Tolerant parsing of list pages into [`Record`]s: ids as strings or integers, `""` as
//! null, unknown fields kept in `raw_json`, and a clear error for anything unusable.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::endpoints::Endpoint;
use crate::record::Record;
use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// One parsed list response.
#[derive(Debug, Clone, PartialEq)]
pub struct PageBody {
    pub records: Vec<Record>,
    /// Whether the envelope has a `links.next` (more pages after this one).
    pub has_next: bool,
    pub total_entries: Option<u64>,
}

/// A list response with every top-level value left unparsed: records are parsed one at a
/// time and keep the exact text Cliniko sent as their `raw_json`.
type RawEnvelope<'a> = BTreeMap<String, &'a RawValue>;

/// Parses a list response body for `endpoint`. Errors describe what is wrong without
/// quoting the body (which may be large or hold personal data).
pub fn parse_page(endpoint: &Endpoint, body: &[u8]) -> Result<PageBody, String> {
    let envelope: RawEnvelope<'_> = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            "response is not a JSON object".to_string()
        } else {
            format!("response is not valid JSON ({e})")
        }
    })?;
    let Some(list) = envelope.get(endpoint.list_key) else {
        return Err(format!(
            "response has no `{}` list (the envelope is missing)",
            endpoint.list_key
        ));
    };
    let list: Vec<&RawValue> = serde_json::from_str(list.get())
        .map_err(|_| format!("`{}` in the response is not a list", endpoint.list_key))?;
    let small = |key: &str| {
        envelope
            .get(key)
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
    };
    let has_next = small("links")
        .and_then(|l| l.get("next").cloned())
        .is_some_and(|n| n.as_str().is_some_and(|s| !s.is_empty()));
    let total_entries = small("total_entries").as_ref().and_then(as_u64);
    let records = list
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            serde_json::from_str(raw.get())
                .map_err(|e| e.to_string())
                .and_then(|v| record_from(endpoint.resource, v, raw.get().to_string()))
                .map_err(|e| format!("record {i}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(PageBody {
        records,
        has_next,
        total_entries,
    })
}

/// Turns one JSON record into a [`Record`] (its `raw_json` is the record re-serialised).
pub fn parse_record(resource: Resource, value: Value) -> Result<Record, String> {
    let raw_json = value.to_string();
    record_from(resource, value, raw_json)
}

/// Turns one JSON record, whose text is `raw_json`, into a [`Record`].
fn record_from(resource: Resource, value: Value, raw_json: String) -> Result<Record, String> {
    let Value::Object(obj) = value else {
        return Err("not a JSON object".to_string());
    };
    let id = id_of(obj.get("id")).ok_or("missing or invalid `id`")?;
    let updated_at = timestamp(&obj, "updated_at").ok_or_else(|| {
        format!("record {id} has no valid `updated_at` (needed to sync it incrementally)")
    })?;
    let archived_at = timestamp(&obj, "archived_at");
    let ts = |field: &str| timestamp(&obj, field).map(|t| t.to_string());
    let (columns, hidden) = match resource {
        Resource::Patients => (
            vec![
                text(&obj, "first_name"),
                text(&obj, "last_name"),
                text(&obj, "email"),
                text(&obj, "date_of_birth"),
            ],
            archived_at.is_some(),
        ),
        Resource::Appointments => {
            let cancelled = ts("cancelled_at");
            let hidden = archived_at.is_some() || cancelled.is_some();
            (
                vec![
                    ts("starts_at"),
                    ts("ends_at"),
                    cancelled,
                    linked_id(&obj, "patient"),
                    linked_id(&obj, "practitioner"),
                    linked_id(&obj, "appointment_type"),
                    linked_id(&obj, "business"),
                ],
                hidden,
            )
        }
    };
    Ok(Record {
        id,
        created_at: timestamp(&obj, "created_at"),
        updated_at,
        archived_at,
        hidden,
        columns,
        raw_json,
    })
}

/// An id sent as a string of digits or as a JSON integer; floats are refused because
/// 19-digit ids do not survive them.
fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-empty string field (`""` and non-strings count as null).
fn text(obj: &Map<String, Value>, field: &str) -> Option<String> {
    match obj.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn timestamp(obj: &Map<String, Value>, field: &str) -> Option<Timestamp> {
    obj.get(field)?.as_str().and_then(Timestamp::parse)
}

/// The id of a linked record: `"patient": {"links": {"self": ".../patients/123"}}`, or a
/// plain `patient_id` field when a response has one.
fn linked_id(obj: &Map<String, Value>, link: &str) -> Option<String> {
    let from_link = obj
        .get(link)
        .and_then(|l| l.get("links"))
        .and_then(|l| l.get("self"))
        .and_then(Value::as_str)
        .and_then(|url| {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            path.trim_end_matches('/').rsplit('/').next()
        })
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    from_link.or_else(|| id_of(obj.get(&format!("{link}_id"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::endpoints::endpoint;
    use serde_json::json;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../shared/fixtures/cliniko/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn openapi_patients_example() {
        let page = parse_page(
            &endpoint(Resource::Patients),
            &fixture("openapi-generated-patients-list.json"),
        )
        .unwrap();
        assert_eq!(page.records.len(), 1);
        let r = &page.records[0];
        assert_eq!(r.id, "1");
        assert_eq!(r.updated_at.to_string(), "2019-08-24T14:15:22Z");
    }

    #[test]
    fn openapi_appointments_example_links_become_ids() {
        let page = parse_page(
            &endpoint(Resource::Appointments),
            &fixture("openapi-generated-individual-appointments-list.json"),
        )
        .unwrap();
        let r = &page.records[0];
        assert_eq!(r.columns[3].as_deref(), Some("1"), "patient_id");
        assert!(r.hidden);
        assert!(page.has_next);
    }

    #[test]
    fn legacy_patients_integer_ids_empty_strings_and_duplicate_keys() {
        let page = parse_page(
            &endpoint(Resource::Patients),
            &fixture("legacy-patients-list.json"),
        )
        .unwrap();
        let r = &page.records[0];
        assert_eq!(r.id, "1");
        assert_eq!(r.archived_at, None, "\"\" is null");
        assert!(r.raw_json.contains("patient_phone_numbers"));
    }

    #[test]
    fn invalid_json_fixture_is_an_error_not_a_panic() {
        let err = parse_page(
            &endpoint(Resource::Appointments),
            &fixture("legacy-individual-appointments-deleted-list.json"),
        )
        .unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn big_ids_survive_and_floats_are_refused() {
        let ok = parse_record(
            Resource::Patients,
            json!({"id": 1665207664587580802u64, "updated_at": "2024-01-01T00:00:00Z"}),
        )
        .unwrap();
        assert_eq!(ok.id, "1665207664587580802");
        let bad = parse_record(
            Resource::Patients,
            json!({"id": 1.665e18, "updated_at": "2024-01-01T00:00:00Z"}),
        );
        assert!(bad.is_err());
    }

    #[test]
    fn missing_envelope_and_updated_at_are_errors() {
        let ep = endpoint(Resource::Patients);
        assert!(
            parse_page(&ep, b"{}")
                .unwrap_err()
                .contains("no `patients`")
        );
        assert!(
            parse_page(&ep, br#"{"patients":[{"id":"1"}]}"#)
                .unwrap_err()
                .contains("updated_at")
        );
    }
}
