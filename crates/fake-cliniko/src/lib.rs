//! A fake Cliniko API server (real HTTP on 127.0.0.1) for the demo, tests and benchmark.
//!
//! [`World`] holds the data (one account per API key, records as JSON maps, its own clock);
//! [`FakeCliniko`] serves it with Cliniko's auth, headers, pagination, `q[]` filters,
//! sorting, hidden archived/cancelled rows, rate limits and injectable [`Fault`]s;
//! [`generate`] builds realistic accounts; [`cli`] is the `fake-cliniko` command.
//!
//! It shares no code with the client it serves: its route table, key format and
//! timestamps are its own, so a mistake in the client's cannot hide in the fake too.
//!
//! ```no_run
//! use fake_cliniko::{FakeCliniko, FakeOptions, World};
//! # fn main() -> std::io::Result<()> {
//! let (world, orgs) = World::demo(1, 100, 2, 42);
//! let fake = FakeCliniko::start(world, FakeOptions::default())?;
//! println!("{} {}", fake.base_url(), orgs[0].1);
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod cli;
pub mod collection;
pub mod endpoints;
pub mod faults;
pub mod generate;
pub mod http;
pub mod index;
pub mod listing;
pub mod query;
pub mod rate_limit;
pub mod record;
pub mod rng;
pub mod server;
pub mod stats;
pub mod timestamp;
pub mod vocab;
pub mod world;

#[cfg(test)]
mod tests;

pub use faults::{Fault, ResetHeader};
pub use generate::Changes;
pub use record::Record;
pub use server::{FakeCliniko, FakeOptions, RequestHook, RequestInfo};
pub use stats::{KeyStats, LoggedRequest};
pub use timestamp::Timestamp;
pub use world::{Account, World, WorldError};
