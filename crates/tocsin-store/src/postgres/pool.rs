//! Connections to PostgreSQL: a URL parsed once, single connections for the threads that own
//! one (the log writer, the engine), and a bounded pool for the API's reads.
//!
//! The pool is r2d2's rather than hand-rolled like the SQLite store's: a PostgreSQL
//! connection is a server process, so the pool must be bounded and make a request wait
//! (with a timeout) when all are busy; it must notice a connection the server closed (a
//! restart, an idle timeout) and replace it before a request gets it. r2d2 does all three,
//! checking each connection with an empty query as it is handed out.

use super::migrate::{migrate, MigrateError};
use postgres::{Client, Config, NoTls};
use r2d2_postgres::{r2d2, PostgresConnectionManager};
use std::str::FromStr;
use std::time::Duration;

pub type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// At most this many pooled connections: the API's reads are short, and PostgreSQL's
/// default `max_connections` (100) is shared by every node and every other client.
const POOL_SIZE: u32 = 8;
/// How long a request waits for a pooled connection (or a new one) before it fails; as long
/// as the SQLite store's busy timeout.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL is not a PostgreSQL connection string.
    #[error("not a PostgreSQL URL: {}", describe(.0))]
    Url(postgres::Error),
    /// The database could not be reached.
    #[error("PostgreSQL cannot be reached: {}", describe(.0))]
    Connect(postgres::Error),
    #[error("PostgreSQL cannot be reached: {0}")]
    Pool(r2d2::Error),
    #[error(transparent)]
    Migrate(MigrateError),
    /// The event log's writer thread could not be started.
    #[error("the event log writer could not start: {0}")]
    Thread(std::io::Error),
}

/// The error with its causes: a `postgres::Error` says only "error connecting to server" or
/// "db error" and keeps what happened (refused, the server's message) in its source.
pub fn describe(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Parses a `postgresql://USER@HOST[:PORT]/DB` URL (or a `key=value` string), naming the
/// connections "tocsin" so that `pg_stat_activity` tells them apart.
pub fn parse_url(url: &str) -> Result<Config, OpenError> {
    let mut config = Config::from_str(url).map_err(OpenError::Url)?;
    if config.get_application_name().is_none() {
        config.application_name("tocsin");
    }
    Ok(config)
}

/// One connection, for a thread that keeps it.
pub fn connect(config: &Config) -> Result<Client, OpenError> {
    config.connect(NoTls).map_err(OpenError::Connect)
}

/// Connects, brings the schema to this binary's version, and returns the read pool. A
/// database newer than the binary is refused here, before anything else touches it.
pub fn open(config: &Config) -> Result<Pool, OpenError> {
    migrate(&mut connect(config)?).map_err(OpenError::Migrate)?;
    r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(1))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .build(PostgresConnectionManager::new(config.clone(), NoTls))
        .map_err(OpenError::Pool)
}
