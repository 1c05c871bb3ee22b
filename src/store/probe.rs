//! What `check` reports about the configured store, found without changing anything:
//! what is at a database file's path, or what the database server says of itself, and
//! the schema version either holds against this build's. Each backend finds its own
//! facts; the commands only phrase them.

use std::path::Path;

pub use super::store_facts::{Pooling, ReaderFacts, SchemaVersion, ServerInfo};
use super::{StoreError, postgres, sqlite};
use crate::database_url::PgUrl;

/// What is at a database file's path.
#[derive(Debug)]
pub enum FileProbe {
    /// Nothing yet: the first sync creates it (and its folder, when `folder_missing`).
    Missing { folder_missing: bool },
    /// Whether anything is there cannot be told.
    Unexaminable(std::io::Error),
    /// A file this user may not read.
    Unreadable,
    /// A file: its schema version, or why it cannot be read as a database (a busy file,
    /// a missing `-shm` this user cannot create, not a database), and whether this user
    /// may write it and create the files a sync keeps beside it.
    Found {
        schema: Result<SchemaVersion, StoreError>,
        writable: bool,
    },
}

/// What is at the database file `path`, read without changing anything.
pub fn probe_file(path: &Path) -> FileProbe {
    match path.try_exists() {
        Ok(false) => {
            let folder_missing = path
                .parent()
                .is_some_and(|p| !p.as_os_str().is_empty() && !p.exists());
            return FileProbe::Missing { folder_missing };
        }
        Err(e) => return FileProbe::Unexaminable(e),
        Ok(true) => {}
    }
    // Permissions first: SQLite reports an unreadable file as one it cannot open.
    if let Err(e) = std::fs::File::open(path)
        && e.kind() == std::io::ErrorKind::PermissionDenied
    {
        return FileProbe::Unreadable;
    }
    FileProbe::Found {
        writable: sqlite::writable(path),
        schema: file_schema(path),
    }
}

/// The schema version of the database file at `path`, read without changing anything.
pub fn file_schema(path: &Path) -> Result<SchemaVersion, StoreError> {
    sqlite::probe_version(path).map(|found| SchemaVersion {
        found,
        current: sqlite::CURRENT_VERSION,
    })
}

/// A warning when the database file at `path`, or a file a sync keeps beside it, is
/// readable by group or others; `None` when they are private or absent.
pub fn readable_warning(path: &Path) -> Option<String> {
    sqlite::private::readable_warning(path)
}

/// What the server at `url` says of itself and of `schema`, on a session of its own that
/// creates and migrates nothing.
pub fn probe_server(url: &PgUrl, schema: &str) -> Result<ServerInfo, StoreError> {
    postgres::PgStore::session(url, schema)?.server_info()
}

/// [`ReaderFacts`] of each of `roles` on the server at `url`, in order, on a session of
/// its own that changes nothing.
pub fn probe_readers(
    url: &PgUrl,
    schema: &str,
    roles: &[String],
) -> Result<Vec<ReaderFacts>, StoreError> {
    postgres::PgStore::session(url, schema)?.reader_facts(roles)
}
