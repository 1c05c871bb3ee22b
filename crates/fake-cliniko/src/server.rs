//! The running fake: worker threads on a tiny_http server, request checks, routing, faults.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::admin;
use super::endpoints::{self, Endpoint};
use super::faults::{self, Fault};
use super::http::{self, Reply};
use super::listing;
use super::query::{self, ListQuery};
use super::rate_limit::{RateLimiter, Verdict};
use super::rng::{Rng, splitmix64};
use super::stats::{KeyStats, LoggedRequest, StatsBook};
use super::world::World;

/// Called with the world locked before a list request is answered (tests use it to
/// change data between the pages of a walk).
pub type RequestHook = Arc<dyn Fn(&mut World, &RequestInfo) + Send + Sync>;

/// What a hook learns about the list request being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The API key (as stored in the world).
    pub api_key: String,
    /// Request path, e.g. `/v1/patients`.
    pub path: String,
    /// The `page` asked for (1 when absent).
    pub page: u64,
    /// The `per_page` asked for (50 when absent).
    pub per_page: u64,
    /// The key's request number (1-based, counting every request of the key).
    pub request_number: u64,
    /// The percent-decoded query string.
    pub query: String,
}

/// How the fake behaves.
#[derive(Clone)]
pub struct FakeOptions {
    /// Worker threads answering requests in parallel (default 16).
    pub workers: usize,
    /// Sleep added to every request.
    pub latency: Duration,
    /// Per-key limit over a sliding window (60 s, as Cliniko's); `None` = unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// The rate-limit window; shorter than a minute only to keep tests quick.
    pub rate_limit_window: Duration,
    /// Randomise the order of rows that tie on every sort key, on every request.
    pub shuffle_ties: bool,
    /// `(probability, seed)`: answer that share of requests with a random 500/502/503.
    pub random_5xx: Option<(f64, u64)>,
    /// Hook run before each list answer, see [`RequestHook`].
    pub on_request: Option<RequestHook>,
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Request-log entries kept per key (older ones are dropped).
    pub log_limit: usize,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            workers: 16,
            latency: Duration::ZERO,
            rate_limit_per_minute: None,
            rate_limit_window: super::rate_limit::WINDOW,
            shuffle_ties: false,
            random_5xx: None,
            on_request: None,
            port: 0,
            log_limit: 100_000,
        }
    }
}

impl std::fmt::Debug for FakeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOptions")
            .field("workers", &self.workers)
            .field("latency", &self.latency)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("shuffle_ties", &self.shuffle_ties)
            .field("random_5xx", &self.random_5xx)
            .field("on_request", &self.on_request.as_ref().map(|_| "<hook>"))
            .field("port", &self.port)
            .field("log_limit", &self.log_limit)
            .finish()
    }
}

/// State shared by the workers and the [`FakeCliniko`] handle.
struct Shared {
    world: Mutex<World>,
    stats: Mutex<StatsBook>,
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    limiter: Option<Mutex<RateLimiter>>,
    random_5xx: Option<(f64, Mutex<Rng>)>,
    hook: RwLock<Option<RequestHook>>,
    shuffle_ties: bool,
    shuffle_counter: AtomicU64,
    latency: Duration,
    base_url: String,
    stopping: AtomicBool,
    /// Whether answers carry a `Date` header (see [`FakeCliniko::set_date_header`]).
    date_header: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking hook poisons the world lock; the data is still usable for a fake.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake Cliniko API on `127.0.0.1`. Stops (threads joined) on drop or [`stop`].
///
/// [`stop`]: FakeCliniko::stop
pub struct FakeCliniko {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeCliniko {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCliniko")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeCliniko {
    /// Binds `127.0.0.1:<opts.port>` and starts `opts.workers` threads serving `world`.
    pub fn start(world: World, opts: FakeOptions) -> std::io::Result<FakeCliniko> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", opts.port))?;
        no_delay(&listener);
        let server =
            tiny_http::Server::from_listener(listener, None).map_err(std::io::Error::other)?;
        let addr = server.server_addr().to_ip().ok_or_else(|| {
            std::io::Error::other("fake Cliniko is not listening on an IP address")
        })?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            stats: Mutex::new(StatsBook::new(opts.log_limit)),
            faults: Mutex::new(HashMap::new()),
            limiter: opts
                .rate_limit_per_minute
                .map(|n| Mutex::new(RateLimiter::with_window(n, opts.rate_limit_window))),
            random_5xx: opts
                .random_5xx
                .map(|(p, seed)| (p, Mutex::new(Rng::new(seed)))),
            hook: RwLock::new(opts.on_request.clone()),
            shuffle_ties: opts.shuffle_ties,
            shuffle_counter: AtomicU64::new(0),
            latency: opts.latency,
            base_url: format!("http://{addr}/v1"),
            stopping: AtomicBool::new(false),
            date_header: AtomicBool::new(true),
        });
        let mut workers = Vec::new();
        for i in 0..opts.workers.max(1) {
            let (srv, sh) = (Arc::clone(&server), Arc::clone(&shared));
            let handle = std::thread::Builder::new()
                .name(format!("fake-cliniko-{i}"))
                .spawn(move || worker(&srv, &sh));
            match handle {
                Ok(h) => workers.push(h),
                Err(e) => {
                    let mut half = FakeCliniko {
                        shared,
                        server,
                        workers,
                        addr,
                    };
                    half.shutdown();
                    return Err(e);
                }
            }
        }
        log::debug!("fake Cliniko listening on {addr}");
        Ok(FakeCliniko {
            shared,
            server,
            workers,
            addr,
        })
    }

    /// The API base URL, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Runs `f` with the world locked (no request is answered meanwhile).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.shared.world))
    }

    /// A snapshot of the statistics of `api_key`.
    pub fn stats(&self, api_key: &str) -> KeyStats {
        let key = self.canonical(api_key);
        lock(&self.shared.stats).get(&key)
    }

    /// Clears all statistics and rate-limit windows.
    pub fn reset_stats(&self) {
        lock(&self.shared.stats).reset();
        if let Some(l) = &self.shared.limiter {
            lock(l).reset();
        }
    }

    /// Queues a one-shot fault for the next request of `api_key` (faults apply in order).
    pub fn push_fault(&self, api_key: &str, fault: Fault) {
        let key = self.canonical(api_key);
        lock(&self.shared.faults)
            .entry(key)
            .or_default()
            .push_back(fault);
    }

    /// Drops every queued fault of `api_key`.
    pub fn clear_faults(&self, api_key: &str) {
        let key = self.canonical(api_key);
        lock(&self.shared.faults).remove(&key);
    }

    /// Whether answers carry Cliniko's clock in their `Date` header: on by default, as
    /// Cliniko's always do; off (the header empty) as behind a proxy that strips it,
    /// leaving a run nothing to check its clock against.
    pub fn set_date_header(&self, on: bool) {
        self.shared.date_header.store(on, Ordering::Relaxed);
    }

    /// Replaces the list-request hook.
    pub fn set_on_request(&self, hook: Option<RequestHook>) {
        *self.shared.hook.write().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Stops serving and joins the worker threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn canonical(&self, api_key: &str) -> String {
        let w = lock(&self.shared.world);
        w.resolve_key(api_key).unwrap_or(api_key).to_string()
    }

    fn shutdown(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for h in self.workers.drain(..) {
            if h.join().is_err() {
                log::warn!("a fake Cliniko worker panicked");
            }
        }
    }
}

impl Drop for FakeCliniko {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Turns Nagle's algorithm off for every connection the listener accepts (Linux copies
/// `TCP_NODELAY` from the listening socket). tiny_http writes a body in 8 KiB pieces; with
/// Nagle on, a piece can wait for the client's delayed ACK, adding 40 ms to a response
/// now and then. Real API servers send with `TCP_NODELAY` too.
#[cfg(unix)]
fn no_delay(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, and a pointer to a c_int with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        log::debug!("fake Cliniko: could not set TCP_NODELAY on the listener");
    }
}

#[cfg(not(unix))]
fn no_delay(_listener: &std::net::TcpListener) {}

fn worker(server: &tiny_http::Server, shared: &Shared) {
    while !shared.stopping.load(Ordering::SeqCst) {
        match server.recv() {
            Ok(rq) => serve(shared, rq),
            Err(_) if shared.stopping.load(Ordering::SeqCst) => break,
            Err(e) => log::debug!("fake Cliniko: receive error: {e}"),
        }
    }
}

/// Sleeps `d`, waking early when the server stops.
fn nap(shared: &Shared, d: Duration) {
    let end = Instant::now() + d;
    loop {
        let now = Instant::now();
        if now >= end || shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// The parts of a request the handlers need (tiny_http's request is not `Sync`-friendly).
struct Incoming {
    get: bool,
    path: String,
    raw_query: String,
    auth_user: Option<String>,
    user_agent: Option<String>,
    accept: Option<String>,
}

fn serve(shared: &Shared, rq: tiny_http::Request) {
    let url = rq.url().to_string();
    let (path, raw_query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    if path.starts_with(admin::PREFIX) {
        let post = *rq.method() == tiny_http::Method::Post;
        let reply = {
            let mut world = lock(&shared.world);
            let stats = lock(&shared.stats);
            admin::answer(&mut world, &stats, post, path, raw_query)
        };
        if let Err(e) = rq.respond(reply.into_response()) {
            log::debug!("fake Cliniko: could not send a response: {e}");
        }
        return;
    }
    let headers = rq.headers();
    let inc = Incoming {
        get: *rq.method() == tiny_http::Method::Get,
        path: path.to_string(),
        raw_query: raw_query.to_string(),
        auth_user: http::header(headers, "Authorization").and_then(http::basic_auth_user),
        user_agent: http::header(headers, "User-Agent").map(str::to_string),
        accept: http::header(headers, "Accept").map(str::to_string),
    };
    if !shared.latency.is_zero() {
        nap(shared, shared.latency);
    }
    let presented = inc.auth_user.clone().unwrap_or_default();
    let key = lock(&shared.world)
        .resolve_key(&presented)
        .map(str::to_string);
    let stats_key = key.clone().unwrap_or(presented);
    let number = lock(&shared.stats).arrive(&stats_key);
    let reply = catch_unwind(AssertUnwindSafe(|| {
        answer(shared, &inc, key.as_deref(), number)
    }))
    .unwrap_or_else(|_| Reply::message(500, "The fake Cliniko server panicked (see stderr)."));
    // Every answer carries Cliniko's clock, as the real API's do: the world's.
    let mut reply = if reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("date"))
    {
        reply
    } else {
        let now = lock(&shared.world).now();
        reply.with_header("Date", now.to_http_date())
    };
    if !shared.date_header.load(Ordering::Relaxed) {
        // Empty rather than absent: the HTTP server writes its own `Date` where none is set.
        reply
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("date"));
        reply.headers.push(("Date".to_string(), String::new()));
    }
    lock(&shared.stats).record(
        &stats_key,
        LoggedRequest {
            number,
            path: inc.path.clone(),
            query: query::percent_decode(&inc.raw_query),
            status: reply.status,
        },
    );
    if let Err(e) = rq.respond(reply.into_response()) {
        log::debug!("fake Cliniko: could not send a response: {e}");
    }
}

/// Checks, faults and routing for one request of a known (or unknown) key.
fn answer(shared: &Shared, inc: &Incoming, key: Option<&str>, number: u64) -> Reply {
    let Some(key) = key else {
        return Reply::text(401, "HTTP Basic: Access denied.\n")
            .with_header("WWW-Authenticate", "Basic realm=\"Application\"");
    };
    if !inc.user_agent.as_deref().is_some_and(http::user_agent_ok) {
        return Reply::message(
            403,
            "Requests must send a User-Agent with an app name and a contact email, \
             e.g. `Really helpful app (devs@helpfulapp.com)`.",
        );
    }
    if !http::accept_ok(inc.accept.as_deref()) {
        return Reply::message(
            406,
            "This API only serves application/json; send `Accept: application/json`.",
        );
    }
    if let Some(limiter) = &shared.limiter
        && let Verdict::Limited { reset_epoch } = lock(limiter).check(key, Instant::now())
    {
        return faults::rate_limited_reply(reset_epoch);
    }
    // Faults are queued for a key's data requests (pages, `/user`): the account check
    // a first sync makes (`/settings`) does not take one, so a test's "the next page
    // fails" means the same with or without it.
    let fault = if is_settings(&inc.path) {
        None
    } else {
        lock(&shared.faults)
            .get_mut(key)
            .and_then(VecDeque::pop_front)
    };
    match fault {
        Some(Fault::Truncated) => faults::truncate(route(shared, inc, key, number)),
        Some(Fault::Delay(d)) => {
            nap(shared, d);
            route(shared, inc, key, number)
        }
        Some(f) => f.reply().unwrap_or_else(|| route(shared, inc, key, number)),
        None => {
            if let Some(reply) = random_5xx(shared) {
                return reply;
            }
            route(shared, inc, key, number)
        }
    }
}

/// Whether `path` is `GET /settings` (the account a key belongs to).
fn is_settings(path: &str) -> bool {
    matches!(path, "/v1/settings" | "/v1/settings/")
}

fn random_5xx(shared: &Shared) -> Option<Reply> {
    let (p, rng) = shared.random_5xx.as_ref()?;
    let mut rng = lock(rng);
    if !rng.chance(*p) {
        return None;
    }
    Some(match rng.below(3) {
        0 => Reply::message(500, "Random injected server error."),
        1 => Reply::text(502, "502 Bad Gateway\n"),
        _ => Reply::message(503, "Service temporarily unavailable."),
    })
}

fn route(shared: &Shared, inc: &Incoming, key: &str, number: u64) -> Reply {
    let Some(sub) = inc
        .path
        .strip_prefix("/v1")
        .filter(|s| s.is_empty() || s.starts_with('/'))
    else {
        return Reply::message(404, "Not found.");
    };
    let user_route = sub == "/user" || sub == "/user/";
    let settings_route = sub == "/settings" || sub == "/settings/";
    let ep = endpoints::find(sub);
    if !user_route && !settings_route && ep.is_none() {
        return Reply::message(404, "Not found.");
    }
    if !inc.get {
        return Reply::message(405, "Method not allowed: the fake Cliniko is read-only.");
    }
    match ep {
        Some(ep) => list(shared, inc, ep, key, number),
        None => {
            let w = lock(&shared.world);
            match w.account(key) {
                // An empty account stands for a key whose user may not read settings.
                Some(a) if settings_route && a.settings_account.is_empty() => {
                    Reply::message(403, "You do not have permission to access this resource.")
                }
                Some(a) if settings_route => {
                    let account = serde_json::Value::Object(a.settings_account.clone());
                    Reply::json(200, serde_json::json!({ "account": account }).to_string())
                }
                Some(a) => Reply::json(200, serde_json::Value::Object(a.user.clone()).to_string()),
                None => Reply::message(404, "Not found."),
            }
        }
    }
}

fn list(shared: &Shared, inc: &Incoming, ep: &'static Endpoint, key: &str, number: u64) -> Reply {
    let params = query::parse_pairs(&inc.raw_query);
    let q = match query::parse_list_query(ep, &params) {
        Ok(q) => q,
        Err(e) => return Reply::message(400, &e.0),
    };
    let hook = shared
        .hook
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let shuffle = shared
        .shuffle_ties
        .then(|| splitmix64(shared.shuffle_counter.fetch_add(1, Ordering::Relaxed) ^ 0xC0FFEE));
    let (page, now) = {
        let mut world = lock(&shared.world);
        if let Some(hook) = hook {
            let info = RequestInfo {
                api_key: key.to_string(),
                path: inc.path.clone(),
                page: q.page,
                per_page: q.per_page,
                request_number: number,
                query: query::percent_decode(&inc.raw_query),
            };
            hook(&mut world, &info);
        }
        let now = world.now();
        match world.collection_mut(key, ep.collection) {
            Ok(coll) => (listing::run(coll, ep, &q, shuffle), now),
            Err(_) => return Reply::message(404, "Not found."),
        }
    };
    // The world's clock, as Cliniko's `Date` is its own: tests move it to settle seconds.
    Reply::json(200, envelope(shared, inc, ep, &q, &page)).with_header("Date", now.to_http_date())
}

/// `{"<list_key>": [...], "total_entries": N, "links": {...}}`, built by concatenation.
fn envelope(
    shared: &Shared,
    inc: &Incoming,
    ep: &Endpoint,
    q: &ListQuery,
    page: &listing::PageRows,
) -> String {
    let size: usize = page.rows.iter().map(|r| r.len() + 1).sum();
    let mut body = String::with_capacity(size + 512);
    body.push_str("{\"");
    body.push_str(ep.list_key);
    body.push_str("\":[");
    for (i, row) in page.rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(row);
    }
    body.push_str("],\"total_entries\":");
    body.push_str(&page.total.to_string());
    let link = |n: u64| {
        let url = format!(
            "{}{}?{}",
            shared.base_url,
            inc.path.strip_prefix("/v1").unwrap_or(&inc.path),
            with_page(&inc.raw_query, n)
        );
        serde_json::Value::String(url).to_string()
    };
    body.push_str(",\"links\":{\"self\":");
    body.push_str(&link(q.page));
    if q.page > 1 {
        body.push_str(",\"previous\":");
        body.push_str(&link(q.page - 1));
    }
    let shown = q.offset().saturating_add(q.per_page);
    if shown < page.total as u64 {
        body.push_str(",\"next\":");
        body.push_str(&link(q.page + 1));
    }
    body.push_str("}}");
    body
}

/// The raw query with `page` set to `n` (replaced in place, or appended), all else kept.
fn with_page(raw: &str, n: u64) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut done = false;
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let name = query::percent_decode(part.split_once('=').map_or(part, |(k, _)| k));
        if name == "page" {
            if !done {
                out.push(format!("page={n}"));
                done = true;
            }
        } else {
            out.push(part.to_string());
        }
    }
    if !done {
        out.push(format!("page={n}"));
    }
    out.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_other_params() {
        assert_eq!(with_page("", 2), "page=2");
        assert_eq!(
            with_page(
                "q%5B%5D=updated_at%3A%3E%3D2024-01-01T00%3A00%3A00Z&page=1&per_page=100",
                2
            ),
            "q%5B%5D=updated_at%3A%3E%3D2024-01-01T00%3A00%3A00Z&page=2&per_page=100"
        );
        assert_eq!(with_page("sort=id&page=3&page=4", 5), "sort=id&page=5");
    }
}
