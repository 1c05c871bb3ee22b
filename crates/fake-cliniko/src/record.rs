//! Reading fields out of a stored record (`serde_json::Map`), tolerant of messy shapes.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::timestamp::Timestamp;

/// Flag bit: `archived_at` is set.
pub const FLAG_ARCHIVED: u8 = 1;
/// Flag bit: `cancelled_at` is set.
pub const FLAG_CANCELLED: u8 = 2;
/// Flag bit: `active` is `false` (inactive practitioners).
pub const FLAG_INACTIVE: u8 = 4;

/// A JSON record as stored by the fake.
pub type Record = Map<String, Value>;

/// Whether a nullable field counts as empty: missing, `null` or `""` (legacy docs use `""`).
pub fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// The flag bits of a record (see the `FLAG_*` constants).
pub fn flags(rec: &Record) -> u8 {
    let mut f = 0;
    if !is_blank(rec.get("archived_at")) {
        f |= FLAG_ARCHIVED;
    }
    if !is_blank(rec.get("cancelled_at")) {
        f |= FLAG_CANCELLED;
    }
    if rec.get("active") == Some(&Value::Bool(false)) {
        f |= FLAG_INACTIVE;
    }
    f
}

/// A record's id as an integer: a JSON string of digits or a JSON number.
pub fn id_of(rec: &Record) -> Option<u64> {
    match rec.get("id")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A timestamp field as UNIX seconds (`None` when missing, blank or unparseable).
pub fn unix_of(rec: &Record, field: &str) -> Option<i64> {
    match rec.get(field)? {
        Value::String(s) if !s.is_empty() => Timestamp::parse(s).map(Timestamp::unix),
        _ => None,
    }
}

/// The id at the end of a link object `{"links": {"self": ".../things/123"}}`.
pub fn link_id(v: &Value) -> Option<&str> {
    let url = v.get("links")?.get("self")?.as_str()?;
    let path = url.split(['?', '#']).next()?;
    path.rsplit('/').find(|s| !s.is_empty())
}

/// A field's value for filtering and sorting. `x_id` fields missing from the record are
/// read from the link object `x` (Cliniko sends `"patient": {"links": {...}}`, not
/// `patient_id`).
pub fn lookup(rec: &Record, field: &str) -> Option<Value> {
    match rec.get(field) {
        Some(v) if !v.is_null() => return Some(v.clone()),
        Some(_) => return None,
        None => {}
    }
    let base = field.strip_suffix("_id")?;
    let link = rec.get(base)?;
    link_id(link).map(|s| Value::String(s.to_string()))
}

/// Something filters and sorts can read field values from.
pub trait Fields {
    /// The value of `field` for filtering (see [`lookup`]); `None` when null or missing.
    fn value(&self, field: &str) -> Option<Cow<'_, Value>>;
}

impl Fields for Record {
    fn value(&self, field: &str) -> Option<Cow<'_, Value>> {
        match self.get(field) {
            Some(v) if is_blank(Some(v)) => None,
            Some(v) => Some(Cow::Borrowed(v)),
            None => lookup(self, field).map(Cow::Owned),
        }
    }
}

/// A value as an integer (JSON number or string of digits).
pub fn as_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value as text for string comparisons (numbers and booleans in their JSON form).
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups() {
        let v = json!({
            "id": "1665207664587580802",
            "archived_at": "",
            "cancelled_at": "2024-01-01T00:00:00Z",
            "patient": {"links": {"self": "https://api.au1.cliniko.com/v1/patients/42"}},
        });
        let rec = v.as_object().unwrap();
        assert_eq!(id_of(rec), Some(1_665_207_664_587_580_802));
        assert_eq!(flags(rec), FLAG_CANCELLED);
        assert_eq!(lookup(rec, "patient_id"), Some(json!("42")));
        assert_eq!(lookup(rec, "business_id"), None);
        assert_eq!(unix_of(rec, "cancelled_at"), Some(1_704_067_200));
        assert_eq!(as_int(&json!("12")), Some(12));
    }
}
