//! API tokens created at run time (config-declared tokens live in the config). Only the
//! SHA-256 of a token is stored.

use rusqlite::{params, Connection};
use serde::Serialize;
use tocsin_core::auth::Role;
use tocsin_core::time::{to_rfc3339, Millis};

#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub sha256: String,
    pub created_at: String,
    pub created_by: String,
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<TokenRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, role, sha256, created_at, created_by FROM api_tokens ORDER BY name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let role: String = r.get(1)?;
            Ok(TokenRow {
                name: r.get(0)?,
                role: super::state::parse_or(role.as_str(), Role::parse, "role")?,
                sha256: r.get(2)?,
                created_at: to_rfc3339(r.get(3)?),
                created_by: r.get(4)?,
            })
        })?
        .collect();
    rows
}

/// Returns false when a token of that name exists already.
pub fn create(
    conn: &Connection,
    name: &str,
    role: Role,
    sha256: &str,
    at: Millis,
    by: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "INSERT INTO api_tokens (name, role, sha256, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
        params![name, role.as_str(), sha256, at, by],
    )?;
    Ok(n == 1)
}

/// Returns false when there was no such token.
pub fn delete(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM api_tokens WHERE name = ?1", [name])? == 1)
}
