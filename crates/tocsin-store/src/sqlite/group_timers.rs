//! Group timing state (`group_wait`, `group_interval`, `repeat_interval`) of open incidents,
//! and the outbox reads it needs. The engine is the only writer, in log order.

use rusqlite::{params, Connection, OptionalExtension};
use tocsin_core::time::Millis;

/// One incident's timers, as the engine keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTimerRow {
    pub incident_id: i64,
    pub wait_until: Option<Millis>,
    pub next_update_at: Option<Millis>,
    /// The alert count the people paged have been told of, and when.
    pub announced: i64,
    pub announced_at: Millis,
    pub next_repeat_at: Option<Millis>,
}

impl GroupTimerRow {
    /// Whether any timer still runs.
    pub fn is_running(&self) -> bool {
        self.wait_until.is_some() || self.next_update_at.is_some() || self.next_repeat_at.is_some()
    }
}

pub fn load(conn: &Connection) -> rusqlite::Result<Vec<GroupTimerRow>> {
    let mut stmt = conn.prepare(
        "SELECT incident_id, wait_until, next_update_at, announced, announced_at, next_repeat_at
         FROM group_timers",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(GroupTimerRow {
            incident_id: r.get(0)?,
            wait_until: r.get(1)?,
            next_update_at: r.get(2)?,
            announced: r.get(3)?,
            announced_at: r.get(4)?,
            next_repeat_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Writes the row, or deletes it once no timer runs.
pub fn save(conn: &Connection, t: &GroupTimerRow) -> rusqlite::Result<()> {
    if !t.is_running() {
        conn.prepare_cached("DELETE FROM group_timers WHERE incident_id = ?1")?
            .execute([t.incident_id])?;
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO group_timers (incident_id, wait_until, next_update_at, announced,
             announced_at, next_repeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        t.incident_id,
        t.wait_until,
        t.next_update_at,
        t.announced,
        t.announced_at,
        t.next_repeat_at
    ])?;
    Ok(())
}

/// The people already paged about an incident, by `at`: each user with the contact that
/// reached them first, as (user, contact index). Updates and repeats are not pages; voice
/// calls are passed over, since an update is not worth a call.
pub fn paged_people(
    conn: &Connection,
    incident_id: i64,
    at: Millis,
) -> rusqlite::Result<Vec<(String, usize)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, min(contact) FROM notifications
         WHERE incident_id = ?1 AND kind = 'page' AND contact_type <> 'voice'
           AND state IN ('pending', 'sent') AND due_at <= ?2
         GROUP BY user_id ORDER BY min(id)",
    )?;
    let rows = stmt.query_map(params![incident_id, at], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
    })?;
    rows.collect()
}

/// When the incident's people were last paged or repeated to (not updated), if ever.
pub fn last_page_at(conn: &Connection, incident_id: i64) -> rusqlite::Result<Option<Millis>> {
    conn.prepare_cached(
        "SELECT max(created_at) FROM notifications
         WHERE incident_id = ?1 AND kind IN ('page', 'repeat') AND state <> 'cancelled'",
    )?
    .query_row([incident_id], |r| r.get(0))
}

/// The names of the alerts that joined an incident after `since` and by `until`, first
/// joined first: what an update tells.
pub fn joined_alerts(
    conn: &Connection,
    incident_id: i64,
    since: Millis,
    until: Millis,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.name FROM alert_history h JOIN alerts a ON a.id = h.alert_id
         WHERE h.incident_id = ?1 AND h.at > ?2 AND h.at <= ?3
           AND h.kind IN ('fired', 'reattached', 'unsilenced', 'uninhibited')
           AND NOT EXISTS (SELECT 1 FROM alert_history o
                           WHERE o.alert_id = h.alert_id AND o.incident_id = ?1 AND o.at <= ?2)
         GROUP BY h.alert_id ORDER BY min(h.seq)",
    )?;
    let rows = stmt.query_map(params![incident_id, since, until], |r| r.get(0))?;
    rows.collect()
}

/// Where an incident's escalation stands: (policy, level index, state), finished ones too
/// (the engine keeps only moving ones in memory, and a repeat pages the level reached).
pub fn escalation_level(
    conn: &Connection,
    incident_id: i64,
) -> rusqlite::Result<Option<(String, usize, String)>> {
    conn.prepare_cached("SELECT policy, level, state FROM escalations WHERE incident_id = ?1")?
        .query_row([incident_id], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as usize, r.get(2)?))
        })
        .optional()
}
