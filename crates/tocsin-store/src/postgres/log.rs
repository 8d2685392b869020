//! The event log as a table, `event_log (seq, tx, format, payload)`: with PostgreSQL, intake
//! is durable in the database before the sender gets its 2xx, so that any node can take it.
//!
//! Writing ([`writer`]): one thread per process takes the queued requests as one group and
//! inserts the group in one transaction, as the file log's writer shares one `fdatasync`.
//! Each row gets `seq` from a sequence and `tx`, the id of the transaction that wrote it.
//!
//! Reading ([`reader`]) must return every row exactly once, in one order that never changes,
//! even with several writers (processes, nodes) committing at once. `seq` alone cannot give
//! that: writer A takes seq 5, writer B takes seq 6 and commits, a reader reads 6 and moves
//! past it, then A commits 5 - which the reader never looks at again. Commit order itself is
//! not something PostgreSQL lets a query see. So rows are read in `(tx, seq)` order, and only
//! rows whose `tx` is below the `xmin` of the reading statement's snapshot (the oldest
//! transaction still running anywhere in the cluster). The argument:
//!
//! 1. Transaction ids are handed out in increasing order, cluster-wide.
//! 2. Every transaction with an id below `xmin` has ended when the snapshot is taken, and a
//!    transaction that has no id yet will get one at or above the next id to be handed out,
//!    which is at least `xmin`. So no row with `tx < xmin` can ever be added later: the rows
//!    below `xmin` are final, and the snapshot sees all of the committed ones.
//! 3. A read returns rows after the cursor, below its `xmin`, in `(tx, seq)` order, and moves
//!    the cursor to the last one returned (with a `LIMIT`, a prefix of that set). Any row at
//!    or before the cursor has `tx` below the `xmin` of the read that returned the cursor's
//!    row, so by 2 it was final then, and that read (or an earlier one) returned it. By
//!    induction, every row is returned once, and the order of what is returned is the order
//!    of the rows: a later read can never produce a row that sorts before one already read.
//!
//! The order is transaction order, not commit order, and that is enough: every row of one
//! group shares a `tx`, and a request sent after another was acknowledged joins a group that
//! starts after that acknowledgement, so its transaction gets a higher id (1). What happened
//! before (in the senders' view) is read before.
//!
//! The price: any transaction holding an id (anything that wrote, in any database of the
//! cluster) holds readers back until it ends. Short transactions (the other writers, the
//! engine's own) delay reading by their length; one left open (`BEGIN` in psql, a prepared
//! transaction) stalls it - nothing is lost or skipped, and it goes on once that transaction
//! ends. Read outside a transaction of your own that writes: its own id would hold the
//! reader at itself.
//!
//! Payloads are the bytes a file segment's record holds ([`crate::log::encode_entry`]), with
//! the entry format beside them, so entries decode the same on both backends.

mod reader;
mod writer;

pub use reader::{LogTail, ReadError};
pub use writer::start_writer;

/// Where a reader stands: the last entry it returned, in `(tx, seq)` order. Kept by the
/// engine with the state it applied, as the file log's applied LSN is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogPosition {
    /// The id of the transaction that wrote the entry (`xid8`: epoch and xid).
    pub tx: i64,
    /// The entry's number from the log's sequence.
    pub seq: i64,
}

impl LogPosition {
    /// Before the first entry.
    pub const START: LogPosition = LogPosition { tx: 0, seq: 0 };
}

impl std::fmt::Display for LogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (transaction {})", self.seq, self.tx)
    }
}
