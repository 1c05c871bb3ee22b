//! Every SQL statement the SQLite store runs against its data, in one place: the store
//! prepares these texts, and `tests/query_plans.rs` plans the same texts (from
//! [`planned`]), so the test cannot drift from what runs. Placeholders are `?N`.

use crate::resource::Resource;
use crate::store::{TableSpec, org_tables, table};

// ----- one resource table `t` -----

/// Rows of an org not marked deleted upstream (`status` totals, `verify`).
pub fn count_present(t: &str) -> String {
    format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL")
}

/// The ids of an org's rows not marked deleted upstream (`verify`).
pub fn present_ids(t: &str) -> String {
    format!("SELECT id FROM {t} WHERE org_id = ?1 AND deleted_upstream_at IS NULL")
}

/// Whether one id is present and not marked (`verify`'s missing ids).
pub fn is_present(t: &str) -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM {t} WHERE org_id = ?1 AND id = ?2
                        AND deleted_upstream_at IS NULL)"
    )
}

/// Marks one id deleted upstream (`verify`).
pub fn mark_deleted(t: &str) -> String {
    format!(
        "UPDATE {t} SET deleted_upstream_at = ?3
         WHERE org_id = ?1 AND id = ?2 AND deleted_upstream_at IS NULL"
    )
}

/// Marks the rows a full walk did not see (the walk's end). The unseen ids come from
/// the primary key's index alone (a covering scan); only their rows are read. Rows
/// marked in `seen_full_run` by this walk were seen too (a walk begun by an older
/// routiq-sync and finished by this one).
pub fn mark_unseen(t: &str) -> String {
    format!(
        "UPDATE {t} SET deleted_upstream_at = ?3
         WHERE org_id = ?1 AND id IN (
               SELECT id FROM {t} WHERE org_id = ?1
               AND id NOT IN (SELECT id FROM temp.full_seen_ids))
           AND deleted_upstream_at IS NULL
           AND (seen_full_run IS NULL OR seen_full_run <> ?2)"
    )
}

/// Re-marks an org's rows marked deleted upstream later than `?3` as deleted at `?2`.
pub fn repair_future_marks(t: &str) -> String {
    format!(
        "UPDATE {t} SET deleted_upstream_at = ?2
         WHERE org_id = ?1 AND deleted_upstream_at > ?3"
    )
}

/// Removes an org's rows marked deleted upstream before `?2` (retention).
pub fn purge_deleted(t: &str) -> String {
    format!(
        "DELETE FROM {t} WHERE org_id = ?1
         AND deleted_upstream_at IS NOT NULL AND deleted_upstream_at < ?2"
    )
}

/// A batch of an org's stored rows after id `?2` (all when NULL), in id order (the
/// privacy rewrite).
pub fn stored_batch(t: &str) -> String {
    format!(
        "SELECT id, raw_json FROM {t} WHERE org_id = ?1 AND (?2 IS NULL OR id > ?2)
         ORDER BY id LIMIT ?3"
    )
}

/// One stored row rewritten under a new privacy policy: `raw_json` is `?3`, then each
/// of `spec`'s columns in order from `?4`.
pub fn rewrite_row(spec: &TableSpec) -> String {
    let sets: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 4))
        .collect();
    format!(
        "UPDATE {} SET raw_json = ?3{}{} WHERE org_id = ?1 AND id = ?2",
        spec.name,
        if sets.is_empty() { "" } else { ", " },
        sets.join(", ")
    )
}

// ----- any table with an `org_id` (erasure) -----

/// An org's rows in table `t` (`forget` without `--yes`).
pub fn count_org_rows(t: &str) -> String {
    format!("SELECT COUNT(*) FROM {t} WHERE org_id = ?1")
}

/// Deletes an org's rows in table `t` (`forget --yes`).
pub fn delete_org_rows(t: &str) -> String {
    format!("DELETE FROM {t} WHERE org_id = ?1")
}

/// Every org with a run or a cursor (each org's data has both once it synced).
pub const STORED_ORGS: &str = "SELECT org_id FROM runs UNION SELECT org_id FROM sync_state \
     ORDER BY 1";

// ----- the view, sync state, full walks and runs -----

/// The view's active patients of an org.
pub const ACTIVE_PATIENTS: &str = "SELECT COUNT(*) FROM patient_activity
     WHERE org_id = ?1 AND activity_status = 'active'";

/// Every route's state of an org.
pub const ORG_STATE: &str =
    "SELECT resource, cursor, last_full_at, full_run_id, full_started_at, full_position,
            polled_at, settled_second, settled_read_at, last_verify_at
     FROM sync_state WHERE org_id = ?1";

/// A full walk begins on a route.
pub const BEGIN_FULL: &str =
    "INSERT INTO sync_state (org_id, resource, full_run_id, full_started_at)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (org_id, resource) DO UPDATE SET full_run_id = excluded.full_run_id,
       full_started_at = excluded.full_started_at, full_position = NULL";

/// A route was polled.
pub const MARK_POLLED: &str =
    "INSERT INTO sync_state (org_id, resource, polled_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, resource) DO UPDATE SET polled_at = excluded.polled_at";

/// Evidence that the cursor's second was read completely. Evidence for the same second
/// only grows: the latest start of a complete read is kept.
pub const RECORD_SETTLED: &str = "UPDATE sync_state SET settled_second = ?3, settled_read_at = ?4
     WHERE org_id = ?1 AND resource = ?2 AND cursor = ?3
       AND (settled_second IS NOT ?3 OR settled_read_at IS NULL
            OR settled_read_at < ?4)";

/// A verify of a route finished.
pub const FINISH_VERIFY: &str =
    "INSERT INTO sync_state (org_id, resource, last_verify_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, resource) DO UPDATE SET last_verify_at = excluded.last_verify_at";

/// When the org's newest successful run finished.
pub const LAST_SUCCESS: &str = "SELECT finished_at FROM runs WHERE org_id = ?1 AND status = 'ok'
     ORDER BY id DESC LIMIT 1";

/// A full walk of a route ended. A full walk checks what a verify checks: a last verify
/// stored after the walk's start (only a host clock that was ahead writes one) becomes
/// the walk's start, or it would stay in the future and never fall due.
pub const END_FULL: &str = "UPDATE sync_state SET last_full_at = ?3, full_run_id = NULL,
       full_started_at = NULL, full_position = NULL,
       last_verify_at = CASE WHEN last_verify_at > ?3 THEN ?3 ELSE last_verify_at END
     WHERE org_id = ?1 AND resource = ?2";

/// A full walk's position moves forward.
pub const ADVANCE_FULL_POSITION: &str = "UPDATE sync_state SET full_position = ?3
     WHERE org_id = ?1 AND resource = ?2
       AND (full_position IS NULL OR full_position < ?3)";

/// The cursor moves forward, never back. Timestamps are stored in one fixed-width
/// format, so text order is time order.
pub const ADVANCE_CURSOR: &str =
    "INSERT INTO sync_state (org_id, resource, cursor) VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, resource) DO UPDATE SET cursor = excluded.cursor
     WHERE sync_state.cursor IS NULL OR sync_state.cursor < excluded.cursor";

/// A page's ids seen by a full walk.
pub const INSERT_SEEN: &str =
    "INSERT INTO full_seen (org_id, resource, run_id, ids) VALUES (?1, ?2, ?3, ?4)";

/// The seen ids of every full walk of a route are dropped.
pub const FORGET_SEEN: &str = "DELETE FROM full_seen WHERE org_id = ?1 AND resource = ?2";

/// The seen ids of one full walk.
pub const LOAD_SEEN: &str =
    "SELECT ids FROM full_seen WHERE org_id = ?1 AND resource = ?2 AND run_id = ?3";

/// The walk's end compares the records with this temporary table of seen ids.
pub const CREATE_SEEN_IDS: &str = "DROP TABLE IF EXISTS temp.full_seen_ids;
     CREATE TEMP TABLE full_seen_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;";

/// One seen id into the walk's temporary table.
pub const INSERT_SEEN_ID: &str = "INSERT OR IGNORE INTO temp.full_seen_ids (id) VALUES (?1)";

/// A run begins.
pub const BEGIN_RUN: &str =
    "INSERT INTO runs (org_id, mode, status, started_at) VALUES (?1, ?2, 'running', ?3)";

/// A run ends.
pub const FINISH_RUN: &str =
    "UPDATE runs SET status = ?2, finished_at = ?3, duration_ms = ?4, api_calls = ?5,
     error = ?6, resources = ?7, active_patients = ?8, stopped_by = ?9 WHERE id = ?1";

/// Runs still shown as running are closed as interrupted.
pub const CLOSE_ABANDONED_RUNS: &str =
    "UPDATE runs SET status = 'interrupted', error = COALESCE(error, ?2)
     WHERE org_id = ?1 AND status = 'running'";

/// The active-patient count of the newest successful run that counted them.
pub const LAST_ACTIVE_PATIENTS: &str = "SELECT active_patients FROM runs
     WHERE org_id = ?1 AND status = 'ok' AND active_patients IS NOT NULL
     ORDER BY id DESC LIMIT 1";

/// The columns [`recent_runs`] reads, in order.
pub const RUN_COLUMNS: &str = "id, org_id, mode, status, started_at, finished_at, duration_ms, api_calls, error, resources, \
     stopped_by";

/// The newest `?2` runs of an org.
pub fn recent_runs() -> String {
    format!("SELECT {RUN_COLUMNS} FROM runs WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2")
}

/// Old finished runs go, but never the org's newest run or newest ok run.
pub const PRUNE_RUNS: &str =
    "DELETE FROM runs WHERE org_id = ?1 AND started_at < ?2 AND status <> 'running'
     AND id <> (SELECT MAX(id) FROM runs WHERE org_id = ?1)
     AND id <> COALESCE((SELECT MAX(id) FROM runs WHERE org_id = ?1 AND status = 'ok'), -1)";

// ----- org facts and the privacy policy's state -----

/// An org's clock check and account.
pub const ORG_FACTS: &str =
    "SELECT clock_skew_seconds, clock_checked_at, account_id, account_name, key_digest
     FROM org_facts WHERE org_id = ?1";

/// The host clock's skew from Cliniko's, as last checked.
pub const RECORD_CLOCK_SKEW: &str =
    "INSERT INTO org_facts (org_id, clock_skew_seconds, clock_checked_at)
     VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id) DO UPDATE SET clock_skew_seconds = excluded.clock_skew_seconds,
       clock_checked_at = excluded.clock_checked_at";

/// The account an org's key belongs to.
pub const RECORD_ACCOUNT: &str =
    "INSERT INTO org_facts (org_id, account_id, account_name, key_digest)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (org_id) DO UPDATE SET account_id = excluded.account_id,
       account_name = excluded.account_name, key_digest = excluded.key_digest";

/// An org's applied privacy policy and the rewrite under way, if any.
pub const PRIVACY_STATE: &str =
    "SELECT fingerprint, applied_at, pending, pending_resource, pending_after_id, rules,
       refetch,
       (SELECT group_concat(table_name) FROM scrub_due WHERE scrub_due.org_id = ?1)
     FROM privacy_state WHERE org_id = ?1";

/// How far the rewrite under a new policy got (committed with its batch).
pub const SAVE_PRIVACY_PROGRESS: &str =
    "INSERT INTO privacy_state (org_id, pending, pending_resource, pending_after_id)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (org_id) DO UPDATE SET pending = excluded.pending,
       pending_resource = excluded.pending_resource,
       pending_after_id = excluded.pending_after_id";

/// Rows of org `?1` deleted or replaced in table `?2` are to be scrubbed from the files
/// (`?3` 1: by a rebuild; a mark for a rebuild is never lowered).
pub const MARK_SCRUB: &str = "INSERT INTO scrub_due (org_id, table_name, vacuum)
     VALUES (?1, ?2, ?3)
     ON CONFLICT (org_id, table_name)
     DO UPDATE SET vacuum = MAX(scrub_due.vacuum, excluded.vacuum)";

/// A policy applies to every stored row (as far as the rows allow: `refetch` names the
/// resources to fetch again): the rewrite under way, if any, ends.
pub const FINISH_PRIVACY: &str =
    "INSERT INTO privacy_state (org_id, fingerprint, applied_at, rules, refetch)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (org_id) DO UPDATE SET fingerprint = excluded.fingerprint,
       applied_at = excluded.applied_at, rules = excluded.rules, refetch = excluded.refetch,
       pending = NULL,
       pending_resource = NULL, pending_after_id = NULL";

/// Sets `resource`'s typed columns of row `?2` of org `?1` from `?3...`, only when one
/// of them differs (an unchanged row is not written).
pub fn rederive_row(resource: Resource) -> String {
    let spec = resource.spec();
    let new: Vec<String> = (0..spec.columns.len())
        .map(|i| crate::store::assigned(spec, i, &format!("?{}", i + 3)))
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
        .map(|(c, v)| format!("{} IS NOT {v}", c.name))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE org_id = ?1 AND id = ?2 AND ({})",
        spec.name,
        set.join(", "),
        differs.join(" OR ")
    )
}

/// Every statement above, expanded for every table it runs on, plus each resource's
/// upsert: what `tests/query_plans.rs` plans. The walk's end reads
/// `temp.full_seen_ids`: run [`CREATE_SEEN_IDS`] first for these to prepare.
pub fn planned() -> Vec<String> {
    let mut all = Vec::new();
    for resource in Resource::ALL {
        let spec = table(resource);
        let t = spec.name;
        all.extend([
            count_present(t),
            present_ids(t),
            is_present(t),
            mark_deleted(t),
            mark_unseen(t),
            repair_future_marks(t),
            purge_deleted(t),
            stored_batch(t),
            rewrite_row(&spec),
            rederive_row(resource),
            super::upsert::upsert_sql(&spec),
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
        .map(crate::store::sqlite_sql),
    );
    all.extend(
        [
            ACTIVE_PATIENTS,
            ORG_STATE,
            BEGIN_FULL,
            MARK_POLLED,
            RECORD_SETTLED,
            FINISH_VERIFY,
            LAST_SUCCESS,
            END_FULL,
            ADVANCE_FULL_POSITION,
            ADVANCE_CURSOR,
            INSERT_SEEN,
            FORGET_SEEN,
            LOAD_SEEN,
            INSERT_SEEN_ID,
            BEGIN_RUN,
            FINISH_RUN,
            CLOSE_ABANDONED_RUNS,
            LAST_ACTIVE_PATIENTS,
            PRUNE_RUNS,
            STORED_ORGS,
            ORG_FACTS,
            RECORD_CLOCK_SKEW,
            RECORD_ACCOUNT,
            PRIVACY_STATE,
            SAVE_PRIVACY_PROGRESS,
            FINISH_PRIVACY,
            MARK_SCRUB,
        ]
        .map(str::to_string),
    );
    all
}
