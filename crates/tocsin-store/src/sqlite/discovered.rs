//! Discovered services (migration 013): services alerts name that the config's catalog does
//! not have. The engine writes them in its batches and loads their names at start; the API
//! and console list them.

use super::state::BatchWriter;
use rusqlite::{params, Connection};
use tocsin_core::time::Millis;

/// A discovered service and when its alerts were first and last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredRow {
    pub id: String,
    pub first_seen: Millis,
    pub last_seen: Millis,
}

impl BatchWriter<'_, '_> {
    /// Records that alerts of the service were seen from `first` to `last` in this batch.
    pub fn discovered_seen(&self, id: &str, first: Millis, last: Millis) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO discovered_services (id, first_seen, last_seen) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)",
            )?
            .execute(params![id, first, last])?;
        Ok(())
    }
}

/// Every discovered service, by id.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<DiscoveredRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, first_seen, last_seen FROM discovered_services ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(DiscoveredRow {
            id: r.get(0)?,
            first_seen: r.get(1)?,
            last_seen: r.get(2)?,
        })
    })?;
    rows.collect()
}
