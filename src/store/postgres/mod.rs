//! The PostgreSQL backend: the same tables, view and guarantees as SQLite on a server
//! that many hosts share, with per-org locks as advisory locks on the server.
//!
//! One [`PgStore`] is one session. Every page is one transaction; the per-org lock is
//! held on a session of its own for the whole run (see [`lock`]).

mod connect;
mod erasure;
mod lock;
mod records;
mod runs;
mod schema;
mod state;
mod tls;

use std::cell::RefCell;

use postgres::types::ToSql;
use postgres::{Client, Row, Transaction};

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

    /// Runs `work` in one transaction that writes `org_id`'s data. When this store holds
    /// that org's lock, the transaction first checks that the lock session still holds
    /// it: a session a proxy or a restart cut off has lost the lock, and another host may
    /// be syncing the org, so nothing more may be written for it here.
    fn in_tx<T>(
        &self,
        org_id: &str,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let at = |e| connect::error_at(&self.target, e);
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(at)?;
        if let Some(held) = lock::holder(&self.held, org_id)
            && !held.still_held(&mut tx).map_err(at)?
        {
            return Err(StoreError::LockLost {
                org: org_id.to_string(),
                target: self.target.clone(),
            });
        }
        let out = work(&mut tx).map_err(at)?;
        tx.commit().map_err(at)?;
        Ok(out)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        self.client
            .borrow_mut()
            .query(sql, params)
            .map_err(|e| connect::error_at(&self.target, e))
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        self.client
            .borrow_mut()
            .query_one(sql, params)
            .map_err(|e| connect::error_at(&self.target, e))
    }

    fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        self.client
            .borrow_mut()
            .query_opt(sql, params)
            .map_err(|e| connect::error_at(&self.target, e))
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

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.client
            .borrow_mut()
            .execute(sql, params)
            .map_err(|e| connect::error_at(&self.target, e))
    }
}
