//! The PostgreSQL store: its schema and migrations, the event log as a table, and the
//! connections to it. What it provides so far is the foundation (the state tables equal to
//! the SQLite store's, and the log); the engine and the API reach it through the storage
//! traits once those exist.
//!
//! Connections are plain TCP (`NoTls`): the server and the database are expected on one
//! host or a private network for now. A URL asking for TLS (`sslmode=require`) fails to
//! connect with a clear error rather than quietly going unencrypted.

pub mod log;
pub mod migrate;
mod pool;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use pool::{connect, describe, open, parse_url, OpenError, Pool};
