//! `check`'s look at a PostgreSQL store: where it is, the server, TLS, the schema
//! version and the role's right to create tables. Changes nothing.

use std::fmt::Write as _;

use crate::config::PostgresSettings;
use crate::store::postgres::{CURRENT_VERSION, PgStore};

/// The `Store` block of `check` for `pg`, whether a sync could use the store, and the
/// session it opened (kept for the orgs' lock lines: one session for the whole `check`).
pub fn describe(pg: &PostgresSettings) -> (String, bool, Option<PgStore>) {
    let url = &pg.url;
    let mut out = String::new();
    let from = match &pg.url_env {
        Some(var) => format!("from ${var} (environment)"),
        None => "config file".to_string(),
    };
    let _ = writeln!(out, "\nStore (PostgreSQL)\n  url        {url} ({from})");
    let _ = writeln!(
        out,
        "  server     host {}, port {}, database {}, schema {}",
        url.host(),
        url.port(),
        url.database(),
        pg.schema
    );
    let _ = writeln!(
        out,
        "  lock_dir   not used: per-org locks are leases on the server"
    );
    let probed = PgStore::session(url, &pg.schema)
        .and_then(|session| session.server_info().map(|info| (session, info)));
    let (session, info) = match probed {
        Ok(probed) => probed,
        Err(e) => {
            let _ = writeln!(out, "  connect    PROBLEM: {e}");
            return (out, false, None);
        }
    };
    let _ = writeln!(out, "  connect    ok: PostgreSQL {}", info.version);
    let tls = if info.tls {
        format!("in use (sslmode={})", url.ssl_mode().name())
    } else {
        format!("not in use (sslmode={})", url.ssl_mode().name())
    };
    let _ = writeln!(out, "  tls        {tls}");
    let _ = writeln!(out, "  pooler     {}", info.pooling.describe());
    let mut ok = true;
    let schema = match info.schema_version {
        None => "not created yet: the first sync creates it".to_string(),
        Some(v) if v == CURRENT_VERSION => format!("version {v} (current)"),
        Some(v) if v < CURRENT_VERSION => {
            format!("version {v}: the next sync upgrades it to {CURRENT_VERSION}")
        }
        Some(v) => {
            ok = false;
            format!(
                "PROBLEM: version {v} is newer than this routiq-sync supports \
                 ({CURRENT_VERSION}); upgrade routiq-sync"
            )
        }
    };
    let _ = writeln!(out, "  schema     {schema}");
    let needs_create = info.schema_version != Some(CURRENT_VERSION);
    let rights = match (info.can_create, needs_create) {
        (true, _) => "may create tables in the schema".to_string(),
        (false, false) => "cannot create tables (not needed: the schema is current)".to_string(),
        (false, true) => {
            ok = false;
            format!(
                "PROBLEM: the role cannot create the schema or its tables; GRANT CREATE ON \
                 {} to it, or run the first sync as a role that can",
                if info.schema_version.is_none() {
                    format!("DATABASE {}", url.database())
                } else {
                    format!("SCHEMA {}", pg.schema)
                }
            )
        }
    };
    let _ = writeln!(out, "  rights     {rights}");
    (out, ok, Some(session))
}
