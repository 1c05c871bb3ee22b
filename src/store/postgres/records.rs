//! Writing pages of records: one multi-row upsert per batch of pages (the rows travel by
//! binary `COPY`, see [`super::staging`]), each route's cursor in the same transaction, full-walk reconciliation against
//! the ids the walk saw, and what `verify` reads and repairs.

use std::collections::HashMap;

use postgres::GenericClient;
use postgres::types::ToSql;

use super::prepared::Prepared;
use super::staging::Staging;
use super::statements;
use super::{PgStore, Step};
use crate::record::Record;
use crate::resource::Resource;
use crate::store::sql::{self, Dialect::Postgres};
use crate::store::{Commit, PageWrite, Records, StoreError, table};
use crate::timestamp::Timestamp;

impl Records for PgStore {
    fn write_route_pages(
        &mut self,
        org_id: &str,
        resource: Resource,
        pages: &[(&str, &[Record])],
        full_run: Option<i64>,
        synced_at: Timestamp,
        commit: Commit,
    ) -> Result<PageWrite, StoreError> {
        let staging = &self.staging;
        let step = Step::statement("writing a batch of pages");
        let written = self.in_held(org_id, step, |client, prepared| {
            let records = pages.iter().flat_map(|(_, records)| records.iter());
            let st = Statements {
                client,
                prepared,
                staging,
            };
            let result = upsert_rows(st, org_id, resource, records, full_run, synced_at)?;
            // One cursor move per route for the whole batch: the pages are in walk order
            // and the cursor only moves forward, so the newest row of each route is enough.
            let mut newest: Vec<(&str, Timestamp)> = Vec::new();
            for (key, records) in pages {
                let Some(to) = records.iter().map(|r| r.updated_at).max() else {
                    continue;
                };
                match newest.iter_mut().find(|(k, _)| k == key) {
                    Some((_, at)) => *at = (*at).max(to),
                    None => newest.push((key, to)),
                }
            }
            for (key, to) in newest {
                let st = Statements {
                    client,
                    prepared,
                    staging,
                };
                advance_route(st, org_id, key, to, full_run.is_some())?;
            }
            Ok(result)
        })?;
        if commit == Commit::Now {
            self.commit_held_pages()?;
        }
        Ok(written)
    }

    fn commit_held(&mut self) -> Result<(), StoreError> {
        self.commit_held_pages()
    }

    fn write_rows(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError> {
        let (prepared, staging) = (&self.prepared, &self.staging);
        self.in_tx(org_id, Step::statement("writing a batch of rows"), |tx| {
            let st = Statements {
                client: tx,
                prepared,
                staging,
            };
            upsert_rows(st, org_id, resource, records, full_run, synced_at)
        })
    }

    fn finish_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let step = Step::bulk("marking the rows a full walk did not see as deleted");
        self.in_tx(org_id, step, |tx| {
            let marked = tx.execute(
                &statements::mark_unseen(table(resource).name),
                &[&org_id, &run_id, &now.datetime(), &resource.name()],
            )?;
            tx.execute(sql::FORGET_SEEN.get(Postgres), &[&org_id, &resource.name()])?;
            let keys: Vec<&str> = resource.cursor_keys().to_vec();
            tx.execute(
                sql::END_FULL.get(Postgres),
                &[&org_id, &keys, &started_at.datetime()],
            )?;
            Ok(marked)
        })
    }

    fn mark_deleted(
        &mut self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.in_tx(org_id, Step::bulk("marking rows deleted upstream"), |tx| {
            tx.execute(
                &sql::mark_deleted(Postgres, table(resource).name),
                &[&org_id, &ids, &now.datetime()],
            )
        })
    }

    fn present_ids(&self, org_id: &str, resource: Resource) -> Result<Vec<String>, StoreError> {
        let ids = sql::present_ids(Postgres, table(resource).name);
        self.query(
            Step::bulk("listing every stored id"),
            &ids,
            &[&org_id],
            |r| r.get(0),
        )
    }

    fn missing_ids(
        &self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let sql = statements::missing_ids(table(resource).name);
        let step = Step::bulk("looking for ids Cliniko no longer lists");
        self.query(step, &sql, &[&org_id, &ids], |r| r.get(0))
    }

    fn count_present(&self, org_id: &str, resource: Resource) -> Result<u64, StoreError> {
        let count = sql::count_present(Postgres, table(resource).name);
        let step = Step::bulk("counting the stored rows");
        let n: i64 = self.query_one(step, &count, &[&org_id], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn repair_future_marks(
        &mut self,
        org_id: &str,
        later_than: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let step = Step::bulk("re-dating deletion marks that lie in the future");
        self.in_tx(org_id, step, |tx| {
            let mut n = 0;
            for resource in Resource::ALL {
                n += tx.execute(
                    &sql::repair_future_marks(Postgres, table(resource).name),
                    &[&org_id, &now.datetime(), &later_than.datetime()],
                )?;
            }
            Ok(n)
        })
    }

    fn purge_deleted(
        &mut self,
        org_id: &str,
        before: Timestamp,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let out = self.in_tx(org_id, Step::bulk("purging rows deleted upstream"), |tx| {
            let mut out = Vec::new();
            for resource in Resource::ALL {
                let name = table(resource).name;
                let n = tx.execute(
                    &sql::purge_deleted(Postgres, name),
                    &[&org_id, &before.datetime()],
                )?;
                out.push((name, n));
            }
            // The purged rows' bytes go from the files too, at the end of the run.
            super::erasure::mark_scrub(tx, org_id, &out)?;
            Ok(out)
        })?;
        Ok(out)
    }

    /// The view's `now()` is the server's clock: the host's does not matter.
    fn active_patients(&self, org_id: &str, _: bool) -> Result<Option<u64>, StoreError> {
        let step = Step::bulk("counting active patients");
        let n: i64 = self.query_one(step, sql::ACTIVE_PATIENTS.get(Postgres), &[&org_id], |r| {
            r.get(0)
        })?;
        Ok(Some(n.max(0) as u64))
    }
}

/// A session (or transaction on it) and its prepared statements.
struct Statements<'a, C> {
    client: &'a mut C,
    prepared: &'a Prepared,
    staging: &'a Staging,
}

impl<C: GenericClient> Statements<'_, C> {
    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.prepared.get(self.client, sql)?;
        self.client.execute(&statement, params)
    }
}

/// Upserts `records` (one statement for the batch) and, in a full walk, records their ids
/// as seen by it, in the caller's transaction.
fn upsert_rows<'r>(
    mut st: Statements<'_, impl GenericClient>,
    org_id: &str,
    resource: Resource,
    records: impl IntoIterator<Item = &'r Record>,
    full_run: Option<i64>,
    synced_at: Timestamp,
) -> Result<PageWrite, postgres::Error> {
    let spec = table(resource);
    let page = latest_copies(records);
    let mut result = PageWrite::default();
    if page.is_empty() {
        return Ok(result);
    }
    st.staging.load(st.client, &spec, &page)?;
    // A page comes from one org's resource, under one policy.
    let filtered = page.iter().any(|r| r.filtered);
    let upsert = st.staging.upsert(st.client, &spec)?;
    let written = st
        .client
        .query(&upsert, &[&org_id, &synced_at.datetime(), &filtered])?;
    let hidden: HashMap<&str, bool> = page.iter().map(|r| (r.id.as_str(), r.hidden)).collect();
    for row in &written {
        let id: &str = row.get(0);
        result.written += 1;
        result.archived += u64::from(hidden.get(id).copied().unwrap_or(false));
    }
    if let Some(run) = full_run {
        // One narrow row per batch instead of rewriting every unchanged row as seen.
        let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
        st.execute(
            sql::INSERT_SEEN.get(Postgres),
            &[&org_id, &resource.name(), &run, &ids],
        )?;
    }
    Ok(result)
}

/// Moves the route's cursor (and, in a full walk, its position) forward to `to`, never
/// back, in the batch's transaction.
fn advance_route(
    mut st: Statements<'_, impl GenericClient>,
    org_id: &str,
    cursor_key: &str,
    to: Timestamp,
    full: bool,
) -> Result<u64, postgres::Error> {
    st.execute(
        statements::ADVANCE_ROUTE,
        &[&org_id, &cursor_key, &to.datetime(), &full],
    )
}

/// The page with each id once: a later copy wins unless it is older (as the row-by-row
/// upsert on SQLite would end), since one statement cannot change a row twice.
fn latest_copies<'r>(records: impl IntoIterator<Item = &'r Record>) -> Vec<&'r Record> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<&Record> = Vec::new();
    for rec in records {
        match at.get(rec.id.as_str()) {
            Some(&i) if out[i].updated_at <= rec.updated_at => out[i] = rec,
            Some(_) => {}
            None => {
                at.insert(rec.id.as_str(), out.len());
                out.push(rec);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, ts: i64, raw: &str) -> Record {
        Record::stub(id, ts, table(Resource::Patients).columns.len()).with_raw_json(raw)
    }

    #[test]
    fn a_page_keeps_one_copy_of_each_id() {
        let page = [
            rec("1", 10, "{}"),
            rec("2", 10, "{}"),
            rec("1", 20, "[1]"),
            rec("2", 5, "[2]"),
        ];
        let kept = latest_copies(&page);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].raw_json, "[1]");
        assert_eq!(kept[1].raw_json, "{}");
    }
}
