//! routiq-sync: keeps a copy of Cliniko clinic data for many organisations, in SQLite or
//! PostgreSQL.
//!
//! Layers, top to bottom: [`cli`] (clap types) → [`commands`] (one module per subcommand)
//! → [`engine`] (plans and runs one org's sync) → [`cliniko`] (HTTP client), [`store`]
//! (one trait; SQLite and PostgreSQL beneath it), [`file_lock`] (SQLite's per-org lock
//! files), [`config`]. [`fake`] is a fake Cliniko server used by `demo`,
//! the tests and the benchmark. Lower layers never import higher ones.

pub mod cli;
pub mod cliniko;
pub mod commands;
pub mod config;
pub mod database_url;
pub mod engine;
pub mod fake;
pub mod file_lock;
pub mod logging;
pub mod loopback;
pub mod privacy;
pub mod record;
pub mod resource;
pub mod secret;
pub mod store;
pub mod timestamp;
pub mod url_password;
pub mod watchdog;
