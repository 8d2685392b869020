//! The PostgreSQL schema: a fresh database migrates to the binary's version, again is a
//! no-op, a newer one is refused untouched, concurrent starts are safe, and the tables mean
//! what the SQLite store's mean.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use tocsin_store::postgres::migrate::{migrate, MigrateError, SCHEMA_VERSION};
use tocsin_store::postgres::testing::TestDb;
use tocsin_store::postgres::{open, OpenError};

fn versions(db: &TestDb) -> Vec<i32> {
    db.client()
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_fresh_database_migrates_and_a_second_run_changes_nothing() {
    let db = TestDb::new();
    let pool = open(&db.config()).unwrap();
    assert_eq!(versions(&db), (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    // The pool works on the migrated schema.
    let n: i64 = pool
        .get()
        .unwrap()
        .query_one("SELECT count(*) FROM incidents", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    let applied_at = |db: &TestDb| -> Vec<String> {
        db.client()
            .query(
                "SELECT applied_at::text FROM schema_version ORDER BY version",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let before = applied_at(&db);
    assert_eq!(migrate(&mut db.client()).unwrap(), SCHEMA_VERSION);
    assert_eq!(applied_at(&db), before);
}

#[test]
fn a_database_written_by_a_newer_tocsin_is_refused_untouched() {
    let db = TestDb::new();
    migrate(&mut db.client()).unwrap();
    let newer = SCHEMA_VERSION + 3;
    db.client()
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&newer],
        )
        .unwrap();
    match migrate(&mut db.client()) {
        Err(MigrateError::Newer { database, binary }) => {
            assert_eq!((database, binary), (newer, SCHEMA_VERSION));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let err = open(&db.config()).map(|_| ()).unwrap_err();
    assert!(matches!(err, OpenError::Migrate(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("written by a newer tocsin"), "{text}");
    assert!(text.contains(&format!("schema version {newer}")), "{text}");
    assert!(text.contains(&format!("up to {SCHEMA_VERSION}")), "{text}");
    let mut expected: Vec<i32> = (1..=SCHEMA_VERSION).collect();
    expected.push(newer);
    assert_eq!(versions(&db), expected);
}

#[test]
fn nodes_starting_at_once_migrate_once() {
    let db = TestDb::new();
    let config = db.config();
    let start = Arc::new(Barrier::new(4));
    let nodes: Vec<_> = (0..4)
        .map(|_| {
            let (config, start) = (config.clone(), start.clone());
            std::thread::spawn(move || {
                let mut client = config.connect(postgres::NoTls).unwrap();
                start.wait();
                migrate(&mut client)
            })
        })
        .collect();
    let found: Vec<i32> = nodes
        .into_iter()
        .map(|n| n.join().unwrap().expect("every node starts"))
        .collect();
    // Exactly one node found the empty database; each migration is recorded once.
    assert_eq!(found.iter().filter(|v| **v == 0).count(), 1, "{found:?}");
    assert_eq!(versions(&db), (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}

/// A column as both stores describe it: its kind of value and whether it may be NULL.
type Columns = BTreeMap<(String, String), (&'static str, bool)>;

fn sqlite_columns() -> Columns {
    let dir = tempfile::tempdir().unwrap();
    let conn = tocsin_store::sqlite::open_writer(&dir.path().join("state.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.name, c.name, c.type, c.\"notnull\" OR c.pk > 0
             FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let kind = match r.get::<_, String>(2)?.as_str() {
                "INTEGER" => "integer",
                "TEXT" => "text",
                "REAL" => "real",
                other => panic!("an SQLite type this test does not map: {other}"),
            };
            Ok(((r.get(0)?, r.get(1)?), (kind, r.get(3)?)))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn postgres_columns(db: &TestDb) -> Columns {
    db.client()
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO'
             FROM information_schema.columns
             WHERE table_schema = 'public'
               AND table_name NOT IN ('schema_version', 'event_log')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let kind = match r.get::<_, &str>(2) {
                // SQLite keeps flags as 0/1 integers.
                "bigint" | "boolean" => "integer",
                "text" => "text",
                "double precision" => "real",
                other => panic!("a PostgreSQL type this test does not map: {other}"),
            };
            ((r.get(0), r.get(1)), (kind, r.get(3)))
        })
        .collect()
}

#[test]
fn the_tables_mean_what_the_sqlite_stores_mean() {
    let db = TestDb::new();
    migrate(&mut db.client()).unwrap();
    let sqlite = sqlite_columns();
    let postgres = postgres_columns(&db);
    for (column, described) in &sqlite {
        assert_eq!(postgres.get(column), Some(described), "{column:?}");
    }
    // SQLite's migration 014 (the follow-ups' actor and comment) is in the PostgreSQL schema
    // from the start; on a branch without it, those two are the only extra columns.
    let extra: Vec<_> = postgres
        .keys()
        .filter(|c| !sqlite.contains_key(*c))
        .collect();
    let allowed = [
        ("notifications".to_string(), "actor".to_string()),
        ("notifications".to_string(), "comment".to_string()),
    ];
    assert!(extra.iter().all(|c| allowed.contains(c)), "{extra:?}");
    assert!(
        sqlite.len() > 150,
        "{} columns read from SQLite",
        sqlite.len()
    );
}

#[test]
fn text_sorts_byte_by_byte_as_in_sqlite() {
    let db = TestDb::new();
    migrate(&mut db.client()).unwrap();
    let mut client = db.client();
    for id in ["b", "B", "a", "_x", "é"] {
        client
            .execute(
                "INSERT INTO discovered_services (id, first_seen, last_seen) VALUES ($1, 1, 1)",
                &[&id],
            )
            .unwrap();
    }
    let ids: Vec<String> = client
        .query("SELECT id FROM discovered_services ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, ["B", "_x", "a", "b", "é"]);
}

/// TLS is not supported yet: a URL that requires it fails rather than going unencrypted.
#[test]
fn a_url_that_requires_tls_is_refused() {
    let db = TestDb::new();
    let config =
        tocsin_store::postgres::parse_url(&format!("{}?sslmode=require", db.url())).unwrap();
    let err = open(&config).map(|_| ()).unwrap_err();
    assert!(matches!(err, OpenError::Connect(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("PostgreSQL cannot be reached"),
        "{err}"
    );
    let made: bool = db
        .client()
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!made, "nothing is made over a refused connection");
}
