//! A database driver's error as the layers above the store see it: a neutral kind, the
//! driver's own words, and (for logs and `{:#}`) the driver's error boxed, never its type.

use std::error::Error;
use std::fmt;

/// What a backend made of a driver error: what the operator or the next run can do about
/// it. Each backend maps its own driver's codes to these (SQLite's in `sqlite::error`,
/// PostgreSQL's SQLSTATEs in `postgres::connect`).
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
    /// The connection to the database server was lost, or none could be made: the server
    /// may be back for the next run.
    Lost,
    /// A statement ran past the time the store allows it (the server cancelled it).
    Timeout,
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

/// A driver error and its [`FailureKind`]; it reads word for word as the driver's, or as
/// the backend described it when the driver's own words say too little.
#[derive(Debug)]
pub struct DbFailure {
    kind: FailureKind,
    /// How the backend describes the error, when not in the driver's own words (a
    /// PostgreSQL error reads "db error" alone; the server's message is its source).
    text: Option<String>,
    /// The driver's error itself, for its own backend to look into (its codes), for the
    /// text and for the source chain.
    driver: Box<dyn Error + Send + Sync + 'static>,
}

impl DbFailure {
    /// A failure of `kind` from the driver's error `e`.
    pub fn new(kind: FailureKind, e: impl Error + Send + Sync + 'static) -> DbFailure {
        DbFailure {
            kind,
            text: None,
            driver: Box::new(e),
        }
    }

    /// A failure of `kind` from the driver's error `e`, which reads as `text` (the
    /// driver's error and its cause, in one line).
    pub fn described(
        kind: FailureKind,
        text: String,
        e: impl Error + Send + Sync + 'static,
    ) -> DbFailure {
        DbFailure {
            kind,
            text: Some(text),
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
        match &self.text {
            Some(text) => f.write_str(text),
            None => self.driver.fmt(f),
        }
    }
}

impl Error for DbFailure {
    /// The driver error's own cause: this failure already shows the driver error's text,
    /// so a `{:#}` chain reads as it would with the driver error in its place.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.driver.source()
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_described_failure_reads_as_described_and_keeps_the_drivers_cause() {
        let cause = std::io::Error::other("connection reset by peer");
        #[derive(Debug)]
        struct Driver(std::io::Error);
        impl fmt::Display for Driver {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error communicating with the server")
            }
        }
        impl Error for Driver {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let f = DbFailure::described(
            FailureKind::Lost,
            "error communicating with the server: connection reset by peer".into(),
            Driver(cause),
        );
        assert_eq!(
            f.to_string(),
            "error communicating with the server: connection reset by peer"
        );
        assert_eq!(f.kind(), FailureKind::Lost);
        assert!(!f.kind().is_setup());
        assert_eq!(
            f.source().map(ToString::to_string).as_deref(),
            Some("connection reset by peer")
        );
        assert!(f.driver().is::<Driver>());
    }
}
