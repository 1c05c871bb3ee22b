//! Tolerant parsing of list pages into [`Record`]s: ids as strings or integers, `""` as
//! null, unknown fields kept in `raw_json`, and a clear error for anything unusable.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::endpoints::{Endpoint, endpoint};
use crate::privacy::{OrgPolicy, ResourcePolicy, TopLevel};
use crate::record::Record;
use crate::resource::{Kind, Resource, Rule, Source};
use crate::timestamp::Timestamp;

/// One parsed list response.
#[derive(Debug, Clone, PartialEq)]
pub struct PageBody {
    pub records: Vec<Record>,
    /// Whether the envelope has a `links.next` (more pages after this one).
    pub has_next: bool,
    pub total_entries: Option<u64>,
    /// What `total_entries` held when it was not a count (negative, text, ...).
    pub total_entries_sent: Option<String>,
    /// The response's `Date` header (Cliniko's clock when it answered), if any.
    pub server_time: Option<Timestamp>,
}

/// A list response with every top-level value left unparsed: records are parsed one at a
/// time and keep the exact text Cliniko sent as their `raw_json`.
type RawEnvelope<'a> = BTreeMap<String, &'a RawValue>;

/// Why a response body could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not the JSON expected (a cut-off or garbled answer may be fine when asked again).
    Unreadable(String),
    /// Well-formed, but a record in it cannot be stored (no `updated_at`, an id that is
    /// not a 64-bit integer): the same answer comes back every time, so it is not retried.
    BadRecord(String),
}

impl BodyError {
    /// What is wrong, without the body.
    pub fn detail(&self) -> &str {
        match self {
            BodyError::Unreadable(d) | BodyError::BadRecord(d) => d,
        }
    }
}

impl From<String> for BodyError {
    fn from(detail: String) -> BodyError {
        BodyError::Unreadable(detail)
    }
}

impl From<&str> for BodyError {
    fn from(detail: &str) -> BodyError {
        BodyError::Unreadable(detail.to_string())
    }
}

impl PartialEq<&str> for BodyError {
    fn eq(&self, other: &&str) -> bool {
        self.detail() == *other
    }
}

impl BodyError {
    /// Whether the detail contains `needle` (for tests and callers matching on text).
    pub fn contains(&self, needle: &str) -> bool {
        self.detail().contains(needle)
    }

    /// Whether the detail starts with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.detail().starts_with(prefix)
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail())
    }
}

/// Parses a list response body for `endpoint`. Errors describe what is wrong without
/// quoting the body (which may be large or hold personal data).
/// The org's privacy `policy` is applied to each record before anything is derived from
/// it: its `raw_json` and typed columns hold only what the policy lets through.
pub fn parse_page(
    endpoint: &Endpoint,
    body: &[u8],
    policy: &OrgPolicy,
) -> Result<PageBody, BodyError> {
    let envelope: RawEnvelope<'_> = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            "response is not a JSON object".to_string()
        } else {
            format!("response is not valid JSON ({e})")
        }
    })?;
    let Some(list) = envelope.get(endpoint.list_key) else {
        return Err(BodyError::from(format!(
            "response has no `{}` list (the envelope is missing)",
            endpoint.list_key
        )));
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
    let total_value = small("total_entries");
    let total_entries = total_value.as_ref().and_then(as_u64);
    let records = list
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            serde_json::from_str::<RawFields<'_>>(raw.get())
                .map_err(|e| {
                    if e.is_data() {
                        "not a JSON object".to_string()
                    } else {
                        e.to_string()
                    }
                })
                .and_then(|fields| match policy.for_resource(endpoint.resource) {
                    None => record_from(endpoint, &fields, raw.get().to_string()),
                    Some(rules) => filtered_record(endpoint, policy, rules, &fields, raw.get()),
                })
                .map_err(|e| BodyError::BadRecord(format!("record {i}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(PageBody {
        records,
        has_next,
        total_entries,
        total_entries_sent: total_value
            .filter(|_| total_entries.is_none())
            .map(|v| v.to_string()),
        server_time: None,
    })
}

/// Turns one JSON record of `resource`'s main list route into a [`Record`] (its
/// `raw_json` is the record re-serialised).
pub fn parse_record(resource: Resource, value: Value) -> Result<Record, String> {
    let raw_json = value.to_string();
    let Value::Object(obj) = value else {
        return Err("not a JSON object".to_string());
    };
    record_from(&endpoint(resource), &obj, raw_json)
}

/// A stored record's `raw_json` with `policy` applied, as a [`Record`] whose columns are
/// derived from the filtered JSON (as from `resource`'s main route); `Ok(None)` when it
/// holds nothing the policy forbids (values already pseudonyms are not hashed again).
pub fn refilter_stored(
    resource: Resource,
    raw_json: &str,
    policy: &OrgPolicy,
) -> Result<Option<Record>, String> {
    let mut obj: Map<String, Value> =
        serde_json::from_str(raw_json).map_err(|e| format!("stored raw_json: {e}"))?;
    if !policy.apply_stored(resource, &mut obj) {
        return Ok(None);
    }
    let text = Value::Object(obj).to_string();
    let fields: RawFields<'_> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let record = record_from(&endpoint(resource), &fields, text.clone())?;
    Ok(Some(Record {
        filtered: true,
        ..record
    }))
}

/// The typed columns of a stored row of `resource`, derived from its `raw_json` as the
/// catalogue says now. The route the row came by is not stored, so a rule that needs it
/// gives `None` when the record alone says nothing (the store then keeps its value).
/// Fields are read from the stored text as it is, so a decimal keeps its digits.
pub fn stored_columns(resource: Resource, raw_json: &str) -> Result<Vec<Option<String>>, String> {
    let fields: RawFields<'_> =
        serde_json::from_str(raw_json).map_err(|e| format!("stored raw_json: {e}"))?;
    let route = Endpoint {
        active: None,
        ..endpoint(resource)
    };
    Ok(columns(&route, &fields))
}

/// One record of a page under a policy with rules for its resource: the record's text
/// is rebuilt field by field (fields the policy leaves alone keep their exact text,
/// removed ones are left out, rewritten ones are parsed and re-serialised), then parsed
/// as any record. A key sent twice gets the same treatment for both copies.
fn filtered_record(
    endpoint: &Endpoint,
    policy: &OrgPolicy,
    rules: &ResourcePolicy,
    fields: &RawFields<'_>,
    raw: &str,
) -> Result<Record, String> {
    let mut out = String::with_capacity(raw.len());
    out.push('{');
    for (key, value) in &fields.0 {
        let rewritten;
        let text = match rules.top_level(endpoint.resource, key) {
            TopLevel::Remove => continue,
            TopLevel::Keep => value.get(),
            TopLevel::Rewrite => {
                let mut parsed: Value =
                    serde_json::from_str(value.get()).map_err(|e| e.to_string())?;
                policy.rewrite_field(rules, key, &mut parsed);
                rewritten = parsed.to_string();
                &rewritten
            }
        };
        if out.len() > 1 {
            out.push(',');
        }
        push_key(&mut out, key);
        out.push(':');
        out.push_str(text);
    }
    out.push('}');
    let filtered: RawFields<'_> = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    let record = record_from(endpoint, &filtered, String::new())?;
    Ok(Record {
        raw_json: out,
        filtered: true,
        ..record
    })
}

/// Appends `key` as a JSON string.
fn push_key(out: &mut String, key: &str) {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(key);
        out.push('"');
    } else {
        out.push_str(&Value::String(key.to_string()).to_string());
    }
}

/// A record's top-level fields with their values left unparsed: a record is ~2 KB of
/// JSON of which a dozen small fields are read, so building a full [`Value`] tree for
/// each one (as most of a page's parsing time went) is skipped. Keys borrow the body
/// unless they hold escapes.
struct RawFields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawFields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Fields<'a> {
            type Value = RawFields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawFields<'a>, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(RawFields(fields))
            }
        }
        d.deserialize_map(Fields(PhantomData))
    }
}

/// An object key, borrowed from the body when it has no escapes (serde's own `Cow`
/// always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Read access to a JSON object's fields, parsed or not.
trait Fields {
    /// The value of `name` (the last one when a key repeats, as a parsed object keeps).
    fn field(&self, name: &str) -> Option<Cow<'_, Value>>;
    /// The JSON text of `name`'s value: as sent when the object is unparsed (a number
    /// keeps its digits), else as the parsed value prints.
    fn field_text(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl Fields for Map<String, Value> {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }

    fn field_text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(|v| Cow::Owned(v.to_string()))
    }
}

impl Fields for RawFields<'_> {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        let (_, raw) = self.0.iter().rev().find(|(k, _)| k == name)?;
        // The body parsed as JSON already, so a value of it parses too.
        serde_json::from_str(raw.get()).ok().map(Cow::Owned)
    }

    fn field_text(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, raw) = self.0.iter().rev().find(|(k, _)| k == name)?;
        Some(Cow::Borrowed(raw.get()))
    }
}

/// Turns one JSON record listed by `route`, whose text is `raw_json`, into a [`Record`].
fn record_from(route: &Endpoint, obj: &impl Fields, raw_json: String) -> Result<Record, String> {
    let id = id_of(obj.field("id").as_deref()).ok_or_else(|| match obj.field("id") {
        Some(v) => format!("missing or invalid `id` ({v}: ids are positive 64-bit integers)"),
        None => "missing or invalid `id` (none sent)".to_string(),
    })?;
    let updated_at = timestamp(obj, "updated_at").ok_or_else(|| {
        format!("record {id} has no valid `updated_at` (needed to sync it incrementally)")
    })?;
    let archived_at = timestamp(obj, "archived_at");
    // What hides a record from the route's default listing (archived, cancelled) is what
    // the walk opts back in.
    let hidden = archived_at.is_some()
        || route
            .include_hidden
            .iter()
            .any(|field| timestamp(obj, field).is_some());
    Ok(Record {
        id,
        created_at: timestamp(obj, "created_at"),
        updated_at,
        archived_at,
        hidden,
        columns: columns(route, obj),
        raw_json,
        filtered: false,
    })
}

/// The resource-specific columns of a record, in the order of its table
/// ([`crate::store::table`]), each read as its catalogue entry says.
fn columns(route: &Endpoint, obj: &impl Fields) -> Vec<Option<String>> {
    route
        .resource
        .spec()
        .columns
        .iter()
        .map(|column| match column.source {
            Source::Field(field) => typed(obj, field, column.kind),
            Source::Link(link, _) => linked_id(obj, link),
            Source::Rule(rule) => by_rule(rule, route, obj),
        })
        .collect()
}

/// A field read as a column of `kind`.
fn typed(obj: &impl Fields, field: &str, kind: Kind) -> Option<String> {
    match kind {
        Kind::Text | Kind::Money => text(obj, field),
        Kind::Integer => integer(obj, field),
        Kind::Flag => boolean(obj, field),
        Kind::Timestamp => timestamp(obj, field).map(|t| t.to_string()),
        Kind::Decimal => decimal(obj, field),
    }
}

/// A column given by one of the catalogue's named rules (see [`Rule`]).
fn by_rule(rule: Rule, route: &Endpoint, obj: &impl Fields) -> Option<String> {
    match rule {
        Rule::Phone => phone(obj),
        Rule::PractitionerDisplayName => text(obj, "display_name")
            .or_else(|| text(obj, "label"))
            .or_else(|| {
                let full_name = [text(obj, "first_name"), text(obj, "last_name")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!full_name.is_empty()).then_some(full_name)
            }),
        Rule::BusinessDisplayName => {
            text(obj, "display_name").or_else(|| text(obj, "business_name"))
        }
        Rule::ActiveOrRoute => boolean(obj, "active").or_else(|| route.active.map(bool_text)),
        Rule::AttendeeBooking => {
            linked_id(obj, "booking").or_else(|| linked_id(obj, "appointment"))
        }
    }
}

/// The patient's phone for dashboards: the first `Mobile` entry of
/// `patient_phone_numbers`, else the first entry; its `number` as typed, else its
/// `normalized_number`. Entries without either are skipped.
fn phone(obj: &impl Fields) -> Option<String> {
    let entries = obj.field("patient_phone_numbers")?;
    let entries = entries.as_array()?;
    let usable = entries.iter().filter_map(|e| {
        let e = e.as_object()?;
        let usable = |field| {
            text(e, field)
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        };
        let number = usable("number").or_else(|| usable("normalized_number"))?;
        let mobile = e
            .get("phone_type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("mobile"));
        Some((mobile, number))
    });
    let mut first = None;
    for (mobile, number) in usable {
        if mobile {
            return Some(number);
        }
        first.get_or_insert(number);
    }
    first
}

/// An id sent as a string of digits or as a JSON integer; floats are refused because
/// 19-digit ids do not survive them.
/// A record id: a positive 64-bit integer, as a JSON string of digits or a number.
fn id_of(v: Option<&Value>) -> Option<String> {
    let id = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return None,
    };
    id.parse::<i64>().ok().filter(|n| *n > 0).map(|_| id)
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-empty string field (`""` and non-strings count as null).
fn text(obj: &impl Fields, field: &str) -> Option<String> {
    match obj.field(field)?.as_ref() {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A decimal number sent as a JSON number or a string of one, with the digits sent
/// (`"85.10"`, `93.6100000000000001`): never read into a float, which would round it.
/// Anything else (text, `""`, a boolean) is NULL rather than a value `numeric` refuses.
fn decimal(obj: &impl Fields, field: &str) -> Option<String> {
    let raw = obj.field_text(field)?;
    let digits = if raw.starts_with('"') {
        serde_json::from_str::<String>(&raw)
            .ok()?
            .trim()
            .to_string()
    } else {
        raw.trim().to_string()
    };
    is_decimal(&digits).then_some(digits)
}

/// Whether `s` is a number in JSON's grammar (sign, digits, fraction, exponent), which
/// PostgreSQL's `numeric` reads exactly as written.
fn is_decimal(s: &str) -> bool {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    digits(whole) && fraction.is_none_or(digits) && exponent.is_none_or(digits)
}

/// A boolean as `"1"`/`"0"` (stored in INTEGER columns); `"true"`/`"false"` strings too.
fn boolean(obj: &impl Fields, field: &str) -> Option<String> {
    match obj.field(field)?.as_ref() {
        Value::Bool(b) => Some(bool_text(*b)),
        Value::String(s) if s == "true" => Some(bool_text(true)),
        Value::String(s) if s == "false" => Some(bool_text(false)),
        _ => None,
    }
}

fn bool_text(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

/// An integer sent as a JSON number or a string of digits.
fn integer(obj: &impl Fields, field: &str) -> Option<String> {
    match obj.field(field)?.as_ref() {
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Value::String(s) => s.trim().parse::<i64>().ok().map(|n| n.to_string()),
        _ => None,
    }
}

fn timestamp(obj: &impl Fields, field: &str) -> Option<Timestamp> {
    obj.field(field)?.as_str().and_then(Timestamp::parse)
}

/// The id of a linked record: `"patient": {"links": {"self": ".../patients/123"}}`, or a
/// plain `patient_id` field when a response has one.
fn linked_id(obj: &impl Fields, link: &str) -> Option<String> {
    let from_link = obj
        .field(link)
        .as_deref()
        .and_then(|l| l.get("links"))
        .and_then(|l| l.get("self"))
        .and_then(Value::as_str)
        .and_then(|url| {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            path.trim_end_matches('/').rsplit('/').next()
        })
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    from_link.or_else(|| id_of(obj.field(&format!("{link}_id")).as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::endpoints::endpoint;
    use serde_json::json;

    /// Pages parsed with no privacy policy (everything stored).
    fn parse_page(endpoint: &Endpoint, body: &[u8]) -> Result<PageBody, BodyError> {
        super::parse_page(endpoint, body, &OrgPolicy::default())
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/cliniko/{name}",
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
    fn page_records_read_fields_lazily_as_a_parsed_object_would() {
        let body = br#"{"patients": [
            {"id": 1665207664587580802, "updated_at": "2024-01-01T00:00:00Z",
             "first_name": "Old", "first_name": "New", "la\u0073t_name": "Esc",
             "archived_at": "", "nested": {"deep": [1, 2, {"x": "y"}]}},
            {"id": 1.665e18, "updated_at": "2024-01-01T00:00:00Z"}
        ], "total_entries": 2, "links": {}}"#;
        let ep = endpoint(Resource::Patients);
        let err = parse_page(&ep, body).unwrap_err();
        assert!(
            err.starts_with("record 1: missing or invalid `id`"),
            "{err}"
        );
        let one = br#"{"patients": [
            {"id": 1665207664587580802, "updated_at": "2024-01-01T00:00:00Z",
             "first_name": "Old", "first_name": "New", "la\u0073t_name": "Esc",
             "archived_at": "", "nested": {"deep": [1, 2, {"x": "y"}]}}
        ], "total_entries": 1, "links": {}}"#;
        let page = parse_page(&ep, one).unwrap();
        let r = &page.records[0];
        assert_eq!(r.id, "1665207664587580802", "big integer ids survive");
        assert_eq!(
            r.columns[0].as_deref(),
            Some("New"),
            "the last of repeated keys wins"
        );
        assert_eq!(
            r.columns[1].as_deref(),
            Some("Esc"),
            "escaped keys are matched"
        );
        assert_eq!(r.archived_at, None, "\"\" is null");
        assert!(
            r.raw_json.starts_with("{\"id\": 1665207664587580802"),
            "raw text is kept"
        );
        let not_object = parse_page(&ep, br#"{"patients": [[1, 2]]}"#).unwrap_err();
        assert_eq!(not_object, "record 0: not a JSON object");
    }

    #[test]
    fn records_that_can_never_be_stored_are_bad_records_naming_the_field() {
        let ep = endpoint(Resource::Patients);
        let no_updated = parse_page(
            &ep,
            br#"{"patients":[{"id":"1","updated_at":"2024-01-01T00:00:00Z"},{"id":"7"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            no_updated,
            BodyError::BadRecord(
                "record 1: record 7 has no valid `updated_at` (needed to sync it incrementally)"
                    .into()
            )
        );
        let word = parse_page(
            &ep,
            br#"{"patients":[{"id":"laboris","updated_at":"2024-01-01T00:00:00Z"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            word,
            BodyError::BadRecord(
                "record 0: missing or invalid `id` (\"laboris\": ids are positive 64-bit integers)"
                    .into()
            )
        );
        // Cut-off JSON may be fine when asked again: not a bad record.
        assert!(matches!(
            parse_page(&ep, br#"{"patients":[{"id":"1""#),
            Err(BodyError::Unreadable(_))
        ));
        // A total that is not a count is kept as sent, for the message.
        let page = parse_page(&ep, br#"{"patients":[],"total_entries":-5}"#).unwrap();
        assert_eq!(
            (page.total_entries, page.total_entries_sent.as_deref()),
            (None, Some("-5"))
        );
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

    fn route_page(resource: Resource, route: usize, file: &str) -> PageBody {
        let ep = crate::cliniko::endpoints::routes(resource)[route];
        parse_page(&ep, &fixture(file)).unwrap()
    }

    #[test]
    fn legacy_reference_examples_extract_their_columns() {
        let t = &route_page(
            Resource::AppointmentTypes,
            0,
            "legacy-appointment-types-list.json",
        )
        .records[0];
        assert_eq!(
            t.columns,
            [
                Some("Initial Consultation".into()),
                Some("Osteopathy".into()),
                Some("#00FF00".into()),
                Some("60".into()),
                Some("1".into()),
                Some("1".into())
            ]
        );
        // The example has no `active`: the route says which.
        let p =
            &route_page(Resource::Practitioners, 1, "legacy-practitioners-list.json").records[0];
        assert_eq!(p.id, "514810972972521916");
        assert_eq!(p.columns[3].as_deref(), Some("Randy Savage"), "label");
        assert_eq!(p.columns[5].as_deref(), Some("0"), "inactive route");
        assert_eq!(p.columns[7].as_deref(), Some("1"), "user id");
        let b = &route_page(Resource::Businesses, 0, "legacy-businesses-list.json").records[0];
        assert_eq!(b.columns[0].as_deref(), Some("Healthy Times"));
        assert_eq!(
            b.columns[1].as_deref(),
            Some("Healthy Times"),
            "null display_name"
        );
        assert_eq!(b.columns[4].as_deref(), Some("AU"));
    }

    #[test]
    fn legacy_optional_examples_extract_their_columns() {
        let g = &route_page(
            Resource::GroupAppointments,
            0,
            "legacy-group-appointments-list.json",
        )
        .records[0];
        assert_eq!(g.columns[0].as_deref(), Some("2016-07-13T03:45:00Z"));
        assert_eq!(g.columns[3].as_deref(), Some("7"), "appointment type");
        assert_eq!(g.columns[5].as_deref(), Some("13"), "max attendees");
        let a = &route_page(Resource::Attendees, 0, "legacy-attendees-list.json").records[0];
        assert_eq!(a.columns, [Some("1".into()), Some("82".into()), None, None]);
        assert!(!a.hidden);
        let i = &route_page(Resource::Invoices, 0, "legacy-invoices-list.json").records[0];
        assert_eq!(i.columns[0].as_deref(), Some("104"));
        assert_eq!(i.columns[2].as_deref(), Some("10"));
        assert_eq!(i.columns[4].as_deref(), Some("50.0"), "money stays text");
        assert_eq!(i.columns[11].as_deref(), Some("70644"), "appointment");
    }

    #[test]
    fn decimals_keep_the_digits_sent_and_nothing_else_passes() {
        let body = r#"{"a": "85.10", "b": 93.6100000000000000001, "c": -1e3, "d": " 7 ",
            "e": "string", "f": "", "g": true, "h": null, "i": "1.", "j": "0x10"}"#;
        let raw: RawFields<'_> = serde_json::from_str(body).unwrap();
        let parsed: Map<String, Value> = serde_json::from_str(body).unwrap();
        let read = |f: &str| typed(&raw, f, Kind::Decimal);
        assert_eq!(read("a").as_deref(), Some("85.10"));
        assert_eq!(read("b").as_deref(), Some("93.6100000000000000001"));
        assert_eq!(read("c").as_deref(), Some("-1e3"));
        assert_eq!(read("d").as_deref(), Some("7"));
        for f in ["e", "f", "g", "h", "i", "j", "missing"] {
            assert_eq!(read(f), None, "{f}");
        }
        // A string is exact whatever the object was read into.
        assert_eq!(typed(&parsed, "a", Kind::Decimal).as_deref(), Some("85.10"));
    }

    #[test]
    fn stored_columns_leave_what_only_the_route_said_to_the_store() {
        let page = route_page(Resource::Practitioners, 1, "legacy-practitioners-list.json");
        let stored = stored_columns(Resource::Practitioners, &page.records[0].raw_json).unwrap();
        assert_eq!(
            page.records[0].columns[5].as_deref(),
            Some("0"),
            "from the route"
        );
        assert_eq!(stored[5], None, "not in the record: the stored value stays");
        assert_eq!(stored[3].as_deref(), Some("Randy Savage"));
    }

    #[test]
    fn phone_prefers_mobile_then_the_first_usable_number() {
        let p = |numbers: serde_json::Value| {
            parse_record(
                Resource::Patients,
                json!({"id": "1", "updated_at": "2024-01-01T00:00:00Z",
                       "patient_phone_numbers": numbers}),
            )
            .unwrap()
            .columns[4]
                .clone()
        };
        let home = json!({"number": "(03) 9999 0000", "phone_type": "Home"});
        let mobile = json!({"number": " 0400 111 222 ", "phone_type": "Mobile"});
        assert_eq!(p(json!([home, mobile])).as_deref(), Some("0400 111 222"));
        assert_eq!(p(json!([home])).as_deref(), Some("(03) 9999 0000"));
        assert_eq!(
            p(json!([{"number": "", "normalized_number": "61399990000", "phone_type": "Work"}]))
                .as_deref(),
            Some("61399990000")
        );
        assert_eq!(
            p(json!([{"number": "", "phone_type": "Mobile"}, home])).as_deref(),
            Some("(03) 9999 0000")
        );
        assert_eq!(p(json!([])), None);
        assert_eq!(p(json!(null)), None);
        // The legacy example's duplicate key: the last (populated) array wins.
        let page = parse_page(
            &endpoint(Resource::Patients),
            &fixture("legacy-patients-list.json"),
        )
        .unwrap();
        assert_eq!(page.records[0].columns[4].as_deref(), Some("61444444444"));
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;
    use crate::privacy::{FieldPath, HashSecret};

    fn policy() -> OrgPolicy {
        let p = |l: &[&str]| l.iter().map(|s| FieldPath::parse(s).unwrap()).collect();
        let rules = ResourcePolicy {
            keep: None,
            drop: p(&["medicare", "notes"]),
            hash: p(&["email", "patient_phone_numbers[].number"]),
            year: p(&["date_of_birth"]),
        };
        OrgPolicy::new(
            "manly",
            vec![(Resource::Patients, rules)],
            Some(HashSecret::new("a secret long enough")),
        )
    }

    #[test]
    fn columns_come_from_the_filtered_record() {
        let body = br#"{"patients": [{"id": 7, "updated_at": "2024-01-01T00:00:00Z",
            "email": "ann@example.com", "medicare": "SENTINEL-MEDICARE", "notes": "x",
            "date_of_birth": "1985-04-02", "first_name": "Ann", "na\u006de": "esc",
            "patient_phone_numbers": [{"number": "0400 111 222", "phone_type": "Mobile"}]}],
            "links": {}}"#;
        let policy = policy();
        let page = parse_page(&endpoint(Resource::Patients), body, &policy).unwrap();
        let r = &page.records[0];
        assert!(!r.raw_json.contains("SENTINEL") && !r.raw_json.contains("notes"));
        let email = policy.pseudonym("ann@example.com");
        let phone = policy.pseudonym("0400 111 222");
        assert_eq!(r.columns[2].as_deref(), Some(email.as_str()));
        assert_eq!(r.columns[3].as_deref(), Some("1985"));
        assert_eq!(r.columns[4].as_deref(), Some(phone.as_str()));
        assert_eq!(r.columns[0].as_deref(), Some("Ann"));
        let stored: Value = serde_json::from_str(&r.raw_json).unwrap();
        assert_eq!(stored["name"], "esc");
        assert_eq!(stored["id"], 7);
        // The stored copy holds nothing the policy forbids, and other resources pass.
        assert_eq!(
            refilter_stored(Resource::Patients, &r.raw_json, &policy),
            Ok(None)
        );
        let unfiltered = r#"{"id":"7","updated_at":"2024-01-01T00:00:00Z","medicare":"1"}"#;
        let again = refilter_stored(Resource::Patients, unfiltered, &policy)
            .unwrap()
            .unwrap();
        assert!(!again.raw_json.contains("medicare"));
        let appt = br#"{"individual_appointments": [{"id": "1",
            "updated_at": "2024-01-01T00:00:00Z", "notes": "kept"}]}"#;
        let page = parse_page(&endpoint(Resource::Appointments), appt, &policy).unwrap();
        assert!(page.records[0].raw_json.contains("kept"));
    }
}
