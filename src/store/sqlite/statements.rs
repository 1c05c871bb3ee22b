//! The SQL statements the SQLite store alone runs against its data (what both backends
//! run is in [`crate::store::sql`]): the store prepares these texts, and
//! `tests/query_plans.rs` plans the same texts (from [`planned`]), so the test cannot
//! drift from what runs. Placeholders are `?N`.

use std::collections::HashMap;

use crate::resource::Resource;
use crate::store::sql::{self, Dialect};
use crate::store::table;

// ----- one resource table `t` -----

/// Whether one id is present and not marked (`verify`'s missing ids).
pub fn is_present(t: &str) -> String {
    format!(
        "SELECT EXISTS (SELECT 1 FROM {t} WHERE org_id = ?1 AND id = ?2
                        AND deleted_upstream_at IS NULL)"
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

// ----- sync state and full walks -----

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

/// The seen ids of one full walk.
pub const LOAD_SEEN: &str =
    "SELECT ids FROM full_seen WHERE org_id = ?1 AND resource = ?2 AND run_id = ?3";

/// The walk's end compares the records with this temporary table of seen ids.
pub const CREATE_SEEN_IDS: &str = "DROP TABLE IF EXISTS temp.full_seen_ids;
     CREATE TEMP TABLE full_seen_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;";

/// One seen id into the walk's temporary table.
pub const INSERT_SEEN_ID: &str = "INSERT OR IGNORE INTO temp.full_seen_ids (id) VALUES (?1)";

/// One stretch of a business's UTC offset (`local_offsets`).
pub const INSERT_LOCAL_OFFSET: &str = "INSERT INTO local_offsets
     (org_id, business_id, starts_utc, ends_utc, utc_offset_seconds) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Every statement above, expanded for every table it runs on, each resource's upsert,
/// and the shared statements in SQLite's dialect ([`sql::planned`]): what
/// `tests/query_plans.rs` plans. The walk's end reads `temp.full_seen_ids`: run
/// [`CREATE_SEEN_IDS`] first for these to prepare.
pub fn planned() -> Vec<String> {
    let mut all = Vec::new();
    for resource in Resource::ALL {
        let spec = table(resource);
        let t = spec.name;
        all.extend([
            is_present(t),
            mark_unseen(t),
            super::upsert::upsert_sql(&spec),
        ]);
    }
    all.extend(
        [
            ADVANCE_FULL_POSITION,
            ADVANCE_CURSOR,
            LOAD_SEEN,
            INSERT_SEEN_ID,
            INSERT_LOCAL_OFFSET,
        ]
        .map(str::to_string),
    );
    all.extend(sql::planned(Dialect::Sqlite, &HashMap::new()));
    all
}
