//! Every SQL statement the PostgreSQL store runs against its data, in one place: the
//! store runs these texts, and `tests/query_plans.rs` plans the same texts (from
//! [`planned`]), so the test cannot drift from what runs. Placeholders are `$N`. The
//! staging upsert is built in `staging`, from the columns' types; [`planned`] builds it
//! too. Not here: what reads the catalog, begins transactions or migrates the schema.

use std::collections::HashMap;

use postgres::GenericClient;

use crate::resource::Resource;
use crate::store::{TableSpec, org_tables, table};

// ----- one resource table `t` -----

/// Rows of an org not marked deleted upstream (`status` totals, `verify`).
pub fn count_present(t: &str) -> String {
    format!("SELECT COUNT(*) FROM {t} WHERE org_id = $1 AND deleted_upstream_at IS NULL")
}

/// The ids of an org's rows not marked deleted upstream (`verify`).
pub fn present_ids(t: &str) -> String {
    format!("SELECT id FROM {t} WHERE org_id = $1 AND deleted_upstream_at IS NULL")
}

/// Which of the ids `$2` are not present (or marked), in their order (`verify`).
pub fn missing_ids(t: &str) -> String {
    format!(
        "SELECT wanted.id FROM unnest($2::text[]) WITH ORDINALITY AS wanted (id, n)
         WHERE NOT EXISTS (SELECT 1 FROM {t} AS t WHERE t.org_id = $1 AND t.id = wanted.id
                           AND t.deleted_upstream_at IS NULL)
         ORDER BY wanted.n"
    )
}

/// Marks the ids `$2` deleted upstream (`verify`).
pub fn mark_deleted(t: &str) -> String {
    format!(
        "UPDATE {t} SET deleted_upstream_at = $3
         WHERE org_id = $1 AND id = ANY($2) AND deleted_upstream_at IS NULL"
    )
}

/// Marks the rows the full walk `$2` of route `$4` did not see (the walk's end).
pub fn mark_unseen(t: &str) -> String {
    format!(
        "WITH seen AS (
             SELECT DISTINCT unnest(ids) AS id FROM full_seen
             WHERE org_id = $1 AND resource = $4 AND run_id = $2)
         UPDATE {t} AS t SET deleted_upstream_at = $3
         WHERE t.org_id = $1 AND t.deleted_upstream_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM seen WHERE seen.id = t.id)"
    )
}

/// Re-marks an org's rows marked deleted upstream later than `$3` as deleted at `$2`.
pub fn repair_future_marks(t: &str) -> String {
    format!(
        "UPDATE {t} SET deleted_upstream_at = $2
         WHERE org_id = $1 AND deleted_upstream_at > $3"
    )
}

/// Removes an org's rows marked deleted upstream before `$2` (retention).
pub fn purge_deleted(t: &str) -> String {
    format!(
        "DELETE FROM {t} WHERE org_id = $1
         AND deleted_upstream_at IS NOT NULL AND deleted_upstream_at < $2"
    )
}

/// A batch of an org's stored rows after id `$2` (all when NULL), in id order (the
/// privacy rewrite).
pub fn stored_batch(t: &str) -> String {
    format!(
        "SELECT id, raw_json::text FROM {t} WHERE org_id = $1
           AND ($2::text IS NULL OR id > $2::text)
         ORDER BY id LIMIT $3"
    )
}

/// One stored row rewritten under a new privacy policy: `raw_json` is `$3`, then each
/// of `spec`'s columns in order from `$4`, sent as text and cast to its type in `types`
/// (see `staging::column_types`).
pub fn rewrite_row(spec: &TableSpec, types: &HashMap<String, String>) -> String {
    let sets: String = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ty = types.get(*c).map_or("text", String::as_str);
            format!(", {c} = ${}::text::{ty}", i + 4)
        })
        .collect();
    format!(
        "UPDATE {} SET raw_json = $3::text::jsonb{sets} WHERE org_id = $1 AND id = $2",
        spec.name
    )
}

// ----- any table with an `org_id` (erasure) -----

/// An org's rows in table `t` (`forget` without `--yes`).
pub fn count_org_rows(t: &str) -> String {
    format!("SELECT COUNT(*) FROM {t} WHERE org_id = $1")
}

/// Deletes an org's rows in table `t` (`forget --yes`).
pub fn delete_org_rows(t: &str) -> String {
    format!("DELETE FROM {t} WHERE org_id = $1")
}

/// Rewrites table `t` of `schema` (already quoted) so deleted rows leave no bytes in its
/// files. Named with its schema: VACUUM runs outside any transaction, so no `SET LOCAL
/// search_path` applies to it. Not planned: `EXPLAIN` cannot plan a `VACUUM`, which
/// reads the whole table by design.
pub fn vacuum_full(schema: &str, t: &str) -> String {
    format!("VACUUM (FULL) {schema}.{t}")
}

/// Every org with a run or a cursor (each org's data has both once it synced).
pub const STORED_ORGS: &str =
    "SELECT org_id FROM runs UNION SELECT org_id FROM sync_state ORDER BY 1";

// ----- the view, sync state and full walks -----

/// The view's active patients of an org.
pub const ACTIVE_PATIENTS: &str = "SELECT COUNT(*) FROM patient_activity
     WHERE org_id = $1 AND activity_status = 'active'";

/// Every route's state of an org.
pub const ORG_STATE: &str =
    "SELECT resource, cursor, last_full_at, full_run_id, full_started_at, full_position,
            polled_at, settled_second, settled_read_at, last_verify_at
     FROM sync_state WHERE org_id = $1";

/// A full walk begins on the routes `$2`.
pub const BEGIN_FULL: &str =
    "INSERT INTO sync_state (org_id, resource, full_run_id, full_started_at)
     SELECT $1, key, $3, $4 FROM unnest($2::text[]) AS key
     ON CONFLICT (org_id, resource) DO UPDATE SET full_run_id = excluded.full_run_id,
       full_started_at = excluded.full_started_at, full_position = NULL";

/// The seen ids of every full walk of a route are dropped.
pub const FORGET_SEEN: &str = "DELETE FROM full_seen WHERE org_id = $1 AND resource = $2";

/// A route was polled.
pub const MARK_POLLED: &str =
    "INSERT INTO sync_state (org_id, resource, polled_at) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, resource) DO UPDATE SET polled_at = excluded.polled_at";

/// Evidence that the cursor's second was read completely. Evidence for the same second
/// only grows: the latest start of a complete read is kept.
pub const RECORD_SETTLED: &str = "UPDATE sync_state SET settled_second = $3, settled_read_at = $4
     WHERE org_id = $1 AND resource = $2 AND cursor = $3
       AND (settled_second IS DISTINCT FROM $3 OR settled_read_at IS NULL
            OR settled_read_at < $4)";

/// A verify of the routes `$2` finished.
pub const FINISH_VERIFY: &str = "INSERT INTO sync_state (org_id, resource, last_verify_at)
     SELECT $1, key, $3 FROM unnest($2::text[]) AS key
     ON CONFLICT (org_id, resource) DO UPDATE SET last_verify_at = excluded.last_verify_at";

/// A full walk of the routes `$2` ended. A full walk checks what a verify checks: a
/// last verify stored after the walk's start (only a host clock that was ahead writes
/// one) becomes the walk's start, or it would stay in the future and never fall due.
pub const END_FULL: &str = "UPDATE sync_state SET last_full_at = $3, full_run_id = NULL,
         full_started_at = NULL, full_position = NULL,
         last_verify_at = CASE WHEN last_verify_at > $3 THEN $3 ELSE last_verify_at END
     WHERE org_id = $1 AND resource = ANY($2)";

/// A batch's ids seen by a full walk.
pub const INSERT_SEEN: &str =
    "INSERT INTO full_seen (org_id, resource, run_id, ids) VALUES ($1, $2, $3, $4)";

/// The route's cursor (and, in a full walk, its position) moves forward, never back.
pub const ADVANCE_ROUTE: &str =
    "INSERT INTO sync_state (org_id, resource, cursor) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, resource) DO UPDATE SET
         cursor = GREATEST(sync_state.cursor, excluded.cursor),
         full_position = CASE WHEN $4 THEN GREATEST(sync_state.full_position, excluded.cursor)
                              ELSE sync_state.full_position END";

// ----- org facts and the privacy policy's state -----

/// An org's clock check and account.
pub const ORG_FACTS: &str =
    "SELECT clock_skew_seconds, clock_checked_at, account_id, account_name, key_digest
     FROM org_facts WHERE org_id = $1";

/// The host clock's skew from Cliniko's, as last checked.
pub const RECORD_CLOCK_SKEW: &str =
    "INSERT INTO org_facts (org_id, clock_skew_seconds, clock_checked_at)
     VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET clock_skew_seconds = excluded.clock_skew_seconds,
       clock_checked_at = excluded.clock_checked_at";

/// The account an org's key belongs to.
pub const RECORD_ACCOUNT: &str =
    "INSERT INTO org_facts (org_id, account_id, account_name, key_digest)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id) DO UPDATE SET account_id = excluded.account_id,
       account_name = excluded.account_name, key_digest = excluded.key_digest";

/// An org's applied privacy policy and the rewrite under way, if any.
pub const PRIVACY_STATE: &str =
    "SELECT fingerprint, applied_at, pending, pending_resource, pending_after_id, rules,
       refetch,
       (SELECT string_agg(table_name, ',') FROM scrub_due WHERE scrub_due.org_id = $1)
     FROM privacy_state WHERE org_id = $1";

/// How far the rewrite under a new policy got (committed with its batch).
pub const SAVE_PRIVACY_PROGRESS: &str =
    "INSERT INTO privacy_state (org_id, pending, pending_resource, pending_after_id)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id) DO UPDATE SET pending = excluded.pending,
       pending_resource = excluded.pending_resource,
       pending_after_id = excluded.pending_after_id";

/// Rows of org `$1` deleted or replaced in table `$2` are to be scrubbed from the files
/// (`$3` 1: by a rebuild; a mark for a rebuild is never lowered).
pub const MARK_SCRUB: &str = "INSERT INTO scrub_due (org_id, table_name, vacuum)
     VALUES ($1, $2, $3)
     ON CONFLICT (org_id, table_name)
     DO UPDATE SET vacuum = GREATEST(scrub_due.vacuum, excluded.vacuum)";

/// A policy applies to every stored row (as far as the rows allow: `refetch` names the
/// resources to fetch again): the rewrite under way, if any, ends.
pub const FINISH_PRIVACY: &str =
    "INSERT INTO privacy_state (org_id, fingerprint, applied_at, rules, refetch)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (org_id) DO UPDATE SET fingerprint = excluded.fingerprint,
       applied_at = excluded.applied_at, rules = excluded.rules, refetch = excluded.refetch,
       pending = NULL,
       pending_resource = NULL, pending_after_id = NULL";

// ----- org leases (see `lease` and `renewer`) -----

/// An org's lease row as it stands, and whether it is unexpired on the server's clock.
pub const CURRENT_LEASE: &str =
    "SELECT token, host_key, pid, pid_start, expires_at > clock_timestamp()
     FROM org_leases WHERE org_id = $1";

/// Takes an org's lease when it has none, it expired, or its holder `$8` is gone.
pub const TAKE_LEASE: &str = "INSERT INTO org_leases AS l
         (org_id, token, holder, host_key, pid, pid_start, taken_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(),
             clock_timestamp() + make_interval(secs => $7))
     ON CONFLICT (org_id) DO UPDATE SET
         token = excluded.token, holder = excluded.holder, host_key = excluded.host_key,
         pid = excluded.pid, pid_start = excluded.pid_start, taken_at = excluded.taken_at,
         expires_at = excluded.expires_at
     WHERE l.expires_at <= clock_timestamp() OR l.token = $8
     RETURNING 1";

/// Renews an org's lease when it is still token `$2`'s and unexpired.
pub const FENCE_LEASE: &str =
    "UPDATE org_leases SET expires_at = clock_timestamp() + make_interval(secs => $3)
     WHERE org_id = $1 AND token = $2 AND expires_at > clock_timestamp()
     RETURNING 1";

/// Whether an org's lease is still token `$2`'s and unexpired (no row lock).
pub const LEASE_STILL_OURS: &str = "SELECT 1 FROM org_leases
     WHERE org_id = $1 AND token = $2 AND expires_at > clock_timestamp()";

/// Deletes an org's lease as its run ends.
pub const RELEASE_LEASE: &str = "DELETE FROM org_leases WHERE org_id = $1 AND token = $2";

/// Renews the unexpired leases of the orgs `$1` that still carry one of our tokens `$2`,
/// skipping rows a committing transaction has locked (that commit renews them). The
/// orgs lead, so the primary key finds the rows; a token alone has no index.
pub const RENEW_LEASES: &str =
    "UPDATE org_leases SET expires_at = clock_timestamp() + make_interval(secs => $3)
     WHERE org_id IN (SELECT org_id FROM org_leases
                      WHERE org_id = ANY($1) AND token = ANY($2)
                        AND expires_at > clock_timestamp()
                      FOR UPDATE SKIP LOCKED)";

// ----- runs -----

/// The columns [`recent_runs`] reads, in order.
pub const RUN_COLUMNS: &str = "id, org_id, mode, status, started_at, finished_at, duration_ms, \
                               api_calls, error, resources::text, stopped_by";

/// The newest `$2` runs of an org.
pub fn recent_runs() -> String {
    format!("SELECT {RUN_COLUMNS} FROM runs WHERE org_id = $1 ORDER BY id DESC LIMIT $2")
}

/// A run begins; returns its id.
pub const BEGIN_RUN: &str = "INSERT INTO runs (org_id, mode, status, started_at)
     VALUES ($1, $2, 'running', $3) RETURNING id";

/// A run ends.
pub const FINISH_RUN: &str =
    "UPDATE runs SET status = $2, finished_at = $3, duration_ms = $4, api_calls = $5,
     error = $6, resources = $7::text::jsonb, active_patients = $8, stopped_by = $9
     WHERE id = $1";

/// Runs still shown as running are closed as interrupted.
pub const CLOSE_ABANDONED_RUNS: &str =
    "UPDATE runs SET status = 'interrupted', error = COALESCE(error, $2)
     WHERE org_id = $1 AND status = 'running'";

/// The active-patient count of the newest successful run that counted them.
pub const LAST_ACTIVE_PATIENTS: &str = "SELECT active_patients FROM runs
     WHERE org_id = $1 AND status = 'ok' AND active_patients IS NOT NULL
     ORDER BY id DESC LIMIT 1";

/// When the org's newest successful run finished.
pub const LAST_SUCCESS: &str = "SELECT finished_at FROM runs WHERE org_id = $1 AND status = 'ok'
     ORDER BY id DESC LIMIT 1";

/// Old finished runs go, but never the org's newest run or newest ok run.
pub const PRUNE_RUNS: &str =
    "DELETE FROM runs WHERE org_id = $1 AND started_at < $2 AND status <> 'running'
     AND id <> (SELECT MAX(id) FROM runs WHERE org_id = $1)
     AND id <> COALESCE((SELECT MAX(id) FROM runs WHERE org_id = $1 AND status = 'ok'), -1)";

/// Sets `resource`'s typed columns of org `$1`'s rows listed by `$2` (ids) and `$3...`
/// (one text array per column), each cast to its catalogue type, only in rows where one
/// of them differs.
pub fn rederive_batch(resource: Resource) -> String {
    let spec = resource.spec();
    let new: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            crate::store::assigned(spec, i, &format!("v.c{i}::{}", c.kind.postgres_type()))
        })
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
    let arrays: Vec<String> = (0..=spec.columns.len())
        .map(|i| format!("${}::text[]", i + 2))
        .collect();
    let names: Vec<String> = (0..spec.columns.len()).map(|i| format!("c{i}")).collect();
    format!(
        "UPDATE {table} AS t SET {set} FROM unnest({arrays}) AS v(id, {names}) \
         WHERE t.org_id = $1 AND t.id = v.id AND ({differs})",
        table = spec.name,
        set = set.join(", "),
        arrays = arrays.join(", "),
        names = names.join(", "),
        differs = differs.join(" OR ")
    )
}

/// Every statement above (but [`vacuum_full`]), for every table it runs on, plus each
/// resource's staging upsert: what `tests/query_plans.rs` plans. The upserts and
/// rewrites name the columns' types, read from the catalog on `client`; the upserts
/// read a staging table, which this creates on `client` as the staging code does,
/// temporary and dropped when the transaction ends: call it inside the transaction that
/// plans them.
pub fn planned(client: &mut impl GenericClient) -> Result<Vec<String>, postgres::Error> {
    let mut all = Vec::new();
    for resource in Resource::ALL {
        let spec = table(resource);
        let t = spec.name;
        let types = super::staging::column_types(client, t)?;
        client.batch_execute(&super::staging::create_stage(&spec))?;
        all.extend([
            count_present(t),
            present_ids(t),
            missing_ids(t),
            mark_deleted(t),
            mark_unseen(t),
            repair_future_marks(t),
            purge_deleted(t),
            stored_batch(t),
            rewrite_row(&spec, &types),
            rederive_batch(resource),
            super::staging::upsert_sql(&spec, &types),
        ]);
    }
    for t in org_tables() {
        all.extend([count_org_rows(t), delete_org_rows(t)]);
    }
    all.push(recent_runs());
    all.extend(
        [
            crate::store::DERIVED_STATE,
            crate::store::SAVE_DERIVE_PROGRESS,
            crate::store::FINISH_DERIVE,
        ]
        .map(str::to_string),
    );
    all.extend(
        [
            STORED_ORGS,
            ACTIVE_PATIENTS,
            ORG_STATE,
            BEGIN_FULL,
            FORGET_SEEN,
            MARK_POLLED,
            RECORD_SETTLED,
            FINISH_VERIFY,
            END_FULL,
            INSERT_SEEN,
            ADVANCE_ROUTE,
            ORG_FACTS,
            RECORD_CLOCK_SKEW,
            RECORD_ACCOUNT,
            PRIVACY_STATE,
            SAVE_PRIVACY_PROGRESS,
            FINISH_PRIVACY,
            MARK_SCRUB,
            CURRENT_LEASE,
            TAKE_LEASE,
            FENCE_LEASE,
            LEASE_STILL_OURS,
            RELEASE_LEASE,
            RENEW_LEASES,
            BEGIN_RUN,
            FINISH_RUN,
            CLOSE_ABANDONED_RUNS,
            LAST_ACTIVE_PATIENTS,
            LAST_SUCCESS,
            PRUNE_RUNS,
        ]
        .map(str::to_string),
    );
    Ok(all)
}
