//! The rows behind a report (`tocsin_core::reports`) of a range `[from, to)`:
//! - incidents by `created_at`, with the team and service they were opened with;
//! - alert firings by `alert_history`'s `fired` rows, one per episode that started, so an
//!   alert that fires again next week counts again then (an alert's `first_seen` would count
//!   it once, in the week it first fired, however often it came back);
//! - notifications by `sent_at`, those that reached someone (`state = 'sent'`).
//!
//! Each is one pass over its table: with no index on these times, a scan is what SQLite
//! would do anyway for a month of a busy store, and an index on each would cost every write
//! the engine makes. The store test seeds 100,000 alerts to keep that honest.

use rusqlite::{params, Connection};
use tocsin_core::reports::{Facts, FiringFact, IncidentFact, PageFact};
use tocsin_core::time::Millis;

pub fn facts(conn: &Connection, from: Millis, to: Millis) -> rusqlite::Result<Facts> {
    Ok(Facts {
        incidents: incidents(conn, from, to)?,
        firings: firings(conn, from, to)?,
        pages: pages(conn, from, to)?,
    })
}

fn incidents(conn: &Connection, from: Millis, to: Millis) -> rusqlite::Result<Vec<IncidentFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, team, service, created_at, acknowledged_at, resolved_at FROM incidents
         WHERE created_at >= ?1 AND created_at < ?2",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(IncidentFact {
            id: r.get(0)?,
            team: r.get(1)?,
            service: r.get(2)?,
            created_at: r.get(3)?,
            acknowledged_at: r.get(4)?,
            resolved_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

fn firings(conn: &Connection, from: Millis, to: Millis) -> rusqlite::Result<Vec<FiringFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.alert_id, a.name, a.service, h.incident_id, h.at, a.occurrences
           FROM alert_history h JOIN alerts a ON a.id = h.alert_id
          WHERE h.kind = 'fired' AND h.at >= ?1 AND h.at < ?2",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(FiringFact {
            alert_id: r.get(0)?,
            name: r.get(1)?,
            service: r.get(2)?,
            incident_id: r.get(3)?,
            at: r.get(4)?,
            occurrences: r.get(5)?,
        })
    })?;
    rows.collect()
}

fn pages(conn: &Connection, from: Millis, to: Millis) -> rusqlite::Result<Vec<PageFact>> {
    // Follow-ups only say what happened: a person's load is what paged them.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT n.user_id, n.incident_id, i.team, i.service, n.sent_at
           FROM notifications n JOIN incidents i ON i.id = n.incident_id
          WHERE n.state = 'sent' AND n.sent_at >= ?1 AND n.sent_at < ?2
            AND n.kind IN {}",
        super::paging::PAGE_KINDS
    ))?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(PageFact {
            user: r.get(0)?,
            incident_id: r.get(1)?,
            team: r.get(2)?,
            service: r.get(3)?,
            sent_at: r.get(4)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests;
