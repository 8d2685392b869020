//! Paging state: incidents' escalations, round-robin cursors, and the notification outbox.
//! The engine is the only writer (in log order); the dispatcher and the API read.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use tocsin_core::time::{to_rfc3339, Millis};

/// An incident's escalation, as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRow {
    pub incident_id: i64,
    pub policy: String,
    pub level: usize,
    pub round: u32,
    pub next_at: Option<Millis>,
    /// `running`, `acknowledged`, `done` or `stopped`.
    pub state: String,
    pub started_at: Millis,
}

const ESCALATION_COLUMNS: &str = "incident_id, policy, level, round, next_at, state, started_at";

impl EscalationRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(EscalationRow {
            incident_id: r.get(0)?,
            policy: r.get(1)?,
            level: r.get::<_, i64>(2)? as usize,
            round: r.get(3)?,
            next_at: r.get(4)?,
            state: r.get(5)?,
            started_at: r.get(6)?,
        })
    }
}

pub fn load_escalations(conn: &Connection) -> rusqlite::Result<Vec<EscalationRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE state IN ('running', 'acknowledged')"
    ))?;
    let rows = stmt.query_map([], EscalationRow::from_row)?;
    rows.collect()
}

/// One incident's escalation in whatever state it is, for the console to say where it
/// stands and what is due next.
pub fn escalation(conn: &Connection, incident_id: i64) -> rusqlite::Result<Option<EscalationRow>> {
    conn.query_row(
        &format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = ?1"),
        [incident_id],
        EscalationRow::from_row,
    )
    .optional()
}

pub fn save_escalation(conn: &Connection, e: &EscalationRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO escalations (incident_id, policy, level, round, next_at, state,
             started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.incident_id,
        e.policy,
        e.level as i64,
        e.round,
        e.next_at,
        e.state,
        e.started_at
    ])?;
    Ok(())
}

/// Takes the next member index of a round-robin team (and advances it).
pub fn take_team_turn(conn: &Connection, team: &str) -> rusqlite::Result<i64> {
    let next: i64 = conn
        .query_row(
            "SELECT next FROM team_rotation WHERE team = ?1",
            [team],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    conn.prepare_cached(
        "INSERT INTO team_rotation (team, next) VALUES (?1, ?2)
         ON CONFLICT (team) DO UPDATE SET next = excluded.next",
    )?
    .execute(params![team, next + 1])?;
    Ok(next)
}

/// The member index a round-robin team pages next, without taking the turn.
pub fn peek_team_turn(conn: &Connection, team: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT next FROM team_rotation WHERE team = ?1",
            [team],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// A notification the engine decided to send.
pub struct NewNotification<'a> {
    pub incident_id: i64,
    pub user: &'a str,
    pub contact: usize,
    pub contact_type: &'a str,
    pub address: &'a str,
    pub channel: &'a str,
    pub level: Option<usize>,
    pub round: Option<u32>,
    pub reason: &'a str,
    pub due_at: Millis,
    pub only_if_unacked: bool,
    pub at: Millis,
    /// `page`, `update` (alerts joined since `since`) or `repeat`, see `group_timers.rs`;
    /// or a follow-up, `acknowledged` or `resolved`.
    pub kind: &'a str,
    pub since: Option<Millis>,
    /// A follow-up's who and what they wrote (empty: nothing).
    pub actor: Option<&'a str>,
    pub comment: Option<&'a str>,
}

/// The kinds of notification that page someone (a page, an update of one, a reminder), as an
/// SQL list; the others, `acknowledged` and `resolved`, are follow-ups.
pub(crate) const PAGE_KINDS: &str = "('page', 'update', 'repeat')";

pub fn insert_notification(conn: &Connection, n: &NewNotification<'_>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO notifications (incident_id, user_id, contact, contact_type, address,
             channel, level, round, reason, due_at, only_if_unacked, state, created_at, kind,
             since, actor, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12, ?13, ?14, ?15,
             ?16)",
    )?
    .execute(params![
        n.incident_id,
        n.user,
        n.contact as i64,
        n.contact_type,
        n.address,
        n.channel,
        n.level.map(|l| l as i64),
        n.round,
        n.reason,
        n.due_at,
        n.only_if_unacked,
        n.at,
        n.kind,
        n.since,
        n.actor,
        n.comment
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Cancels an incident's pending pages (all, or only those sent only if it is still
/// unacknowledged); returns how many. Follow-ups are not cancelled: a resolve right after an
/// acknowledgement still leaves both told.
pub fn cancel_notifications(
    conn: &Connection,
    incident_id: i64,
    only_unacked_ones: bool,
) -> rusqlite::Result<usize> {
    let which = if only_unacked_ones {
        "only_if_unacked = 1".to_string()
    } else {
        format!("kind IN {PAGE_KINDS}")
    };
    conn.prepare_cached(&format!(
        "UPDATE notifications SET state = 'cancelled'
         WHERE incident_id = ?1 AND state = 'pending' AND {which}"
    ))?
    .execute([incident_id])
}

/// A notification as the dispatcher and the API see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub incident_id: i64,
    pub user: String,
    #[serde(skip)]
    pub contact: usize,
    pub contact_type: String,
    pub address: String,
    pub channel: String,
    pub level: Option<i64>,
    pub round: Option<i64>,
    /// Why this person, over this contact (the policy level and the rule).
    pub reason: String,
    #[serde(skip)]
    pub due_ms: Millis,
    pub due_at: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    /// `page`, `update` or `repeat`; `acknowledged` or `resolved` for a follow-up.
    pub kind: String,
    /// For an update: the alerts that joined after this time are new to the reader.
    #[serde(skip)]
    pub since: Option<Millis>,
    /// A follow-up's who and what they wrote.
    pub actor: Option<String>,
    pub comment: Option<String>,
    /// When the engine decided it (for a follow-up: when the incident was acknowledged or
    /// resolved).
    #[serde(skip)]
    pub created_ms: Millis,
}

const COLUMNS: &str = "id, incident_id, user_id, contact, contact_type, address, channel, level,
    round, reason, due_at, state, attempts, last_error, sent_at, kind, since, actor, comment,
    created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        user: r.get(2)?,
        contact: r.get::<_, i64>(3)? as usize,
        contact_type: r.get(4)?,
        address: r.get(5)?,
        channel: r.get(6)?,
        level: r.get(7)?,
        round: r.get(8)?,
        reason: r.get(9)?,
        due_ms: r.get(10)?,
        due_at: to_rfc3339(r.get(10)?),
        state: r.get(11)?,
        attempts: r.get(12)?,
        last_error: r.get(13)?,
        sent_at: r.get::<_, Option<Millis>>(14)?.map(to_rfc3339),
        kind: r.get(15)?,
        since: r.get(16)?,
        actor: r.get(17)?,
        comment: r.get(18)?,
        created_ms: r.get(19)?,
    })
}

/// The contacts an incident's pages (pages, updates, reminders) reached, in the order they
/// were sent: who is told of its acknowledgement and resolution.
pub fn paged_contacts(
    conn: &Connection,
    incident_id: i64,
) -> rusqlite::Result<Vec<tocsin_core::paging::Paged>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT user_id, contact, channel, address FROM notifications
         WHERE incident_id = ?1 AND state = 'sent' AND kind IN {PAGE_KINDS}
         ORDER BY sent_at, id"
    ))?;
    let rows = stmt.query_map([incident_id], |r| {
        Ok(tocsin_core::paging::Paged {
            user: r.get(0)?,
            contact: r.get::<_, i64>(1)? as usize,
            channel: r.get(2)?,
            address: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Pending notifications due by `now`, oldest first.
pub fn due_notifications(
    conn: &Connection,
    now: Millis,
    limit: usize,
) -> rusqlite::Result<Vec<NotificationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE state = 'pending' AND due_at <= ?1
         ORDER BY due_at, id LIMIT {limit}"
    ))?;
    let rows = stmt.query_map([now], row)?;
    rows.collect()
}

/// When the next pending notification falls due.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<Millis>> {
    conn.query_row(
        "SELECT min(due_at) FROM notifications WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )
}

pub fn incident_notifications(
    conn: &Connection,
    incident_id: i64,
) -> rusqlite::Result<Vec<NotificationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE incident_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([incident_id], row)?;
    rows.collect()
}

pub fn notification(conn: &Connection, id: i64) -> rusqlite::Result<Option<NotificationRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

/// The notifications of an incident to a user: (contact index, id, state, due time).
pub fn user_notifications(
    conn: &Connection,
    incident_id: i64,
    user: &str,
) -> rusqlite::Result<Vec<(usize, i64, String, Millis)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT contact, id, state, due_at FROM notifications
         WHERE incident_id = ?1 AND user_id = ?2",
    )?;
    let rows = stmt.query_map(params![incident_id, user], |r| {
        Ok((
            r.get::<_, i64>(0)? as usize,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
        ))
    })?;
    rows.collect()
}

/// Makes a pending notification due at `at` (a fallback brings a later step forward).
pub fn bring_forward(conn: &Connection, id: i64, at: Millis) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE notifications SET due_at = min(due_at, ?2) WHERE id = ?1 AND state = 'pending'",
    )?
    .execute(params![id, at])?;
    Ok(())
}

/// Records a delivery attempt: `sent`, `failed` (for good), or still `pending` with a new due
/// time (a retry).
pub fn record_attempt(
    conn: &Connection,
    id: i64,
    state: &str,
    retry_at: Option<Millis>,
    error: Option<&str>,
    at: Millis,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE notifications SET state = ?2, attempts = attempts + 1, last_error = ?4,
             due_at = coalesce(?3, due_at),
             sent_at = CASE WHEN ?2 = 'sent' THEN ?5 ELSE sent_at END
         WHERE id = ?1",
    )?
    .execute(params![id, state, retry_at, error, at])?;
    Ok(())
}

/// What waits in the outbox: notifications due and not sent yet, or being retried.
/// Escalation steps and contact-plan steps scheduled for later are not waiting yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub waiting: i64,
    /// When the oldest of them first fell due; for one already tried (a retry moves its
    /// due time) when the engine queued it.
    pub oldest: Option<Millis>,
}

/// The outbox's backlog at `now`, for `/metrics`. Only pending rows are read, through
/// `notifications_pending`: sent and failed ones (the whole history) are not looked at.
pub fn backlog(conn: &Connection, now: Millis) -> rusqlite::Result<Backlog> {
    conn.prepare_cached(BACKLOG)?.query_row([now], |r| {
        Ok(Backlog {
            waiting: r.get(0)?,
            oldest: r.get(1)?,
        })
    })
}

const BACKLOG: &str = "SELECT count(*), min(CASE WHEN attempts = 0 THEN due_at ELSE created_at END)
     FROM notifications WHERE state = 'pending' AND (due_at <= ?1 OR attempts > 0)";

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(conn: &Connection, incident_id: i64, due_at: Millis, at: Millis) -> i64 {
        insert_notification(
            conn,
            &NewNotification {
                incident_id,
                user: "alice",
                contact: 0,
                contact_type: "webhook",
                address: "alice",
                channel: "hook",
                level: Some(0),
                round: Some(0),
                reason: "test",
                due_at,
                only_if_unacked: false,
                at,
                kind: "page",
                since: None,
                actor: None,
                comment: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn the_backlog_counts_what_is_due_or_retried_and_reads_only_pending_rows() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::sqlite::open_writer(&dir.path().join("t.db")).unwrap();
        assert_eq!(backlog(&conn, 0).unwrap(), Backlog::default());
        let sent = queue(&conn, 1, 1_000, 1_000);
        record_attempt(&conn, sent, "sent", None, None, 1_100).unwrap();
        queue(&conn, 2, 5_000, 2_000); // due at 5 s
        queue(&conn, 3, 900_000, 2_000); // a later step, not waiting yet
        let retried = queue(&conn, 4, 3_000, 3_000);
        record_attempt(
            &conn,
            retried,
            "pending",
            Some(60_000),
            Some("HTTP 500"),
            3_100,
        )
        .unwrap();
        assert_eq!(
            backlog(&conn, 10_000).unwrap(),
            Backlog {
                waiting: 2,
                oldest: Some(3_000)
            },
            "the due one (5 s) and the retried one (queued at 3 s, retry at 60 s)"
        );
        let plan: String = conn
            .query_row(&format!("EXPLAIN QUERY PLAN {BACKLOG}"), [10_000], |r| {
                r.get(3)
            })
            .unwrap();
        assert!(
            plan.contains("USING INDEX notifications_pending (state=?)"),
            "{plan}"
        );
    }
}
