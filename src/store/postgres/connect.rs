//! Opening one PostgreSQL session: TLS as the URL asks, and errors that name the server
//! but never the password. Nothing is set on the session itself: through a
//! transaction-mode pooler (PgBouncer, Supabase's port 6543, Neon's pooled host) the next
//! transaction may run on another server connection, so every transaction sets what it
//! needs with `SET LOCAL` (see [`begin_sql`]).

use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls;
use crate::database_url::{PERCENT_ENCODE_HINT, PgUrl, SslMode};
use crate::store::{DbFailure, FailureKind, StoreError};
use crate::watchdog::{self, Bound};

/// How long to wait for the server to answer a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a connection refused for lack of slots (SQLSTATE 53300, or a pooler's
/// `max_client_conn`) is retried before the org fails: the same bound as the longest
/// wait on a lock (`lock_timeout`), since a slot frees when another run finishes.
pub const SLOTS_WAIT: Duration = Duration::from_secs(60);

/// Connects to `url`, waiting up to [`SLOTS_WAIT`] for a free connection slot.
pub fn connect(url: &PgUrl) -> Result<Client, StoreError> {
    let began = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match connect_once(url) {
            Err(ConnectError::NoSlot(e)) if began.elapsed() + pause < SLOTS_WAIT => {
                log::debug!("{}: no free connection slot, retrying: {e}", url.describe());
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(ConnectError::NoSlot(e)) => {
                return Err(StoreError::Connect {
                    target: url.describe(),
                    hint: format!(
                        "; no connection slot freed within {} s: lower `jobs`, or raise the \
                         server's max_connections (or the pooler's pool size)",
                        SLOTS_WAIT.as_secs()
                    ),
                    cause: failure(e),
                });
            }
            Err(ConnectError::Other(e)) => return Err(e),
            Ok(client) => return Ok(client),
        }
    }
}

enum ConnectError {
    /// The server or pooler has no connection slot free: worth waiting for.
    NoSlot(postgres::Error),
    Other(StoreError),
}

fn connect_once(url: &PgUrl) -> Result<Client, ConnectError> {
    let target = url.describe();
    // The driver's connect timeout covers the TCP connect only: a pooler that accepts
    // the connection and never answers the startup would hold it for ever.
    let _watch = watchdog::watch(Bound::Connect, || {
        format!("PostgreSQL at {target}: opening a session")
    });
    let mut config = url.client_config().clone();
    config.application_name("routiq-sync");
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // A half-open connection (a NAT or proxy that forgot it, a server host that
    // vanished) is found in about a minute, not after the kernel's defaults: two hours
    // idle, or 9 probes 75 s apart (12 minutes) after our own 30 s. Data we sent that the
    // server never acknowledges fails the session after the same minute.
    config
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .tcp_user_timeout(KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_RETRIES);
    let connected = match url.ssl_mode() {
        SslMode::Disable => config.connect(NoTls),
        _ => {
            let tls = tls::client_config(url).map_err(|detail| {
                ConnectError::Other(StoreError::Tls {
                    target: target.clone(),
                    detail,
                })
            })?;
            config.connect(MakeRustlsConnect::new(tls))
        }
    };
    connected.map_err(|e| match sqlstate(&e) {
        _ if is_no_slot(&e) => ConnectError::NoSlot(e),
        Some(code) if is_setup_code(code) || is_missing_database(&e) => {
            ConnectError::Other(StoreError::Unusable {
                target: target.clone(),
                hint: connect_hint(&e),
                cause: failure(e),
            })
        }
        _ => ConnectError::Other(StoreError::Connect {
            target: target.clone(),
            hint: connect_hint(&e),
            cause: failure(e),
        }),
    })
}

/// Whether a refused connection says the server (53300: `too many clients`, or the
/// slots left are reserved) or a PgBouncer in front of it (`no more connections
/// allowed`) has no slot free now.
fn is_no_slot(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code().code() == "53300" || db.message().contains("no more connections allowed")
    })
}

/// Whether the server (3D000) or a PgBouncer in front of it (08P01, `no such database`
/// or `database "…" does not exist`) says the URL's database does not exist.
fn is_missing_database(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code().code() == "3D000"
            || (db.code().code() == "08P01"
                && (db.message().starts_with("no such database")
                    || (db.message().starts_with("database \"")
                        && db.message().ends_with("does not exist"))))
    })
}

/// What opens every transaction: `BEGIN`, then what the session would otherwise hold,
/// for this transaction only (`SET LOCAL`), in one round trip. `schema` goes first on the
/// search path (temporary tables are still found first), UTC is the time zone, every
/// wait on the server is bounded (statements by `bound`, see
/// [`Bound::server_timeout`]), and notices (a `DROP ... IF EXISTS` of nothing) are not
/// logged.
pub fn begin_sql(schema: &str, bound: Bound) -> String {
    format!(
        "BEGIN; SET LOCAL search_path TO {}; SET LOCAL TIME ZONE 'UTC'; {LOCK_WAIT}; {}; \
         {NO_JIT}; {PLAN_EACH_TIME}; SET LOCAL client_min_messages = warning",
        quote_ident(schema),
        statement_timeout(bound)
    )
}

/// The `BEGIN` of each kind of transaction on one schema ([`begin_sql`]), written once
/// per session rather than at every transaction.
pub struct Begins {
    statement: String,
    bulk: String,
    maintenance: String,
}

impl Begins {
    pub fn new(schema: &str) -> Begins {
        Begins {
            statement: begin_sql(schema, Bound::Statement),
            bulk: begin_sql(schema, Bound::Bulk),
            maintenance: begin_sql(schema, Bound::Maintenance),
        }
    }

    /// What begins a transaction whose statements `bound` bounds.
    pub fn get(&self, bound: Bound) -> &str {
        match bound {
            Bound::Connect | Bound::Statement => &self.statement,
            Bound::Bulk => &self.bulk,
            Bound::Maintenance => &self.maintenance,
        }
    }
}

/// Raises the open transaction's `statement_timeout` to `bound`'s, for a longer
/// statement in a transaction begun for shorter ones (a walk's held pages).
pub fn widen_timeout(client: &mut Client, bound: Bound) -> Result<(), postgres::Error> {
    if bound == Bound::Statement {
        return Ok(());
    }
    client.batch_execute(&statement_timeout(bound))
}

/// `SET LOCAL statement_timeout` for statements of `bound`.
fn statement_timeout(bound: Bound) -> String {
    format!(
        "SET LOCAL statement_timeout = '{}s'",
        bound.server_timeout().as_secs()
    )
}

/// TCP keepalive idle time on every session, then the probes' spacing and count.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;

/// Every wait on the server is bounded, as SQLite's busy timeout bounds it: a dashboard's
/// long transaction or a migrator holding its lock make that run fail (exit 1) instead
/// of hanging the cron job; a stuck query is ended by `statement_timeout`. Both are
/// shorter than the watchdog's bound, so a server that still answers says why first.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '60s'";

/// Our statements touch a batch of rows each: compiling one with JIT (the server's
/// default above a plan cost that a batch's upsert reaches) costs more than it saves,
/// at every execution of a prepared statement.
const NO_JIT: &str = "SET LOCAL jit = off";

/// A prepared statement is parsed once but planned at each execution: the server's
/// default would fix a generic plan after five runs, made while a fresh full's tables are
/// nearly empty (a sequential scan per row for a batch's unchanged-row probe, for the
/// rest of the run). Planning a batch's upsert costs well under a millisecond.
const PLAN_EACH_TIME: &str = "SET LOCAL plan_cache_mode = force_custom_plan";

/// `"name"`: an identifier quoted for SQL (config validation allows only plain names).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A query failure as a [`StoreError`] naming the server.
pub fn error_at(target: &str, e: postgres::Error) -> StoreError {
    match sqlstate(&e) {
        Some(code) if is_setup_code(code) => StoreError::Unusable {
            target: target.to_string(),
            hint: "; grant the role CREATE on the database (or on pg_schema), or create the \
                   schema for it"
                .to_string(),
            cause: failure(e),
        },
        _ => StoreError::Server {
            target: target.to_string(),
            cause: failure(e),
        },
    }
}

/// A driver error as the store's neutral [`DbFailure`]: its kind from the SQLSTATE (or,
/// with none, from how the session failed), its text in one line, the driver's error
/// (and its cause: the server's message, or the I/O error) as its source.
fn failure(e: postgres::Error) -> DbFailure {
    DbFailure::described(kind_of(&e), error_text(&e), e)
}

/// The neutral kind of a driver error.
fn kind_of(e: &postgres::Error) -> FailureKind {
    let Some(code) = sqlstate(e) else {
        // No answer from the server: the session closed, the network failed, or it timed
        // out; anything else (a value that does not convert) is a plain failure.
        let io = std::error::Error::source(e).is_some_and(|c| c.is::<std::io::Error>());
        return if e.is_closed() || io || e.to_string() == "timeout waiting for server" {
            FailureKind::Lost
        } else {
            FailureKind::Other
        };
    };
    match code {
        // serialization_failure, deadlock_detected, lock_not_available (`lock_timeout`),
        // too_many_connections, object_in_use: another session held what we needed.
        "40001" | "40P01" | "55P03" | "53300" | "55006" => FailureKind::Busy,
        "53100" => FailureKind::DiskFull,
        // read_only_sql_transaction: a standby, or a read-only default.
        "25006" => FailureKind::ReadOnly,
        // query_canceled: `statement_timeout`.
        "57014" => FailureKind::Timeout,
        // data_corrupted, index_corrupted, as SQLite's corrupt file.
        "XX001" | "XX002" => FailureKind::Setup,
        code if is_setup_code(code) || code.starts_with("28") => FailureKind::Setup,
        // connection_exception, and the server shutting down or not yet accepting.
        code if code.starts_with("08") || code.starts_with("57P") => FailureKind::Lost,
        _ => FailureKind::Other,
    }
}

/// A driver error as one line with its cause: the driver's own text names only the kind
/// ("db error", "error communicating with the server"); the server's message, or the
/// I/O error, is its source.
fn error_text(e: &postgres::Error) -> String {
    let text = match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    };
    crate::logging::scrub(&text)
}

/// The SQLSTATE of a server error.
fn sqlstate(e: &postgres::Error) -> Option<&str> {
    e.as_db_error().map(|d| d.code().code())
}

/// Errors that say the configured database cannot hold our tables (it does not exist,
/// or the role may not create there): the operator's set-up, not a passing failure.
fn is_setup_code(code: &str) -> bool {
    matches!(
        code,
        "3D000" // invalid_catalog_name: no such database
        | "3F000" // invalid_schema_name
        | "42501" // insufficient_privilege
    )
}

/// What to check after a failed connection (empty when nothing useful can be said).
fn connect_hint(e: &postgres::Error) -> String {
    let text = error_text(e);
    let hint = match sqlstate(e) {
        Some("28P01") | Some("28000") => &format!(
            "; check the user and password in the database URL (or its environment variable); \
             {PERCENT_ENCODE_HINT}"
        ),
        _ if is_missing_database(e) => "; create the database, or fix its name in the URL",
        _ if text.contains("refused") || text.contains("timed out") || text.contains("resolve") => {
            "; check that the server is running and reachable from this host"
        }
        _ => "",
    };
    hint.to_string()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_refused_connection_is_a_lost_one_with_its_cause_chain() {
        // Nothing listens on port 1 of the loopback.
        let url = PgUrl::parse("postgres://u:secret@127.0.0.1:1/db?sslmode=disable").unwrap();
        let Err(e) = connect_once(&url) else {
            panic!("connected to port 1")
        };
        let ConnectError::Other(e) = e else {
            panic!("no slot on port 1")
        };
        let StoreError::Connect { cause, hint, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(cause.kind(), FailureKind::Lost);
        assert!(!e.is_setup_error());
        assert_eq!(
            hint,
            "; check that the server is running and reachable from this host"
        );
        // The text is the driver's error and its cause in one line, as before; the cause
        // is kept as the source.
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot connect to PostgreSQL at {}: error connecting to server",
                url.describe()
            )),
            "{text}"
        );
        assert!(text.contains("refused"), "{text}");
        let source = e.source().expect("the failure");
        assert_eq!(source.to_string(), cause.to_string());
        assert!(source.source().is_some(), "the driver's cause is kept");
        assert!(!text.contains("secret"));
    }
}
