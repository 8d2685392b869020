//! The PostgreSQL store: its schema and migrations, the event log as a table, the
//! connections to it, and the engine's side of the state ([`PostgresEngineStore`]). The
//! API's reads reach it through their trait once that exists.
//!
//! Connections are plain TCP (`NoTls`): the server and the database are expected on one
//! host or a private network for now. A URL asking for TLS (`sslmode=require`) fails to
//! connect with a clear error rather than quietly going unencrypted.

mod engine_store;
mod engine_tx;
pub mod log;
pub mod migrate;
mod pool;
mod rows;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use engine_store::PostgresEngineStore;
pub use pool::{connect, describe, open, parse_url, OpenError, Pool};
