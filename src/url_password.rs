//! Where the user name and password are in a URL: the one reading that the database URL,
//! the ping URLs and the config scrubber all use, so what is masked is what is sent.

use std::ops::Range;

use percent_encoding::percent_decode_str;

/// The schemes of a PostgreSQL URL (any case).
pub const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// Whether `text` is meant as a PostgreSQL URL (rather than a SQLite path).
pub fn is_postgres_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    POSTGRES_SCHEMES.iter().any(|s| lower.starts_with(s))
}

/// The `user:password` part of a URL and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo<'a> {
    pub user: &'a str,
    /// As written (percent-encoded); `None` without a `:`.
    pub password: Option<&'a str>,
    /// Where the password stands in the URL (empty, just before the `@`, without one).
    pub password_at: Range<usize>,
    /// Where the URL goes on after the `@`.
    pub rest_at: usize,
}

/// The user info of `url`, read as the program that uses the URL reads it:
/// - `postgres://` and `postgresql://`: up to the first `@` anywhere, as the PostgreSQL
///   client library does (so a `/`, `?` or `#` in a password is part of the password);
/// - any other scheme (the ping URLs): RFC 3986, as the HTTP client does: the authority
///   ends at the first `/`, `?` or `#`, and the user info at its last `@`.
pub fn userinfo(url: &str) -> Option<UserInfo<'_>> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let at = if is_postgres_url(url) {
        rest.find('@')?
    } else {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        authority.rfind('@')?
    };
    let info = &rest[..at];
    let (user, password, password_at) = match info.split_once(':') {
        Some((user, password)) => {
            let from = start + user.len() + 1;
            (user, Some(password), from..start + at)
        }
        None => (info, None, start + at..start + at),
    };
    Some(UserInfo {
        user,
        password,
        password_at,
        rest_at: start + at + 1,
    })
}

/// Every form of every password `url` carries, for scrubbing: the user-info password and
/// (on database URLs) a `password=` parameter, each as written and percent-decoded.
pub fn passwords(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(password) = userinfo(url).and_then(|u| u.password) {
        found.push(password);
    }
    if is_postgres_url(url)
        && let Some((_, query)) = url.split_once('?')
    {
        found.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .filter(|(key, _)| decode(key) == "password")
                .map(|(_, value)| value),
        );
    }
    let mut out = Vec::new();
    for password in found {
        for form in [password.to_string(), decode(password)] {
            if !form.is_empty() && !out.contains(&form) {
                out.push(form);
            }
        }
    }
    out
}

/// `url` with its user-info password replaced by `mask`, for people.
pub fn mask_password(url: &str, mask: &str) -> String {
    match userinfo(url) {
        Some(info) if info.password.is_some_and(|p| !p.is_empty()) => {
            let mut shown = url.to_string();
            shown.replace_range(info.password_at, mask);
            shown
        }
        _ => url.to_string(),
    }
}

/// Percent-decoded text (bytes that are not UTF-8 become U+FFFD).
pub fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// URL forms that `database_url` accepts, with the password the PostgreSQL client
    /// library itself reads from each.
    const DATABASE_URLS: &[&str] = &[
        "postgres://routiq:pw12345@db.example.com:5432/clinics",
        "postgresql://routiq:s%40cret-pw@db.example.com:6543/clinics?sslmode=require",
        "postgres://routiq:pa/ss#word?x@db.example.com/clinics",
        "postgres://routiq:with:colons@db.example.com/clinics",
        "postgres://routiq:p%2Fw%3Fd@[::1]:5432/clinics",
        "postgres://routiq@db.example.com/clinics?password=query-secret&sslmode=disable",
        "postgres://routiq:pw12345@h1:5432,h2:5433/clinics?application_name=a@b",
        "postgres://routiq:@db.example.com/clinics",
        "postgres://db.example.com/clinics",
    ];

    #[test]
    fn finds_the_password_the_postgresql_client_reads() {
        for url in DATABASE_URLS {
            let parsed = crate::database_url::PgUrl::parse(url)
                .unwrap_or_else(|e| panic!("database_url refuses {url}: {e}"));
            let config = postgres::Config::from_str(url).unwrap();
            let found = passwords(url);
            match config.get_password() {
                Some(read) if !read.is_empty() => {
                    let read = String::from_utf8_lossy(read).into_owned();
                    assert!(
                        found.contains(&read),
                        "{url}: client reads {read:?}, found {found:?}"
                    );
                    assert_eq!(parsed.secrets(), found, "{url}");
                    assert!(!parsed.to_string().contains(&read), "{url}");
                    let written = userinfo(url).and_then(|i| i.password);
                    if let Some(written) = written {
                        assert!(
                            !mask_password(url, "****").contains(&format!(":{written}@")),
                            "{url}: the masked form still shows the password"
                        );
                    }
                }
                _ => assert!(found.is_empty(), "{url}: no password, found {found:?}"),
            }
        }
    }

    #[test]
    fn the_two_earlier_readings_each_missed_a_form() {
        // Authority cut at `/` first (the ping reading, once used for every URL): the
        // client library sends `pa/ss` as the password, and it was never scrubbed.
        assert_eq!(
            passwords("postgres://u:pa/ss@db.example.com/clinics"),
            ["pa/ss"]
        );
        // Credentials only before `@` (the config scrubber's reading): a password given
        // as a parameter was never scrubbed.
        assert_eq!(
            passwords("postgres://u@db.example.com/clinics?password=p%40ss"),
            ["p%40ss", "p@ss"]
        );
    }

    #[test]
    fn ping_urls_are_read_as_the_http_client_reads_them() {
        let cases = [
            (
                "https://u:s3cret@hc-ping.com/uuid",
                Some("s3cret"),
                "hc-ping.com",
            ),
            (
                "https://hc-ping.com/uuid?email=a@b.example",
                None,
                "hc-ping.com",
            ),
            ("https://hc-ping.com:443/p@x", None, "hc-ping.com:443"),
            (
                "http://u:pw@127.0.0.1:8080/p?x",
                Some("pw"),
                "127.0.0.1:8080",
            ),
        ];
        for (url, password, host) in cases {
            let uri: ureq::http::Uri = url.parse().unwrap();
            let authority = uri.authority().unwrap().as_str();
            let info = userinfo(url);
            assert_eq!(info.as_ref().and_then(|i| i.password), password, "{url}");
            let rest = info.map_or(&url[url.find("://").unwrap() + 3..], |i| &url[i.rest_at..]);
            assert!(authority.ends_with(host) && rest.starts_with(host), "{url}");
        }
        assert_eq!(
            mask_password("https://u:s3cret@h.example/p", "[redacted]"),
            "https://u:[redacted]@h.example/p"
        );
        assert_eq!(
            mask_password("https://h.example/p@x", "*"),
            "https://h.example/p@x"
        );
    }
}
