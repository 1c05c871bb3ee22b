//! The store: records, per-org sync state, run history and the per-org lock, behind one
//! backend-neutral [`Store`] trait. The engine and the commands only see the trait; the
//! backend is picked from the [`StoreLocation`]: SQLite ([`sqlite`]) or PostgreSQL
//! ([`postgres`]).

mod derived;
mod failure;
pub mod local_offsets;
mod model;
pub mod postgres;
mod privacy_state;
pub mod probe;
mod scrub;
pub mod snapshot;
pub mod sql;
pub mod sqlite;
mod store_facts;
mod tables;

use std::fmt;
use std::path::PathBuf;

pub use derived::{DeriveProgress, DerivedColumns, DerivedRow, DerivedState};
pub(crate) use derived::{add_state, assigned};
pub use failure::{DbFailure, FailureKind};
pub use local_offsets::LocalOffsets;
pub use model::{
    ABANDONED_RUN, AccountFacts, DEADLINE_TEXT, FullWalkState, OrgFacts, OrgState, PageWrite,
    ResourceCounts, ResourceState, RunOutcome, RunRecord, RunStatus, SettledSecond,
};
pub(crate) use model::{StateColumns, by_deadline, stopped_by};
pub use privacy_state::{AppliedPolicy, PrivacyProgress, PrivacyState, PrivacyStore, Refetch};
pub use snapshot::{OrgSnapshot, Snapshots};
pub(crate) use tables::known_tables;
pub use tables::{COMMON_COLUMNS, SQLITE_LEGACY_COLUMNS, TableSpec, org_tables, table};

use crate::database_url::PgUrl;
use crate::file_lock::LockError;
use crate::record::Record;
use crate::resource::Resource;
use crate::timestamp::Timestamp;

/// Where the data lives, and what the backend needs to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// One SQLite file; per-org locks are files under `lock_dir`.
    Sqlite { path: PathBuf, lock_dir: PathBuf },
    /// A PostgreSQL database; the tables live in `schema`, per-org locks are lease rows
    /// on the server.
    Postgres { url: PgUrl, schema: String },
}

impl fmt::Display for StoreLocation {
    /// How the location is shown to people (never with a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite { path, .. } => write!(f, "{}", path.display()),
            StoreLocation::Postgres { url, .. } => write!(f, "{url}"),
        }
    }
}

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the database file {path} (mode 0600): {source}")]
    CreateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened; the failure's kind tells whether the set-up is
    /// at fault.
    #[error("cannot open the database {path}: {cause}")]
    Open {
        path: String,
        #[source]
        cause: DbFailure,
    },
    #[error(
        "{path} is not a routiq-sync database (not SQLite, or damaged): {detail}; point `database` in the config at another file"
    )]
    NotADatabase { path: String, detail: String },
    #[error(
        "the database {path} has schema version {found}, newer than this routiq-sync supports ({supported}); upgrade routiq-sync"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "the database {path} has schema version {found}, older than this routiq-sync's ({supported}), and cannot be upgraded from here; run `routiq-sync sync` as a user who can write it"
    )]
    OlderSchema {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "the database {path} stayed busy for {} s: another process held it (a sync or an upgrade still running?); try again when it has finished",
        waited.as_secs()
    )]
    Busy {
        path: String,
        waited: std::time::Duration,
    },
    /// The disk (or the quota) holding the database is full.
    #[error(
        "the disk holding the database {path} is full: free space there (a sync grows the file, and its -wal beside it), or point `database` at a disk with room; nothing after the last committed page was lost"
    )]
    DiskFull { path: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The database file failed while running (whatever the kind: it did open, so this
    /// is no set-up problem).
    #[error("database error: {0}")]
    Failed(#[from] DbFailure),
    /// The database server could not be reached or refused us (a run-time failure: the
    /// server may be back for the next run); `hint` says what to check.
    /// An org's `dashboard_roles` cannot be given their reading (a role the server lacks,
    /// a server too old, tables the syncing role does not own); `detail` says what to do.
    #[error("org {org}: cannot bind its dashboard roles at PostgreSQL {target}: {detail}")]
    Readers {
        org: String,
        target: String,
        detail: String,
    },
    #[error("cannot connect to PostgreSQL at {target}: {cause}{hint}")]
    Connect {
        target: String,
        #[source]
        cause: DbFailure,
        hint: String,
    },
    /// The TLS settings of the URL cannot be used (e.g. an unreadable `sslrootcert`).
    #[error(
        "cannot set up TLS for PostgreSQL at {target}: {detail}; fix sslmode/sslrootcert in the database URL"
    )]
    Tls { target: String, detail: String },
    /// The server answered, but the database or schema the URL names cannot hold the
    /// tables: it does not exist, or the role may not create tables there; `hint` says
    /// what to do.
    #[error("PostgreSQL at {target} cannot be used as configured: {cause}{hint}")]
    Unusable {
        target: String,
        #[source]
        cause: DbFailure,
        hint: String,
    },
    /// The database server failed while running (whatever the kind: the session was
    /// open, so this is no set-up problem).
    #[error(
        "PostgreSQL error at {target}: {cause}; the cursor stays at the last committed page and the next run retries"
    )]
    Server {
        target: String,
        #[source]
        cause: DbFailure,
    },
    /// The org's lease on the server expired or was taken over during the run (its
    /// renewals failed: a network cut, a server restart): another host may have the org.
    #[error(
        "lost the lock on org {org} at {target} (its lease expired or another run took it over); nothing was written after the last committed page, and the next run continues"
    )]
    LockLost { org: String, target: String },
}

impl StoreError {
    /// Whether this is a problem with the database the operator pointed us at (exit code
    /// 2): a path that cannot hold a database (a folder, no permission), a file that is not
    /// SQLite, from a newer routiq-sync, or one this user cannot upgrade. A busy file, an
    /// I/O error or a failure while running is not (exit 1): the next run may succeed.
    pub fn is_setup_error(&self) -> bool {
        use std::io::ErrorKind as Io;
        match self {
            StoreError::CreateDir { source, .. } | StoreError::CreateFile { source, .. } => {
                matches!(
                    source.kind(),
                    Io::PermissionDenied
                        | Io::NotADirectory
                        | Io::AlreadyExists
                        | Io::ReadOnlyFilesystem
                        | Io::InvalidFilename
                )
            }
            StoreError::Open { cause, .. } => cause.kind().is_setup(),
            StoreError::NotADatabase { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::OlderSchema { .. } => true,
            StoreError::Tls { .. } | StoreError::Unusable { .. } | StoreError::Readers { .. } => {
                true
            }
            StoreError::Busy { .. }
            | StoreError::DiskFull { .. }
            | StoreError::Lock(_)
            | StoreError::Failed(_)
            | StoreError::Connect { .. }
            | StoreError::Server { .. }
            | StoreError::LockLost { .. } => false,
        }
    }
}

/// A held per-org lock: while it lives no other process, on any host sharing the store,
/// syncs that org. Released when dropped, and by the operating system or the database
/// server when the process dies.
pub struct OrgGuard(#[allow(dead_code)] Box<dyn Send>);

impl OrgGuard {
    /// Wraps whatever keeps a backend's lock held.
    pub fn new(held: impl Send + 'static) -> OrgGuard {
        OrgGuard(Box::new(held))
    }
}

/// One connection to the store: every part of the interface, on one backend. Every
/// backend keeps the same guarantees: a page's rows and its cursor commit together,
/// cursors never move back, and rows are marked deleted upstream only after a complete
/// full walk, or by a verify that listed their id range completely (twice) without them.
pub trait Store:
    Locks
    + SyncState
    + Records
    + RunLog
    + Erasure
    + PrivacyStore
    + DerivedColumns
    + LocalOffsets
    + Snapshots
    + Readers
    + Send
{
}

impl<T> Store for T where
    T: Locks
        + SyncState
        + Records
        + RunLog
        + Erasure
        + PrivacyStore
        + DerivedColumns
        + LocalOffsets
        + Snapshots
        + Readers
        + Send
{
}

/// The per-org lock: one run per org at a time, across processes (and, on a shared
/// server, hosts).
pub trait Locks {
    /// Takes `org_id`'s lock without waiting; `None` when another run holds it.
    fn try_lock_org(&mut self, org_id: &str) -> Result<Option<OrgGuard>, StoreError>;

    /// Whether some process is syncing `org_id` right now (for `status`).
    fn is_org_running(&self, org_id: &str) -> Result<bool, StoreError>;

    /// `e` made specific to this store where its kind is known: a busy or full database
    /// named by its path instead of the driver's bare message.
    fn refine(&self, e: StoreError) -> StoreError {
        e
    }
}

/// Per-org, per-route sync state: cursors and full walks.
pub trait SyncState {
    /// The stored state of every route of `org_id` (absent routes have no state).
    fn org_state(&self, org_id: &str) -> Result<OrgState, StoreError>;

    /// Records that run `run_id` starts a fresh full walk of `resource` (every route).
    fn begin_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records that the route `cursor_key` was read to its end at `at` (our clock).
    fn mark_polled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records that every row of `settled.second` on the route `cursor_key` was read,
    /// if that second is still the route's cursor (otherwise nothing changes).
    fn record_settled(
        &mut self,
        org_id: &str,
        cursor_key: &str,
        settled: SettledSecond,
    ) -> Result<(), StoreError>;

    /// Records that a verify of `resource` (every route), started at `started_at`, ended
    /// without error.
    fn finish_verify(
        &mut self,
        org_id: &str,
        resource: Resource,
        started_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The clock skew and account recorded for `org_id` (defaults when none were).
    fn org_facts(&self, org_id: &str) -> Result<OrgFacts, StoreError>;

    /// Records the host clock's skew against Cliniko's (`seconds`, host minus Cliniko),
    /// measured at `at` by the host clock.
    fn record_clock_skew(
        &mut self,
        org_id: &str,
        seconds: i64,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records the Cliniko account `org_id`'s key answered for.
    fn record_account(&mut self, org_id: &str, account: &AccountFacts) -> Result<(), StoreError>;
}

/// When the transaction of [`Records::write_route_pages`] commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Before the call returns.
    Now,
    /// Later, with the next pages: at [`Records::commit_held`]. A store that cannot
    /// hold a transaction open commits now.
    Held,
}

/// The synced rows.
pub trait Records {
    /// Ends a full walk of `resource` that reached the last page of every route without
    /// error: rows the walk did not see are marked `deleted_upstream_at = now` (Cliniko's
    /// clock), and the resource's last full sync becomes `started_at` (when the walk
    /// began, since changes made after that were seen by it only if they moved past its
    /// position). Returns how many rows were marked.
    fn finish_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Rows of `resource` for `org_id` not marked deleted upstream.
    fn count_present(&self, org_id: &str, resource: Resource) -> Result<u64, StoreError>;

    /// Patients of `org_id` seen in the last 30 days and booked in the future (the
    /// `patient_activity` view's `activity_status = 'active'`), as of the query; `None`
    /// when the view's "now" is the host clock and `host_clock_agrees` (with Cliniko's)
    /// is false: SQLite's view reads the clock of the process querying it, a clock a year
    /// ahead would count no one. PostgreSQL's reads the server's clock, and counts.
    fn active_patients(
        &self,
        org_id: &str,
        host_clock_agrees: bool,
    ) -> Result<Option<u64>, StoreError>;

    /// Re-marks `org_id`'s rows (every resource table) marked deleted upstream later than
    /// `later_than` as deleted at `now`: marks a host clock that was ahead dated in the
    /// future, which would hold their purge back by as much. Returns how many.
    fn repair_future_marks(
        &mut self,
        org_id: &str,
        later_than: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Removes `org_id`'s rows (every resource table) marked deleted upstream before
    /// `before`, in one transaction that also marks the tables that lost rows for
    /// [`Erasure::scrub_due`]. Returns how many rows went, per table.
    fn purge_deleted(
        &mut self,
        org_id: &str,
        before: Timestamp,
    ) -> Result<Vec<(&'static str, u64)>, StoreError>;

    /// Upserts pages of `resource` rows (`(cursor_key, records)`, in walk order, each read
    /// from the route `cursor_key`, one of [`Resource::cursor_keys`]) and advances each
    /// route's cursor to the newest `updated_at` of its pages, all in one transaction: a
    /// crash leaves the pages and their cursors, or none of them (fewer commits write each
    /// dirty index page fewer times). `full_run` marks the rows as seen by that full
    /// walk, for [`Records::finish_full`]. With [`Commit::Held`] the store may leave that
    /// transaction open for the next pages; they all commit at [`Records::commit_held`]
    /// (or before any other write), and a crash before it keeps none of them.
    fn write_route_pages(
        &mut self,
        org_id: &str,
        resource: Resource,
        pages: &[(&str, &[Record])],
        full_run: Option<i64>,
        synced_at: Timestamp,
        commit: Commit,
    ) -> Result<PageWrite, StoreError>;

    /// Commits the pages [`Records::write_route_pages`] left held; nothing when none are.
    fn commit_held(&mut self) -> Result<(), StoreError>;

    /// The ids of `resource` rows of `org_id` not marked deleted upstream, in no order.
    fn present_ids(&self, org_id: &str, resource: Resource) -> Result<Vec<String>, StoreError>;

    /// Of `ids`, those with no row of `resource` for `org_id`, or only one marked deleted
    /// upstream (a record points at reference data the store lacks).
    fn missing_ids(
        &self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError>;

    /// Upserts rows found by a verify listing, in one transaction, without moving any
    /// cursor (rows between the cursor and these may not have been read yet).
    /// `full_run` marks them seen by that unfinished full walk.
    fn write_rows(
        &mut self,
        org_id: &str,
        resource: Resource,
        records: &[Record],
        full_run: Option<i64>,
        synced_at: Timestamp,
    ) -> Result<PageWrite, StoreError>;

    /// Marks the `ids` rows of `resource` deleted upstream at `now` (rows already marked
    /// keep their mark). Returns how many were newly marked.
    fn mark_deleted(
        &mut self,
        org_id: &str,
        resource: Resource,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64, StoreError>;
}

/// The history of runs: one row per org per run, with counts, API calls and errors.
pub trait RunLog {
    /// Records the start of a run and returns its id.
    fn begin_run(
        &mut self,
        org_id: &str,
        mode: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError>;

    /// Records how run `run_id` ended.
    fn finish_run(&mut self, run_id: i64, outcome: &RunOutcome) -> Result<(), StoreError>;

    /// Marks runs of `org_id` still shown as running as interrupted. Call only while
    /// holding the org's lock: then no other process can be running them.
    fn close_abandoned_runs(&mut self, org_id: &str) -> Result<usize, StoreError>;

    /// The active-patient count of `org_id`'s newest successful run that counted them.
    fn last_active_patients(&self, org_id: &str) -> Result<Option<u64>, StoreError>;

    /// The newest `limit` runs of `org_id`, newest first.
    fn recent_runs(&self, org_id: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError>;

    /// Deletes `org_id`'s finished runs that started before `before`, except its newest
    /// run and its newest successful run (which `status` and `min_interval` read).
    /// Returns how many went.
    fn prune_runs(&mut self, org_id: &str, before: Timestamp) -> Result<u64, StoreError>;
}

/// Erasing one org: everything stored for it, in every table.
pub trait Erasure {
    /// Rows stored for `org_id`, per table (every table, zeros included), in a fixed order.
    fn org_rows(&self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError>;

    /// Deletes every row, cursor and run of `org_id` in one transaction, then scrubs the
    /// files ([`Erasure::scrub_due`]); returns what went, per table, as
    /// [`Erasure::org_rows`] counts it.
    fn forget_org(&mut self, org_id: &str) -> Result<Vec<(&'static str, u64)>, StoreError>;

    /// Scrubs from the database's files what the deletes and rewrites marked since the
    /// last scrub, once for all of them (the end of a run): SQLite rebuilds the file
    /// (`VACUUM`) when a rewrite or `forget` asked for it, then empties the WAL;
    /// PostgreSQL rewrites each marked table (`VACUUM FULL`). What cannot be done now
    /// (readers hold the WAL past a short wait) stays marked for the next run, with a
    /// warning; so does what an error stopped, and the error is returned.
    fn scrub_due(&mut self) -> Result<(), StoreError>;

    /// Every org id with a run or sync state stored, sorted.
    fn stored_orgs(&self) -> Result<Vec<String>, StoreError>;
}

/// Who besides the sync may read an org's rows: on PostgreSQL, the database roles the
/// config's `dashboard_roles` names, bound to the org by row security. SQLite has no
/// roles (a file's permissions are all or nothing): nothing to do there.
pub trait Readers {
    /// Makes `roles` exactly the database roles that may read `org_id`'s rows (and no
    /// other org's through them), granting and revoking what differs. Call while holding
    /// the org's lock.
    fn apply_readers(&mut self, org_id: &str, roles: &[String]) -> Result<(), StoreError> {
        let _ = (org_id, roles);
        Ok(())
    }
}

/// Opens (creating and migrating if needed) the store at `location`.
pub fn open(location: &StoreLocation) -> Result<Box<dyn Store>, StoreError> {
    match location {
        StoreLocation::Sqlite { path, lock_dir } => Ok(Box::new(
            sqlite::SqliteStore::open(path)?.with_lock_dir(lock_dir),
        )),
        StoreLocation::Postgres { url, schema } => {
            Ok(Box::new(postgres::PgStore::open(url, schema)?))
        }
    }
}

/// Opens the store for reading (`status`); `Ok(None)` when nothing was ever written
/// there. A store from an older routiq-sync is migrated first, as the next sync would.
pub fn open_read_only(location: &StoreLocation) -> Result<Option<Box<dyn Store>>, StoreError> {
    match location {
        StoreLocation::Sqlite { path, lock_dir } => Ok(sqlite::SqliteStore::open_read_only(path)?
            .map(|s| Box::new(s.with_lock_dir(lock_dir)) as Box<dyn Store>)),
        StoreLocation::Postgres { url, schema } => {
            Ok(postgres::PgStore::open_existing(url, schema)?
                .map(|s| Box::new(s) as Box<dyn Store>))
        }
    }
}
