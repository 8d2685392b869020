//! Where the log writer reports durable entries: it tells the engine how far the log is
//! durable (the engine reads the entries from the log itself) and times each sync.

use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tocsin_engine::{CommandReply, EngineFeed};
use tocsin_store::log::Sink;

/// What travels with an entry through the writer: for commands, who waits for the outcome.
pub type LogItem = Option<CommandReply>;

pub struct EngineSink {
    pub feed: Arc<EngineFeed>,
    pub metrics: Metrics,
    pub last_lsn: u64,
}

impl Sink<LogItem> for EngineSink {
    fn committed(&mut self, lsn: u64, reply: LogItem) {
        self.last_lsn = lsn;
        if let Some(reply) = reply {
            self.feed.await_command(lsn, reply);
        }
    }

    fn synced(&mut self, took: Duration, _records: usize) {
        self.metrics.log_commit_seconds.observe(took.as_secs_f64());
        self.metrics.log_lsn.set(self.last_lsn as i64);
        self.feed.synced(self.last_lsn);
    }
}
