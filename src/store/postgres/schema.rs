//! The PostgreSQL schema and its forward migrations, versioned in `schema_migrations` and
//! applied in one transaction under an advisory lock (several hosts may upgrade at once).
//!
//! The tables, columns, indexes and `patient_activity` view are those of the SQLite
//! schema, in native types: ids `text`, timestamps `timestamptz`, `raw_json` `jsonb`,
//! counts and flags `bigint`; dates and money stay `text` as Cliniko sends them. Every
//! primary key starts with `org_id`, so the tables can be distributed by org (Citus).

use postgres::{Client, GenericClient};

use super::connect::{begin_sql, error_at, quote_ident};
use super::lease::namespaced_key;
use crate::store::StoreError;
use crate::watchdog::Bound;

/// Each entry migrates from version `index` to `index + 1`: one file per version under
/// `migrations/`, never edited once released (a change is a new file).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_write_path.sql"),
    include_str!("migrations/0003_counted_appointments.sql"),
    include_str!("migrations/0004_org_facts.sql"),
    include_str!("migrations/0005_org_leases.sql"),
    include_str!("migrations/0006_privacy_state.sql"),
    include_str!("migrations/0007_privacy_refetch.sql"),
    include_str!("migrations/0008_scrub_due.sql"),
    include_str!("migrations/0009_derived_columns.sql"),
    include_str!("migrations/0010_products.sql"),
    include_str!("migrations/0011_billable_items.sql"),
    include_str!("migrations/0012_invoice_items.sql"),
    include_str!("migrations/0013_daily_availabilities.sql"),
    include_str!("migrations/0014_availability_blocks.sql"),
    include_str!("migrations/0015_unavailable_blocks.sql"),
    include_str!("migrations/0016_contacts.sql"),
    include_str!("migrations/0017_patient_cases.sql"),
    include_str!("migrations/0018_referral_sources.sql"),
    include_str!("migrations/0019_tenant_roles.sql"),
    include_str!("migrations/0020_clinic_kpis.sql"),
    include_str!("migrations/0021_new_patients.sql"),
    include_str!("migrations/0022_invoice_kpis.sql"),
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Creates the tables of `version` (at most [`CURRENT_VERSION`]) in the session's current
/// schema, as the routiq-sync of that version left them, for upgrade tests.
#[doc(hidden)]
pub fn create_at_version(client: &mut Client, version: i64) -> Result<(), postgres::Error> {
    let upto = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
    let mut tx = client.transaction()?;
    tx.batch_execute(
        "CREATE TABLE schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    for (from, sql) in MIGRATIONS[..upto].iter().enumerate() {
        tx.batch_execute(sql)?;
        let version = i32::try_from(from + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )?;
    }
    tx.commit()
}

/// The version stored in `schema`, or `None` when it has no routiq-sync tables yet, in
/// a transaction of its own (no transaction may be open on `client`).
pub fn stored_version(
    client: &mut Client,
    schema: &str,
    target: &str,
) -> Result<Option<i64>, StoreError> {
    let at = |e| error_at(target, e);
    client
        .batch_execute(&begin_sql(schema, Bound::Statement))
        .map_err(at)?;
    let found = stored_version_in(client, schema);
    let end = if found.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = client.batch_execute(end);
    let found = found.map_err(at)?;
    ended.map_err(at)?;
    Ok(found)
}

/// [`stored_version`] inside the caller's transaction.
pub fn stored_version_in(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Option<i64>, postgres::Error> {
    let table = format!("{}.schema_migrations", quote_ident(schema));
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let version: Option<i32> = client
        .query_one(&format!("SELECT max(version) FROM {table}"), &[])?
        .get(0);
    Ok(Some(i64::from(version.unwrap_or(0))))
}

/// Brings `schema` up to [`CURRENT_VERSION`], creating it if missing; refuses (touching
/// nothing) a schema written by a newer build.
pub fn migrate(client: &mut Client, schema: &str, target: &str) -> Result<(), StoreError> {
    let newer = |found| StoreError::NewerSchema {
        path: format!("{target}, schema {schema}"),
        found,
        supported: CURRENT_VERSION,
    };
    match stored_version(client, schema, target)? {
        Some(v) if v > CURRENT_VERSION => return Err(newer(v)),
        Some(v) if v == CURRENT_VERSION => return Ok(()),
        _ => {}
    }
    let at = |e| error_at(target, e);
    client
        .batch_execute(&begin_sql(schema, Bound::Maintenance))
        .map_err(at)?;
    let migrated = migrate_in(client, schema, target);
    let end = if migrated.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = client.batch_execute(end);
    migrated?;
    ended.map_err(at)
}

/// The body of [`migrate`], in its transaction.
fn migrate_in(tx: &mut Client, schema: &str, target: &str) -> Result<(), StoreError> {
    let newer = |found| StoreError::NewerSchema {
        path: format!("{target}, schema {schema}"),
        found,
        supported: CURRENT_VERSION,
    };
    let at = |e| error_at(target, e);
    // One migrator per database and schema at a time; the others wait here, then find
    // the work done.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&namespaced_key("migrate", schema, "")],
    )
    .map_err(at)?;
    let schema_exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .map_err(at)?
        .get(0);
    if !schema_exists {
        tx.batch_execute(&format!("CREATE SCHEMA {}", quote_ident(schema)))
            .map_err(at)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(at)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .map_err(at)?
        .get(0);
    let found = i64::from(found.unwrap_or(0));
    if found > CURRENT_VERSION {
        return Err(newer(found));
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(at)?;
        let version = i32::try_from(from + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(at)?;
    }
    Ok(())
}
