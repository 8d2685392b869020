//! The SQLite state store: schema, connections, and the reads and writes on it.
//!
//! The engine is the only writer of alerts and incidents (one connection, in log order);
//! API requests read through a small pool of read-only connections, which WAL mode lets run
//! beside the writer.

pub mod cofire;
pub mod console;
pub mod discovered;
mod engine_store;
pub mod group_timers;
pub mod maintenance;
mod migrate;
pub mod paging;
mod pool;
pub mod queries;
pub mod reports;
pub mod rows;
pub mod schedules;
pub mod silence_audit;
pub mod silences;
pub mod state;
pub mod storms;
pub mod tokens;

pub use engine_store::SqliteEngineStore;
pub use pool::ReadPool;

use rusqlite::Connection;
use std::path::Path;

/// Opens the state store for writing, creating and migrating it as needed.
///
/// `synchronous=NORMAL` is enough here: every change the engine makes is derived from the
/// event log, which is synced before any sender is answered. After a power loss SQLite may
/// lose its last transactions but stays consistent, and the engine re-applies them from the
/// log because `applied_lsn` is rolled back with them.
pub fn open_writer(path: &Path) -> Result<Connection, crate::StoreError> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=NORMAL;
         PRAGMA busy_timeout=10000;
         PRAGMA cache_size=-8000;
         PRAGMA temp_store=MEMORY;",
    )?;
    migrate::migrate(&mut conn)?;
    Ok(conn)
}

/// Opens a connection for changes made outside the engine (API tokens). Those are not in
/// the event log, so they are synced on commit.
pub fn open_admin(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")?;
    Ok(conn)
}
