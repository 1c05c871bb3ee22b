//! Erasing one org on PostgreSQL: counting and deleting its rows in every table, then
//! rewriting the tables so that the deleted rows' bytes are gone from their files; and
//! that rewrite, once per run, of every table deletes and rewrites marked.

use postgres::GenericClient;

use super::{PgStore, Step};
use crate::store::scrub::{Mark, TAKE_SCRUB_DUE, marked};
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{Erasure, StoreError, org_tables};

impl Erasure for PgStore {
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for name in org_tables() {
            let count = sql::count_org_rows(Postgres, name);
            let step = Step::bulk("counting the org's rows");
            let n: i64 = self.query_one(step, &count, &[&org_id], |r| r.get(0))?;
            out.push((name, n.max(0) as u64));
        }
        Ok(out)
    }

    /// Deletes, then rewrites every table that lost rows (`VACUUM FULL`), so that none of
    /// the org's bytes stay in the tables' files; the roles that could read the org may
    /// no more.
    fn forget_org(&mut self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let out = self.in_tx(org_id, Step::bulk("deleting the org's rows"), |tx| {
            let mut out = Vec::new();
            for name in org_tables() {
                let n = tx.execute(&sql::delete_org_rows(Postgres, name), &[&org_id])?;
                out.push((name, n));
            }
            mark_scrub(tx, org_id, &out)?;
            super::tenants::forget_org_readers(tx, org_id)?;
            Ok(out)
        })?;
        self.scrub_due()?;
        Ok(out)
    }

    fn scrub_due(&mut self) -> Result<(), StoreError> {
        let step = Step::statement("taking the tables due a rewrite");
        let marks: Vec<Mark> = self.write(step, |client| {
            let rows = client.query(TAKE_SCRUB_DUE, &[])?;
            Ok(rows
                .iter()
                .map(|r| Mark {
                    org_id: r.get(0),
                    table: r.get(1),
                    vacuum: r.get::<_, i64>(2) != 0,
                })
                .collect())
        })?;
        let (tables, _) = marked(&marks);
        let done = self.vacuum_full(&tables);
        if done.is_err() {
            // Marked again, for the next run (the error is the one to report).
            self.write(
                Step::statement("marking the tables due a rewrite again"),
                |client| {
                    for m in &marks {
                        mark_scrub(client, &m.org_id, &[(m.table.as_str(), 1)])?;
                    }
                    Ok(())
                },
            )?;
        }
        done
    }

    fn stored_orgs(&self) -> Result<Vec<String>, StoreError> {
        let step = Step::statement("listing the stored orgs");
        self.query(step, sql::STORED_ORGS.get(Postgres), &[], |r| r.get(0))
    }
}

/// Marks the tables of `deleted` in which `org_id` lost rows for the rewrite at the end of
/// the run, in the transaction that deleted them.
pub(super) fn mark_scrub(
    tx: &mut impl GenericClient,
    org_id: &str,
    deleted: &[(&str, u64)],
) -> Result<(), postgres::Error> {
    for (table, _) in deleted.iter().filter(|(_, n)| *n > 0) {
        tx.execute(sql::MARK_SCRUB.get(Postgres), &[&org_id, table, &1_i64])?;
    }
    Ok(())
}
