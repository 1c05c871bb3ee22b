//! PostgreSQL connection URLs: parsing, the TLS mode they ask for, and a form safe to show.
//!
//! The password is kept out of every string this module produces: [`PgUrl`]'s `Display`
//! and `Debug` show it as `****`, and parse errors never quote the URL.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use crate::url_password::is_postgres_url;
use crate::url_password::{self, POSTGRES_SCHEMES, decode};

/// What stands in for the password wherever a URL is shown.
pub const MASK: &str = "****";

/// What to do when a URL's user name or password holds a character URLs reserve: the
/// client library would read part of it as the host, port, database or an option, or
/// decode a `%` escape, and hosted providers' generated passwords often hold these.
pub const PERCENT_ENCODE_HINT: &str = "if the user name or password holds any of \
     @ : / # ? & %, write each of those percent-encoded in the URL \
     (@ %40, : %3A, / %2F, # %23, ? %3F, & %26, % %25)";

/// How the connection uses TLS (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, unverified (libpq's default).
    Prefer,
    /// TLS or fail; the certificate is not verified (as libpq, unless `sslrootcert` is set,
    /// which makes it `verify-ca`).
    Require,
    /// TLS, and the server certificate must chain to a trusted root.
    VerifyCa,
    /// `verify-ca`, and the certificate must name the host.
    VerifyFull,
}

impl SslMode {
    /// The name written in URLs.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A parsed `postgres://` / `postgresql://` URL.
#[derive(Clone)]
pub struct PgUrl {
    /// What the client library connects with (TLS parameters removed: we handle them).
    config: Box<postgres::Config>,
    ssl_mode: SslMode,
    root_cert: Option<PathBuf>,
    /// The URL with its password replaced by [`MASK`].
    shown: String,
    /// The password as written and as decoded, for log redaction.
    secrets: Vec<String>,
}

impl PgUrl {
    /// Parses a URL. The error says what is wrong without quoting the URL (it may hold a
    /// password).
    pub fn parse(text: &str) -> Result<PgUrl, String> {
        let text = text.trim();
        let scheme_len = POSTGRES_SCHEMES
            .iter()
            .find(|s| text.to_ascii_lowercase().starts_with(*s))
            .map(|s| s.len())
            .ok_or("is not a postgres:// or postgresql:// URL")?;
        let scheme = &text[..scheme_len];
        // Credentials end at the first `@`, as the client library reads them.
        let info = url_password::userinfo(text);
        let creds_end = info.as_ref().map_or(scheme_len, |i| i.rest_at);
        let after_creds = &text[creds_end..];
        if has_stray_at(after_creds) {
            // Part of the password would otherwise be taken for the host, the database
            // or an option, and shown.
            return Err(format!(
                "has an `@` in its user name or password; {PERCENT_ENCODE_HINT}"
            ));
        }
        let mut shown = scheme.to_string();
        match &info {
            Some(i) if i.password.is_some() => shown.push_str(&format!("{}:{MASK}@", i.user)),
            Some(i) => shown.push_str(&format!("{}@", i.user)),
            None => {}
        }
        let mut secrets = url_password::passwords(text);
        let (base, query) = match after_creds.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (after_creds, None),
        };
        shown.push_str(base);
        let mut ssl_mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        let mut shown_params = Vec::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match decode(key).as_str() {
                "sslmode" => {
                    ssl_mode = SslMode::parse(&decode(value)).ok_or_else(|| {
                        format!(
                            "has sslmode={value}; use one of disable, prefer, require, \
                             verify-ca, verify-full"
                        )
                    })?;
                    shown_params.push(pair.to_string());
                }
                "sslrootcert" => {
                    root_cert = Some(PathBuf::from(decode(value)));
                    shown_params.push(pair.to_string());
                }
                "password" => {
                    shown_params.push(format!("{key}={MASK}"));
                    kept.push(pair);
                }
                _ => {
                    shown_params.push(pair.to_string());
                    kept.push(pair);
                }
            }
        }
        if !shown_params.is_empty() {
            shown.push('?');
            shown.push_str(&shown_params.join("&"));
        }
        let mut for_client = format!("{}{base}", &text[..creds_end]);
        if !kept.is_empty() {
            for_client.push('?');
            for_client.push_str(&kept.join("&"));
        }
        // The library's message names the offending option, never its value.
        let mut config = postgres::Config::from_str(&for_client)
            .map_err(|e| format!("is not a valid PostgreSQL URL ({e}); {PERCENT_ENCODE_HINT}"))?;
        if config.get_hosts().is_empty() {
            return Err(format!(
                "names no host; write postgres://user:password@host:5432/database; \
                 {PERCENT_ENCODE_HINT}"
            ));
        }
        if ssl_mode == SslMode::Require && root_cert.is_some() {
            // libpq: a root certificate makes `require` verify the chain.
            ssl_mode = SslMode::VerifyCa;
        }
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        secrets.retain(|s| !s.is_empty());
        secrets.dedup();
        Ok(PgUrl {
            config: Box::new(config),
            ssl_mode,
            root_cert,
            shown,
            secrets,
        })
    }

    /// The client library's connection settings (its `Debug` hides the password).
    pub fn client_config(&self) -> &postgres::Config {
        &self.config
    }

    /// How TLS is used.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The `sslrootcert` file, if the URL names one.
    pub fn root_cert(&self) -> Option<&std::path::Path> {
        self.root_cert.as_deref()
    }

    /// Whether the URL itself carries a password.
    pub fn has_password(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The password as written and decoded: register these for log redaction.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// The first host, for messages (`host` or a socket folder).
    pub fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        }
    }

    /// Whether a TCP host of the URL is another machine (a socket folder is this one).
    pub fn leaves_this_machine(&self) -> bool {
        self.config.get_hosts().iter().any(|h| match h {
            postgres::config::Host::Tcp(h) => !crate::loopback::is_loopback_host(h),
            #[cfg(unix)]
            postgres::config::Host::Unix(_) => false,
        })
    }

    /// The first port (5432 when the URL names none).
    pub fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }

    /// The database name (PostgreSQL's default: the user name).
    pub fn database(&self) -> String {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("")
            .to_string()
    }

    /// `host HOST, port PORT, database DB`: where a connection went, for error messages.
    pub fn describe(&self) -> String {
        format!(
            "host {}, port {}, database {}",
            self.host(),
            self.port(),
            self.database()
        )
    }
}

/// Whether `rest` (what follows the credentials, which end at the first `@`) holds an
/// `@` that is not inside an option's value (`?application_name=a@b`): the rest of a
/// user name or password that holds an `@`.
fn has_stray_at(rest: &str) -> bool {
    rest.match_indices('@').any(|(at, _)| {
        let before = &rest[..at];
        match before.find('?') {
            None => true,
            Some(query) => {
                let option = before[query..].rsplit(['?', '&']).next().unwrap_or("");
                !option.contains('=')
            }
        }
    })
}

impl PartialEq for PgUrl {
    fn eq(&self, other: &PgUrl) -> bool {
        self.shown == other.shown
            && self.secrets == other.secrets
            && self.ssl_mode == other.ssl_mode
            && self.root_cert == other.root_cert
    }
}

impl Eq for PgUrl {}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_masked_everywhere() {
        let url = PgUrl::parse(
            "postgres://routiq:s%40cret-pw@db.example.com:6543/clinics?sslmode=require",
        )
        .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://routiq:****@db.example.com:6543/clinics?sslmode=require"
        );
        assert!(!format!("{url:?}").contains("cret"));
        assert!(!format!("{:?}", url.client_config()).contains("cret"));
        assert_eq!(url.secrets(), ["s%40cret-pw", "s@cret-pw"]);
        assert_eq!(url.ssl_mode(), SslMode::Require);
        assert_eq!(
            url.describe(),
            "host db.example.com, port 6543, database clinics"
        );
        assert_eq!(
            url.client_config().get_password(),
            Some("s@cret-pw".as_bytes())
        );
    }

    #[test]
    fn password_in_the_query_is_masked_too() {
        let url =
            PgUrl::parse("postgresql://u@h/d?password=querysecret&application_name=x").unwrap();
        assert_eq!(
            url.to_string(),
            "postgresql://u@h/d?password=****&application_name=x"
        );
        assert!(url.has_password());
        assert_eq!(url.ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn tls_parameters() {
        let url =
            PgUrl::parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem").unwrap();
        assert_eq!(url.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(url.root_cert(), Some(std::path::Path::new("/etc/ca.pem")));
        let url = PgUrl::parse("postgres://u@h/d?sslmode=require&sslrootcert=ca.pem").unwrap();
        assert_eq!(url.ssl_mode(), SslMode::VerifyCa);
        let err = PgUrl::parse("postgres://u:pw123456@h/d?sslmode=sometimes").unwrap_err();
        assert!(
            err.contains("sslmode") && !err.contains("pw123456"),
            "{err}"
        );
    }

    #[test]
    fn bad_urls_never_quote_the_password() {
        for bad in [
            "postgres://u:pw123456@h:notaport/d",
            "postgres://u:pw123456@/d",
            "postgres://u:pw123456@h/d?nosuchoption=1",
            "postgres://u:pw12@3456@h/d",
        ] {
            let err = PgUrl::parse(bad).unwrap_err();
            assert!(!err.contains("pw12"), "{err}");
        }
        assert!(is_postgres_url("PostgreSQL://h/d"));
        assert!(!is_postgres_url("/var/lib/routiq.db"));
        assert_eq!(PgUrl::parse("postgres://h/d").unwrap().port(), 5432);
    }
}
