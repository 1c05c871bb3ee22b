//! The SQLite upsert of one resource's rows.

use crate::store::TableSpec;

/// The upsert statement: inserts a new row, or replaces a stored one when the incoming
/// copy is newer, or differs at the same `updated_at`. A row seen again upstream loses its `deleted_upstream_at` mark.
///
/// The parameter after the columns is the record's [`crate::record::Record::filtered`]:
/// when set, a newer copy whose only difference is `updated_at` is not written (a change
/// upstream only in a field the privacy policy drops: nothing about it is stored, and
/// the cursor still moves past it).
pub fn upsert_sql(spec: &TableSpec) -> String {
    let mut cols = vec!["org_id", "id", "created_at", "updated_at", "archived_at"];
    cols.extend_from_slice(spec.columns);
    // `seen_full_run` is not written: new rows get NULL and stored rows keep theirs (it
    // is only read for full walks begun before `full_seen` existed).
    cols.extend_from_slice(&["raw_json", "synced_at"]);
    let placeholders = (1..=cols.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let updates = cols[2..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let t = spec.name;
    format!(
        "INSERT INTO {t} ({cols}) VALUES ({placeholders})
         ON CONFLICT (org_id, id) DO UPDATE SET {updates}, deleted_upstream_at = NULL
         WHERE (excluded.updated_at > {t}.updated_at
                AND (NOT ?{filtered}
                     OR json_remove(excluded.raw_json, '$.updated_at')
                        IS NOT json_remove({t}.raw_json, '$.updated_at')))
            OR (excluded.updated_at = {t}.updated_at AND excluded.raw_json IS NOT {t}.raw_json)
            OR {t}.deleted_upstream_at IS NOT NULL",
        cols = cols.join(", "),
        filtered = cols.len() + 1,
    )
}
