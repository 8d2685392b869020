//! Schema migrations, numbered by SQLite's `user_version`.

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
];

pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}
