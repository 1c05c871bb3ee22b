//! HTTP plumbing: request header checks (auth, User-Agent, Accept) and the reply type.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use serde_json::json;
use tiny_http::{Header, Response};

/// A response before it is handed to tiny_http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// `{"message": msg}` with `status`.
    pub fn message(status: u16, msg: &str) -> Reply {
        Reply::json(status, json!({ "message": msg }).to_string())
    }

    /// A plain-text body.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The tiny_http response (with a `Content-Length` for exactly `body`).
    pub fn into_response(self) -> Response<Cursor<Vec<u8>>> {
        let mut r = Response::from_data(self.body).with_status_code(self.status);
        let headers = std::iter::once(("Content-Type".to_string(), self.content_type.to_string()))
            .chain(self.headers);
        for (k, v) in headers {
            if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                r.add_header(h);
            }
        }
        r
    }
}

/// The value of the first header called `name` (case-insensitive).
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The username of an HTTP Basic `Authorization` value (the API key; password ignored).
pub fn basic_auth_user(value: &str) -> Option<String> {
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // Clients differ on padding; accept it either way.
    let raw = STANDARD_PAD_INDIFFERENT.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
    Some(user.to_string())
}

/// Whether a User-Agent names an app and a contact email in parentheses, like
/// `Really helpful app (devs@helpfulapp.com)`.
pub fn user_agent_ok(ua: &str) -> bool {
    let Some(open) = ua.find('(') else {
        return false;
    };
    let Some(close) = ua[open..].find(')') else {
        return false;
    };
    let name = ua[..open].trim();
    let inside = ua[open + 1..open + close].trim();
    !name.is_empty()
        && inside.split([' ', ';', ',']).any(|w| {
            w.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
        })
}

/// Whether an `Accept` header allows JSON (`application/json`, `application/*` or `*/*`).
pub fn accept_ok(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let media = part.split(';').next().unwrap_or("").trim();
            matches!(media, "application/json" | "application/*" | "*/*")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_vector_from_the_docs() {
        let v = "Basic TXhKclpYa2lPaUkxTmpkMWFtSm1aVFExTnlKOS1hdTI6";
        assert_eq!(
            basic_auth_user(v).as_deref(),
            Some("MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-au2")
        );
        assert_eq!(basic_auth_user("Bearer abc"), None);
        assert_eq!(basic_auth_user("Basic !!!"), None);
    }

    #[test]
    fn header_rules() {
        assert!(user_agent_ok("Routiq Sync (ops@example.com)"));
        assert!(user_agent_ok("Really helpful app (devs@helpfulapp.com)"));
        assert!(!user_agent_ok("ureq/3.5.2"));
        assert!(!user_agent_ok("(ops@example.com)"));
        assert!(!user_agent_ok("App (no email)"));
        assert!(!user_agent_ok("App (x@localhost)"));
        assert!(accept_ok(Some("application/json")));
        assert!(accept_ok(Some("text/html, */*;q=0.1")));
        assert!(!accept_ok(Some("text/html")));
        assert!(!accept_ok(None));
    }
}
