//! What the resource catalogue says a record's typed columns hold, derived here from
//! the record's JSON text by the documented rules (docs/dashboard.md, "Tables"), not by
//! the product's parser: a field as text, a link's last path segment, a boolean as 0/1,
//! a time in UTC, a decimal with the digits sent. Columns given by a named rule are the
//! parser's own tests' business and are left out (`None`).

use std::collections::BTreeMap;

use routiq_sync::resource::{Kind, Resource, Source};
use serde_json::Value;
use serde_json::value::RawValue;

/// Each typed column of `resource` for the record whose JSON text is `raw`, in table
/// order: `None` for a rule's column, else `Some(value)` (`Some(None)` is NULL).
pub fn expected_columns(resource: Resource, raw: &str) -> Vec<Option<Option<String>>> {
    let fields: BTreeMap<String, &RawValue> =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{resource}: {e}: {raw}"));
    let value = |name: &str| -> Option<Value> {
        fields
            .get(name)
            .map(|r| serde_json::from_str(r.get()).unwrap())
    };
    resource
        .spec()
        .columns
        .iter()
        .map(|column| match column.source {
            Source::Field(f) => Some(field(column.kind, value(f), fields.get(f).copied())),
            Source::Link(l, _) => Some(
                value(l)
                    .and_then(|v| {
                        v.pointer("/links/self")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .and_then(|url| {
                        url.trim_end_matches('/')
                            .rsplit('/')
                            .next()
                            .map(str::to_string)
                    })
                    .filter(|id| !id.is_empty())
                    .or_else(|| match value(&format!("{l}_id")) {
                        Some(Value::String(s)) if !s.is_empty() => Some(s),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    }),
            ),
            Source::Rule(_) => None,
        })
        .collect()
}

fn field(kind: Kind, value: Option<Value>, raw: Option<&RawValue>) -> Option<String> {
    match (kind, value?) {
        (Kind::Text | Kind::Money, Value::String(s)) if !s.is_empty() => Some(s),
        (Kind::Text | Kind::Money, Value::Number(n)) => Some(n.to_string()),
        (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        (Kind::Integer, Value::String(s)) => s.trim().parse::<i64>().ok().map(|n| n.to_string()),
        (Kind::Flag, Value::Bool(b)) => Some(if b { "1" } else { "0" }.to_string()),
        (Kind::Timestamp, Value::String(s)) => {
            routiq_sync::timestamp::Timestamp::parse(&s).map(|t| t.to_string())
        }
        // The digits as sent: a number's own text, a string's trimmed.
        (Kind::Decimal, Value::Number(_)) => raw.map(|r| r.get().to_string()),
        (Kind::Decimal, Value::String(s)) => {
            let s = s.trim();
            let plain = s.strip_prefix('-').unwrap_or(s);
            let numeric = !plain.is_empty()
                && plain.split('.').count() <= 2
                && plain
                    .split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            numeric.then(|| s.to_string())
        }
        _ => None,
    }
}
