//! Tailing the log table in `(tx, seq)` order, never past the snapshot's `xmin` (the module
//! comment of `postgres/log.rs` says why that never skips a row).

use super::LogPosition;
use crate::log::{decode_entry_of, LogEntry};
use crate::postgres::describe;
use postgres::GenericClient;

/// The entries after `$1, $2` that no transaction can still add to, in order. The row
/// comparison walks `event_log_order` from the cursor on.
const READ: &str = "SELECT tx, seq, format, payload FROM event_log
     WHERE (tx, seq) > ($1, $2)
       AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
     ORDER BY tx, seq
     LIMIT $3";

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the event log could not be read: {}", describe(.0))]
    Db(#[from] postgres::Error),
    /// An entry this binary cannot decode (a newer format, or damage).
    #[error("event log entry {at}: {reason}")]
    Entry { at: LogPosition, reason: String },
}

/// A reader's cursor. It holds no connection: the caller lends one for each read, so the
/// engine can read with the connection it applies with (between its transactions).
#[derive(Debug)]
pub struct LogTail {
    after: LogPosition,
}

impl LogTail {
    /// A cursor whose first entry is the one after `after` ([`LogPosition::START`] for all).
    pub fn after(after: LogPosition) -> LogTail {
        LogTail { after }
    }

    /// The last entry returned (or where the cursor started).
    pub fn position(&self) -> LogPosition {
        self.after
    }

    /// Up to `limit` entries after the cursor, in order, and moves past them. Fewer (or none)
    /// when no more are final yet: the caller reads again later.
    pub fn read(
        &mut self,
        client: &mut impl GenericClient,
        limit: usize,
    ) -> Result<Vec<(LogPosition, LogEntry)>, ReadError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client.query(READ, &[&self.after.tx, &self.after.seq, &limit])?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let at = LogPosition {
                tx: row.get(0),
                seq: row.get(1),
            };
            let format: i32 = row.get(2);
            let entry = u32::try_from(format)
                .map_err(|_| format!("event log format {format} is not one this binary reads"))
                .and_then(|format| decode_entry_of(format, row.get(3)))
                .map_err(|reason| ReadError::Entry { at, reason })?;
            entries.push((at, entry));
        }
        if let Some((last, _)) = entries.last() {
            self.after = *last;
        }
        Ok(entries)
    }
}
