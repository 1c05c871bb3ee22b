//! `check`'s look at a PostgreSQL store: where it is, the server, TLS, the schema
//! version and the role's right to create tables. Changes nothing.

use std::fmt::Write as _;

use crate::config::PostgresSettings;
use crate::store::probe::{probe_readers, probe_server};

/// The `Store` block of `check` for `pg`, and whether a sync could use the store and
/// bind `readers` (each dashboard role with the orgs it is to read) to their orgs.
pub fn describe(pg: &PostgresSettings, readers: &[(String, Vec<String>)]) -> (String, bool) {
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
    let info = match probe_server(url, &pg.schema) {
        Ok(info) => info,
        Err(e) => {
            let _ = writeln!(out, "  connect    PROBLEM: {e}");
            return (out, false);
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
    let schema = match info.schema {
        None => "not created yet: the first sync creates it".to_string(),
        Some(v) if v.is_newer() => {
            ok = false;
            format!(
                "PROBLEM: version {} is newer than this routiq-sync supports \
                 ({}); upgrade routiq-sync",
                v.found, v.current
            )
        }
        Some(v) if v.is_older() => format!(
            "version {}: the next sync upgrades it to {}",
            v.found, v.current
        ),
        Some(v) => format!("version {} (current)", v.found),
    };
    let _ = writeln!(out, "  schema     {schema}");
    let needs_create = info.schema.is_none_or(|v| v.found != v.current);
    let rights = match (info.can_create, needs_create) {
        (true, _) => "may create tables in the schema".to_string(),
        (false, false) => "cannot create tables (not needed: the schema is current)".to_string(),
        (false, true) => {
            ok = false;
            format!(
                "PROBLEM: the role cannot create the schema or its tables; GRANT CREATE ON \
                 {} to it, or run the first sync as a role that can",
                if info.schema.is_none() {
                    format!("DATABASE {}", url.database())
                } else {
                    format!("SCHEMA {}", pg.schema)
                }
            )
        }
    };
    let _ = writeln!(out, "  rights     {rights}");
    let (text, readers_ok) = describe_readers(pg, readers);
    out.push_str(&text);
    (out, ok && readers_ok)
}

/// The `dashboard roles` lines: for each role, the orgs it reads, and a problem when the
/// server lacks it (with the SQL to create it) or it could read past row security.
fn describe_readers(pg: &PostgresSettings, readers: &[(String, Vec<String>)]) -> (String, bool) {
    let mut out = String::new();
    if readers.is_empty() {
        let _ = writeln!(
            out,
            "  readers    none (no org has dashboard_roles: no role but the sync's reads the rows)"
        );
        return (out, true);
    }
    let roles: Vec<String> = readers.iter().map(|(r, _)| r.clone()).collect();
    let facts = match probe_readers(&pg.url, &pg.schema, &roles) {
        Ok(facts) => facts,
        Err(e) => {
            let _ = writeln!(out, "  readers    PROBLEM: {e}");
            return (out, false);
        }
    };
    let mut ok = true;
    let mut create = Vec::new();
    for (fact, (_, orgs)) in facts.iter().zip(readers) {
        let role = &fact.role;
        let orgs = orgs.join(", ");
        let refusals = fact.refusals();
        let state = if !fact.exists {
            ok = false;
            create.push(format!(
                "CREATE ROLE {role} LOGIN PASSWORD 'choose-a-password';"
            ));
            create.push(format!("ALTER ROLE {role} SET jit = off;"));
            "PROBLEM: no such role on the server; create it as a superuser (below)".to_string()
        } else if refusals.is_empty() {
            "ok: reads these orgs only, from the next sync".to_string()
        } else {
            ok = false;
            format!(
                "PROBLEM: refused as a dashboard role: it {}; use a plain LOGIN role",
                refusals.join("; it ")
            )
        };
        let _ = writeln!(out, "  reader     {role} (orgs {orgs}): {state}");
    }
    if !create.is_empty() {
        let _ = writeln!(
            out,
            "  create     as a superuser (routiq-sync creates no role), then run a sync:"
        );
        for sql in create {
            let _ = writeln!(out, "               {sql}");
        }
    }
    (out, ok)
}
