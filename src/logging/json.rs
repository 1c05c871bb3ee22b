//! The `--log-format json` line: one JSON object per record, secrets scrubbed from every
//! string in it.

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

/// `ts` in RFC 3339 UTC with milliseconds, e.g. `2026-01-05T07:00:03.412Z`.
pub(super) fn timestamp(now: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    now.format(fmt).unwrap_or_else(|_| now.to_string())
}

/// Builds the line: `ts`, `level`, `msg`, `org` (when known), then `fields` in order.
/// Keys in `fields` never replace the four fixed ones.
pub(super) fn line(
    ts: &str,
    level: log::Level,
    msg: &str,
    org: Option<&str>,
    fields: Vec<(String, Value)>,
    scrub: &dyn Fn(&str) -> String,
) -> String {
    let mut pairs: Vec<(String, Value)> = vec![
        ("ts".into(), ts.into()),
        ("level".into(), level.as_str().to_ascii_lowercase().into()),
        ("msg".into(), scrub(msg).into()),
    ];
    if let Some(org) = org {
        pairs.push(("org".into(), scrub(org).into()));
    }
    for (k, v) in fields {
        if !pairs.iter().any(|(have, _)| *have == k) {
            pairs.push((k, scrub_value(v, scrub)));
        }
    }
    // Written by hand so the fixed keys come first (serde_json's map sorts its keys).
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn scrub_value(v: Value, scrub: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(scrub(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| scrub_value(v, scrub)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, scrub_value(v, scrub)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_keys_come_first_and_strings_are_scrubbed() {
        let fields = vec![
            ("error".to_string(), Value::from("key abc123 rejected")),
            ("msg".to_string(), Value::from("ignored")),
        ];
        let text = line(
            "2026-01-01T00:00:00.000Z",
            log::Level::Warn,
            "org_1: abc123",
            Some("org_1"),
            fields,
            &|s| s.replace("abc123", "[redacted]"),
        );
        assert_eq!(
            text,
            r#"{"ts":"2026-01-01T00:00:00.000Z","level":"warn","msg":"org_1: [redacted]","org":"org_1","error":"key [redacted] rejected"}"#
        );
    }
}
