//! The engine's side of the store: loading its in-memory index at start, and writing the
//! changes of one batch of log entries in one transaction.

use crate::codec::json_or_default;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::IncidentState;
use tocsin_core::priority::{Level, Priority};
use tocsin_core::time::Millis;

/// The part of an alert the engine keeps in memory: small, because there is one per alert.
/// Text fields live only in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertState {
    pub id: i64,
    pub incident_id: i64,
    /// When it resolves by itself unless sent again; 0 when never.
    pub ends_at: Millis,
    pub occurrences: u32,
    pub episode: u32,
    pub status: Status,
    pub severity: Severity,
}

/// An incident as stored; the engine keeps these in memory whole (there are far fewer
/// incidents than alerts).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    pub id: i64,
    pub title: String,
    pub service: String,
    pub team: String,
    pub state: IncidentState,
    pub priority: Priority,
    pub priority_manual: bool,
    pub impact: Level,
    /// The worst severity any of its alerts had.
    pub severity: Severity,
    pub group_key: String,
    pub assignee: Option<String>,
    pub alert_count: i64,
    pub firing_count: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub last_alert_at: Millis,
}

/// Text form of enums in the store ([`crate::codec::parse_or`]), as a SQLite error.
pub(crate) fn parse_or<V: std::fmt::Debug + Copy, T>(
    value: V,
    parse: impl Fn(V) -> Option<T>,
    what: &str,
) -> rusqlite::Result<T> {
    crate::codec::parse_or(value, parse, what).map_err(bad_value)
}

/// A stored value the code cannot read, as a SQLite error.
pub(crate) fn bad_value(e: crate::codec::BadValue) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<i64> {
    let v: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(v.unwrap_or(0))
}

/// The last log entry applied to the store.
pub fn applied_lsn(conn: &Connection) -> rusqlite::Result<u64> {
    Ok(meta(conn, "applied_lsn")? as u64)
}

/// The number the next alert history entry gets.
pub fn next_history_seq(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(meta(conn, "history_seq")?.max(1))
}

/// The last ping of every heartbeat that has been pinged.
pub fn load_heartbeats(conn: &Connection) -> rusqlite::Result<Vec<(String, Millis)>> {
    let mut stmt = conn.prepare("SELECT name, last_ping FROM heartbeats")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Calls `f` with the identity and state of every stored alert, the silences that mute it
/// and the source alerts that inhibit it (none for most).
pub fn load_alerts(
    conn: &Connection,
    mut f: impl FnMut(&str, &str, AlertState, Vec<String>, Vec<i64>),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, source, dedup_key, status, severity, episode, occurrences, ends_at, incident_id,
                silenced_by, inhibited_by
         FROM alerts",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let source: String = r.get(1)?;
        let dedup_key: String = r.get(2)?;
        let status: String = r.get(3)?;
        let severity: String = r.get(4)?;
        let state = AlertState {
            id: r.get(0)?,
            status: parse_or(status.as_str(), Status::parse, "status")?,
            severity: parse_or(severity.as_str(), Severity::parse, "severity")?,
            episode: r.get(5)?,
            occurrences: r.get(6)?,
            ends_at: r.get::<_, Option<i64>>(7)?.unwrap_or(0),
            incident_id: r.get(8)?,
        };
        let silenced_by: Option<String> = r.get(9)?;
        let silenced_by = json_or_default(silenced_by.as_deref());
        let inhibited_by: Option<String> = r.get(10)?;
        let inhibited_by = json_or_default(inhibited_by.as_deref());
        f(&source, &dedup_key, state, silenced_by, inhibited_by);
    }
    Ok(())
}

/// An alert that changed state recently, as [`load_flaps`] reads it back.
pub struct FlapRow {
    pub source: String,
    pub dedup_key: String,
    pub name: String,
    /// Its recent state changes, oldest first.
    pub changes: Vec<Millis>,
    pub flapping: bool,
}

/// The alerts with recent state changes (few: the rest have none kept).
pub fn load_flaps(conn: &Connection, mut f: impl FnMut(FlapRow)) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT a.source, a.dedup_key, a.name, f.changes, a.flapping
         FROM alert_flaps f JOIN alerts a ON a.id = f.alert_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let changes: String = r.get(3)?;
        f(FlapRow {
            source: r.get(0)?,
            dedup_key: r.get(1)?,
            name: r.get(2)?,
            changes: json_or_default(Some(&changes)),
            flapping: r.get(4)?,
        });
    }
    Ok(())
}

pub fn load_incidents(
    conn: &Connection,
    mut f: impl FnMut(IncidentRecord),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, title, service, team, state, priority, priority_manual, impact, severity,
                group_key, assignee, alert_count, firing_count, created_at, updated_at,
                acknowledged_at, resolved_at, closed_at, last_alert_at
         FROM incidents",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(4)?;
        let impact: String = r.get(7)?;
        let severity: String = r.get(8)?;
        let priority: u8 = r.get(5)?;
        f(IncidentRecord {
            id: r.get(0)?,
            title: r.get(1)?,
            service: r.get(2)?,
            team: r.get(3)?,
            state: parse_or(state.as_str(), IncidentState::parse, "incident state")?,
            priority: parse_or(priority, Priority::new, "priority")?,
            priority_manual: r.get(6)?,
            impact: parse_or(impact.as_str(), Level::parse, "impact")?,
            severity: parse_or(severity.as_str(), Severity::parse, "severity")?,
            group_key: r.get(9)?,
            assignee: r.get(10)?,
            alert_count: r.get(11)?,
            firing_count: r.get(12)?,
            created_at: r.get(13)?,
            updated_at: r.get(14)?,
            acknowledged_at: r.get(15)?,
            resolved_at: r.get(16)?,
            closed_at: r.get(17)?,
            last_alert_at: r.get(18)?,
        });
    }
    Ok(())
}

/// The highest ids in use, so the engine can number new rows itself (it writes them later,
/// in one batch).
pub fn max_ids(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let a = conn.query_row("SELECT coalesce(max(id), 0) FROM alerts", [], |r| r.get(0))?;
    let i = conn.query_row("SELECT coalesce(max(id), 0) FROM incidents", [], |r| {
        r.get(0)
    })?;
    Ok((a, i))
}

/// The writes of one engine batch, inside one transaction.
pub struct BatchWriter<'t, 'c> {
    pub(crate) tx: &'t Transaction<'c>,
}

/// What mutes an alert, as the JSON arrays stored: the silences (`silenced_by`) and the
/// inhibiting source alerts (`inhibited_by`); `None` when nothing does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Muting<'a> {
    pub silenced_by: Option<&'a str>,
    pub inhibited_by: Option<&'a str>,
}

impl<'t, 'c> BatchWriter<'t, 'c> {
    pub fn new(tx: &'t Transaction<'c>) -> Self {
        BatchWriter { tx }
    }

    /// Inserts or updates an alert with the content of the event that last touched it.
    pub fn upsert_alert(
        &self,
        a: &AlertState,
        service: &str,
        host: Option<&str>,
        e: &Event,
        muting: Muting<'_>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO alerts (id, source, dedup_key, name, service, status, severity, summary,
                 description, labels, links, episode, occurrences, first_seen, last_seen,
                 started_at, resolved_at, ends_at, incident_id, integration, host, silenced_by,
                 inhibited_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22)
             ON CONFLICT (id) DO UPDATE SET
                 integration = excluded.integration, host = excluded.host,
                 name = excluded.name, service = excluded.service, status = excluded.status,
                 severity = excluded.severity, summary = excluded.summary,
                 description = excluded.description, labels = excluded.labels,
                 links = excluded.links, occurrences = excluded.occurrences,
                 last_seen = excluded.last_seen,
                 started_at = CASE WHEN excluded.episode != alerts.episode
                                   THEN excluded.started_at ELSE alerts.started_at END,
                 episode = excluded.episode,
                 resolved_at = excluded.resolved_at, ends_at = excluded.ends_at,
                 incident_id = excluded.incident_id, silenced_by = excluded.silenced_by,
                 inhibited_by = excluded.inhibited_by",
        )?;
        let labels = serde_json::to_string(&e.labels).unwrap_or_else(|_| "{}".into());
        let links = serde_json::to_string(&e.links).unwrap_or_else(|_| "[]".into());
        let resolved_at = (a.status == Status::Resolved).then_some(e.occurred_at);
        stmt.execute(params![
            a.id,
            e.source,
            e.dedup_key,
            e.name,
            service,
            a.status.as_str(),
            a.severity.as_str(),
            e.summary,
            e.description,
            labels,
            links,
            a.episode,
            a.occurrences,
            e.received_at,
            e.occurred_at,
            resolved_at,
            (a.ends_at != 0).then_some(a.ends_at),
            a.incident_id,
            e.integration,
            host,
            muting.silenced_by,
            muting.inhibited_by,
        ])?;
        Ok(())
    }

    /// Updates only the state of an alert: it resolved (by an event or a time-out), or a
    /// silence or inhibition muted it or let it go. `seen` is when a resolve event arrived;
    /// a time-out leaves `last_seen` alone. A resolve time before the alert started (the
    /// sender's clock, or an event for an earlier episode) is the start: an alert never
    /// shows resolved before it fired.
    pub fn update_alert_state(
        &self,
        a: &AlertState,
        resolved_at: Option<Millis>,
        seen: Option<Millis>,
        muting: Muting<'_>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "UPDATE alerts SET status = ?2, resolved_at = max(?3, started_at), ends_at = ?4,
                 incident_id = ?5, occurrences = ?6, last_seen = max(last_seen, coalesce(?7, last_seen)),
                 silenced_by = ?8, inhibited_by = ?9
             WHERE id = ?1",
        )?;
        stmt.execute(params![
            a.id,
            a.status.as_str(),
            resolved_at,
            (a.ends_at != 0).then_some(a.ends_at),
            a.incident_id,
            a.occurrences,
            seen,
            muting.silenced_by,
            muting.inhibited_by
        ])?;
        Ok(())
    }

    /// Keeps an alert's recent state changes (`None`: it has none left to count) and whether
    /// it flaps. Written after the alert's own row, which it updates.
    pub fn alert_flaps(
        &self,
        alert_id: i64,
        changes: Option<&[Millis]>,
        flapping: bool,
    ) -> rusqlite::Result<()> {
        match changes {
            Some(changes) => {
                let text = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
                self.tx
                    .prepare_cached(
                        "INSERT INTO alert_flaps (alert_id, changes) VALUES (?1, ?2)
                         ON CONFLICT (alert_id) DO UPDATE SET changes = excluded.changes",
                    )?
                    .execute(params![alert_id, text])?;
            }
            None => {
                self.tx
                    .prepare_cached("DELETE FROM alert_flaps WHERE alert_id = ?1")?
                    .execute([alert_id])?;
            }
        }
        self.tx
            .prepare_cached("UPDATE alerts SET flapping = ?2 WHERE id = ?1 AND flapping != ?2")?
            .execute(params![alert_id, flapping])?;
        Ok(())
    }

    /// Records a heartbeat's latest ping.
    pub fn heartbeat(&self, name: &str, last_ping: Millis) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO heartbeats (name, last_ping) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET last_ping = max(last_ping, excluded.last_ping)",
        )?;
        stmt.execute(params![name, last_ping])?;
        Ok(())
    }

    pub fn alert_history(
        &self,
        alert_id: i64,
        seq: i64,
        episode: u32,
        incident_id: i64,
        kind: &str,
        at: Millis,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO alert_history (alert_id, seq, episode, incident_id, kind, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        stmt.execute(params![alert_id, seq, episode, incident_id, kind, at])?;
        Ok(())
    }

    /// A person moved the alert into another incident (a merge or a split): only its
    /// incident changes, so a resolved alert keeps its end.
    pub fn move_alert(&self, alert_id: i64, incident_id: i64) -> rusqlite::Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached("UPDATE alerts SET incident_id = ?2 WHERE id = ?1")?;
        stmt.execute(params![alert_id, incident_id])?;
        Ok(())
    }

    pub fn upsert_incident(&self, i: &IncidentRecord) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO incidents (id, title, service, team, state, priority,
                 priority_manual, impact, severity, group_key, assignee, alert_count,
                 firing_count, created_at, updated_at, acknowledged_at, resolved_at, closed_at,
                 last_alert_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19)",
        )?;
        stmt.execute(params![
            i.id,
            i.title,
            i.service,
            i.team,
            i.state.as_str(),
            i.priority.number(),
            i.priority_manual,
            i.impact.as_str(),
            i.severity.as_str(),
            i.group_key,
            i.assignee,
            i.alert_count,
            i.firing_count,
            i.created_at,
            i.updated_at,
            i.acknowledged_at,
            i.resolved_at,
            i.closed_at,
            i.last_alert_at,
        ])?;
        Ok(())
    }

    pub fn timeline(
        &self,
        incident_id: i64,
        at: Millis,
        actor: &str,
        kind: &str,
        message: &str,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO incident_timeline (incident_id, at, actor, kind, message)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        stmt.execute(params![incident_id, at, actor, kind, message])?;
        Ok(())
    }

    /// Records how far the log is applied and the next history number, with the batch.
    pub fn set_progress(&self, lsn: u64, history_seq: i64) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO meta (key, value) VALUES ('applied_lsn', ?1), ('history_seq', ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute(params![lsn as i64, history_seq])?;
        Ok(())
    }
}

/// One alert firing into an incident, for rebuilding what topology correlation remembers.
pub struct FiringRow {
    pub incident_id: i64,
    pub at: Millis,
    pub source: String,
    pub name: String,
    pub service: String,
    pub host: Option<String>,
}

/// The alerts that fired into incidents since `since`, oldest first; a person moving an
/// alert into an incident (a merge or a split) counts as a firing there.
pub fn load_firings_since(
    conn: &Connection,
    since: Millis,
    mut f: impl FnMut(FiringRow),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT h.incident_id, h.at, a.source, a.name, a.service, a.host
         FROM alert_history h JOIN alerts a ON a.id = h.alert_id
         WHERE h.kind IN ('fired', 'merged', 'split') AND h.incident_id > 0 AND h.at >= ?1
         ORDER BY h.at, h.alert_id",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        f(FiringRow {
            incident_id: r.get(0)?,
            at: r.get(1)?,
            source: r.get(2)?,
            name: r.get(3)?,
            service: r.get(4)?,
            host: r.get(5)?,
        });
    }
    Ok(())
}

/// The time of the latest alert history entry (0 when there is none).
pub fn last_history_at(conn: &Connection) -> rusqlite::Result<Millis> {
    conn.query_row("SELECT coalesce(max(at), 0) FROM alert_history", [], |r| {
        r.get(0)
    })
}

/// The alerts a person moved (merged or split) into an incident that is still open, as
/// `(source, dedup_key, incident_id)`: the engine sends their re-fires back there.
pub fn load_moved(conn: &Connection, mut f: impl FnMut(&str, &str, i64)) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT a.source, a.dedup_key, a.incident_id
         FROM incidents i JOIN alerts a ON a.incident_id = i.id
         WHERE i.state IN ('triggered', 'acknowledged')
           AND EXISTS (SELECT 1 FROM alert_history h
                       WHERE h.alert_id = a.id AND h.incident_id = a.incident_id
                         AND h.kind IN ('merged', 'split'))",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(&r.get::<_, String>(0)?, &r.get::<_, String>(1)?, r.get(2)?);
    }
    Ok(())
}

/// Where an alert is and what it is called, for moving it between incidents.
pub struct AlertPlace {
    pub source: String,
    pub dedup_key: String,
    pub name: String,
    pub summary: String,
    pub service: String,
    pub host: Option<String>,
}

pub fn alert_place(conn: &Connection, id: i64) -> rusqlite::Result<Option<AlertPlace>> {
    conn.prepare_cached(
        "SELECT source, dedup_key, name, summary, service, host FROM alerts WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(AlertPlace {
            source: r.get(0)?,
            dedup_key: r.get(1)?,
            name: r.get(2)?,
            summary: r.get(3)?,
            service: r.get(4)?,
            host: r.get(5)?,
        })
    })
    .optional()
}
