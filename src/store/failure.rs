//! A database driver's error as the layers above the store see it: a neutral kind, the
//! driver's own words, and (for logs and `{:#}`) the driver's error boxed, never its type.

use std::error::Error;
use std::fmt;

/// What a backend made of a driver error: what the operator or the next run can do about
/// it. Each backend maps its own driver's codes to these (SQLite's in `sqlite::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Another process or connection held the database longer than we waited.
    Busy,
    /// The disk (or the quota) holding the database is full.
    DiskFull,
    /// This user may read the database but not write it, or what opening it needs (on
    /// SQLite, its `-shm` beside it): the set-up's fault.
    ReadOnly,
    /// The database the operator pointed at cannot be used: it cannot be opened at all,
    /// this user may not, or it is not a database (or is damaged).
    Setup,
    /// Anything else: the database failed, and the next run may succeed.
    Other,
}

impl FailureKind {
    /// Whether a database that fails to open this way is the operator's set-up to fix
    /// (exit code 2) rather than a passing failure.
    pub fn is_setup(self) -> bool {
        matches!(self, FailureKind::ReadOnly | FailureKind::Setup)
    }
}

/// A driver error and its [`FailureKind`]; it reads word for word as the driver's.
#[derive(Debug)]
pub struct DbFailure {
    kind: FailureKind,
    /// The driver's error itself, for its own backend to look into (its codes), for the
    /// text and for the source chain.
    driver: Box<dyn Error + Send + Sync + 'static>,
}

impl DbFailure {
    /// A failure of `kind` from the driver's error `e`.
    pub fn new(kind: FailureKind, e: impl Error + Send + Sync + 'static) -> DbFailure {
        DbFailure {
            kind,
            driver: Box::new(e),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The driver's error: only its own backend knows its type.
    pub fn driver(&self) -> &(dyn Error + 'static) {
        &*self.driver
    }
}

impl fmt::Display for DbFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

impl Error for DbFailure {
    /// The driver error's own cause: this failure already shows the driver error's text,
    /// so a `{:#}` chain reads as it would with the driver error in its place.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.driver.source()
    }
}
