//! The audit trail of silences and recurring windows: every change a person made, in log
//! order, with who made it and their comment. The engine writes it as it applies the change.

use rusqlite::{params, Connection};
use serde::Serialize;
use tocsin_core::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLine {
    /// The silence or window id.
    pub target: String,
    pub at: Millis,
    /// The API caller (token name, or `loopback`).
    pub actor: String,
    /// `create`, `update`, `expire` or `delete`.
    pub action: &'static str,
    pub comment: String,
}

pub fn record(conn: &Connection, line: &AuditLine) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO silence_audit (target, at, actor, action, comment) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![
        line.target,
        line.at,
        line.actor,
        line.action,
        line.comment
    ])?;
    Ok(())
}

/// One silence's or window's lines, oldest first.
pub fn of(conn: &Connection, target: &str) -> rusqlite::Result<Vec<AuditLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, action, comment FROM silence_audit WHERE target = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([target], |r| {
        let action: String = r.get(2)?;
        Ok(AuditLine {
            target: target.to_string(),
            at: r.get(0)?,
            actor: r.get(1)?,
            action: ACTIONS
                .into_iter()
                .find(|a| *a == action)
                .unwrap_or("unknown"),
            comment: r.get(3)?,
        })
    })?;
    rows.collect()
}

const ACTIONS: [&str; 4] = ["create", "update", "expire", "delete"];
