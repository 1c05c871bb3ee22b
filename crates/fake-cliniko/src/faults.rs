//! Injectable one-shot faults (errors, bad bodies, delays) for resilience tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

use super::http::Reply;

/// How a fake 429 says when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetHeader {
    /// `X-RateLimit-Reset: <UNIX seconds>` (what Cliniko documents).
    XRateLimitReset,
    /// `Retry-After: <seconds>`.
    RetryAfterSeconds,
    /// `Retry-After: <IMF-fixdate>`.
    RetryAfterHttpDate,
    /// No hint at all.
    None,
}

/// A fault applied to one request of a key, in place of (or around) the normal answer.
/// Queued faults apply to a key's data requests in order; `GET /settings` takes none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with a JSON `{"message": ...}` body.
    Status(u16),
    /// This status with a `text/plain` body.
    StatusText(u16, String),
    /// 429 with the given retry hint.
    RateLimited {
        /// Seconds until the (fake) limit resets.
        reset_in_secs: u64,
        /// Which header carries the hint.
        header: ResetHeader,
    },
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with the real body cut in half (and a `Content-Length` for the cut body).
    Truncated,
    /// 200 with `{}` (no list key, no `total_entries`, no `links`).
    MissingEnvelope,
    /// Sleep this long, then answer normally (to exceed a client timeout).
    Delay(Duration),
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Formats UNIX seconds as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(epoch: u64) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    OffsetDateTime::from_unix_timestamp(i64::try_from(epoch).unwrap_or(0))
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 GMT".to_string())
}

/// The 429 reply Cliniko documents: `X-RateLimit-Reset` with the reset time.
pub fn rate_limited_reply(reset_epoch: u64) -> Reply {
    Reply::message(429, "Too many requests. Rate limit exceeded.")
        .with_header("X-RateLimit-Reset", reset_epoch.to_string())
}

impl Fault {
    /// The reply replacing the normal answer, or `None` when the fault wraps the normal
    /// answer instead ([`Fault::Truncated`], [`Fault::Delay`]).
    pub fn reply(&self) -> Option<Reply> {
        Some(match self {
            Fault::Status(code) => Reply::message(*code, &format!("Injected fault: HTTP {code}")),
            Fault::StatusText(code, body) => Reply::text(*code, body.clone()),
            Fault::RateLimited {
                reset_in_secs,
                header,
            } => {
                let base = Reply::message(429, "Too many requests. Rate limit exceeded.");
                let at = epoch_now() + reset_in_secs;
                match header {
                    ResetHeader::XRateLimitReset => {
                        base.with_header("X-RateLimit-Reset", at.to_string())
                    }
                    ResetHeader::RetryAfterSeconds => {
                        base.with_header("Retry-After", reset_in_secs.to_string())
                    }
                    ResetHeader::RetryAfterHttpDate => {
                        base.with_header("Retry-After", http_date(at))
                    }
                    ResetHeader::None => base,
                }
            }
            Fault::Garbage => Reply {
                content_type: "text/html; charset=utf-8",
                ..Reply::text(
                    200,
                    "<html><body><h1>We're sorry, but something went wrong.</h1>",
                )
            },
            Fault::MissingEnvelope => Reply::json(200, "{}"),
            Fault::Truncated | Fault::Delay(_) => return None,
        })
    }
}

/// Cuts a normal reply's body in half (the client sees invalid JSON).
pub fn truncate(mut reply: Reply) -> Reply {
    let half = reply.body.len() / 2;
    reply.body.truncate(half);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_replies() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        let r = Fault::RateLimited {
            reset_in_secs: 5,
            header: ResetHeader::RetryAfterSeconds,
        }
        .reply()
        .unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(
            r.headers,
            vec![("Retry-After".to_string(), "5".to_string())]
        );
        assert!(Fault::Truncated.reply().is_none());
        let cut = truncate(Reply::json(200, "{\"a\":1}"));
        assert_eq!(cut.body, b"{\"a");
    }
}
