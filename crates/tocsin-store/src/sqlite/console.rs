//! The web console's own tables: accounts an admin made, signed-in sessions (by the hash of
//! their cookie) and each person's language and zone. Written by the HTTP edge directly, like
//! API tokens: they are access control, not engine state.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use tocsin_core::auth::Role;
use tocsin_core::time::{to_rfc3339, Millis};

#[derive(Debug, Clone, Serialize)]
pub struct LoginRow {
    pub id: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: String,
    pub created_by: String,
}

pub fn logins(conn: &Connection) -> rusqlite::Result<Vec<LoginRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, role, password_hash, created_at, created_by
           FROM console_logins ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let role: String = r.get(2)?;
            Ok(LoginRow {
                id: r.get(0)?,
                name: r.get(1)?,
                role: super::state::parse_or(role.as_str(), Role::parse, "role")?,
                password_hash: r.get(3)?,
                created_at: to_rfc3339(r.get(4)?),
                created_by: r.get(5)?,
            })
        })?
        .collect();
    rows
}

/// A new account, or a new password and role for an existing one (`replace`); false when it
/// exists and `replace` is off.
pub fn put_login(
    conn: &Connection,
    l: &LoginRow,
    at: Millis,
    replace: bool,
) -> rusqlite::Result<bool> {
    let conflict = if replace {
        "DO UPDATE SET name = excluded.name, role = excluded.role, password_hash = excluded.password_hash"
    } else {
        "DO NOTHING"
    };
    let n = conn.execute(
        &format!(
            "INSERT INTO console_logins (id, name, role, password_hash, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) {conflict}"
        ),
        params![
            l.id,
            l.name,
            l.role.as_str(),
            l.password_hash,
            at,
            l.created_by
        ],
    )?;
    Ok(n == 1)
}

/// Removes the account and signs it out everywhere; false when there was none.
pub fn delete_login(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.execute("DELETE FROM console_sessions WHERE user_id = ?1", [id])?;
    Ok(conn.execute("DELETE FROM console_logins WHERE id = ?1", [id])? == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub sha256: String,
    pub user_id: String,
    pub csrf: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Sessions still valid at `now`; the expired ones are deleted on the way.
pub fn live_sessions(conn: &Connection, now: Millis) -> rusqlite::Result<Vec<SessionRow>> {
    conn.execute("DELETE FROM console_sessions WHERE expires_at <= ?1", [now])?;
    let mut stmt = conn.prepare_cached(
        "SELECT sha256, user_id, csrf, created_at, expires_at FROM console_sessions",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SessionRow {
                sha256: r.get(0)?,
                user_id: r.get(1)?,
                csrf: r.get(2)?,
                created_at: r.get(3)?,
                expires_at: r.get(4)?,
            })
        })?
        .collect();
    rows
}

pub fn insert_session(conn: &Connection, s: &SessionRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO console_sessions (sha256, user_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.sha256, s.user_id, s.csrf, s.created_at, s.expires_at],
    )?;
    Ok(())
}

pub fn delete_session(conn: &Connection, sha256: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM console_sessions WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// A person's console choices: language and IANA zone, each `None` when not chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefs {
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

pub fn prefs(conn: &Connection, user_id: &str) -> rusqlite::Result<Prefs> {
    Ok(conn
        .query_row(
            "SELECT language, time_zone FROM console_prefs WHERE user_id = ?1",
            [user_id],
            |r| {
                Ok(Prefs {
                    language: r.get(0)?,
                    time_zone: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

pub fn all_prefs(conn: &Connection) -> rusqlite::Result<Vec<(String, Prefs)>> {
    let mut stmt = conn.prepare_cached("SELECT user_id, language, time_zone FROM console_prefs")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                Prefs {
                    language: r.get(1)?,
                    time_zone: r.get(2)?,
                },
            ))
        })?
        .collect();
    rows
}

pub fn set_prefs(conn: &Connection, user_id: &str, p: &Prefs) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO console_prefs (user_id, language, time_zone) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,
                                             time_zone = excluded.time_zone",
        params![user_id, p.language, p.time_zone],
    )?;
    Ok(())
}
