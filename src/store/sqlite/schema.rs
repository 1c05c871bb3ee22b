//! The SQLite schema and its forward migrations, versioned with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Each entry migrates from version `index` to `index + 1`: one file per version under
/// `migrations/`, never edited once released (a change is a new file).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_dashboard.sql"),
    include_str!("migrations/0003_cheap_status.sql"),
    include_str!("migrations/0004_cheaper_sync.sql"),
    include_str!("migrations/0005_write_path.sql"),
    include_str!("migrations/0006_counted_appointments.sql"),
    include_str!("migrations/0007_org_facts.sql"),
    include_str!("migrations/0008_privacy_state.sql"),
    include_str!("migrations/0009_privacy_refetch.sql"),
    include_str!("migrations/0010_scrub_due.sql"),
    include_str!("migrations/0011_derived_columns.sql"),
    include_str!("migrations/0012_products.sql"),
    include_str!("migrations/0013_billable_items.sql"),
    include_str!("migrations/0014_invoice_items.sql"),
    include_str!("migrations/0015_daily_availabilities.sql"),
    include_str!("migrations/0016_availability_blocks.sql"),
    include_str!("migrations/0017_unavailable_blocks.sql"),
    include_str!("migrations/0018_contacts.sql"),
    include_str!("migrations/0019_patient_cases.sql"),
    include_str!("migrations/0020_referral_sources.sql"),
    include_str!("migrations/0021_clinic_kpis.sql"),
    include_str!("migrations/0022_new_patients.sql"),
    include_str!("migrations/0023_invoice_kpis.sql"),
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`CURRENT_VERSION`], refusing files from a newer build.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > CURRENT_VERSION {
        return Err(newer(path, found));
    }
    if found == CURRENT_VERSION {
        return Ok(());
    }
    // Another process may migrate at the same moment: take the write lock first, then
    // re-read the version inside the transaction.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > CURRENT_VERSION {
        return Err(newer(path, found));
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// Writes a new file at `path` with the schema of `version` (at most
/// [`CURRENT_VERSION`]), as the routiq-sync of that version left it, for upgrade tests.
#[doc(hidden)]
pub fn create_at_version(path: &std::path::Path, version: i64) -> Result<(), rusqlite::Error> {
    let conn = Connection::open(path)?;
    let upto = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
    for sql in &MIGRATIONS[..upto] {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", upto as i64)
}

/// The schema version stored in the file (0 for a new file).
pub fn user_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn newer(path: &str, found: i64) -> StoreError {
    StoreError::NewerSchema {
        path: path.to_string(),
        found,
        supported: CURRENT_VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Records;

    #[test]
    fn a_new_database_has_the_view_and_an_empty_org_has_no_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM patient_activity WHERE org_id = 'o'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn reading_a_file_from_before_the_upgrade_migrates_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        create_at_version(&path, 1).unwrap();
        let store = super::super::SqliteStore::open_read_only(&path)
            .unwrap()
            .unwrap();
        assert_eq!(user_version(store.connection()).unwrap(), CURRENT_VERSION);
        assert_eq!(store.active_patients("org_1", true).unwrap(), Some(0));
    }
}
