//! Silences in the store: the engine writes them (in log order, with its batch), the API
//! reads them. Also the engine's read of firing alerts' labels, which it needs when a
//! silence starts or ends (labels live only in SQLite, not in the engine's memory).

use super::state::{bad_value, parse_or, BatchWriter};
use crate::codec::{json_or_default, matchers_from, matchers_json};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use tocsin_core::event::Severity;
use tocsin_core::silence::{SilenceSpec, SilenceState};
use tocsin_core::time::Millis;

/// A silence as stored, with its audit fields.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceRecord {
    pub id: String,
    pub spec: SilenceSpec,
    pub updated_at: Millis,
    /// The API caller that created or last changed it.
    pub actor: String,
    pub expired_by: Option<String>,
    /// The silence that replaced it, when an update could not be made in place.
    pub replaced_by: Option<String>,
    /// How far the engine has applied it.
    pub engine_state: SilenceState,
}

const COLUMNS: &str = "id, matchers, starts_at, ends_at, updated_at, created_by, comment, actor, expired_by, replaced_by, engine_state";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SilenceRecord> {
    let matchers: String = r.get(1)?;
    let state: String = r.get(10)?;
    Ok(SilenceRecord {
        id: r.get(0)?,
        spec: SilenceSpec {
            matchers: matchers_from(&matchers).map_err(bad_value)?,
            starts_at: r.get(2)?,
            ends_at: r.get(3)?,
            created_by: r.get(5)?,
            comment: r.get(6)?,
        },
        updated_at: r.get(4)?,
        actor: r.get(7)?,
        expired_by: r.get(8)?,
        replaced_by: r.get(9)?,
        engine_state: parse_or(state.as_str(), SilenceState::parse, "silence state")?,
    })
}

/// The silences the engine has not yet seen end: what it loads at start.
pub fn load_live(conn: &Connection) -> rusqlite::Result<Vec<SilenceRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM silences WHERE engine_state != 'expired'");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

/// How many silences and recurring silences (maintenance windows made through the API) are
/// not over at `now`: what the API's cap on live silences counts.
pub fn count_live(conn: &Connection, now: Millis) -> rusqlite::Result<usize> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM silences WHERE ends_at > ?1)
              + (SELECT COUNT(*) FROM maintenance_windows WHERE deleted_at IS NULL)",
        [now],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as usize)
}

/// Every silence that ended at or after `ended_since` (or has not ended).
pub fn list(conn: &Connection, ended_since: Millis) -> rusqlite::Result<Vec<SilenceRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM silences WHERE ends_at >= ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([ended_since], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<SilenceRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM silences WHERE id = ?1");
    conn.query_row(&sql, [id], from_row).optional()
}

impl BatchWriter<'_, '_> {
    pub fn upsert_silence(&self, s: &SilenceRecord) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO silences (id, matchers, starts_at, ends_at, updated_at,
                 created_by, comment, actor, expired_by, replaced_by, engine_state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        stmt.execute(params![
            s.id,
            matchers_json(&s.spec.matchers),
            s.spec.starts_at,
            s.spec.ends_at,
            s.updated_at,
            s.spec.created_by,
            s.spec.comment,
            s.actor,
            s.expired_by,
            s.replaced_by,
            s.engine_state.as_str(),
        ])?;
        Ok(())
    }
}

/// What the engine reads of a firing alert to match it against silences, and to open its
/// incident when its last silence ends.
#[derive(Debug, Clone)]
pub struct FiringAlert {
    pub id: i64,
    pub source: String,
    pub integration: String,
    pub dedup_key: String,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub service: String,
    pub host: Option<String>,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
}

const FIRING_COLUMNS: &str = "id, source, integration, dedup_key, name, summary, description, service, host, severity, labels";

fn firing_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FiringAlert> {
    let severity: String = r.get(9)?;
    let labels: String = r.get(10)?;
    Ok(FiringAlert {
        id: r.get(0)?,
        source: r.get(1)?,
        integration: r.get(2)?,
        dedup_key: r.get(3)?,
        name: r.get(4)?,
        summary: r.get(5)?,
        description: r.get(6)?,
        service: r.get(7)?,
        host: r.get(8)?,
        severity: parse_or(severity.as_str(), Severity::parse, "severity")?,
        labels: json_or_default(Some(&labels)),
    })
}

/// Every firing alert (a scan: silences start and end far more rarely than alerts fire).
pub fn firing_alerts(conn: &Connection) -> rusqlite::Result<Vec<FiringAlert>> {
    let sql = format!("SELECT {FIRING_COLUMNS} FROM alerts WHERE status = 'firing'");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], firing_from_row)?;
    rows.collect()
}

/// One alert by id, for opening its incident when its silence ends.
pub fn alert_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<FiringAlert>> {
    let sql = format!("SELECT {FIRING_COLUMNS} FROM alerts WHERE id = ?1");
    conn.query_row(&sql, [id], firing_from_row).optional()
}
