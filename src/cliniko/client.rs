//! The one HTTP chokepoint to Cliniko: auth and required headers, rate limiting,
//! retries, timeouts, and error classification.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::ApiError;
use super::endpoints::Endpoint;
use super::parse::{BodyError, PageBody, parse_page};
use super::query::ListQuery;
use super::ratelimit::RateLimiter;
use super::retry::{RetryPolicy, rate_limit_wait};
use crate::privacy::OrgPolicy;
use crate::secret::ApiKey;
use crate::timestamp::Timestamp;

/// The largest response body read (a page of 100 records is far below this).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Everything a client needs besides the key.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Who the client works for (the org id), to prefix its log lines.
    pub label: String,
    /// e.g. `https://api.au1.cliniko.com/v1`, no trailing slash.
    pub base_url: String,
    /// `App name (contact@email)`, required by Cliniko.
    pub user_agent: String,
    /// Limit on connecting and on the whole of one request.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// The org's privacy policy, applied to every record parsed from a page.
    pub privacy: Arc<OrgPolicy>,
}

/// A Cliniko API client for one API key.
pub struct Client {
    agent: ureq::Agent,
    settings: ClientSettings,
    authorization: String,
    limiter: Arc<RateLimiter>,
    cancel: Arc<AtomicBool>,
    calls: AtomicU64,
    /// The newest valid `Date` header: (Cliniko's time, when it arrived, round trip).
    last_date: Mutex<Option<(Timestamp, Instant, Duration)>>,
}

/// The Cliniko account a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinikoAccount {
    /// `account.id`: digits (a 64-bit integer sent as a string).
    pub id: String,
    pub name: Option<String>,
}

impl std::fmt::Display for ClinikoAccount {
    /// `123 (Bondi Physio)`, or the bare id without a name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Cliniko's clock as the newest response's `Date` header showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerDate {
    /// The header's time (whole seconds, Cliniko's clock).
    pub date: Timestamp,
    /// How long ago that response arrived.
    pub age: Duration,
    /// How long its request took, sending to receiving: the header was stamped within it.
    pub round_trip: Duration,
}

/// What one transient failure was, kept for the final error if retries run out.
enum Transient {
    Network(String),
    Server(u16),
    Body(String),
}

impl Transient {
    /// The failure, for the retry's log line.
    fn detail(&self) -> String {
        match self {
            Transient::Network(d) | Transient::Body(d) => d.clone(),
            Transient::Server(s) => format!("HTTP {s} from Cliniko"),
        }
    }

    /// The error when `attempts` attempts all failed, this one last.
    fn into_error(self, attempts: u32) -> ApiError {
        match self {
            Transient::Network(detail) => ApiError::Network { detail, attempts },
            Transient::Server(status) => ApiError::Server { status, attempts },
            Transient::Body(detail) => ApiError::BadResponse { detail, attempts },
        }
    }
}

/// What one answer means for its request.
enum Outcome<T> {
    /// Parsed: the value, and Cliniko's `Date` if valid.
    Done(T, Option<Timestamp>),
    /// Asking again cannot help.
    Failed(ApiError),
    /// HTTP 429: the wait Cliniko asked for, if it said.
    RateLimited(Option<Duration>),
    /// Worth another attempt after a backoff.
    Transient(Transient),
}

impl Client {
    /// A client for `key`, spacing its requests with `limiter` and stopping (between
    /// requests and during waits) once `cancel` is set.
    pub fn new(
        key: &ApiKey,
        settings: ClientSettings,
        limiter: Arc<RateLimiter>,
        cancel: Arc<AtomicBool>,
    ) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would leave the host the key belongs to; report it instead.
            .max_redirects(0)
            .timeout_connect(Some(settings.request_timeout))
            .timeout_global(Some(settings.request_timeout))
            .user_agent(settings.user_agent.as_str())
            .accept("application/json")
            .build();
        Client {
            agent: config.into(),
            authorization: basic_auth(key),
            settings,
            limiter,
            cancel,
            calls: AtomicU64::new(0),
            last_date: Mutex::new(None),
        }
    }

    /// Requests sent so far (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The newest `Date` header Cliniko sent this client, if any was valid.
    pub fn server_date(&self) -> Option<ServerDate> {
        let last = *self.last_date.lock().unwrap_or_else(|e| e.into_inner());
        last.map(|(date, received, round_trip)| ServerDate {
            date,
            age: received.elapsed(),
            round_trip,
        })
    }

    /// Fetches one page of a list route.
    pub fn list_page(&self, endpoint: &Endpoint, query: &ListQuery) -> Result<PageBody, ApiError> {
        let url = format!(
            "{}{}?{}",
            self.settings.base_url,
            endpoint.path,
            query.encode()
        );
        log::debug!(
            "{}: GET {} {:?}",
            self.settings.label,
            endpoint.path,
            query.filters()
        );
        let (mut page, date) = self.get(&url, |body| {
            parse_page(endpoint, body, &self.settings.privacy)
        })?;
        page.server_time = date;
        Ok(page)
    }

    /// Fetches `path` (e.g. `/user`) and checks it is JSON: a cheap probe of the key.
    pub fn probe(&self, path: &str) -> Result<(), ApiError> {
        let url = format!("{}{path}", self.settings.base_url);
        self.get(&url, |body| {
            serde_json::from_slice::<serde_json::Value>(body)
                .map(drop)
                .map_err(|e| BodyError::from(format!("response is not valid JSON ({e})")))
        })
        .map(drop)
    }

    /// The Cliniko account the key belongs to (`GET /settings`: `account.id`, `name`).
    pub fn account(&self) -> Result<ClinikoAccount, ApiError> {
        let url = format!("{}/settings", self.settings.base_url);
        self.get(&url, |body| {
            let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
                BodyError::from(format!("/settings: response is not valid JSON ({e})"))
            })?;
            let account = v
                .get("account")
                .ok_or("/settings: the response has no `account`")?;
            let id = match account.get("id") {
                Some(serde_json::Value::String(s)) if is_digits(s) => s.clone(),
                Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
                other => {
                    return Err(BodyError::from(format!(
                        "/settings: `account.id` is {}, not a 64-bit integer",
                        other.map_or("missing".to_string(), |v| v.to_string())
                    )));
                }
            };
            let name = account
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_string);
            Ok(ClinikoAccount { id, name })
        })
        .map(|(account, _)| account)
    }

    /// GETs `url` and parses the body with `parse`, retrying transient failures. Also
    /// returns the response's `Date` (Cliniko's clock), when it sends a valid one.
    fn get<T>(
        &self,
        url: &str,
        parse: impl Fn(&[u8]) -> Result<T, BodyError>,
    ) -> Result<(T, Option<Timestamp>), ApiError> {
        let (mut failures, mut rate_limited) = (0u32, 0u32);
        loop {
            self.sleep(self.limiter.reserve())?;
            match self.attempt(url, &parse) {
                Outcome::Done(value, date) => return Ok((value, date)),
                Outcome::Failed(e) => return Err(e),
                Outcome::RateLimited(asked) => {
                    rate_limited += 1;
                    self.wait_out_rate_limit(asked, rate_limited)?;
                }
                Outcome::Transient(transient) => {
                    failures += 1;
                    self.back_off(transient, failures)?;
                }
            }
        }
    }

    /// Sends one GET of `url` and judges its answer.
    fn attempt<T>(&self, url: &str, parse: &impl Fn(&[u8]) -> Result<T, BodyError>) -> Outcome<T> {
        self.limiter.sent();
        self.calls.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        match self
            .agent
            .get(url)
            .header("Authorization", &self.authorization)
            .call()
        {
            Err(e) => Outcome::Transient(Transient::Network(network_detail(&e))),
            Ok(resp) => self.judge(resp, sent, parse),
        }
    }

    /// What an answer to a request sent at `sent` means, by its status; its `Date` is
    /// noted first.
    fn judge<T>(
        &self,
        mut resp: ureq::http::Response<ureq::Body>,
        sent: Instant,
        parse: &impl Fn(&[u8]) -> Result<T, BodyError>,
    ) -> Outcome<T> {
        let headers = resp.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let date = self.note_date(header("date").as_deref(), sent);
        let status = resp.status().as_u16();
        match status {
            200..=299 => match resp.body_mut().with_config().limit(MAX_BODY).read_to_vec() {
                Ok(body) => match parse(&body) {
                    Ok(value) => Outcome::Done(value, date),
                    // Asking again brings the same record back.
                    Err(BodyError::BadRecord(detail)) => {
                        Outcome::Failed(ApiError::BadRecord { detail })
                    }
                    Err(BodyError::Unreadable(e)) => Outcome::Transient(Transient::Body(e)),
                },
                Err(e) => Outcome::Transient(Transient::Body(format!(
                    "response body could not be read ({})",
                    network_detail(&e)
                ))),
            },
            429 => Outcome::RateLimited(rate_limit_wait(
                header("x-ratelimit-reset").as_deref(),
                header("retry-after").as_deref(),
                header("date").as_deref(),
            )),
            401 => Outcome::Failed(ApiError::KeyRejected { status }),
            // Keys carry their user's permissions: a 403 is about this route, and other
            // routes may still work.
            403 => Outcome::Failed(ApiError::Forbidden),
            500..=599 => Outcome::Transient(Transient::Server(status)),
            _ => {
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .unwrap_or_default();
                Outcome::Failed(ApiError::Http {
                    status,
                    message: cliniko_message(&body),
                    location: header("location"),
                })
            }
        }
    }

    /// Keeps the time of a `Date` header (any answer shows Cliniko's clock, errors and
    /// 429s included) with when it arrived and how long its request took.
    fn note_date(&self, header: Option<&str>, sent: Instant) -> Option<Timestamp> {
        let date = header.and_then(Timestamp::parse_http_date)?;
        let received = Instant::now();
        *self.last_date.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((date, received, received.duration_since(sent)));
        Some(date)
    }

    /// Pauses every request of this key for the wait Cliniko `asked` for (or a backoff),
    /// after the `times`-th 429 in a row; fails when that is more than the policy allows.
    fn wait_out_rate_limit(&self, asked: Option<Duration>, times: u32) -> Result<(), ApiError> {
        let policy = self.settings.retry;
        let wait = asked
            .unwrap_or_else(|| policy.backoff(times))
            .max(Duration::from_millis(200))
            + super::retry::jitter(Duration::from_millis(500), 1.0);
        if wait > policy.max_wait || times > policy.max_rate_limited {
            return Err(ApiError::RateLimited {
                wait,
                max_wait: policy.max_wait,
                times,
            });
        }
        log::info!(
            "{}: rate limited by Cliniko (HTTP 429): waiting {:.1}s before retrying",
            self.settings.label,
            wait.as_secs_f64()
        );
        self.limiter.pause_until(Instant::now() + wait);
        Ok(())
    }

    /// Waits before another attempt after the `failures`-th transient failure, or fails
    /// with it when the attempts are spent.
    fn back_off(&self, transient: Transient, failures: u32) -> Result<(), ApiError> {
        let policy = self.settings.retry;
        if failures >= policy.attempts {
            return Err(transient.into_error(failures));
        }
        let wait = policy.backoff(failures);
        log::warn!(
            "{}: {}; retrying in {:.1}s (attempt {} of {})",
            self.settings.label,
            transient.detail(),
            wait.as_secs_f64(),
            failures + 1,
            policy.attempts
        );
        self.sleep(wait)
    }

    /// Sleeps `d`, waking early with [`ApiError::Interrupted`] when the run is cancelled.
    fn sleep(&self, d: Duration) -> Result<(), ApiError> {
        let until = Instant::now() + d;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(ApiError::Interrupted);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

/// `Basic base64(key + ":")`: the key is the user name, the password empty.
pub fn basic_auth(key: &ApiKey) -> String {
    format!("Basic {}", STANDARD.encode(format!("{}:", key.expose())))
}

/// Describes a transport error without the URL's query (which is harmless, but long).
fn network_detail(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("request timed out ({t})"),
        ureq::Error::HostNotFound => "host not found (check base_url or DNS)".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) => format!("network error: {io}"),
        other => format!("network error: {other}"),
    }
}

/// Cliniko's `message` field from an error body, when the body is JSON and has one.
fn cliniko_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = v.get("message")?.as_str()?.to_string();
    let details = v
        .get("errors")
        .and_then(|e| e.as_object())
        .map(|errs| {
            errs.iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().map_or(v.to_string(), str::to_string)))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|s| !s.is_empty());
    Some(match details {
        Some(d) => format!("{message}: {d}"),
        None => message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_matches_cliniko_docs_example() {
        let key = ApiKey::new("MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-au2");
        assert_eq!(
            basic_auth(&key),
            "Basic TXhKclpYa2lPaUkxTmpkMWFtSm1aVFExTnlKOS1hdTI6"
        );
        // The padded standard alphabet, as RFC 7617 asks.
        assert_eq!(STANDARD.encode(b"ab"), "YWI=");
        assert_eq!(STANDARD.encode(b"a"), "YQ==");
    }

    #[test]
    fn messages_from_error_fixtures() {
        let read = |n: &str| {
            std::fs::read(format!(
                "{}/tests/fixtures/cliniko/{n}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert_eq!(
            cliniko_message(&read("issue-231-400-column-not-searchable.json")).as_deref(),
            Some("This column is not searchable.")
        );
        let m = cliniko_message(&read("issue-379-422-validation-failed.json")).unwrap();
        assert!(
            m.starts_with("Validation Failed: max_attendees is not a number"),
            "{m}"
        );
        assert_eq!(cliniko_message(b"HTTP Basic: Access denied."), None);
    }
}
