//! A few read-only connections for API requests.
//!
//! Hand-rolled because it is a dozen lines: connections are opened on demand, handed out
//! under a mutex and put back after use; no crate's pool would be simpler.

use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    pub fn new(path: PathBuf) -> Self {
        ReadPool {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with a read connection (blocking: call from a blocking thread).
    pub fn with<R>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let conn = self.idle.lock().unwrap().pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.execute_batch("PRAGMA busy_timeout=10000; PRAGMA cache_size=-2000;")?;
                c
            }
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap();
        if idle.len() < 8 {
            idle.push(conn);
        }
        result
    }

    /// [`Self::with`] on a blocking thread, for callers on the async runtime (the API, the
    /// workers); the outer `Err` is the read task failing itself (it panicked).
    pub async fn read<R: Send + 'static>(
        self: Arc<Self>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<rusqlite::Result<R>, tokio::task::JoinError> {
        tokio::task::spawn_blocking(move || self.with(f)).await
    }
}
