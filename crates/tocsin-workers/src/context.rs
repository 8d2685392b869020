//! What the workers need from the rest of tocsin, handed over by whoever starts them: the
//! config, the clock, reads of the state store, the event log to report outcomes through,
//! the engine's outbox wake-up, the channels' health and the signing of links.

use crate::deliveries::Deliveries;
use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::Clock;
use tocsin_core::config::Config;
use tocsin_core::links::LinkSigner;
use tocsin_engine::{CommandReply, EngineStats};
use tocsin_store::log::LogWriter;
use tocsin_store::sqlite::ReadPool;

pub struct Context {
    /// The running config; a reload swaps it, and each look takes the one current then.
    pub config: Arc<ArcSwap<Config>>,
    pub clock: Arc<dyn Clock>,
    /// Reads of the state store: the outbox, incidents, overrides, storms.
    pub pool: Arc<ReadPool>,
    /// Where delivery outcomes go, for the engine to record. Workers wait for no command,
    /// so what they append carries no reply.
    pub writer: LogWriter<Option<CommandReply>>,
    /// The engine's counters, for `outbox`: woken when the engine adds notifications.
    pub stats: Arc<EngineStats>,
    /// Whether each channel's deliveries get through, shared with the pages that show it.
    pub deliveries: Arc<Deliveries>,
    /// Signs the acknowledge/resolve links in notifications.
    pub links: Arc<LinkSigner>,
    /// Where the console is (`https://tocsin.example.com`), for a link to each incident's
    /// page; `None` unless people reach this server at a known URL: the listen address
    /// (127.0.0.1 by default) means nothing on a phone.
    pub console_url: Option<String>,
}

impl Context {
    /// Runs a store read on a blocking thread with a pooled connection. A failure is logged
    /// here and told in the words the API uses for it.
    pub(crate) async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, String> {
        match self.pool.clone().read(f).await {
            Err(e) => Err(format!("read task failed: {e}")),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "store read failed");
                Err("the store could not be read".into())
            }
            Ok(Ok(r)) => Ok(r),
        }
    }
}
