//! [`EngineStore`] on PostgreSQL: one connection of the engine's own, a batch per
//! transaction. The queries themselves are in `engine_tx.rs`.
//!
//! Ids the store numbers itself (notifications, timeline lines) come from identity columns,
//! brought past the highest id at open (see [`catch_up_identities`]).
//!
//! Every statement is prepared once per connection and kept (the hot ones - an alert's
//! upsert, a timeline line, the progress - run thousands of times a second); statements
//! are not transactional, so they outlive a rolled-back batch.

use super::migrate::MigrateError;
use super::{connect, OpenError};
use crate::engine::*;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Config, Row, Statement, Transaction};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The engine's connection to the PostgreSQL store.
pub struct PostgresEngineStore {
    config: Config,
    client: Client,
    /// This connection's prepared statements, by their text.
    statements: HashMap<&'static str, Statement>,
    /// Whether the last batch committed. After one that did not, the connection is asked
    /// whether it still works before the next: a terminated backend is told by a message
    /// that fails that batch, while the client learns that its socket is closed only later.
    committed: Cell<bool>,
}

/// How long the check of a connection after a failed batch may take.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl PostgresEngineStore {
    /// Connects, migrating the schema as [`super::open`] does (a newer database is refused).
    pub fn open(config: &Config) -> Result<PostgresEngineStore, OpenError> {
        let mut config = config.clone();
        // Named apart from the pool's and the log writer's, for `pg_stat_activity`.
        config.application_name("tocsin-engine");
        let mut client = connect(&config)?;
        super::migrate::migrate(&mut client).map_err(OpenError::Migrate)?;
        catch_up_identities(&mut client).map_err(|e| OpenError::Migrate(MigrateError::Db(e)))?;
        set_up(&mut client).map_err(OpenError::Connect)?;
        Ok(PostgresEngineStore {
            config,
            client,
            statements: HashMap::new(),
            committed: Cell::new(true),
        })
    }

    /// A new connection in place of one the server closed (a restart, a terminated
    /// backend): the batch that found it closed failed, and the engine retries on this one.
    fn reconnect(&mut self) -> Result<(), postgres::Error> {
        let mut client = self.config.connect(postgres::NoTls)?;
        set_up(&mut client)?;
        self.client = client;
        self.statements.clear();
        Ok(())
    }
}

/// What every engine connection sets: `synchronous_commit = on`, whatever the database or
/// role default, is what makes [`EngineStore::make_durable`] nothing to do.
fn set_up(client: &mut Client) -> Result<(), postgres::Error> {
    client.batch_execute("SET synchronous_commit = on")
}

/// The columns the store numbers itself (identity columns), as (table, column).
const IDENTITIES: [(&str, &str); 3] = [
    ("incident_timeline", "id"),
    ("notifications", "id"),
    ("silence_audit", "seq"),
];

/// Moves each identity's counter to the highest id its table holds, so that the next row
/// gets the id after it, as SQLite numbers rows: rows written with their ids (a store copied
/// in) do not advance the counter, and the next insert would collide with them. An empty
/// table keeps its counter (`setval` of NULL does nothing).
fn catch_up_identities(client: &mut Client) -> Result<(), postgres::Error> {
    for (table, column) in IDENTITIES {
        client.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column}))
                 FROM {table}"
            ),
            &[],
        )?;
    }
    Ok(())
}

impl EngineStore for PostgresEngineStore {
    fn begin(&mut self) -> StoreResult<Box<dyn EngineBatch + '_>> {
        let suspect = !self.committed.replace(false);
        if self.client.is_closed() || suspect && self.client.is_valid(PING_TIMEOUT).is_err() {
            self.reconnect()?;
        }
        Ok(Box::new(PostgresBatch {
            tx: RefCell::new(self.client.transaction()?),
            statements: RefCell::new(&mut self.statements),
            committed: &self.committed,
        }))
    }

    fn make_durable(&mut self) -> StoreResult<()> {
        // Nothing to do: with `synchronous_commit = on` (set at open), a commit returns once
        // its write-ahead log is flushed, so every committed batch is durable already.
        Ok(())
    }
}

/// A batch: its transaction, and the connection's statements (the trait's reads take
/// `&self`, and the driver's queries `&mut`).
pub(super) struct PostgresBatch<'c> {
    tx: RefCell<Transaction<'c>>,
    statements: RefCell<&'c mut HashMap<&'static str, Statement>>,
    committed: &'c Cell<bool>,
}

impl EngineBatch for PostgresBatch<'_> {
    fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.into_inner().commit()?;
        self.committed.set(true);
        Ok(())
    }
}

impl PostgresBatch<'_> {
    fn prepared(&self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.borrow_mut().prepare(sql)?;
        self.statements.borrow_mut().insert(sql, s.clone());
        Ok(s)
    }

    /// Runs a statement; returns how many rows it changed.
    pub(super) fn exec(&self, sql: &'static str, params: Params<'_>) -> StoreResult<u64> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().execute(&s, params)?)
    }

    fn rows(&self, sql: &'static str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query(&s, params)?)
    }

    pub(super) fn row(&self, sql: &'static str, params: Params<'_>) -> StoreResult<Row> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query_one(&s, params)?)
    }

    pub(super) fn opt_row(
        &self,
        sql: &'static str,
        params: Params<'_>,
    ) -> StoreResult<Option<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.tx.borrow_mut().query_opt(&s, params)?)
    }

    /// The rows decoded, all of them.
    pub(super) fn map<T>(
        &self,
        sql: &'static str,
        params: Params<'_>,
        decode: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.rows(sql, params)?.iter().map(decode).collect()
    }

    /// Calls `f` with each row as it arrives, for the loads at start that can be millions.
    pub(super) fn each(
        &self,
        sql: &'static str,
        params: Params<'_>,
        mut f: impl FnMut(&Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let s = self.prepared(sql)?;
        let mut tx = self.tx.borrow_mut();
        let mut rows = tx.query_raw(&s, params.iter().copied())?;
        while let Some(r) = rows.next()? {
            f(&r)?;
        }
        Ok(())
    }

    pub(super) fn meta(&self, key: &str) -> StoreResult<i64> {
        let row = self.opt_row("SELECT value FROM meta WHERE key = $1", &[&key])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;
