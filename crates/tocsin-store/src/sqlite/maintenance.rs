//! Recurring maintenance windows made at run time: the engine writes them (in log order,
//! with its batch) and loads the live ones at start; the API reads them. A window is kept in
//! the form it was written and parsed again by the config's code when it is used.

use super::state::bad_value;
use crate::codec::{json_from, to_json};
use rusqlite::{params, Connection, OptionalExtension};
use tocsin_core::config::maintenance::RawMaintenance;
use tocsin_core::time::Millis;

/// A runtime window as stored, with its audit fields. Its id is `spec.name`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub spec: RawMaintenance,
    /// Who its occurrences say made them (the author a person gave, or the token's name).
    pub author: String,
    pub created_at: Millis,
    /// The API caller that made it.
    pub created_by: String,
    pub deleted_at: Option<Millis>,
    pub deleted_by: Option<String>,
}

const COLUMNS: &str = "spec, author, created_at, created_by, deleted_at, deleted_by";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WindowRow> {
    let spec: String = r.get(0)?;
    Ok(WindowRow {
        spec: json_from(&spec, "maintenance window").map_err(bad_value)?,
        author: r.get(1)?,
        created_at: r.get(2)?,
        created_by: r.get(3)?,
        deleted_at: r.get(4)?,
        deleted_by: r.get(5)?,
    })
}

/// Returns false when a window with that id exists already.
pub fn insert(conn: &Connection, w: &WindowRow) -> rusqlite::Result<bool> {
    let spec = to_json(&w.spec, "a maintenance window")
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let n = conn.execute(
        "INSERT INTO maintenance_windows (id, spec, author, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        params![w.spec.name, spec, w.author, w.created_at, w.created_by],
    )?;
    Ok(n == 1)
}

/// Returns false when there is no live window with that id.
pub fn mark_deleted(conn: &Connection, id: &str, at: Millis, by: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE maintenance_windows SET deleted_at = ?2, deleted_by = ?3
         WHERE id = ?1 AND deleted_at IS NULL",
        params![id, at, by],
    )?;
    Ok(n == 1)
}

/// The windows, oldest first; deleted ones too when asked.
pub fn list(conn: &Connection, deleted: bool) -> rusqlite::Result<Vec<WindowRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM maintenance_windows WHERE ?1 OR deleted_at IS NULL
         ORDER BY created_at, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([deleted], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<WindowRow>> {
    let sql = format!("SELECT {COLUMNS} FROM maintenance_windows WHERE id = ?1");
    conn.query_row(&sql, [id], from_row).optional()
}
