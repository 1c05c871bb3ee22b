//! The PostgreSQL backend: the same tables, view and guarantees as SQLite on a server
//! that many hosts share, with per-org locks as lease rows on the server.
//!
//! One [`PgStore`] is one session, used the same way whether it reaches the server
//! directly or through a pooler in session or transaction mode: every statement runs in
//! an explicit transaction that sets what it needs with `SET LOCAL` (see
//! `connect::begin_sql`); no statement, temporary table or lock outlives its
//! transaction. Pages of a walk may share one transaction held open across batches (see
//! `PgStore::in_held`); every other write is a transaction of its own. The per-org
//! lock is a lease row checked and renewed in each transaction that commits the org's
//! data (see the `lease` module).

mod connect;
mod derived;
mod erasure;
mod lease;
mod local_offsets;
mod prepared;
mod privacy;
mod records;
mod renewer;
mod runs;
mod schema;
mod snapshot;
mod staging;
mod state;
pub mod statements;
mod tenants;
mod tls;

use std::cell::RefCell;

use postgres::types::ToSql;
use postgres::{Client, Row};

pub use renewer::{LEASE, RENEW_EVERY};
pub use schema::CURRENT_VERSION;
#[doc(hidden)]
pub use schema::create_at_version;

use super::store_facts::{Pooling, SchemaVersion, ServerInfo};
use super::{Readers, StoreError};
use crate::database_url::PgUrl;
use crate::watchdog::{self, Bound, Watch};

/// How long a rewrite that must leave no deleted bytes waits for older snapshots (see
/// `PgStore::wait_for_older_snapshots`).
const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// What a transaction on the server does: how long the watchdog lets it wait (its
/// [`Bound`]) and how its message names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    bound: Bound,
    doing: &'static str,
}

impl Step {
    /// A transaction over a page or a batch of rows, or a read of a few rows.
    const fn statement(doing: &'static str) -> Step {
        Step {
            bound: Bound::Statement,
            doing,
        }
    }

    /// A statement whose cost grows with an org's whole table.
    const fn bulk(doing: &'static str) -> Step {
        Step {
            bound: Bound::Bulk,
            doing,
        }
    }
}

/// One session with the PostgreSQL database.
pub struct PgStore {
    /// Queries need `&mut Client`; the trait's readers take `&self`. One thread uses a
    /// store at a time (the trait is `Send`, not `Sync`).
    client: RefCell<Client>,
    /// The org whose pages a transaction left open on `client` holds (see
    /// [`PgStore::in_held`]); `None` when no transaction is open between calls.
    held_pages: RefCell<Option<String>>,
    /// Statements prepared in the open transaction and reused by its batches.
    prepared: prepared::Prepared,
    /// Staging tables of the open transaction for binary `COPY`.
    staging: staging::Staging,
    url: PgUrl,
    schema: String,
    /// `host …, port …, database …` for messages.
    target: String,
    /// What begins each kind of transaction (see [`connect::begin_sql`]).
    begins: connect::Begins,
    /// The org leases this store holds now (see [`lease::Held`]).
    held: lease::Held,
    /// The watch over closing the session, set as the store is dropped: the fields drop
    /// in order, so it covers `client` and ends last. A driver's session can block as it
    /// closes on a server that stopped answering.
    closing: Option<Watch>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.closing = Some(self.watch(Step::statement("closing the session"), None));
    }
}

impl Readers for PgStore {
    fn apply_readers(&mut self, org_id: &str, roles: &[String]) -> Result<(), StoreError> {
        self.apply_org_readers(org_id, roles)
    }
}

impl PgStore {
    /// Connects and migrates the schema forward (creating it when missing).
    pub fn open(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        let store = Self::connect(url, schema)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without creating anything: `Ok(None)` when the schema has no tables yet.
    /// Tables from an older routiq-sync are first migrated forward, as the next sync would.
    pub fn open_existing(url: &PgUrl, schema: &str) -> Result<Option<PgStore>, StoreError> {
        let store = Self::connect(url, schema)?;
        let version = {
            let _watch = store.watch(Step::statement("reading the schema version"), None);
            schema::stored_version(&mut store.client.borrow_mut(), schema, &store.target)?
        };
        match version {
            None => Ok(None),
            Some(schema::CURRENT_VERSION) => Ok(Some(store)),
            Some(_) => {
                store.migrate()?;
                Ok(Some(store))
            }
        }
    }

    /// Brings the schema up to date (see [`schema::migrate`]), watched as maintenance: it
    /// waits for another host's migration and may rewrite tables.
    fn migrate(&self) -> Result<(), StoreError> {
        let _watch = self.watch_doing(Bound::Maintenance, None, "migrating the schema");
        schema::migrate(&mut self.client.borrow_mut(), &self.schema, &self.target)
    }

    /// A session that creates and migrates nothing (for read-only probes).
    pub fn session(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        Self::connect(url, schema)
    }

    fn connect(url: &PgUrl, schema: &str) -> Result<PgStore, StoreError> {
        Ok(PgStore {
            client: RefCell::new(connect::connect(url)?),
            held_pages: RefCell::new(None),
            prepared: prepared::Prepared::default(),
            staging: staging::Staging::default(),
            url: url.clone(),
            schema: schema.to_string(),
            target: url.describe(),
            begins: connect::Begins::new(schema),
            held: lease::Held::default(),
            closing: None,
        })
    }

    /// The server, TLS, schema version and create rights of this session, changing
    /// nothing (for `check`, which then asks the same session about each org's lock).
    pub fn server_info(&self) -> Result<ServerInfo, StoreError> {
        let schema = self.schema.clone();
        self.read(Step::statement("reading the server's facts"), |client| {
            let version = client.query_one("SHOW server_version", &[])?.get(0);
            let tls = client
                .query_opt(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )?
                .is_some_and(|r| r.get::<_, bool>(0));
            let schema_version = schema::stored_version_in(client, &schema)?;
            let can_create = client
                .query_one(
                    "SELECT CASE WHEN n.oid IS NULL
                                 THEN has_database_privilege(current_database(), 'CREATE')
                                 ELSE has_schema_privilege(n.oid, 'CREATE') END
                     FROM (SELECT 1) AS one LEFT JOIN pg_namespace AS n ON n.nspname = $1",
                    &[&schema],
                )?
                .get(0);
            Ok((version, tls, schema_version, can_create))
        })
        .and_then(|(version, tls, schema_version, can_create)| {
            Ok(ServerInfo {
                version,
                tls,
                schema: schema_version.map(|found| SchemaVersion {
                    found,
                    current: CURRENT_VERSION,
                }),
                can_create,
                pooling: self.pooling()?,
            })
        })
    }

    /// Whether this session goes through a pooler, from the server connections its
    /// transactions run on and the port the server listens on.
    fn pooling(&self) -> Result<Pooling, StoreError> {
        let step = Step::statement("looking for a pooler");
        let backend =
            || self.query_one(step, "SELECT pg_backend_pid()", &[], |r| r.get::<_, i32>(0));
        let first = backend()?;
        for _ in 0..4 {
            if backend()? != first {
                return Ok(Pooling::Transaction);
            }
        }
        let port: Option<i32> =
            self.query_one(step, "SELECT inet_server_port()", &[], |r| r.get(0))?;
        Ok(match port {
            Some(port) if port != i32::from(self.url.port()) => Pooling::OtherPort(port),
            _ => Pooling::NoneSeen,
        })
    }

    /// Begins a transaction on `client` whose statements `bound` bounds on the server too
    /// (see [`connect::begin_sql`]).
    fn begin(&self, client: &mut Client, bound: Bound) -> Result<(), postgres::Error> {
        client.batch_execute(self.begins.get(bound))
    }

    /// Watches `step` on this session (see [`watchdog::watch`]): its message names the
    /// server, the org (`org`, or else the one org whose lease this store holds) and the
    /// step.
    fn watch(&self, step: Step, org: Option<&str>) -> Watch {
        self.watch_doing(step.bound, org, step.doing)
    }

    /// [`PgStore::watch`] of a step named at run time.
    fn watch_doing(&self, bound: Bound, org: Option<&str>, doing: &str) -> Watch {
        watchdog::watch(bound, || {
            let org = org
                .map(str::to_string)
                .or_else(|| lease::only_org(&self.held))
                .map_or_else(String::new, |org| format!(", org {org}"));
            format!("PostgreSQL at {}{org}: {doing}", self.target)
        })
    }

    /// Ends the transaction open on `client`: its statements are closed first, on the
    /// server connection that prepared them, and its staging tables forgotten (its end
    /// drops them).
    fn end(&self, client: &mut Client, commit: bool) -> Result<(), postgres::Error> {
        self.prepared.clear();
        self.staging.forget();
        client.batch_execute(if commit { "COMMIT" } else { "ROLLBACK" })
    }

    /// Runs `work` in one transaction that writes `org_id`'s data, after committing pages
    /// held open (so this write never joins them, nor is rolled back with them). When this
    /// store holds that org's lease, the transaction renews it just before it commits,
    /// and rolls back instead when the lease is no longer ours: it expired, or another
    /// host took it over, and may be syncing the org.
    fn in_tx<T>(
        &self,
        org_id: &str,
        step: Step,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.commit_held_pages()?;
        let _watch = self.watch(step, Some(org_id));
        let at = |e| connect::error_at(&self.target, e);
        let mut client = self.client.borrow_mut();
        self.begin(&mut client, step.bound).map_err(at)?;
        let worked = work(&mut client)
            .map_err(at)
            .and_then(|out| self.fence(&mut client, org_id).map(|()| out));
        match worked {
            // A failed COMMIT ended the transaction too.
            Ok(out) => self.end(&mut client, true).map(|()| out).map_err(at),
            Err(e) => {
                // A failure here (a lost session) leaves nothing to undo: the server
                // rolls back.
                let _ = self.end(&mut client, false);
                Err(e)
            }
        }
    }

    /// Runs `work` in the transaction held open for `org_id`'s pages, beginning it (and
    /// checking the org's lease) unless it is open already. The transaction stays open
    /// after the call: it commits at [`PgStore::commit_held_pages`], which every other write
    /// calls first. A failure rolls it back whole, so none of its pages, nor their
    /// cursors, are kept; a kill or a lost session drops it the same way.
    ///
    /// The lease is checked when the transaction begins and renewed (under its row's
    /// lock) just before it commits: until the commit nothing it wrote is visible to
    /// another session or durable, so a lease lost in between is caught before any of it
    /// counts.
    fn in_held<T>(
        &self,
        org_id: &str,
        step: Step,
        work: impl FnOnce(&mut Client, &prepared::Prepared) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let begins = !self.holds(org_id);
        if begins {
            self.commit_held_pages()?;
        }
        let _watch = self.watch(step, Some(org_id));
        if begins {
            self.begin(&mut self.client.borrow_mut(), step.bound)
                .map_err(|e| connect::error_at(&self.target, e))?;
            *self.held_pages.borrow_mut() = Some(org_id.to_string());
            let checked = self.check_lease(&mut self.client.borrow_mut(), org_id);
            if let Err(e) = checked {
                self.rollback_held_pages();
                return Err(e);
            }
        }
        let out = work(&mut self.client.borrow_mut(), &self.prepared);
        out.map_err(|e| {
            self.rollback_held_pages();
            connect::error_at(&self.target, e)
        })
    }

    /// Whether a transaction holds `org_id`'s pages open.
    fn holds(&self, org_id: &str) -> bool {
        self.held_pages.borrow().as_deref() == Some(org_id)
    }

    /// Commits the transaction [`PgStore::in_held`] left open, if any, renewing the org's
    /// lease in it first; a lost lease rolls it back instead.
    fn commit_held_pages(&self) -> Result<(), StoreError> {
        let Some(org_id) = self.held_pages.borrow().clone() else {
            return Ok(());
        };
        let _watch = self.watch(Step::statement("committing its pages"), Some(&org_id));
        let fenced = self.fence(&mut self.client.borrow_mut(), &org_id);
        if let Err(e) = fenced {
            self.rollback_held_pages();
            return Err(e);
        }
        self.held_pages.borrow_mut().take();
        // Every failure inside the transaction rolled it back at once (`in_held`, and
        // the reads through `failed`), so COMMIT never meets an aborted transaction
        // (which it would end as a rollback, silently).
        let committed = self.end(&mut self.client.borrow_mut(), true);
        committed.map_err(|e| connect::error_at(&self.target, e))
    }

    /// A failed statement on this session: the transaction held open, if any, is
    /// aborted by it, so it is rolled back now rather than met by a later COMMIT.
    fn failed(&self, e: postgres::Error) -> StoreError {
        self.rollback_held_pages();
        connect::error_at(&self.target, e)
    }

    /// Drops the transaction left open, if any: none of its pages are kept, and none of
    /// their cursors moved, so the next run fetches them again.
    fn rollback_held_pages(&self) {
        let dropped = self.held_pages.borrow_mut().take();
        if let Some(org_id) = dropped {
            let _watch = self.watch(Step::statement("rolling back its pages"), Some(&org_id));
            // A failure here (a lost session) leaves nothing to undo: the server rolls back.
            let _ = self.end(&mut self.client.borrow_mut(), false);
        }
    }

    /// The error for a lease of `org_id` that is no longer ours.
    fn lease_lost(&self, org_id: &str) -> StoreError {
        StoreError::LockLost {
            org: org_id.to_string(),
            target: self.target.clone(),
        }
    }

    /// Fails with [`StoreError::LockLost`] when this store holds `org_id`'s lease and it
    /// is no longer ours; asked at the start of a transaction that holds pages open.
    fn check_lease(&self, client: &mut Client, org_id: &str) -> Result<(), StoreError> {
        self.lease_is_ours(org_id, |token| lease::still_ours(client, org_id, token))
    }

    /// Renews `org_id`'s lease, when this store holds it, inside the transaction about to
    /// commit; [`StoreError::LockLost`] when it is no longer ours (the caller rolls back).
    fn fence(&self, client: &mut Client, org_id: &str) -> Result<(), StoreError> {
        self.lease_is_ours(org_id, |token| lease::fence(client, org_id, token))
    }

    /// `ours(token)` asked of `org_id`'s lease when this store holds it:
    /// [`StoreError::LockLost`] when it answers no.
    fn lease_is_ours(
        &self,
        org_id: &str,
        ours: impl FnOnce(&str) -> Result<bool, postgres::Error>,
    ) -> Result<(), StoreError> {
        if let Some(token) = lease::token(&self.held, org_id)
            && !ours(&token).map_err(|e| connect::error_at(&self.target, e))?
        {
            return Err(self.lease_lost(org_id));
        }
        Ok(())
    }

    /// Runs `work`, which only reads, in the transaction held open if there is one (it
    /// then sees the pages held), or else in a read transaction of its own.
    fn read<T>(
        &self,
        step: Step,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let _watch = self.watch(step, None);
        if self.held_pages.borrow().is_some() {
            // The session's borrow ends before `failed` uses the session again.
            let result = connect::widen_timeout(&mut self.client.borrow_mut(), step.bound)
                .and_then(|()| work(&mut self.client.borrow_mut()));
            return result.map_err(|e| self.failed(e));
        }
        let at = |e| connect::error_at(&self.target, e);
        let mut client = self.client.borrow_mut();
        self.begin(&mut client, step.bound).map_err(at)?;
        let out = work(&mut client);
        let end = self.end(&mut client, out.is_ok());
        let out = out.map_err(at)?;
        end.map_err(at)?;
        Ok(out)
    }

    // The readers turn rows into values inside the read's transaction: a `Row` keeps its
    // statement alive, and a statement closed after its transaction would stay prepared
    // on a pooled server connection (where a later client's would collide with it).

    fn query<T>(
        &self,
        step: Step,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: impl FnMut(&Row) -> T,
    ) -> Result<Vec<T>, StoreError> {
        self.read(step, |client| {
            Ok(client.query(sql, params)?.iter().map(map).collect())
        })
    }

    fn query_one<T>(
        &self,
        step: Step,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: impl FnOnce(&Row) -> T,
    ) -> Result<T, StoreError> {
        self.read(step, |client| Ok(map(&client.query_one(sql, params)?)))
    }

    fn query_opt<T>(
        &self,
        step: Step,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: impl FnOnce(&Row) -> T,
    ) -> Result<Option<T>, StoreError> {
        self.read(step, |client| {
            Ok(client.query_opt(sql, params)?.as_ref().map(map))
        })
    }

    /// One statement that writes `org_id`'s data, fenced by its lease as by
    /// [`PgStore::in_tx`].
    fn execute_for_org(
        &self,
        org_id: &str,
        step: Step,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.in_tx(org_id, step, |tx| tx.execute(sql, params))
    }

    /// Rewrites `tables` with `VACUUM (FULL)`, after committing held pages, so that the
    /// bytes of rows deleted or replaced are gone from their heap and TOAST files (plain
    /// `VACUUM` only marks the space free, leaving the old tuples' bytes in place). Each
    /// table is locked `ACCESS EXCLUSIVE` while it is rewritten (reads wait too) and needs
    /// room for a second copy of itself; see docs/privacy.md.
    fn vacuum_full(&self, tables: &[&str]) -> Result<(), StoreError> {
        self.commit_held_pages()?;
        if tables.is_empty() {
            return Ok(());
        }
        self.wait_for_older_snapshots()?;
        for name in tables {
            log::info!("rewriting table {name} (VACUUM FULL) so deleted rows leave no bytes");
            let doing = format!("rewriting table {name} (VACUUM FULL)");
            let _watch = self.watch_doing(Bound::Maintenance, None, &doing);
            self.client
                .borrow_mut()
                // Named with its schema (see `statements::vacuum_full`).
                .batch_execute(&statements::vacuum_full(
                    &connect::quote_ident(&self.schema),
                    name,
                ))
                .map_err(|e| connect::error_at(&self.target, e))?;
        }
        Ok(())
    }

    /// Waits (up to [`SNAPSHOT_WAIT`]) until every transaction of another session of this
    /// database that was under way now has ended: `VACUUM FULL` copies every row such a
    /// transaction's snapshot could still see, deleted ones included, so a dashboard's long
    /// query, another host's sync or an autovacuum `ANALYZE` of another table would keep
    /// the deleted bytes in the rewritten table. The transactions are found by their
    /// virtual transaction id locks in `pg_locks`, which every role may read (the
    /// snapshots in `pg_stat_activity` are hidden from a role for other roles' sessions).
    /// Past the wait it goes on, and says what it may have kept.
    fn wait_for_older_snapshots(&self) -> Result<(), StoreError> {
        const UNDER_WAY: &str = "SELECT l.virtualxid FROM pg_locks AS l
             JOIN pg_stat_activity AS a ON a.pid = l.pid
             WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
               AND a.datname = current_database()";
        let step = Step::statement("looking for older transactions before a rewrite");
        let before: Vec<String> = self.query(step, UNDER_WAY, &[], |r| r.get(0))?;
        let until = std::time::Instant::now() + SNAPSHOT_WAIT;
        loop {
            let now: Vec<String> = self.query(step, UNDER_WAY, &[], |r| r.get(0))?;
            let older = before.iter().filter(|v| now.contains(v)).count();
            if older == 0 {
                return Ok(());
            }
            if std::time::Instant::now() >= until {
                log::warn!(
                    "{older} transaction(s) of this database begun before the delete were \
                     still under way after {} s; VACUUM FULL goes on, and the bytes of rows \
                     they can see stay until the next rewrite",
                    SNAPSHOT_WAIT.as_secs()
                );
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// A write of no org's data (run history), after committing held pages, in a
    /// transaction of its own.
    fn execute(
        &self,
        step: Step,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.write(step, |client| client.execute(sql, params))
    }

    /// `work` in a transaction of its own that writes no org's data (run history), after
    /// committing held pages.
    fn write<T>(
        &self,
        step: Step,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.commit_held_pages()?;
        let _watch = self.watch(step, None);
        let at = |e| connect::error_at(&self.target, e);
        let mut client = self.client.borrow_mut();
        self.begin(&mut client, step.bound).map_err(at)?;
        match work(&mut client) {
            Ok(out) => self.end(&mut client, true).map(|()| out).map_err(at),
            Err(e) => {
                let _ = self.end(&mut client, false);
                Err(at(e))
            }
        }
    }
}
