//! routiq-sync: keeps a copy of Cliniko clinic data for many organisations, in SQLite or
//! PostgreSQL.
//!
//! Layers, top to bottom: [`cli`] (clap types) → [`commands`] (one module per subcommand)
//! → [`engine`] (plans and runs one org's sync) → [`cliniko`] (HTTP client), [`store`]
//! (one trait; SQLite and PostgreSQL beneath it), [`file_lock`] (SQLite's per-org lock
//! files), [`config`]. Lower layers never import higher ones. The fake Cliniko that
//! `demo`, the tests and the benchmark run against is a crate of its own, `fake-cliniko`.

pub mod cli;
pub mod cliniko;
pub mod commands;
pub mod config;
pub mod database_url;
pub mod engine;
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
