//! Heartbeat pings to healthchecks.io-style URLs: `GET <url>/start` when a run (or an
//! org's turn) starts, then `POST <url>` with a short plain-text summary when it went
//! well, or `POST <url>/fail` when something failed.
//!
//! Each URL has its own sender thread, so a slow endpoint never holds up the sync; at
//! the end of the run [`Heartbeats::finish`] waits at most [`FINISH_BUDGET`] for the
//! last pings. A ping that fails is a warning, never a failure of the run. Bodies hold
//! org ids, statuses and counts only: error texts stay in the log, since they can quote
//! a value from Cliniko's response. When the watchdog ends a run that stopped moving,
//! [`Heartbeats::last_words`] sends the `/fail` pings the run would have sent.

use std::collections::HashMap;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::engine::{OrgReport, OrgResult};
use crate::url_password;

/// The limit on one attempt (connect, send, answer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before the one retry.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// The longest [`Heartbeats::finish`] waits for pings still being sent.
pub const FINISH_BUDGET: Duration = Duration::from_secs(10);

/// One ping to send.
enum Ping {
    Start,
    Success(String),
    Fail(String),
}

/// One URL's sender thread.
struct Pinger {
    tx: Sender<Ping>,
    thread: std::thread::JoinHandle<()>,
    host: String,
    url: String,
}

impl Pinger {
    fn spawn(url: String, user_agent: String) -> Pinger {
        let (tx, rx) = channel::<Ping>();
        let host = host_of(&url);
        let (label, target) = (host.clone(), url.clone());
        let thread = std::thread::spawn(move || {
            let agent = agent(&user_agent);
            for ping in rx {
                send(&agent, &target, &label, &ping);
            }
        });
        Pinger {
            tx,
            thread,
            host,
            url,
        }
    }

    fn push(&self, ping: Ping) {
        // The thread only ends once `tx` is dropped, so sending cannot fail.
        let _ = self.tx.send(ping);
    }
}

/// An HTTP agent for pings: each attempt bounded by [`ATTEMPT_TIMEOUT`].
fn agent(user_agent: &str) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(ATTEMPT_TIMEOUT))
        .user_agent(user_agent)
        .build()
        .into()
}

/// Sends one ping, retrying once; logs a warning when both attempts fail.
fn send(agent: &ureq::Agent, url: &str, host: &str, ping: &Ping) {
    let (what, target) = match ping {
        Ping::Start => ("start", format!("{url}/start")),
        Ping::Success(_) => ("success", url.to_string()),
        Ping::Fail(_) => ("fail", format!("{url}/fail")),
    };
    let mut last = String::new();
    for attempt in 0..2 {
        if attempt > 0 {
            std::thread::sleep(RETRY_PAUSE);
        }
        let result = match ping {
            Ping::Start => agent.get(&target).call(),
            Ping::Success(body) | Ping::Fail(body) => agent
                .post(&target)
                .content_type("text/plain; charset=utf-8")
                .send(body.as_str()),
        };
        match result {
            Ok(resp) if resp.status().is_success() => {
                log::debug!("heartbeat {what} ping to {host} sent");
                return;
            }
            Ok(resp) => last = format!("HTTP {}", resp.status().as_u16()),
            // The URL may carry a check's secret id: name only its host.
            Err(e) => last = e.to_string().replace(url, host),
        }
    }
    log::warn!(
        "heartbeat {what} ping to {host} failed twice ({last}); the sync itself is not affected"
    );
}

/// `https://hc-ping.com/uuid` -> `hc-ping.com` (without any user or password).
fn host_of(url: &str) -> String {
    let rest = match url_password::userinfo(url) {
        Some(info) => &url[info.rest_at..],
        None => url.split_once("://").map_or(url, |(_, r)| r),
    };
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_string()
}

/// `url` with the password of any `user:password@` part replaced, for people.
pub fn display_url(url: &str) -> String {
    url_password::mask_password(url, "[redacted]")
}

/// The pings of one run: the top-level `ping_url` and each selected org's own.
pub struct Heartbeats {
    run: Option<Pinger>,
    orgs: HashMap<String, Pinger>,
    /// The orgs whose turn has started and not ended.
    under_way: Arc<Mutex<Vec<String>>>,
    user_agent: String,
}

impl Heartbeats {
    /// Starts the sender threads and sends the run's `/start` ping (in the background).
    pub fn start(config: &Config, org_ids: &[&str]) -> Heartbeats {
        let spawn = |url: &str| Pinger::spawn(url.to_string(), config.user_agent.clone());
        let run = config.ping_url.as_deref().map(spawn);
        if let Some(s) = &run {
            s.push(Ping::Start);
        }
        let orgs = org_ids
            .iter()
            .filter_map(|id| {
                let url = config.org(id)?.ping_url.as_deref()?;
                Some((id.to_string(), spawn(url)))
            })
            .collect();
        Heartbeats {
            run,
            orgs,
            under_way: Arc::default(),
            user_agent: config.user_agent.clone(),
        }
    }

    /// An org's turn starts: its own `/start` ping.
    pub fn org_started(&self, org_id: &str) {
        if let Some(s) = self.orgs.get(org_id) {
            lock(&self.under_way).push(org_id.to_string());
            s.push(Ping::Start);
        }
    }

    /// An org's turn ended: its own success or fail ping.
    pub fn org_finished(&self, report: &OrgReport) {
        if let Some(s) = self.orgs.get(&report.org_id) {
            lock(&self.under_way).retain(|id| *id != report.org_id);
            s.push(outcome(std::slice::from_ref(report), ""));
        }
    }

    /// What to say if the process is ended before the run ends (see
    /// `crate::watchdog::set_last_words`): a `/fail` ping to the run's URL and to each org
    /// whose turn was under way, all at once, each attempt bounded by
    /// [`ATTEMPT_TIMEOUT`]. The senders' threads are not used: they may be busy.
    pub fn last_words(&self, command: &str) -> impl Fn() + Send + Sync + 'static {
        let org_urls: HashMap<String, String> = self
            .orgs
            .iter()
            .map(|(id, s)| (id.clone(), s.url.clone()))
            .collect();
        last_words(
            self.run.as_ref().map(|s| s.url.clone()),
            org_urls,
            Arc::clone(&self.under_way),
            self.user_agent.clone(),
            command,
        )
    }

    /// [`Heartbeats::last_words`] before the run's pings start (while the store is first
    /// opened): `/fail` to the run's URL only.
    pub fn last_words_before_start(
        config: &Config,
        command: &str,
    ) -> impl Fn() + Send + Sync + 'static {
        last_words(
            config.ping_url.clone(),
            HashMap::new(),
            Arc::default(),
            config.user_agent.clone(),
            command,
        )
    }

    /// The run ended: the run's ping, then waits (at most [`FINISH_BUDGET`] in all) for
    /// every sender to finish.
    pub fn finish(self, command: &str, reports: &[OrgReport]) {
        if let Some(s) = &self.run {
            s.push(outcome(reports, command));
        }
        let deadline = Instant::now() + FINISH_BUDGET;
        for s in self.run.into_iter().chain(self.orgs.into_values()) {
            let Pinger {
                tx, thread, host, ..
            } = s;
            drop(tx);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if !thread.is_finished() {
                log::warn!(
                    "heartbeat pings to {host} still unanswered after {}s; not waiting for them",
                    FINISH_BUDGET.as_secs()
                );
            }
        }
    }
}

/// The `/fail` pings of [`Heartbeats::last_words`]: to `run_url` and to the URL of each
/// org `under_way`.
fn last_words(
    run_url: Option<String>,
    org_urls: HashMap<String, String>,
    under_way: Arc<Mutex<Vec<String>>>,
    user_agent: String,
    command: &str,
) -> impl Fn() + Send + Sync + 'static {
    let body = format!(
        "routiq-sync {command}: ended before it finished, by its watchdog (a wait outlived \
         its bound; see the routiq-sync log)\n"
    );
    move || {
        let orgs = lock(&under_way).clone();
        let urls = run_url
            .iter()
            .chain(orgs.iter().filter_map(|id| org_urls.get(id)));
        let agent = agent(&user_agent);
        std::thread::scope(|scope| {
            for url in urls {
                let (agent, body) = (&agent, &body);
                scope.spawn(move || send(agent, url, &host_of(url), &Ping::Fail(body.clone())));
            }
        });
    }
}

fn lock(under_way: &Mutex<Vec<String>>) -> std::sync::MutexGuard<'_, Vec<String>> {
    under_way.lock().unwrap_or_else(|e| e.into_inner())
}

/// Success when no org failed, else fail; with the summary as body.
fn outcome(reports: &[OrgReport], command: &str) -> Ping {
    let body = summary(reports, command);
    if reports.iter().any(OrgReport::failed) {
        Ping::Fail(body)
    } else {
        Ping::Success(body)
    }
}

/// `routiq-sync sync: 2 orgs, 1 ok, 1 failed` then one line per org with its counts.
fn summary(reports: &[OrgReport], command: &str) -> String {
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for r in reports {
        match tally.iter_mut().find(|(s, _)| *s == r.status_name()) {
            Some((_, n)) => *n += 1,
            None => tally.push((r.status_name(), 1)),
        }
    }
    let counts: Vec<String> = tally.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let mut out = format!(
        "routiq-sync{}{command}: {} org{}, {}\n",
        if command.is_empty() { "" } else { " " },
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        counts.join(", ")
    );
    for r in reports {
        let (fetched, written, deleted) = r.resources.values().fold((0, 0, 0), |acc, c| {
            (acc.0 + c.fetched, acc.1 + c.written, acc.2 + c.deleted)
        });
        let why = match &r.result {
            OrgResult::Failed(_) => " (why: see the routiq-sync log)",
            _ => "",
        };
        out.push_str(&format!(
            "{} {} {}: {fetched} fetched, {written} written, {deleted} deleted upstream, {} API calls, {:.1}s{why}\n",
            r.org_id,
            r.mode,
            r.status_name(),
            r.api_calls,
            r.duration.as_secs_f64()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_never_carry_credentials_or_paths() {
        assert_eq!(host_of("https://hc-ping.com/abc-123"), "hc-ping.com");
        assert_eq!(host_of("http://u:pw@127.0.0.1:8080/p?x"), "127.0.0.1:8080");
        assert_eq!(
            display_url("https://u:s3cret@h.example/p"),
            "https://u:[redacted]@h.example/p"
        );
        assert_eq!(
            display_url("https://h.example/p@x"),
            "https://h.example/p@x"
        );
        assert_eq!(host_of("https://h.example/p@x"), "h.example");
    }

    #[test]
    fn bodies_leave_error_texts_out() {
        let mut failed = OrgReport::skipped("b", OrgResult::Failed("secret detail".into()));
        failed.mode = "full".into();
        let ok = OrgReport::skipped("a", OrgResult::Ok);
        let Ping::Fail(body) = outcome(&[ok.clone(), failed], "sync") else {
            panic!("a failed org makes a fail ping")
        };
        assert!(
            body.starts_with("routiq-sync sync: 2 orgs, 1 ok, 1 failed\n"),
            "{body}"
        );
        assert!(body.contains("b full failed: 0 fetched"), "{body}");
        assert!(!body.contains("secret detail"), "{body}");
        assert!(matches!(outcome(&[ok], ""), Ping::Success(_)));
    }
}
