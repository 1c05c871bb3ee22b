//! Every SQL statement both backends run, written once: each backend runs these texts in
//! its [`Dialect`], and `tests/query_plans.rs` plans the same texts (each backend's
//! `statements::planned` includes [`planned`]), so the test cannot drift from what runs.
//! Placeholders are written `?N`. What one backend alone runs (SQLite's walk end over a
//! temporary table, PostgreSQL's batched reads and leases, both upserts) stays in that
//! backend's `statements` module.

mod dialect;

use std::collections::HashMap;

pub use dialect::{Dialect, Statement};

use crate::resource::Resource;
use crate::store::{TableSpec, assigned, org_tables, table};

/// Each column of a table with its SQL type, as PostgreSQL's catalog names it (empty on
/// SQLite, whose columns take text as it is).
pub type ColumnTypes = HashMap<String, String>;

// ----- one resource table `t` -----

/// Rows of an org not marked deleted upstream (`status` totals, `verify`).
pub fn count_present(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "SELECT COUNT(*) FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL"
    ))
}

/// The ids of an org's rows not marked deleted upstream (`verify`).
pub fn present_ids(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "SELECT id FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL"
    ))
}

/// Marks the ids `?2` (a batch, see [`Dialect::each`]) deleted upstream at `?3`
/// (`verify`).
pub fn mark_deleted(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "UPDATE {t} SET deleted_upstream_at = ?3
         WHERE org_id = ?1 AND id = {ids} AND deleted_upstream_at IS NULL",
        ids = d.each(2)
    ))
}

/// Re-marks an org's rows marked deleted upstream later than `?3` as deleted at `?2`.
pub fn repair_future_marks(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "UPDATE {t} SET deleted_upstream_at = ?2
         WHERE org_id = ?1 AND deleted_upstream_at > ?3"
    ))
}

/// Removes an org's rows marked deleted upstream before `?2` (retention).
pub fn purge_deleted(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "DELETE FROM {t} WHERE org_id = ?1
         AND deleted_upstream_at IS NOT NULL AND deleted_upstream_at < ?2"
    ))
}

/// A batch of an org's stored rows after id `?2` (all when NULL), in id order (the
/// privacy rewrite).
pub fn stored_batch(d: Dialect, t: &str) -> String {
    d.render(&format!(
        "SELECT id, CAST(raw_json AS TEXT) FROM {t} WHERE org_id = ?1
           AND (CAST(?2 AS TEXT) IS NULL OR id > CAST(?2 AS TEXT))
         ORDER BY id LIMIT ?3"
    ))
}

/// One stored row rewritten under a new privacy policy: `raw_json` is `?3`, then each
/// of `spec`'s columns in order from `?4`, each sent as text and stored as its type in
/// `types` (see [`Dialect::from_text`]).
pub fn rewrite_row(d: Dialect, spec: &TableSpec, types: &ColumnTypes) -> String {
    let value = |n: usize, c: &str| d.from_text(n, types.get(c).map_or("text", String::as_str));
    let sets: String = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!(", {c} = {}", value(i + 4, c)))
        .collect();
    d.render(&format!(
        "UPDATE {} SET raw_json = {}{sets} WHERE org_id = ?1 AND id = ?2",
        spec.name,
        value(3, "raw_json"),
    ))
}

/// Sets `resource`'s typed columns of org `?1`'s rows to their values derived again,
/// only in rows where one of them differs (an unchanged row is not written). The rows are
/// a batch (see [`Dialect::each`]): on SQLite one row, id `?2`, its values from `?3`; on
/// PostgreSQL the ids `?2` and one text array per column from `?3`, each value cast to
/// its catalogue type.
pub fn rederive(d: Dialect, resource: Resource) -> String {
    let spec = resource.spec();
    let n = spec.columns.len();
    let (rows, id, values): (String, &str, Vec<String>) = match d {
        Dialect::Sqlite => {
            let values = (0..n).map(|i| format!("?{}", i + 3)).collect();
            (String::new(), "?2", values)
        }
        Dialect::Postgres => {
            let arrays: Vec<String> = (2..n + 3).map(|p| format!("?{p}::text[]")).collect();
            let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
            let values = spec
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("v.c{i}::{}", c.kind.postgres_type()))
                .collect();
            let rows = format!(
                " FROM unnest({}) AS v(id, {})",
                arrays.join(", "),
                names.join(", ")
            );
            (rows, "v.id", values)
        }
    };
    let new: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| assigned(spec, i, v))
        .collect();
    let set: Vec<String> = spec
        .columns
        .iter()
        .zip(&new)
        .map(|(c, v)| format!("{} = {v}", c.name))
        .collect();
    let differs: Vec<String> = spec
        .columns
        .iter()
        .zip(&new)
        .map(|(c, v)| format!("t.{} IS DISTINCT FROM {v}", c.name))
        .collect();
    d.render(&format!(
        "UPDATE {} AS t SET {}{rows} WHERE t.org_id = ?1 AND t.id = {id} AND ({})",
        spec.name,
        set.join(", "),
        differs.join(" OR ")
    ))
}

// ----- any table with an `org_id` (erasure) -----

/// An org's rows in table `t` (`forget` without `--yes`).
pub fn count_org_rows(d: Dialect, t: &str) -> String {
    d.render(&format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1"))
}

/// Deletes an org's rows in table `t` (`forget --yes`).
pub fn delete_org_rows(d: Dialect, t: &str) -> String {
    d.render(&format!("DELETE FROM {t} WHERE org_id = ?1"))
}

/// Every org with a run or a cursor (each org's data has both once it synced).
pub static STORED_ORGS: Statement =
    Statement::text("SELECT org_id FROM runs UNION SELECT org_id FROM sync_state ORDER BY 1");

// ----- the view, sync state and full walks -----

/// The view's active patients of an org.
pub static ACTIVE_PATIENTS: Statement = Statement::text(
    "SELECT COUNT(*) FROM patient_activity
     WHERE org_id = ?1 AND activity_status = 'active'",
);

/// Every route's state of an org.
pub static ORG_STATE: Statement = Statement::text(
    "SELECT resource, cursor, last_full_at, full_run_id, full_started_at, full_position,
            polled_at, settled_second, settled_read_at, last_verify_at
     FROM sync_state WHERE org_id = ?1",
);

/// A full walk begins on the routes `?2` (see [`Dialect::rows_per_route`]).
pub static BEGIN_FULL: Statement = Statement::built(|d| {
    format!(
        "INSERT INTO sync_state (org_id, resource, full_run_id, full_started_at)
         {rows}
         ON CONFLICT (org_id, resource) DO UPDATE SET full_run_id = excluded.full_run_id,
           full_started_at = excluded.full_started_at, full_position = NULL",
        rows = d.rows_per_route(4)
    )
});

/// A route was polled.
pub static MARK_POLLED: Statement = Statement::text(
    "INSERT INTO sync_state (org_id, resource, polled_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, resource) DO UPDATE SET polled_at = excluded.polled_at",
);

/// Evidence that the cursor's second was read completely. Evidence for the same second
/// only grows: the latest start of a complete read is kept.
pub static RECORD_SETTLED: Statement = Statement::text(
    "UPDATE sync_state SET settled_second = ?3, settled_read_at = ?4
     WHERE org_id = ?1 AND resource = ?2 AND cursor = ?3
       AND (settled_second IS DISTINCT FROM ?3 OR settled_read_at IS NULL
            OR settled_read_at < ?4)",
);

/// A verify of the routes `?2` finished (see [`Dialect::rows_per_route`]).
pub static FINISH_VERIFY: Statement = Statement::built(|d| {
    format!(
        "INSERT INTO sync_state (org_id, resource, last_verify_at)
         {rows}
         ON CONFLICT (org_id, resource) DO UPDATE SET last_verify_at = excluded.last_verify_at",
        rows = d.rows_per_route(3)
    )
});

/// A full walk of the routes `?2` (a batch, see [`Dialect::each`]) ended. A full walk
/// checks what a verify checks: a last verify stored after the walk's start (only a host
/// clock that was ahead writes one) becomes the walk's start, or it would stay in the
/// future and never fall due.
pub static END_FULL: Statement = Statement::built(|d| {
    format!(
        "UPDATE sync_state SET last_full_at = ?3, full_run_id = NULL,
           full_started_at = NULL, full_position = NULL,
           last_verify_at = CASE WHEN last_verify_at > ?3 THEN ?3 ELSE last_verify_at END
         WHERE org_id = ?1 AND resource = {routes}",
        routes = d.each(2)
    )
});

/// A page's (or batch's) ids seen by a full walk.
pub static INSERT_SEEN: Statement = Statement::text(
    "INSERT INTO full_seen (org_id, resource, run_id, ids) VALUES (?1, ?2, ?3, ?4)",
);

/// The seen ids of every full walk of a route are dropped.
pub static FORGET_SEEN: Statement =
    Statement::text("DELETE FROM full_seen WHERE org_id = ?1 AND resource = ?2");

// ----- runs -----

/// A run begins; returns its id.
pub static BEGIN_RUN: Statement = Statement::text(
    "INSERT INTO runs (org_id, mode, status, started_at)
     VALUES (?1, ?2, 'running', ?3) RETURNING id",
);

/// A run ends (`?7`, the resources' counts, is JSON text).
pub static FINISH_RUN: Statement = Statement::built(|d| {
    format!(
        "UPDATE runs SET status = ?2, finished_at = ?3, duration_ms = ?4, api_calls = ?5,
         error = ?6, resources = {resources}, active_patients = ?8, stopped_by = ?9
         WHERE id = ?1",
        resources = d.from_text(7, "jsonb")
    )
});

/// Runs still shown as running are closed as interrupted.
pub static CLOSE_ABANDONED_RUNS: Statement = Statement::text(
    "UPDATE runs SET status = 'interrupted', error = COALESCE(error, ?2)
     WHERE org_id = ?1 AND status = 'running'",
);

/// The active-patient count of the newest successful run that counted them.
pub static LAST_ACTIVE_PATIENTS: Statement = Statement::text(
    "SELECT active_patients FROM runs
     WHERE org_id = ?1 AND status = 'ok' AND active_patients IS NOT NULL
     ORDER BY id DESC LIMIT 1",
);

/// When the org's newest successful run finished.
pub static LAST_SUCCESS: Statement = Statement::text(
    "SELECT finished_at FROM runs WHERE org_id = ?1 AND status = 'ok'
     ORDER BY id DESC LIMIT 1",
);

/// The newest `?2` runs of an org, newest first; the backends read the columns by
/// position.
pub static RECENT_RUNS: Statement = Statement::text(
    "SELECT id, org_id, mode, status, started_at, finished_at, duration_ms, api_calls,
            error, CAST(resources AS TEXT), stopped_by
     FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2",
);

/// Old finished runs go, but never the org's newest run or newest ok run.
pub static PRUNE_RUNS: Statement = Statement::text(
    "DELETE FROM runs WHERE org_id = ?1 AND started_at < ?2 AND status <> 'running'
     AND id <> (SELECT MAX(id) FROM runs WHERE org_id = ?1)
     AND id <> COALESCE((SELECT MAX(id) FROM runs WHERE org_id = ?1 AND status = 'ok'), -1)",
);

// ----- org facts and the privacy policy's state -----

/// An org's clock check and account.
pub static ORG_FACTS: Statement = Statement::text(
    "SELECT clock_skew_seconds, clock_checked_at, account_id, account_name, key_digest
     FROM org_facts WHERE org_id = ?1",
);

/// The host clock's skew from Cliniko's, as last checked.
pub static RECORD_CLOCK_SKEW: Statement = Statement::text(
    "INSERT INTO org_facts (org_id, clock_skew_seconds, clock_checked_at)
     VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id) DO UPDATE SET clock_skew_seconds = excluded.clock_skew_seconds,
       clock_checked_at = excluded.clock_checked_at",
);

/// The account an org's key belongs to.
pub static RECORD_ACCOUNT: Statement = Statement::text(
    "INSERT INTO org_facts (org_id, account_id, account_name, key_digest)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (org_id) DO UPDATE SET account_id = excluded.account_id,
       account_name = excluded.account_name, key_digest = excluded.key_digest",
);

/// An org's applied privacy policy and the rewrite under way, if any.
pub static PRIVACY_STATE: Statement = Statement::text(
    "SELECT fingerprint, applied_at, pending, pending_resource, pending_after_id, rules,
       refetch,
       (SELECT string_agg(table_name, ',') FROM scrub_due WHERE scrub_due.org_id = ?1)
     FROM privacy_state WHERE org_id = ?1",
);

/// How far the rewrite under a new policy got (committed with its batch).
pub static SAVE_PRIVACY_PROGRESS: Statement = Statement::text(
    "INSERT INTO privacy_state (org_id, pending, pending_resource, pending_after_id)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (org_id) DO UPDATE SET pending = excluded.pending,
       pending_resource = excluded.pending_resource,
       pending_after_id = excluded.pending_after_id",
);

/// Rows of org `?1` deleted or replaced in table `?2` are to be scrubbed from the files
/// (`?3` 1: by a rebuild; a mark for a rebuild is never lowered).
pub static MARK_SCRUB: Statement = Statement::text(
    "INSERT INTO scrub_due (org_id, table_name, vacuum)
     VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, table_name) DO UPDATE SET vacuum = CASE
         WHEN excluded.vacuum > scrub_due.vacuum THEN excluded.vacuum ELSE scrub_due.vacuum END",
);

/// A policy applies to every stored row (as far as the rows allow: `refetch` names the
/// resources to fetch again): the rewrite under way, if any, ends.
pub static FINISH_PRIVACY: Statement = Statement::text(
    "INSERT INTO privacy_state (org_id, fingerprint, applied_at, rules, refetch)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (org_id) DO UPDATE SET fingerprint = excluded.fingerprint,
       applied_at = excluded.applied_at, rules = excluded.rules, refetch = excluded.refetch,
       pending = NULL,
       pending_resource = NULL, pending_after_id = NULL",
);

// ----- derived columns -----

/// `(resource, fingerprint, pending, after_id)` of each resource of an org whose typed
/// columns' derivation is recorded.
pub static DERIVED_STATE: Statement = Statement::text(
    "SELECT resource, fingerprint, pending, after_id FROM derived_columns WHERE org_id = ?1",
);

/// Records `(org_id, resource, pending, after_id)`: how far a re-derivation got.
pub static SAVE_DERIVE_PROGRESS: Statement = Statement::text(
    "INSERT INTO derived_columns (org_id, resource, fingerprint, pending, after_id)
     VALUES (?1, ?2, NULL, ?3, ?4)
     ON CONFLICT (org_id, resource) DO UPDATE SET pending = excluded.pending,
       after_id = excluded.after_id",
);

/// Records `(org_id, resource, fingerprint)`: every stored row is derived by it.
pub static FINISH_DERIVE: Statement = Statement::text(
    "INSERT INTO derived_columns (org_id, resource, fingerprint, pending, after_id)
     VALUES (?1, ?2, ?3, NULL, NULL)
     ON CONFLICT (org_id, resource) DO UPDATE SET fingerprint = excluded.fingerprint,
       pending = NULL, after_id = NULL",
);

/// Each stored business of org `?1` and its IANA time zone (for `local_offsets`).
pub static BUSINESS_ZONES: Statement = Statement::text(
    "SELECT id, time_zone_identifier FROM businesses
     WHERE org_id = ?1 AND deleted_upstream_at IS NULL ORDER BY id",
);

/// Every statement above in dialect `d`, for every table it runs on: what each backend's
/// `statements::planned` adds to its own. `types` holds the column types of each resource
/// table by name (PostgreSQL's; none on SQLite).
pub fn planned(d: Dialect, types: &HashMap<&str, ColumnTypes>) -> Vec<String> {
    let mut all = Vec::new();
    let none = ColumnTypes::new();
    for resource in Resource::ALL {
        let spec = table(resource);
        let t = spec.name;
        all.extend([
            count_present(d, t),
            present_ids(d, t),
            mark_deleted(d, t),
            repair_future_marks(d, t),
            purge_deleted(d, t),
            stored_batch(d, t),
            rewrite_row(d, &spec, types.get(t).unwrap_or(&none)),
            rederive(d, resource),
        ]);
    }
    for t in org_tables() {
        all.extend([count_org_rows(d, t), delete_org_rows(d, t)]);
    }
    all.extend(
        [
            &STORED_ORGS,
            &ACTIVE_PATIENTS,
            &ORG_STATE,
            &BEGIN_FULL,
            &MARK_POLLED,
            &RECORD_SETTLED,
            &FINISH_VERIFY,
            &END_FULL,
            &INSERT_SEEN,
            &FORGET_SEEN,
            &BEGIN_RUN,
            &FINISH_RUN,
            &CLOSE_ABANDONED_RUNS,
            &LAST_ACTIVE_PATIENTS,
            &LAST_SUCCESS,
            &RECENT_RUNS,
            &PRUNE_RUNS,
            &ORG_FACTS,
            &RECORD_CLOCK_SKEW,
            &RECORD_ACCOUNT,
            &PRIVACY_STATE,
            &SAVE_PRIVACY_PROGRESS,
            &MARK_SCRUB,
            &FINISH_PRIVACY,
            &DERIVED_STATE,
            &SAVE_DERIVE_PROGRESS,
            &FINISH_DERIVE,
            &BUSINESS_ZONES,
        ]
        .map(|s| s.get(d).to_string()),
    );
    all
}
