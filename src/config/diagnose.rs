//! Turns toml's syntax and type errors into [`ConfigError::Toml`] with line, column, key
//! path and org id, by finding the error's byte span in the parsed document.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use serde::de::{Deserialize, Deserializer, Error as _, Visitor};

use super::error::{ConfigError, Location};
use super::raw::{RawConfig, expected_form};

/// Builds the error for a toml failure. `doc` is the parsed document when the failure was
/// in deserializing (types, unknown keys) rather than in parsing.
pub(super) fn toml_error(
    path: &Path,
    text: &str,
    err: &toml::de::Error,
    doc: Option<&DeTable<'_>>,
) -> ConfigError {
    let span = err.span();
    let at = span.as_ref().map(|span| {
        let (line, column) = line_column(text, span.start);
        Location { line, column }
    });
    let key = match (doc, &span) {
        (Some(doc), Some(span)) => key_path_at(doc, span),
        _ => None,
    };
    let org = match (doc, &key) {
        (Some(doc), Some(key)) => org_id_for(doc, key),
        _ => None,
    };
    let message = explain(err.message(), doc.is_some(), key.as_deref());
    ConfigError::Toml {
        path: path.to_path_buf(),
        at,
        key,
        org,
        message,
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The last plain key name in a path: `org[2].resources[0]` → `resources`.
fn last_key(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// toml's own message, made readable, plus what to do.
fn explain(raw: &str, parsed: bool, key: Option<&str>) -> String {
    if !parsed {
        return format!("{raw}; fix the TOML syntax there");
    }
    let leaf = key.map(last_key);
    if leaf == Some("api_key") {
        // Never echo what was written there: it may be (part of) a key.
        return "wrong type: expected the API key as a string (better: set api_key_env to the \
                name of an environment variable holding it)"
            .to_string();
    }
    let message = raw
        .replace("struct RawConfig", "the config table")
        .replace("struct RawOrg", "an [[org]] table")
        .replace("struct RawWindow", "a table")
        .replace(
            "struct RawPolicy",
            "a [privacy.RESOURCE] table (keys: keep, drop, hash, year)",
        )
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number");
    if message.starts_with("unknown field") {
        if let (Some(key), Some(leaf)) = (key, leaf)
            && key.starts_with("org[")
            && key.matches('.').count() == 1
            && field_names::<RawConfig>().contains(&leaf)
        {
            // TOML gives every key after a `[[org]]` line to that org's table.
            return format!(
                "{message}; `{leaf}` is a top-level setting, but it comes after an [[org]] \
                 line, so TOML reads it as part of that org's table: move it above the first \
                 [[org]]"
            );
        }
        return format!("{message}; remove it or fix its spelling");
    }
    match leaf.and_then(expected_form) {
        Some(form) => format!("{message}; expected {form}"),
        None => message,
    }
}

/// The keys a table read as `T` accepts: its fields, as serde is told them (the struct is
/// their one list).
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'f>(&'f mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("only a struct's fields are asked for"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("the fields are all that was asked for"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    // The probe always ends in its own error, once the fields are read.
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// The most specific key path whose key or value span covers `span`.
fn key_path_at(doc: &DeTable<'_>, span: &Range<usize>) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    walk_table(doc, "", span, &mut best);
    best.map(|(_, path)| path)
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}

fn consider(
    candidate: &Range<usize>,
    path: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    if covers(candidate, span) {
        let width = candidate.end - candidate.start;
        // Ties go to the later (deeper) path, since parents are visited first.
        if best.as_ref().is_none_or(|(w, _)| width <= *w) {
            *best = Some((width, path.to_string()));
        }
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        consider(&key.span(), &path, span, best);
        consider(&value.span(), &path, span, best);
        walk_value(value.get_ref(), &path, span, best);
    }
}

fn walk_value(
    value: &DeValue<'_>,
    path: &str,
    span: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    match value {
        DeValue::Table(table) => walk_table(table, path, span, best),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                consider(&item.span(), &item_path, span, best);
                walk_value(item.get_ref(), &item_path, span, best);
            }
        }
        _ => {}
    }
}

/// The line of the key path `key` (as [`Problem`](super::Problem) keys are written:
/// `privacy.patients.drop[1]`, `org[2].hash_secret_env`), when it is in the file.
pub(super) fn line_of(doc: &DeTable<'_>, text: &str, key: &str) -> Option<usize> {
    let mut start = None;
    find_in_table(doc, "", key, &mut start);
    start.map(|at| line_column(text, at).0)
}

fn find_in_table(table: &DeTable<'_>, prefix: &str, key: &str, start: &mut Option<usize>) {
    for (name, value) in table.iter() {
        let path = if prefix.is_empty() {
            name.get_ref().to_string()
        } else {
            format!("{prefix}.{}", name.get_ref())
        };
        if path == key {
            *start = Some(name.span().start);
            return;
        }
        if key.starts_with(&path) {
            find_in_value(value.get_ref(), &path, key, start);
        }
    }
}

fn find_in_value(value: &DeValue<'_>, path: &str, key: &str, start: &mut Option<usize>) {
    match value {
        DeValue::Table(table) => find_in_table(table, path, key, start),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if item_path == key {
                    *start = Some(item.span().start);
                    return;
                }
                if key.starts_with(&item_path) {
                    find_in_value(item.get_ref(), &item_path, key, start);
                }
            }
        }
        _ => {}
    }
}

/// The `id` string of the org a key path like `org[2].base_url` is inside, if it has one.
fn org_id_for(doc: &DeTable<'_>, key: &str) -> Option<String> {
    let rest = key.strip_prefix("org[")?;
    let index: usize = rest.split(']').next()?.parse().ok()?;
    let orgs = doc.get("org")?.get_ref().as_array()?;
    let org = orgs.get(index)?.get_ref().as_table()?;
    Some(org.get("id")?.get_ref().as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 10), (2, 4));
    }

    #[test]
    fn key_paths() {
        let text = "jobs = 1\n[[org]]\nid = \"a\"\n[[org]]\nid = \"b\"\nbase_url = 5\n";
        let doc = DeTable::parse(text).unwrap();
        let at = text.find("5\n").unwrap();
        let path = key_path_at(doc.get_ref(), &(at..at + 1)).unwrap();
        assert_eq!(path, "org[1].base_url");
        assert_eq!(org_id_for(doc.get_ref(), &path).as_deref(), Some("b"));
        assert_eq!(last_key("org[2].resources[0]"), "resources");
        assert_eq!(last_key("jobs"), "jobs");
    }
}
