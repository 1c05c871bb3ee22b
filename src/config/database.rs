//! The `database`, `database_url_env` and `pg_schema` settings: a SQLite file or a
//! PostgreSQL URL (written in the file or read from an environment variable); and
//! `lock_dir`, where SQLite's lock files go.

use std::fmt;
use std::path::{Path, PathBuf};

use super::problems::Problems;
use super::{env_var, paths};
use crate::database_url::{PgUrl, SslMode, is_postgres_url};

/// The PostgreSQL schema used when `pg_schema` is not set.
pub const DEFAULT_PG_SCHEMA: &str = "public";

/// Where the data is stored.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file. A relative path in the file is taken relative to the directory
    /// holding the config file, and `~/` expands to `$HOME`.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<PostgresSettings>),
}

/// A PostgreSQL store: the URL and the schema its tables live in.
#[derive(Debug, Clone)]
pub struct PostgresSettings {
    pub url: PgUrl,
    /// The schema holding the tables (created if missing); a plain identifier.
    pub schema: String,
    /// The environment variable the URL came from (`database_url_env`), if any.
    pub url_env: Option<String>,
}

impl Database {
    /// The SQLite file, when the store is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// The PostgreSQL settings, when the store is PostgreSQL.
    pub fn postgres(&self) -> Option<&PostgresSettings> {
        match self {
            Database::Sqlite(_) => None,
            Database::Postgres(pg) => Some(pg),
        }
    }
}

impl fmt::Display for Database {
    /// The path, or the URL with its password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(pg) => write!(f, "{}", pg.url),
        }
    }
}

/// What the three settings say, before validation.
pub(super) struct RawDatabase<'a> {
    pub database: Option<&'a str>,
    pub url_env: Option<&'a str>,
    pub pg_schema: Option<&'a str>,
}

/// Validates the database settings; problems and warnings are added to the lists.
pub(super) fn validate(
    raw: RawDatabase<'_>,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    file_mode: Option<u32>,
    problems: &mut Problems,
    warnings: &mut Vec<String>,
) -> Database {
    let schema = raw.pg_schema.unwrap_or(DEFAULT_PG_SCHEMA).to_string();
    if !is_identifier(&schema) {
        problems.top(
            "pg_schema",
            format!(
                "`{schema}` is not a plain schema name; use letters, digits and `_`, not \
                 starting with a digit, at most 63 characters, e.g. pg_schema = \"routiq\""
            ),
        );
    }
    let postgres = |url: PgUrl, url_env: Option<String>| {
        Database::Postgres(Box::new(PostgresSettings {
            url,
            schema: schema.clone(),
            url_env,
        }))
    };
    let database = match (raw.database, raw.url_env) {
        (Some(_), Some(_)) => {
            problems.top(
                "database_url_env",
                "is set together with `database`; keep one of them (database_url_env reads \
                 a postgres:// URL from the environment, database names a file or URL)",
            );
            Database::Sqlite(PathBuf::new())
        }
        (_, Some(var)) => match env_var(env, var) {
            None => {
                problems.top(
                    "database_url_env",
                    format!(
                        "names ${var}, which is not set or empty; export it with the database \
                         URL (postgres://user:password@host:5432/database), or set `database` \
                         instead"
                    ),
                );
                Database::Sqlite(PathBuf::new())
            }
            Some(value) if !is_postgres_url(&value) => {
                problems.top(
                    "database_url_env",
                    format!("${var} does not hold a postgres:// or postgresql:// URL"),
                );
                Database::Sqlite(PathBuf::new())
            }
            Some(value) => match PgUrl::parse(&value) {
                Ok(url) => postgres(url, Some(var.to_string())),
                Err(why) => {
                    problems.top("database_url_env", format!("the URL in ${var} {why}"));
                    Database::Sqlite(PathBuf::new())
                }
            },
        },
        (Some(value), None) if is_postgres_url(value) => match PgUrl::parse(value) {
            Ok(url) => {
                if url.has_password()
                    && let Some(mode) = file_mode.filter(|m| m & 0o044 != 0)
                {
                    warnings.push(format!(
                        "{path}: the database URL holds a password but the file is readable \
                         by group or others (mode {mode:03o}); run `chmod 600 {path}`, or \
                         move the URL to an environment variable with database_url_env",
                        path = path.display(),
                        mode = mode & 0o777,
                    ));
                }
                postgres(url, None)
            }
            Err(why) => {
                problems.top("database", format!("the URL {why}"));
                Database::Sqlite(PathBuf::new())
            }
        },
        (Some(value), None) => match paths::resolve(value, path, env) {
            Ok(p) => Database::Sqlite(p),
            Err(message) => {
                problems.top("database", message);
                Database::Sqlite(PathBuf::new())
            }
        },
        (None, None) => match paths::default_database(env) {
            Ok(p) => Database::Sqlite(p),
            Err(message) => {
                problems.top("database", message);
                Database::Sqlite(PathBuf::new())
            }
        },
    };
    if let Some(pg) = database.postgres()
        && pg.url.ssl_mode() == SslMode::Prefer
        && pg.url.leaves_this_machine()
    {
        warnings.push(format!(
            "the database URL ({}) reaches host {} over the network with sslmode prefer (the \
             default when the URL sets none), which falls back to an unencrypted connection \
             when the server offers no TLS: the password and the clinics' data would cross \
             the network in clear; add sslmode=verify-full (or require) to the URL, or \
             sslmode=disable if plaintext is intended",
            pg.url,
            pg.url.host()
        ));
    }
    if raw.pg_schema.is_some() && matches!(database, Database::Sqlite(_)) {
        warnings.push(format!(
            "{}: pg_schema is set but the database is a SQLite file; pg_schema is only used \
             with PostgreSQL",
            path.display()
        ));
    }
    database
}

/// The folder of the per-org lock files: `lock_dir` resolved like a SQLite path, else
/// `locks` beside the SQLite file. Not used with PostgreSQL (its locks are lease rows on
/// the server), so left empty there unless written.
pub(super) fn lock_dir(
    raw: Option<&str>,
    database: &Database,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> PathBuf {
    match (raw, database) {
        (Some(value), _) => paths::resolve(value, path, env).unwrap_or_else(|message| {
            problems.top("lock_dir", message);
            PathBuf::new()
        }),
        (None, Database::Sqlite(file)) => paths::default_lock_dir(file),
        (None, Database::Postgres(_)) => PathBuf::new(),
    }
}

/// A PostgreSQL identifier that needs no quoting rules beyond double quotes.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}
