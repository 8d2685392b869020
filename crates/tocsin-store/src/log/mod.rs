//! The event log: numbered entries in segment files, each record checksummed.
//!
//! Why our own log rather than SQLite alone: a SQLite transaction per group of requests costs
//! far more CPU than appending bytes to a file, and intake of single-alert requests is bound
//! by exactly that cost. The log makes an acknowledged event durable with one `write` and one
//! `fdatasync` per group; the engine then folds it into SQLite at its own pace.

mod cursor;
mod entry;
mod gate;
mod priority;
mod reader;
mod refused;
mod segment;
mod writer;

pub use cursor::LogCursor;
pub use entry::{
    decode_entry, decode_entry_of, encode_entry, encode_entry_with_capacity, LogEntry,
};
pub use gate::WriteGate;
pub use reader::{recover, Recovered};
pub use refused::RefusedMarks;
pub use segment::{list_segments, prune_applied, FORMAT, FORMATS_READ};
pub(crate) use writer::{serve, Request};
pub use writer::{AppendError, LogWriter, Sink};
