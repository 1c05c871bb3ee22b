//! The statements of [`super::Snapshots`], written once for both backends: each reads
//! one parameter, the org ids, which [`Dialect`] fills in as each backend reads it.

use crate::resource::Resource;
use crate::store::table;

/// How a backend's SQL reads the org ids, the statements' one parameter: SQLite binds
/// them as a JSON array of strings, PostgreSQL as a `text[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sql` with `{orgs}` (the ids as a row source with one column, `org_id`) and
    /// `{among_orgs}` (a condition on the column before it: one of the ids) filled in.
    fn fill(self, sql: &str) -> String {
        let (orgs, among) = match self {
            Dialect::Sqlite => (
                "(SELECT value AS org_id FROM json_each(?1))",
                "IN (SELECT value FROM json_each(?1))",
            ),
            Dialect::Postgres => ("(SELECT unnest($1::text[]) AS org_id)", "= ANY($1::text[])"),
        };
        sql.replace("{orgs}", orgs).replace("{among_orgs}", among)
    }
}

/// One row per org: its last success and active-patient count (from its runs), its
/// facts and its privacy state (`p.org_id` tells whether it has one), and the tables
/// marked for a scrub.
const ORG_ROWS: &str = "SELECT o.org_id,
       (SELECT r.finished_at FROM runs AS r
        WHERE r.org_id = o.org_id AND r.status = 'ok' ORDER BY r.id DESC LIMIT 1),
       (SELECT r.active_patients FROM runs AS r
        WHERE r.org_id = o.org_id AND r.status = 'ok' AND r.active_patients IS NOT NULL
        ORDER BY r.id DESC LIMIT 1),
       f.clock_skew_seconds, f.clock_checked_at, f.account_id, f.account_name, f.key_digest,
       p.org_id, p.fingerprint, p.applied_at, p.pending, p.pending_resource,
       p.pending_after_id, p.rules, p.refetch,
       (SELECT string_agg(s.table_name, ',') FROM scrub_due AS s WHERE s.org_id = o.org_id)
     FROM {orgs} AS o
     LEFT JOIN org_facts AS f ON f.org_id = o.org_id
     LEFT JOIN privacy_state AS p ON p.org_id = o.org_id";

/// Every route's state of the orgs.
const STATE_ROWS: &str =
    "SELECT org_id, resource, cursor, last_full_at, full_run_id, full_started_at, full_position,
            polled_at, settled_second, settled_read_at, last_verify_at
     FROM sync_state WHERE org_id {among_orgs}";

/// The newest two runs of each org: those from its second-newest on (all of them when it
/// has one), in the column order of each backend's `recent_runs`.
const RECENT_RUNS: &str = "SELECT runs.id, runs.org_id, runs.mode, runs.status, runs.started_at,
            runs.finished_at, runs.duration_ms, runs.api_calls, runs.error,
            CAST(runs.resources AS TEXT), runs.stopped_by
     FROM {orgs} AS o
     JOIN runs ON runs.org_id = o.org_id
      AND runs.id >= COALESCE((SELECT r.id FROM runs AS r WHERE r.org_id = o.org_id
                               ORDER BY r.id DESC LIMIT 1 OFFSET 1), 0)";

/// The leases of the orgs (PostgreSQL's locks), and whether each is unexpired on the
/// server's clock: the columns of the lease module's own read, after the org.
const LEASES: &str =
    "SELECT org_id, token, host_key, pid, pid_start, expires_at > clock_timestamp()
     FROM org_leases WHERE org_id {among_orgs}";

/// The org rows (the columns `OrgRow` is read from).
pub fn org_rows(d: Dialect) -> String {
    d.fill(ORG_ROWS)
}

/// The route states (`org_id`, then the columns of each backend's `ORG_STATE`).
pub fn state_rows(d: Dialect) -> String {
    d.fill(STATE_ROWS)
}

/// The newest two runs of each org, in no order.
pub fn recent_runs(d: Dialect) -> String {
    d.fill(RECENT_RUNS)
}

/// Rows not marked deleted upstream per resource table and org: `(table, org_id, count)`
/// for every pair with rows, in one statement over every resource table.
pub fn present_counts(d: Dialect) -> String {
    let parts: Vec<String> = Resource::ALL
        .iter()
        .map(|r| {
            let t = table(*r).name;
            format!(
                "SELECT '{t}', org_id, COUNT(*) FROM {t}
                 WHERE org_id {{among_orgs}} AND deleted_upstream_at IS NULL GROUP BY org_id"
            )
        })
        .collect();
    d.fill(&parts.join("\n     UNION ALL "))
}

/// The orgs' leases (PostgreSQL only: SQLite's locks are files).
pub fn leases() -> String {
    Dialect::Postgres.fill(LEASES)
}

/// Every statement above for `d`: what `tests/query_plans.rs` plans.
pub fn planned(d: Dialect) -> Vec<String> {
    let mut all = vec![
        org_rows(d),
        state_rows(d),
        recent_runs(d),
        present_counts(d),
    ];
    if d == Dialect::Postgres {
        all.push(leases());
    }
    all
}
