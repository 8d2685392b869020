//! Where the log writer hands durable entries: into the engine, timing each sync.

use crate::metrics::Metrics;
use std::time::Duration;
use tocsin_engine::{CommandReply, EngineHandle, Input};
use tocsin_store::log::{LogEntry, Sink};

/// What travels with an entry through the writer: the entry itself (the engine applies the
/// in-memory copy; the encoded bytes are only for the disk) and, for commands, the reply.
pub type LogItem = (LogEntry, Option<CommandReply>);

pub struct EngineSink {
    pub engine: EngineHandle,
    pub metrics: Metrics,
}

impl Sink<LogItem> for EngineSink {
    fn committed(&mut self, lsn: u64, (entry, reply): LogItem) {
        self.metrics.log_lsn.set(lsn as i64);
        self.engine.send(Input { lsn, entry, reply });
    }

    fn synced(&mut self, took: Duration, _records: usize) {
        self.metrics.log_commit_seconds.observe(took.as_secs_f64());
    }
}
