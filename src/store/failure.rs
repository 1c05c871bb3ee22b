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

/// A driver error: its [`FailureKind`] and its text, shown word for word as the driver
/// gave it.
#[derive(Debug)]
pub struct DbFailure {
    kind: FailureKind,
    message: String,
    /// The driver's error itself, for its own backend to look into (its codes) and for
    /// the source chain.
    driver: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl DbFailure {
    /// A failure of `kind` described by `message` (the driver's text).
    pub fn new(kind: FailureKind, message: impl Into<String>) -> DbFailure {
        DbFailure {
            kind,
            message: message.into(),
            driver: None,
        }
    }

    /// A failure of `kind` from the driver's error `e`, described by its text.
    pub fn from_driver(kind: FailureKind, e: impl Error + Send + Sync + 'static) -> DbFailure {
        DbFailure {
            kind,
            message: e.to_string(),
            driver: Some(Box::new(e)),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The driver's text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The driver's error, when there is one: only its own backend knows its type.
    pub fn driver(&self) -> Option<&(dyn Error + 'static)> {
        self.driver.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl fmt::Display for DbFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for DbFailure {
    /// The driver error's own cause: this failure already shows the driver error's text,
    /// so a `{:#}` chain reads as it would with the driver error in its place.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.driver.as_deref().and_then(|e| e.source())
    }
}
