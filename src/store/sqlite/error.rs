//! SQLite's errors as the store's neutral ones: each SQLite code is given a
//! [`FailureKind`] here, and nowhere above this backend is a `rusqlite` type seen.

use std::path::Path;
use std::time::Duration;

use rusqlite::ErrorCode;

use crate::store::{DbFailure, FailureKind, StoreError};

/// A failure while running (`?` on any SQLite call): [`StoreError::Failed`].
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Failed(failure(e, FailureKind::Other))
    }
}

/// A failure to open the database at `path` (shown as given): [`StoreError::Open`], with
/// the set-up at fault when the file cannot be opened or read at all.
pub(super) fn open_error(path: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Open {
        path: path.to_string(),
        // An error without an SQLite code is one SQLite raised before trying the file: a
        // path it cannot take (a NUL byte in it, not UTF-8).
        cause: failure(e, FailureKind::Setup),
    }
}

/// The first read of an opened file failed: a file that is not SQLite, or a damaged one,
/// is [`StoreError::NotADatabase`]; anything else as [`open_error`].
pub(super) fn not_a_database(path: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::NotADatabase {
            path: path.to_string(),
            detail: e.to_string(),
        },
        _ => open_error(path, e),
    }
}

/// `e` as a [`DbFailure`] of the kind its SQLite code says (`uncoded` when it has none).
fn failure(e: rusqlite::Error, uncoded: FailureKind) -> DbFailure {
    let kind = match e.sqlite_error_code() {
        None => uncoded,
        Some(code) => kind_of(code),
    };
    DbFailure::new(kind, e)
}

/// The neutral kind of an SQLite (primary) result code.
fn kind_of(code: ErrorCode) -> FailureKind {
    match code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => FailureKind::Busy,
        ErrorCode::DiskFull => FailureKind::DiskFull,
        ErrorCode::ReadOnly => FailureKind::ReadOnly,
        ErrorCode::CannotOpen
        | ErrorCode::PermissionDenied
        | ErrorCode::NotADatabase
        | ErrorCode::DatabaseCorrupt => FailureKind::Setup,
        _ => FailureKind::Other,
    }
}

/// The SQLite error inside `e`, when `e` came from one (for the decisions only this
/// backend makes: which failures of an open are worth another attempt).
pub(super) fn sqlite_error(e: &StoreError) -> Option<&rusqlite::Error> {
    match e {
        StoreError::Open { cause, .. } | StoreError::Failed(cause) => cause.driver().downcast_ref(),
        _ => None,
    }
}

/// `e` named by the database's `path` where its kind is known: a busy database (the busy
/// handler waited its whole timeout, `waited`, first) or a full disk.
pub(super) fn named(e: StoreError, path: &Path, waited: Duration) -> StoreError {
    let kind = match &e {
        StoreError::Open { cause, .. } | StoreError::Failed(cause) => cause.kind(),
        _ => return e,
    };
    let path = path.display().to_string();
    match kind {
        FailureKind::Busy => StoreError::Busy { path, waited },
        FailureKind::DiskFull => StoreError::DiskFull { path },
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    fn kind(e: &StoreError) -> FailureKind {
        match e {
            StoreError::Open { cause, .. } | StoreError::Failed(cause) => cause.kind(),
            other => panic!("not a driver failure: {other:?}"),
        }
    }

    #[test]
    fn each_sqlite_code_has_its_neutral_kind() {
        for (code, expected) in [
            (ffi::SQLITE_BUSY, FailureKind::Busy),
            (ffi::SQLITE_LOCKED, FailureKind::Busy),
            (ffi::SQLITE_FULL, FailureKind::DiskFull),
            (ffi::SQLITE_READONLY, FailureKind::ReadOnly),
            (ffi::SQLITE_READONLY_CANTINIT, FailureKind::ReadOnly),
            (ffi::SQLITE_CANTOPEN, FailureKind::Setup),
            (ffi::SQLITE_PERM, FailureKind::Setup),
            (ffi::SQLITE_NOTADB, FailureKind::Setup),
            (ffi::SQLITE_CORRUPT, FailureKind::Setup),
            (ffi::SQLITE_IOERR, FailureKind::Other),
            (ffi::SQLITE_PROTOCOL, FailureKind::Other),
            (ffi::SQLITE_CONSTRAINT, FailureKind::Other),
        ] {
            assert_eq!(kind(&open_error("/x.db", sqlite(code))), expected, "{code}");
            assert_eq!(kind(&StoreError::from(sqlite(code))), expected, "{code}");
        }
        // No SQLite code: a path SQLite refused before opening anything.
        let uncoded = || rusqlite::Error::InvalidPath("/x\0.db".into());
        assert_eq!(kind(&open_error("/x.db", uncoded())), FailureKind::Setup);
        assert_eq!(kind(&StoreError::from(uncoded())), FailureKind::Other);
    }

    #[test]
    fn only_opens_the_set_up_is_at_fault_for_are_setup_errors() {
        for code in [ffi::SQLITE_CANTOPEN, ffi::SQLITE_PERM, ffi::SQLITE_READONLY] {
            assert!(open_error("/x.db", sqlite(code)).is_setup_error(), "{code}");
        }
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_FULL,
        ] {
            assert!(
                !open_error("/x.db", sqlite(code)).is_setup_error(),
                "{code}"
            );
        }
        // Once open, nothing is the set-up's fault.
        for code in [ffi::SQLITE_BUSY, ffi::SQLITE_READONLY, ffi::SQLITE_CANTOPEN] {
            assert!(!StoreError::from(sqlite(code)).is_setup_error(), "{code}");
        }
    }

    #[test]
    fn the_text_and_the_source_chain_are_the_drivers() {
        let driver = rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_READONLY),
            Some("attempt to write a readonly database".into()),
        );
        let driver_text = driver.to_string();
        let driver_cause = std::error::Error::source(&driver).map(ToString::to_string);
        let e = open_error("/x.db", driver);
        assert_eq!(
            e.to_string(),
            format!("cannot open the database /x.db: {driver_text}")
        );
        let cause = std::error::Error::source(&e).expect("the failure");
        assert_eq!(cause.to_string(), driver_text);
        assert_eq!(cause.source().map(ToString::to_string), driver_cause);
        assert!(
            sqlite_error(&e).is_some_and(|s| s.sqlite_error_code() == Some(ErrorCode::ReadOnly))
        );
        let e = StoreError::from(sqlite(ffi::SQLITE_IOERR));
        assert_eq!(
            e.to_string(),
            format!("database error: {}", sqlite(ffi::SQLITE_IOERR))
        );
        assert!(sqlite_error(&e).is_some());
    }

    #[test]
    fn files_that_are_not_sqlite_are_named_so() {
        for code in [ffi::SQLITE_NOTADB, ffi::SQLITE_CORRUPT] {
            let e = not_a_database("/x.db", sqlite(code));
            assert!(matches!(e, StoreError::NotADatabase { .. }), "{e:?}");
        }
        let e = not_a_database("/x.db", sqlite(ffi::SQLITE_READONLY));
        assert_eq!(kind(&e), FailureKind::ReadOnly);
    }
}
