//! Runtime schedule overrides (written by the engine from the event log) and the users'
//! calendar feed tokens (written by the API, like API tokens: they are access secrets, not
//! engine state).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use tocsin_core::schedule::Override;
use tocsin_core::time::{to_rfc3339, Millis};

/// An override as the API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OverrideRow {
    pub id: i64,
    pub schedule: String,
    pub user: String,
    pub start: String,
    pub end: String,
    pub reason: String,
    pub created_at: String,
    pub created_by: String,
    pub deleted_at: Option<String>,
    pub deleted_by: Option<String>,
}

/// The live overrides of a schedule that end after `from`, oldest first (a later one wins
/// where they overlap).
pub fn live_overrides(
    conn: &Connection,
    schedule: &str,
    from: Millis,
) -> rusqlite::Result<Vec<Override>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, starts_at, ends_at FROM schedule_overrides
         WHERE schedule = ?1 AND ends_at > ?2 AND deleted_at IS NULL
         ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map(params![schedule, from], |r| {
        Ok(Override {
            user: r.get(0)?,
            start: r.get(1)?,
            end: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// The overrides of a schedule that end after `after`, deleted ones too when asked, newest
/// first, at most `limit`.
pub fn list_overrides(
    conn: &Connection,
    schedule: &str,
    after: Millis,
    deleted: bool,
    limit: usize,
) -> rusqlite::Result<Vec<OverrideRow>> {
    let filter = if deleted {
        "schedule = ?1 AND ends_at > ?2"
    } else {
        "schedule = ?1 AND ends_at > ?2 AND deleted_at IS NULL"
    };
    list_where(conn, filter, params![schedule, after], limit)
}

/// One override, deleted or not.
pub fn get_override(
    conn: &Connection,
    schedule: &str,
    id: i64,
) -> rusqlite::Result<Option<OverrideRow>> {
    Ok(list_where(conn, "schedule = ?1 AND id = ?2", params![schedule, id], 1)?.pop())
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
    limit: usize,
) -> rusqlite::Result<Vec<OverrideRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, schedule, user_id, starts_at, ends_at, reason, created_at, created_by,
                deleted_at, deleted_by
         FROM schedule_overrides WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(args, |r| {
        Ok(OverrideRow {
            id: r.get(0)?,
            schedule: r.get(1)?,
            user: r.get(2)?,
            start: to_rfc3339(r.get(3)?),
            end: to_rfc3339(r.get(4)?),
            reason: r.get(5)?,
            created_at: to_rfc3339(r.get(6)?),
            created_by: r.get(7)?,
            deleted_at: r.get::<_, Option<Millis>>(8)?.map(to_rfc3339),
            deleted_by: r.get(9)?,
        })
    })?;
    rows.collect()
}

/// An override as the engine records it.
pub struct NewOverride<'a> {
    pub id: i64,
    pub schedule: &'a str,
    pub user: &'a str,
    pub start: Millis,
    pub end: Millis,
    pub reason: &'a str,
    pub at: Millis,
    pub by: &'a str,
}

/// Records an override; false when one with that id exists already.
pub fn insert_override(tx: &Transaction<'_>, o: &NewOverride<'_>) -> rusqlite::Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO schedule_overrides (id, schedule, user_id, starts_at, ends_at, reason,
                 created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            o.id, o.schedule, o.user, o.start, o.end, o.reason, o.at, o.by
        ])?;
    Ok(n == 1)
}

/// Marks an override deleted; false when there is no live one with that id on the schedule.
pub fn delete_override(
    tx: &Transaction<'_>,
    schedule: &str,
    id: i64,
    at: Millis,
    by: &str,
) -> rusqlite::Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE schedule_overrides SET deleted_at = ?3, deleted_by = ?4
             WHERE id = ?1 AND schedule = ?2 AND deleted_at IS NULL",
        )?
        .execute(params![id, schedule, at, by])?;
    Ok(n == 1)
}

/// Sets a user's calendar token (replacing any earlier one).
pub fn set_calendar_token(
    conn: &Connection,
    user: &str,
    sha256: &str,
    at: Millis,
    by: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO calendar_tokens (user_id, sha256, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET sha256 = excluded.sha256,
             created_at = excluded.created_at, created_by = excluded.created_by",
        params![user, sha256, at, by],
    )?;
    Ok(())
}

/// The user a calendar token belongs to.
pub fn calendar_user(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT user_id FROM calendar_tokens WHERE sha256 = ?1",
        [sha256],
        |r| r.get(0),
    )
    .optional()
}
