//! Schema migrations, numbered by SQLite's `user_version`.

use crate::StoreError;
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations_001.sql"),
    include_str!("migrations_002.sql"),
    include_str!("migrations_003.sql"),
    include_str!("migrations_004.sql"),
    include_str!("migrations_005.sql"),
    include_str!("migrations_006.sql"),
    include_str!("migrations_007.sql"),
    include_str!("migrations_008.sql"),
    include_str!("migrations_009.sql"),
    include_str!("migrations_010.sql"),
    include_str!("migrations_011.sql"),
    include_str!("migrations_012.sql"),
    include_str!("migrations_013.sql"),
    include_str!("migrations_014.sql"),
];

/// Brings the schema up to this binary's version; refuses one a newer binary wrote.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_a_newer_binary_migrated_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let newer = MIGRATIONS.len() + 1;
        conn.pragma_update(None, "user_version", newer).unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(
            err.contains(&format!("schema version {newer}")) && err.contains("newer tocsin"),
            "{err}"
        );
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, newer);
    }
}
