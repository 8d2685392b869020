//! Schema migrations of the PostgreSQL store, numbered by the `schema_version` table.
//!
//! Each migration runs in its own transaction, and every transaction first takes one
//! transaction-scoped advisory lock and then reads the version again: when two nodes start
//! at once, the second waits for the first's migration to commit, sees the new version and
//! skips it. The lock goes with the transaction, so an error or a lost connection can never
//! leave it held. A database whose version is above the binary's newest migration was
//! written by a newer tocsin: it is refused before anything is changed, since this binary
//! would misread what it does not know.

use super::describe;
use postgres::Client;

/// The migrations, in order; migration N brings the schema to version N.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_state.sql"),
    include_str!("migrations/002_event_log.sql"),
];

/// The schema version this binary writes and reads.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The advisory lock of migrations: the bytes "tocsinmg" as a number, so that it does not
/// collide with another application's lock on the same database by chance.
const LOCK_KEY: i64 = i64::from_be_bytes(*b"tocsinmg");

/// Why the schema could not be brought to [`SCHEMA_VERSION`].
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A newer tocsin migrated the database past what this binary knows: writing to it could
    /// lose what the newer schema keeps, so nothing is touched (as the SQLite store does).
    #[error(
        "the database is at schema version {database}, written by a newer tocsin; this one \
         knows versions up to {binary}: run the newer binary, or restore the backup taken \
         before the upgrade"
    )]
    Newer { database: i32, binary: i32 },
    #[error("the database could not be migrated: {}", describe(.0))]
    Db(#[from] postgres::Error),
}

/// Brings the schema to [`SCHEMA_VERSION`] and returns the version it found.
pub fn migrate(client: &mut Client) -> Result<i32, MigrateError> {
    migrate_with(client, MIGRATIONS)
}

fn migrate_with(client: &mut Client, migrations: &[&str]) -> Result<i32, MigrateError> {
    let binary = migrations.len() as i32;
    let mut found = None;
    loop {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
        // Created under the lock, so two first starts cannot both create it.
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
        let database: i32 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
            .get(0);
        found.get_or_insert(database);
        if database > binary {
            return Err(MigrateError::Newer { database, binary });
        }
        let Some(sql) = migrations.get(database as usize) else {
            tx.commit()?;
            return Ok(found.unwrap_or(database));
        };
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(database + 1)],
        )?;
        tx.commit()?;
        tracing::info!(version = database + 1, "PostgreSQL schema migrated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newer_error_names_both_versions() {
        let text = MigrateError::Newer {
            database: 7,
            binary: 2,
        }
        .to_string();
        assert!(text.contains("schema version 7"), "{text}");
        assert!(text.contains("written by a newer tocsin"), "{text}");
        assert!(text.contains("up to 2"), "{text}");
    }

    /// Without the lock, both would find version 0, both would create `slow`, and the
    /// second would fail on the first's table.
    #[test]
    fn a_second_migrator_waits_for_the_first_and_skips_what_it_did() {
        let db = crate::postgres::testing::TestDb::new();
        let slow: &[&str] = &[
            "CREATE TABLE slow (x BIGINT); SELECT pg_sleep(0.5);",
            "CREATE TABLE fast (x BIGINT);",
        ];
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let nodes: Vec<_> = (0..2)
            .map(|_| {
                let (mut client, start) = (db.client(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    migrate_with(&mut client, slow)
                })
            })
            .collect();
        let mut found: Vec<i32> = nodes
            .into_iter()
            .map(|n| n.join().unwrap().expect("both start"))
            .collect();
        found.sort();
        // One found the empty database; the other waited and found at least version 1.
        assert_eq!(found[0], 0);
        assert!(found[1] >= 1, "{found:?}");
        let versions: i64 = db
            .client()
            .query_one("SELECT count(*) FROM schema_version", &[])
            .unwrap()
            .get(0);
        assert_eq!(versions, 2);
    }

    #[test]
    fn the_lock_key_spells_its_name() {
        assert_eq!(LOCK_KEY.to_be_bytes(), *b"tocsinmg");
    }
}
