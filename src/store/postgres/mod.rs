//! The PostgreSQL backend: the same tables, view and guarantees as SQLite on a server
//! that many hosts share, with per-org locks as advisory locks on the server.
//!
//! One [`PgStore`] is one session. Pages of a walk may share one transaction held open
//! across batches (see [`PgStore::in_held`]); every other write is a transaction of its
//! own. The per-org lock is held on a session of its own for the whole run (see [`lock`]).

mod connect;
mod erasure;
mod lock;
mod prepared;
mod privacy;
mod records;
mod runs;
mod schema;
mod staging;
mod state;
mod tls;

use std::cell::RefCell;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Transaction};

pub use schema::CURRENT_VERSION;

use super::StoreError;
use crate::database_url::PgUrl;

/// What `check` reports about a PostgreSQL store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.8 (Debian 15.8-1)`.
    pub version: String,
    /// Whether this session is encrypted.
    pub tls: bool,
    /// The schema version of the tables, `None` when not created yet.
    pub schema_version: Option<i64>,
    /// Whether the role may create the schema or tables in it.
    pub can_create: bool,
}

/// One session with the PostgreSQL database.
pub struct PgStore {
    /// Queries need `&mut Client`; the trait's readers take `&self`. One thread uses a
    /// store at a time (the trait is `Send`, not `Sync`).
    client: RefCell<Client>,
    /// The org whose pages a transaction left open on `client` holds (see
    /// [`PgStore::in_held`]); `None` when no transaction is open between calls.
    open: RefCell<Option<String>>,
    /// Statements of this session prepared once and reused.
    prepared: prepared::Prepared,
    /// Staging tables of this session for binary `COPY`.
    staging: staging::Staging,
    url: PgUrl,
    schema: String,
    /// `host …, port …, database …` for messages.
    target: String,
    /// A lock session ready for the next org (see [`lock::Spare`]).
    spare: lock::Spare,
    /// The org locks this store holds now (see [`lock::Held`]).
    held: lock::Held,
}

impl PgStore {
    /// Connects and migrates the schema forward (creating it when missing).
    pub fn open(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        let store = Self::connect(url, schema)?;
        schema::migrate(&mut store.client.borrow_mut(), schema, &store.target)?;
        Ok(store)
    }

    /// Connects without creating anything: `Ok(None)` when the schema has no tables yet.
    /// Tables from an older routiq-sync are first migrated forward, as the next sync would.
    pub fn open_existing(url: &PgUrl, schema: &str) -> Result<Option<PgStore>, StoreError> {
        let store = Self::connect(url, schema)?;
        let version =
            schema::stored_version(&mut store.client.borrow_mut(), schema, &store.target)?;
        match version {
            None => Ok(None),
            Some(schema::CURRENT_VERSION) => Ok(Some(store)),
            Some(_) => {
                schema::migrate(&mut store.client.borrow_mut(), schema, &store.target)?;
                Ok(Some(store))
            }
        }
    }

    /// A session that creates and migrates nothing (for read-only probes).
    pub fn session(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        Self::connect(url, schema)
    }

    fn connect(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        Ok(PgStore {
            client: RefCell::new(connect::connect(url, schema)?),
            open: RefCell::new(None),
            prepared: prepared::Prepared::default(),
            staging: staging::Staging::default(),
            url: url.clone(),
            schema: schema.to_string(),
            target: url.describe(),
            spare: lock::Spare::default(),
            held: lock::Held::default(),
        })
    }

    /// The server, TLS, schema version and create rights of this session, changing
    /// nothing (for `check`, which then asks the same session about each org's lock).
    pub fn server_info(&self) -> Result<ServerInfo, StoreError> {
        let version = self.query_one("SHOW server_version", &[])?.get(0);
        let tls = self
            .query_opt(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .is_some_and(|r| r.get::<_, bool>(0));
        let schema_version =
            schema::stored_version(&mut self.client.borrow_mut(), &self.schema, &self.target)?;
        let can_create = self
            .query_one(
                "SELECT CASE WHEN n.oid IS NULL
                             THEN has_database_privilege(current_database(), 'CREATE')
                             ELSE has_schema_privilege(n.oid, 'CREATE') END
                 FROM (SELECT 1) AS one LEFT JOIN pg_namespace AS n ON n.nspname = $1",
                &[&self.schema],
            )?
            .get(0);
        Ok(ServerInfo {
            version,
            tls,
            schema_version,
            can_create,
        })
    }

    /// Runs `work` in one transaction that writes `org_id`'s data, after committing pages
    /// held open (so this write never joins them, nor is rolled back with them). When this
    /// store holds that org's lock, the transaction first checks that the lock session
    /// still holds it: a session a proxy or a restart cut off has lost the lock, and
    /// another host may be syncing the org, so nothing more may be written for it here.
    fn in_tx<T>(
        &self,
        org_id: &str,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.commit_open()?;
        let at = |e| connect::error_at(&self.target, e);
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(at)?;
        self.check_lock(&mut tx, org_id)?;
        let out = work(&mut tx).and_then(|out| tx.commit().map(|()| out));
        out.map_err(|e| {
            // The rollback may have dropped staging tables the transaction created.
            self.staging.forget();
            at(e)
        })
    }

    /// Runs `work` in the transaction held open for `org_id`'s pages, beginning it (and
    /// checking the org's lock, as [`PgStore::in_tx`] does) unless it is open already.
    /// The transaction stays open after the call: it commits at [`PgStore::commit_open`],
    /// which every other write calls first. A failure rolls it back whole, so none of its
    /// pages, nor their cursors, are kept; a kill or a lost session drops it the same way.
    ///
    /// The lock is checked when the transaction begins and again just before it commits
    /// (not before each batch): until the commit nothing it wrote is visible to another
    /// session or durable, so a lock lost in between is caught before any of it counts,
    /// with the same short window between check and commit as a transaction of its own.
    fn in_held<T>(
        &self,
        org_id: &str,
        work: impl FnOnce(&mut Client, &prepared::Prepared) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        if !self.holds(org_id) {
            self.commit_open()?;
            self.client
                .borrow_mut()
                .batch_execute("BEGIN")
                .map_err(|e| connect::error_at(&self.target, e))?;
            *self.open.borrow_mut() = Some(org_id.to_string());
            let checked = self.check_lock(&mut *self.client.borrow_mut(), org_id);
            if let Err(e) = checked {
                self.rollback_open();
                return Err(e);
            }
        }
        let out = work(&mut self.client.borrow_mut(), &self.prepared);
        out.map_err(|e| {
            self.rollback_open();
            connect::error_at(&self.target, e)
        })
    }

    /// Whether a transaction holds `org_id`'s pages open.
    fn holds(&self, org_id: &str) -> bool {
        self.open.borrow().as_deref() == Some(org_id)
    }

    /// Commits the transaction [`PgStore::in_held`] left open, if any, after checking the
    /// org's lock once more; a lost lock rolls it back instead.
    fn commit_open(&self) -> Result<(), StoreError> {
        let Some(org_id) = self.open.borrow().clone() else {
            return Ok(());
        };
        let checked = self.check_lock(&mut *self.client.borrow_mut(), &org_id);
        if let Err(e) = checked {
            self.rollback_open();
            return Err(e);
        }
        self.open.borrow_mut().take();
        // Every failure inside the transaction rolled it back at once (`in_held`, and
        // the reads through `failed`), so COMMIT never meets an aborted transaction
        // (which it would end as a rollback, silently).
        self.client
            .borrow_mut()
            .batch_execute("COMMIT")
            .map_err(|e| {
                // A failed COMMIT rolled back: with the staging tables it created.
                self.staging.forget();
                connect::error_at(&self.target, e)
            })
    }

    /// A failed statement on this session: the transaction held open, if any, is
    /// aborted by it, so it is rolled back now rather than met by a later COMMIT.
    fn failed(&self, e: postgres::Error) -> StoreError {
        self.rollback_open();
        connect::error_at(&self.target, e)
    }

    /// Drops the transaction left open, if any: none of its pages are kept, and none of
    /// their cursors moved, so the next run fetches them again.
    fn rollback_open(&self) {
        if self.open.borrow_mut().take().is_some() {
            // It may drop staging tables the transaction created.
            self.staging.forget();
            // A failure here (a lost session) leaves nothing to undo: the server rolls back.
            let _ = self.client.borrow_mut().batch_execute("ROLLBACK");
        }
    }

    /// Fails with [`StoreError::LockLost`] when this store holds `org_id`'s lock and its
    /// session no longer does; asked inside the write's transaction.
    fn check_lock(&self, client: &mut impl GenericClient, org_id: &str) -> Result<(), StoreError> {
        if let Some(held) = lock::holder(&self.held, org_id)
            && !held
                .still_held(client)
                .map_err(|e| connect::error_at(&self.target, e))?
        {
            return Err(StoreError::LockLost {
                org: org_id.to_string(),
                target: self.target.clone(),
            });
        }
        Ok(())
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        // The session's borrow ends before `failed` uses the session again.
        let result = self.client.borrow_mut().query(sql, params);
        result.map_err(|e| self.failed(e))
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        // The session's borrow ends before `failed` uses the session again.
        let result = self.client.borrow_mut().query_one(sql, params);
        result.map_err(|e| self.failed(e))
    }

    fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        // The session's borrow ends before `failed` uses the session again.
        let result = self.client.borrow_mut().query_opt(sql, params);
        result.map_err(|e| self.failed(e))
    }

    /// One statement that writes `org_id`'s data, checked against a lost lock as by
    /// [`PgStore::in_tx`].
    fn execute_for_org(
        &self,
        org_id: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.in_tx(org_id, |tx| tx.execute(sql, params))
    }

    /// Rewrites `tables` with `VACUUM (FULL)`, after committing held pages, so that the
    /// bytes of rows deleted or replaced are gone from their heap and TOAST files (plain
    /// `VACUUM` only marks the space free, leaving the old tuples' bytes in place). Each
    /// table is locked `ACCESS EXCLUSIVE` while it is rewritten (reads wait too) and needs
    /// room for a second copy of itself; see docs/privacy.md.
    fn vacuum_full(&self, tables: &[&str]) -> Result<(), StoreError> {
        self.commit_open()?;
        for name in tables {
            log::info!("rewriting table {name} (VACUUM FULL) so deleted rows leave no bytes");
            self.client
                .borrow_mut()
                .batch_execute(&format!("VACUUM (FULL) {name}"))
                .map_err(|e| connect::error_at(&self.target, e))?;
        }
        Ok(())
    }

    /// A write of no org's data (run history), after committing held pages.
    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.commit_open()?;
        self.client
            .borrow_mut()
            .execute(sql, params)
            .map_err(|e| connect::error_at(&self.target, e))
    }
}
