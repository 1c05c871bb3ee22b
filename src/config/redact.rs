//! Finds inline API key values and database passwords in the config text so they can be
//! scrubbed from messages.
//!
//! Messages are built without key values in the first place; this is the second line of
//! defence for text that comes from toml (which may quote what it found).

use toml::de::{DeTable, DeValue};

use crate::url_password;

/// Shorter values are not scrubbed: replacing them would garble unrelated words, and no
/// real Cliniko key is that short.
const MIN_SECRET_LEN: usize = 6;

/// What replaces a secret in a message.
pub(super) const REDACTED: &str = "[redacted]";

/// The inline `api_key` values and database URL passwords of one config file.
#[derive(Debug, Default)]
pub(super) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Collects values from the parsed document (exact, after TOML unescaping) when there
    /// is one, and from the raw lines (works even when the TOML does not parse).
    pub(super) fn new(text: &str, doc: Option<&DeTable<'_>>) -> Self {
        let mut secrets = Vec::new();
        if let Some(doc) = doc {
            collect_from_table(doc, &mut secrets);
        }
        for line in text.lines() {
            collect_from_line(line, "api_key", &mut secrets);
            let mut urls = Vec::new();
            collect_from_line(line, "database", &mut urls);
            secrets.extend(urls.iter().flat_map(|u| url_password::passwords(u)));
        }
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        // Longest first, so a key is not half-replaced by one of its own substrings.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every known secret replaced by `[redacted]`.
    pub(super) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

fn collect_from_table(table: &DeTable<'_>, out: &mut Vec<String>) {
    for (key, value) in table.iter() {
        if key.get_ref() == "api_key"
            && let Some(s) = value.get_ref().as_str()
        {
            out.push(s.to_string());
            out.push(s.trim().to_string());
        }
        if key.get_ref() == "database"
            && let Some(url) = value.get_ref().as_str()
        {
            out.extend(url_password::passwords(url));
        }
        collect_from_value(value.get_ref(), out);
    }
}

fn collect_from_value(value: &DeValue<'_>, out: &mut Vec<String>) {
    match value {
        DeValue::Table(table) => collect_from_table(table, out),
        DeValue::Array(array) => array
            .iter()
            .for_each(|v| collect_from_value(v.get_ref(), out)),
        _ => {}
    }
}

/// Finds `<name> = <value>` (also quoted keys, also inside inline tables) on one line and
/// records the value as written, with and without its quotes.
fn collect_from_line(line: &str, name: &str, out: &mut Vec<String>) {
    let mut search_from = 0;
    while let Some(found) = line[search_from..].find(name) {
        let start = search_from + found;
        let end = start + name.len();
        search_from = end;
        let before_ok = line[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let rest = &line[end..];
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value = value.trim_start();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
        let token = match quote {
            Some(q) => {
                let inner = value.trim_start_matches(q);
                inner.split(q).next().unwrap_or(inner)
            }
            None => value
                .split(|c: char| c.is_whitespace() || c == ',' || c == '}' || c == '#')
                .next()
                .unwrap_or(value),
        };
        out.push(token.to_string());
        out.push(token.trim().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_lines_even_when_toml_is_broken() {
        let text = "[[org]]\napi_key = \"SECRET-au1\" oops\napi_key_env = \"NOT_SECRET_VAR\"\n\
                    org = [{ id = 'x', \"api_key\" = 'OTHERSECRET' }]\napi_key=BARE_SECRET\n";
        let r = Redactor::new(text, None);
        let msg = "SECRET-au1 OTHERSECRET BARE_SECRET NOT_SECRET_VAR";
        assert_eq!(
            r.scrub(msg),
            "[redacted] [redacted] [redacted] NOT_SECRET_VAR"
        );
    }

    #[test]
    fn finds_keys_in_parsed_document() {
        let text = "[[org]]\napi_key = \"\"\"\nMULTI-LINE-SECRET\"\"\"\n";
        let doc = DeTable::parse(text).unwrap();
        let r = Redactor::new(text, Some(doc.get_ref()));
        assert_eq!(r.scrub("x MULTI-LINE-SECRET y"), "x [redacted] y");
    }

    #[test]
    fn finds_database_passwords() {
        let text = "database = \"postgres://u:DbSecretPw@h/d\" oops\n";
        let r = Redactor::new(text, None);
        assert_eq!(r.scrub("at DbSecretPw@h"), "at [redacted]@h");
        let text = "database = \"postgres://u:OtherDbPw@h/d\"\n";
        let doc = DeTable::parse(text).unwrap();
        let r = Redactor::new(text, Some(doc.get_ref()));
        assert_eq!(r.scrub("OtherDbPw"), "[redacted]");
    }

    #[test]
    fn short_values_are_left_alone() {
        let r = Redactor::new("api_key = \"ab\"\n", None);
        assert_eq!(r.scrub("about"), "about");
    }
}
