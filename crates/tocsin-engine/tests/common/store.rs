//! Where a harness keeps its store: SQLite in a temporary directory (the default), or a fresh
//! PostgreSQL database with `TOCSIN_TEST_STORE=postgres`. The event log is the file log in
//! the directory either way.
//!
//! The tests read back what the engine wrote through the SQLite store's reads (the API's
//! queries, and a few SQL statements of their own). On PostgreSQL, every [`StoreDir::conn`]
//! first copies the database's tables into a new SQLite file, whose schema is the same by
//! design (see `postgres/migrations/001_state.sql`): one set of assertions checks what the
//! engine wrote on either backend.

use postgres::types::Type;
use rusqlite::types::Value;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use tocsin_store::engine::EngineStore;
use tocsin_store::postgres::testing::TestDb;
use tocsin_store::postgres::PostgresEngineStore;
use tocsin_store::sqlite::SqliteEngineStore;

/// The store's directory (the log, and SQLite's file) and, on PostgreSQL, its database.
pub struct StoreDir {
    dir: tempfile::TempDir,
    postgres: Option<TestDb>,
    /// How many copies [`StoreDir::conn`] has made: each gets a file of its own, since an
    /// earlier one may still be open.
    copies: AtomicUsize,
}

impl StoreDir {
    /// An empty store on the backend `TOCSIN_TEST_STORE` names (`sqlite` when unset).
    pub fn new() -> StoreDir {
        let postgres = match std::env::var("TOCSIN_TEST_STORE").as_deref() {
            Err(_) | Ok("sqlite") => None,
            Ok("postgres") => Some(TestDb::new()),
            Ok(other) => panic!("TOCSIN_TEST_STORE={other}: expected sqlite or postgres"),
        };
        StoreDir {
            dir: tempfile::tempdir().unwrap(),
            postgres,
            copies: AtomicUsize::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A new connection of the engine's to the store.
    pub fn open(&self) -> Box<dyn EngineStore> {
        match &self.postgres {
            None => Box::new(SqliteEngineStore::open(&self.sqlite_file()).unwrap()),
            Some(db) => Box::new(PostgresEngineStore::open(&db.config()).unwrap()),
        }
    }

    /// A connection to read what the engine wrote, as SQLite: the store itself, or a copy
    /// of the PostgreSQL database as it is now.
    pub fn conn(&self) -> rusqlite::Connection {
        match &self.postgres {
            None => rusqlite::Connection::open(self.sqlite_file()).unwrap(),
            Some(db) => {
                let n = self.copies.fetch_add(1, Ordering::Relaxed);
                copy_to_sqlite(db, &self.path().join(format!("copy-{n}.db")))
            }
        }
    }

    fn sqlite_file(&self) -> std::path::PathBuf {
        self.path().join("tocsin.db")
    }
}

impl Default for StoreDir {
    fn default() -> Self {
        StoreDir::new()
    }
}

/// Copies every state table of the database into a new SQLite store at `file`, column by
/// column under the same names.
fn copy_to_sqlite(db: &TestDb, file: &Path) -> rusqlite::Connection {
    let mut conn = tocsin_store::sqlite::open_writer(file).unwrap();
    let mut pg = db.client();
    let tables = pg
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
               AND table_name NOT IN ('schema_version', 'event_log')",
            &[],
        )
        .unwrap();
    let tx = conn.transaction().unwrap();
    for table in tables {
        let table: String = table.get(0);
        let rows = pg.query(&format!("SELECT * FROM {table}"), &[]).unwrap();
        let Some(first) = rows.first() else {
            continue;
        };
        let names: Vec<&str> = first.columns().iter().map(|c| c.name()).collect();
        let marks = vec!["?"; names.len()].join(", ");
        // OR REPLACE: opening the SQLite store may have written rows of its own (`meta`).
        let sql = format!(
            "INSERT OR REPLACE INTO {table} ({}) VALUES ({marks})",
            names.join(", ")
        );
        let mut insert = tx.prepare(&sql).unwrap();
        for row in &rows {
            let values = row
                .columns()
                .iter()
                .enumerate()
                .map(|(i, c)| value(row, i, c.type_()));
            insert
                .execute(rusqlite::params_from_iter(values))
                .unwrap_or_else(|e| panic!("copying {table}: {e}"));
        }
    }
    tx.commit().unwrap();
    conn
}

/// A PostgreSQL value as SQLite stores it (booleans as 0 and 1).
fn value(row: &postgres::Row, i: usize, ty: &Type) -> Value {
    let v = match *ty {
        Type::INT8 => row.get::<_, Option<i64>>(i).map(Value::Integer),
        Type::INT4 => row
            .get::<_, Option<i32>>(i)
            .map(|v| Value::Integer(v.into())),
        Type::BOOL => row
            .get::<_, Option<bool>>(i)
            .map(|v| Value::Integer(v.into())),
        Type::FLOAT8 => row.get::<_, Option<f64>>(i).map(Value::Real),
        Type::TEXT => row.get::<_, Option<String>>(i).map(Value::Text),
        _ => panic!("a column of type {ty} has no SQLite form here"),
    };
    v.unwrap_or(Value::Null)
}
