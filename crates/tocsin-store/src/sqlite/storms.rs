//! Storms in the store: the storms detected, the incidents they touched, which outbox rows
//! are storm summaries, and the detector's learned rates (see migration 009 and
//! docs/storms.md). The engine writes; the API, the dispatcher and `tocsin replay` read.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use tocsin_core::time::{to_rfc3339, Millis};

/// One storm as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StormRow {
    pub id: i64,
    /// `service` or `global`.
    pub scope: String,
    pub service: Option<String>,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
    /// New alerts a minute when it started, normally, and at its worst.
    pub start_rate: f64,
    pub baseline_rate: f64,
    pub peak_rate: f64,
    pub alerts: i64,
    pub incidents: i64,
    pub lead_incident: Option<i64>,
    pub summaries: i64,
    pub next_summary_at: Option<Millis>,
    pub alerts_at_summary: i64,
}

const COLUMNS: &str = "id, scope, service, started_at, ended_at, start_rate, baseline_rate,
     peak_rate, alerts, incidents, lead_incident, summaries, next_summary_at, alerts_at_summary";

fn storm_row(r: &Row<'_>) -> rusqlite::Result<StormRow> {
    Ok(StormRow {
        id: r.get(0)?,
        scope: r.get(1)?,
        service: r.get(2)?,
        started_at: r.get(3)?,
        ended_at: r.get(4)?,
        start_rate: r.get(5)?,
        baseline_rate: r.get(6)?,
        peak_rate: r.get(7)?,
        alerts: r.get(8)?,
        incidents: r.get(9)?,
        lead_incident: r.get(10)?,
        summaries: r.get(11)?,
        next_summary_at: r.get(12)?,
        alerts_at_summary: r.get(13)?,
    })
}

pub fn save_storm(conn: &Connection, s: &StormRow) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO storms ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?
    .execute(params![
        s.id,
        s.scope,
        s.service,
        s.started_at,
        s.ended_at,
        s.start_rate,
        s.baseline_rate,
        s.peak_rate,
        s.alerts,
        s.incidents,
        s.lead_incident,
        s.summaries,
        s.next_summary_at,
        s.alerts_at_summary
    ])?;
    Ok(())
}

/// The storms in progress, oldest first.
pub fn load_active(conn: &Connection) -> rusqlite::Result<Vec<StormRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM storms WHERE ended_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([], storm_row)?;
    rows.collect()
}

/// The newest storms first, at most `limit`.
pub fn list(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<StormRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM storms ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit as i64], storm_row)?;
    rows.collect()
}

pub fn max_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM storms", [], |r| r.get(0))
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM storms", [], |r| r.get(0))
}

/// The storm touched the incident; `held` when the incident opened inside it.
pub fn link_incident(
    conn: &Connection,
    storm_id: i64,
    incident_id: i64,
    held: bool,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO storm_incidents (storm_id, incident_id, held) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![storm_id, incident_id, held])?;
    Ok(())
}

/// The incidents a storm touched and whether each opened inside it, for the engine's memory
/// of a storm in progress.
pub fn incidents_of(conn: &Connection, storm_id: i64) -> rusqlite::Result<Vec<(i64, bool)>> {
    let mut stmt =
        conn.prepare_cached("SELECT incident_id, held FROM storm_incidents WHERE storm_id = ?1")?;
    let rows = stmt.query_map([storm_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The storms that touched an incident, oldest first.
pub fn storms_of_incident(conn: &Connection, incident_id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT storm_id FROM storm_incidents WHERE incident_id = ?1 ORDER BY storm_id",
    )?;
    let rows = stmt.query_map([incident_id], |r| r.get(0))?;
    rows.collect()
}

pub fn save_rate(conn: &Connection, scope: &str, state: Option<&str>) -> rusqlite::Result<()> {
    match state {
        Some(state) => conn
            .prepare_cached("INSERT OR REPLACE INTO storm_rates (scope, state) VALUES (?1, ?2)")?
            .execute(params![scope, state])?,
        None => conn
            .prepare_cached("DELETE FROM storm_rates WHERE scope = ?1")?
            .execute([scope])?,
    };
    Ok(())
}

pub fn load_rates(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT scope, state FROM storm_rates")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The latest outbox row's id: the notifications added after it are the ones just planned.
pub fn last_notification_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM notifications", [], |r| {
        r.get(0)
    })
}

/// Marks the notifications of an incident after `after` as summary number `summary` of a
/// storm; returns how many.
pub fn mark_summaries(
    conn: &Connection,
    incident_id: i64,
    after: i64,
    storm_id: i64,
    summary: i64,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "INSERT INTO storm_notifications (notification_id, storm_id, summary)
         SELECT id, ?3, ?4 FROM notifications WHERE incident_id = ?1 AND id > ?2",
    )?
    .execute(params![incident_id, after, storm_id, summary])
}

/// The storm summary among these notifications, if one is: (storm id, summary number).
pub fn summary_among(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Option<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT storm_id, summary FROM storm_notifications WHERE notification_id = ?1",
    )?;
    for id in ids {
        if let Some(found) = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// What a storm summary says, read when it is sent so it is as fresh as it can be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormSummary {
    pub id: i64,
    pub scope: String,
    pub service: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// New alerts a minute: at the start, normally, at the worst.
    pub start_rate: f64,
    pub baseline_rate: f64,
    pub peak_rate: f64,
    pub alerts: i64,
    pub incidents: i64,
    pub services: i64,
    pub hosts: i64,
    /// The most frequent alert names in its incidents, with how many alerts have each.
    pub top_alerts: Vec<(String, i64)>,
    /// 1 for the first summary, 2 for the first update ...
    pub summary: i64,
}

/// The summary of a storm as it stands.
pub fn summary(
    conn: &Connection,
    storm_id: i64,
    summary: i64,
) -> rusqlite::Result<Option<StormSummary>> {
    let Some(s) = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM storms WHERE id = ?1"),
            [storm_id],
            storm_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let scoped = "FROM alerts WHERE incident_id IN
         (SELECT incident_id FROM storm_incidents WHERE storm_id = ?1)";
    let (services, hosts): (i64, i64) = conn.query_row(
        &format!("SELECT COUNT(DISTINCT service), COUNT(DISTINCT host) {scoped}"),
        [storm_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT name, COUNT(*) AS n {scoped} GROUP BY name ORDER BY n DESC, name LIMIT 5"
    ))?;
    let top_alerts = stmt
        .query_map([storm_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(StormSummary {
        id: s.id,
        scope: s.scope,
        service: s.service,
        started_at: to_rfc3339(s.started_at),
        ended_at: s.ended_at.map(to_rfc3339),
        start_rate: s.start_rate,
        baseline_rate: s.baseline_rate,
        peak_rate: s.peak_rate,
        alerts: s.alerts,
        incidents: s.incidents,
        services,
        hosts,
        top_alerts,
        summary,
    }))
}
