//! The store's errors as types: what went wrong in the database, a value it holds that this
//! binary cannot read, and a store this binary must not touch.

use crate::codec::BadValue;

/// An error of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement; its own message.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused or failed a statement, or the connection broke; its message with
    /// its causes (the server's own words).
    #[error("{}", crate::postgres::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// A stored value this binary cannot read.
    #[error(transparent)]
    Value(#[from] BadValue),
    /// A newer tocsin migrated the store past what this binary knows: writing to it could
    /// lose what the newer schema keeps, so nothing is touched.
    #[error(
        "the store is at schema version {found}, written by a newer tocsin; this one knows \
         versions up to {known}: run the newer binary, or restore the backup taken before \
         the upgrade"
    )]
    NewerSchema { found: usize, known: usize },
}

impl StoreError {
    /// Whether the store failed for want of disk space: the server then turns read-only
    /// until there is room, instead of failing.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            StoreError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::DISK_FULL),
            StoreError::Value(_) | StoreError::NewerSchema { .. } => false,
        }
    }
}
