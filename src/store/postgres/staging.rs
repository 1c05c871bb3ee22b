//! A batch of rows sent by binary `COPY` into a temporary staging table of the
//! transaction, then upserted by one `INSERT ... SELECT`: the rows travel as raw values
//! (no JSON document to build on the client and take apart on the server), and the server
//! casts each value to its column's type as it inserts.
//!
//! The staging tables and the upsert statements live for one transaction only (`ON
//! COMMIT DROP`, closed before it ends): through a transaction-mode pooler the next
//! transaction may run on another server connection, which another client may be using
//! in between.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Statement};

use crate::record::Record;
use crate::store::TableSpec;
use crate::timestamp::Timestamp;

/// The open transaction's staging tables and the upserts that read them.
#[derive(Default)]
pub struct Staging {
    /// Staging tables created in the open transaction, which drops them as it ends:
    /// [`Staging::forget`] then makes the next transaction's first batch create them.
    created: RefCell<HashSet<&'static str>>,
    /// The text of each table's upsert (it names the columns' types, read once per
    /// session: the schema does not change while a run lasts).
    upsert_sql: RefCell<HashMap<&'static str, String>>,
    /// The upsert of each table, prepared in the open transaction.
    upserts: RefCell<HashMap<&'static str, Statement>>,
}

impl Staging {
    /// Copies `page` into `spec`'s staging table (emptied first, created when needed).
    pub fn load(
        &self,
        client: &mut impl GenericClient,
        spec: &TableSpec,
        page: &[&Record],
    ) -> Result<(), postgres::Error> {
        let stage = stage_name(spec);
        let columns = columns(spec);
        if self.created.borrow().contains(spec.name) {
            // In place when the transaction emptied it before; no WAL (a temporary table).
            client.batch_execute(&format!("TRUNCATE {stage}"))?;
        } else {
            // A staging table of the server connection's own (one an older routiq-sync
            // kept for its session, met again through a pooler) is dropped first: the
            // transaction's own is dropped at its end.
            client.batch_execute(&create_stage(spec))?;
            self.created.borrow_mut().insert(spec.name);
        }
        let types = vec![Type::TEXT; columns.len()];
        let sink = client.copy_in(&format!("COPY {stage} FROM STDIN (FORMAT binary)"))?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        let ts = |t: Option<Timestamp>| t.map(|t| t.to_string());
        for rec in page {
            let times = [
                ts(rec.created_at),
                ts(Some(rec.updated_at)),
                ts(rec.archived_at),
            ];
            let raw = jsonb_safe(&rec.raw_json);
            let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(types.len());
            values.push(&rec.id);
            values.extend(times.iter().map(|t| t as &(dyn ToSql + Sync)));
            values.extend(rec.columns.iter().map(|c| c as &(dyn ToSql + Sync)));
            values.push(&raw);
            writer.write(&values)?;
        }
        writer.finish()?;
        Ok(())
    }

    /// Forgets the staging tables and closes the upserts of the transaction, before it
    /// ends (its end drops the tables; the statements' `Close` must reach the server
    /// connection that prepared them).
    pub fn forget(&self) {
        self.created.borrow_mut().clear();
        self.upserts.borrow_mut().clear();
    }

    /// The upsert from `spec`'s staging table: inserts new rows, replaces stored ones
    /// when the incoming copy is newer (and, when `$3` says the page was shaped by a
    /// privacy policy, differs in more than `updated_at`) or differs at the same
    /// `updated_at` (the SQLite rule, see its `upsert_sql`), clears `deleted_upstream_at` of rows seen again; returns the ids it wrote.
    /// `$1` is the org, `$2` `synced_at`, `$3` whether the records are filtered.
    ///
    /// Rows it would keep are left out before the insert: `ON CONFLICT DO UPDATE ...
    /// WHERE` locks every conflicting row even when it updates none, and that lock
    /// writes each heap page and its WAL again, so a second full over unchanged data
    /// would rewrite the tables' pages. The test is a scalar subquery on the primary
    /// key's columns only, one probe per row: as `NOT EXISTS` the planner may make it an
    /// anti-join that hashes every stored row of the org for each batch, and with
    /// `deleted_upstream_at IS NULL` in its `WHERE` it may scan a partial index of the
    /// whole org per row. (Each execution is planned for the table's size then: see
    /// `connect::PLAN_EACH_TIME`.)
    pub fn upsert(
        &self,
        client: &mut impl GenericClient,
        spec: &TableSpec,
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.upserts.borrow().get(spec.name) {
            return Ok(statement.clone());
        }
        let known = self.upsert_sql.borrow().get(spec.name).cloned();
        let sql = match known {
            Some(sql) => sql,
            None => {
                let sql = upsert_sql(spec, &column_types(client, spec.name)?);
                self.upsert_sql.borrow_mut().insert(spec.name, sql.clone());
                sql
            }
        };
        let statement = client.prepare(&sql)?;
        self.upserts
            .borrow_mut()
            .insert(spec.name, statement.clone());
        Ok(statement)
    }
}

/// The staging table of `spec` (temporary: the transaction's own, never WAL-logged).
fn stage_name(spec: &TableSpec) -> String {
    format!("routiq_stage_{}", spec.name)
}

/// Creates `spec`'s staging table for the transaction (dropping first one of the
/// server connection's own, see [`Staging::load`]).
pub(super) fn create_stage(spec: &TableSpec) -> String {
    let stage = stage_name(spec);
    let cols: Vec<String> = columns(spec).iter().map(|c| format!("{c} text")).collect();
    format!(
        "DROP TABLE IF EXISTS pg_temp.{stage}; \
         CREATE TEMPORARY TABLE {stage} ({}) ON COMMIT DROP",
        cols.join(", ")
    )
}

/// The columns a batch carries, in the order [`Staging::load`] writes them.
fn columns(spec: &TableSpec) -> Vec<&'static str> {
    let mut cols = vec!["id", "created_at", "updated_at", "archived_at"];
    cols.extend_from_slice(spec.columns);
    cols.push("raw_json");
    cols
}

/// The text of [`Staging::upsert`]; `types` maps the table's columns to their SQL types.
pub(super) fn upsert_sql(spec: &TableSpec, types: &HashMap<String, String>) -> String {
    let cols = columns(spec);
    let cast = |c: &str| match types.get(c).map(String::as_str) {
        None | Some("text") => format!("r.{c}"),
        Some(ty) => format!("r.{c}::{ty}"),
    };
    let selected: Vec<String> = cols.iter().map(|c| cast(c)).collect();
    let mut updates: Vec<String> = cols[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    updates.push("synced_at = excluded.synced_at".into());
    updates.push("deleted_upstream_at = NULL".into());
    let t = spec.name;
    format!(
        "INSERT INTO {t} AS t (org_id, {cols}, synced_at)
         SELECT $1, {selected}, $2
         FROM {stage} AS r
         WHERE (SELECT kept.deleted_upstream_at IS NULL
                       AND (kept.updated_at > {updated}
                            OR (kept.updated_at = {updated} AND kept.raw_json = {raw})
                            OR ($3 AND (kept.raw_json - 'updated_at') = ({raw} - 'updated_at')))
                FROM {t} AS kept WHERE kept.org_id = $1 AND kept.id = r.id) IS NOT TRUE
         ON CONFLICT (org_id, id) DO UPDATE SET {updates}
         WHERE (excluded.updated_at > t.updated_at
                AND (NOT $3
                     OR (excluded.raw_json - 'updated_at') IS DISTINCT FROM (t.raw_json - 'updated_at')))
            OR (excluded.updated_at = t.updated_at AND excluded.raw_json IS DISTINCT FROM t.raw_json)
            OR t.deleted_upstream_at IS NOT NULL
         RETURNING t.id",
        cols = cols.join(", "),
        selected = selected.join(", "),
        updates = updates.join(", "),
        stage = stage_name(spec),
        updated = cast("updated_at"),
        raw = cast("raw_json"),
    )
}

/// `jsonb` cannot hold the NUL character: a `\u0000` escape becomes U+FFFD, so one odd
/// record cannot fail its whole batch.
pub(super) fn jsonb_safe(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains("\\u0000") {
        raw.replace("\\u0000", "\\ufffd").into()
    } else {
        raw.into()
    }
}

/// Each column of `table` with its SQL type (`format_type`), read from the catalog: the
/// staging upsert and the privacy rewrite cast text to these.
pub fn column_types(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<HashMap<String, String>, postgres::Error> {
    Ok(client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
            &[&table],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use crate::store::table;

    #[test]
    fn nul_escapes_become_replacement_characters() {
        assert_eq!(jsonb_safe(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        assert_eq!(jsonb_safe(r#"{"a":1}"#), r#"{"a":1}"#);
    }

    #[test]
    fn the_upsert_casts_each_column_to_its_type() {
        let spec = table(Resource::Appointments);
        let types: HashMap<String, String> = [
            ("updated_at", "timestamp with time zone"),
            ("raw_json", "jsonb"),
            ("patient_id", "text"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let sql = upsert_sql(&spec, &types);
        assert!(
            sql.contains("r.updated_at::timestamp with time zone"),
            "{sql}"
        );
        assert!(sql.contains("r.raw_json::jsonb"), "{sql}");
        assert!(sql.contains(", r.patient_id,"), "{sql}");
        assert!(sql.contains("FROM routiq_stage_appointments AS r"), "{sql}");
    }
}
