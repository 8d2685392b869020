//! The engine thread: recovery at start, then batches of log entries applied in order, each
//! batch one SQLite transaction.

use crate::apply::Applied;
use crate::commands::{CommandError, CommandReply};
use crate::index::Index;
use crate::pending::Pending;
use crate::stats::{state_index, EngineStats};
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tocsin_core::clock::Clock;
use tocsin_core::config::Config;
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::{self, state};

/// One committed log entry on its way into the engine.
pub struct Input {
    pub lsn: u64,
    pub entry: LogEntry,
    /// For commands: who waits for the outcome.
    pub reply: Option<CommandReply>,
}

/// At most this many entries share a transaction, so replies never wait long.
const MAX_BATCH: usize = 20_000;
/// How often the state store is synced so that applied log segments can be deleted.
const DURABLE_EVERY: Duration = Duration::from_secs(30);

pub struct Engine {
    conn: Connection,
    index: Index,
    config: Arc<ArcSwap<Config>>,
    clock: Arc<dyn Clock>,
    stats: Arc<EngineStats>,
    log_dir: PathBuf,
    applied_lsn: u64,
    last_durable: Instant,
}

/// Sends entries to the engine thread; the engine stops once every handle is dropped.
#[derive(Clone)]
pub struct EngineHandle {
    tx: Sender<Input>,
}

impl EngineHandle {
    pub fn send(&self, input: Input) {
        if let Err(e) = self.tx.send(input) {
            // Only during shutdown; the entry is in the log and is applied at next start.
            if let Some(reply) = e.0.reply {
                let _ = reply.send(Err(CommandError::Store("the engine has stopped".into())));
            }
        }
    }
}

impl Engine {
    /// Opens the store, loads the index and re-applies the log from where the store is.
    pub fn open(
        db_path: &Path,
        log_dir: &Path,
        config: Arc<ArcSwap<Config>>,
        clock: Arc<dyn Clock>,
        stats: Arc<EngineStats>,
    ) -> Result<Engine, String> {
        let conn = sqlite::open_writer(db_path)
            .map_err(|e| format!("opening {}: {e}", db_path.display()))?;
        let mut engine = Engine {
            conn,
            index: Index::default(),
            config,
            clock,
            stats,
            log_dir: log_dir.to_path_buf(),
            applied_lsn: 0,
            last_durable: Instant::now(),
        };
        engine.recover()?;
        Ok(engine)
    }

    /// Rebuilds everything from the store and the log: at start, and after a failed write.
    fn recover(&mut self) -> Result<(), String> {
        self.index = Index::load(&self.conn).map_err(|e| format!("loading state: {e}"))?;
        self.applied_lsn = state::applied_lsn(&self.conn).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut chunk = Vec::new();
        let mut replayed = 0u64;
        let mut failed = None;
        let log_dir = self.log_dir.clone();
        log::read_from(&log_dir, self.applied_lsn, |lsn, entry| {
            chunk.push(Input {
                lsn,
                entry,
                reply: None,
            });
            if chunk.len() >= MAX_BATCH && failed.is_none() {
                replayed += chunk.len() as u64;
                failed = self.process(std::mem::take(&mut chunk)).err();
            }
        })
        .map_err(|e| format!("reading the event log: {e}"))?;
        if let Some(e) = failed {
            return Err(format!("re-applying the event log: {e}"));
        }
        replayed += chunk.len() as u64;
        self.process(chunk)
            .map_err(|e| format!("re-applying the event log: {e}"))?;
        self.refresh_stats(true);
        if replayed > 0 {
            tracing::info!(entries = replayed, took = ?started.elapsed(), "re-applied the event log");
        }
        Ok(())
    }

    /// The LSN the store has reached.
    pub fn applied_lsn(&self) -> u64 {
        self.applied_lsn
    }

    pub fn spawn(self) -> std::io::Result<(EngineHandle, std::thread::JoinHandle<()>)> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let handle = std::thread::Builder::new()
            .name("tocsin-engine".into())
            .spawn(move || self.run(rx))?;
        Ok((EngineHandle { tx }, handle))
    }

    fn run(mut self, rx: Receiver<Input>) {
        loop {
            let wait = self.until_next_expiry().min(Duration::from_secs(1));
            let mut batch = Vec::new();
            let disconnected = match rx.recv_timeout(wait) {
                Ok(first) => {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(i) => batch.push(i),
                            Err(_) => break,
                        }
                    }
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            if let Err(e) = self.process(batch) {
                tracing::error!(error = %e, "applying a batch failed; rebuilding from the store and the log");
                while let Err(e) = self.recover() {
                    tracing::error!(error = %e, "recovery failed; retrying in 1s");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            if disconnected || self.last_durable.elapsed() >= DURABLE_EVERY {
                self.make_durable_and_prune();
            }
            if disconnected {
                tracing::info!(applied_lsn = self.applied_lsn, "engine stopped");
                return;
            }
        }
    }

    fn until_next_expiry(&self) -> Duration {
        match self.index.expiries.first() {
            Some(&(at, _)) => Duration::from_millis((at - self.clock.now()).max(0) as u64),
            None => Duration::MAX,
        }
    }

    /// Applies a batch and the time-outs that are due, in one transaction. Command replies
    /// are sent only after the commit.
    pub fn process(&mut self, batch: Vec<Input>) -> Result<(), String> {
        let config = self.config.load_full();
        let now = self.clock.now();
        let mut outcomes: Vec<Option<Result<(), CommandError>>> = Vec::with_capacity(batch.len());
        let (mut applied, mut ignored) = (0u64, 0u64);
        let mut max_lsn = self.applied_lsn;
        let result = (|| -> rusqlite::Result<bool> {
            let tx = self.conn.transaction()?;
            let mut p = Pending::default();
            for input in &batch {
                if input.lsn <= self.applied_lsn {
                    outcomes.push(None);
                    continue;
                }
                max_lsn = max_lsn.max(input.lsn);
                match &input.entry {
                    LogEntry::Events(events) => {
                        for e in events {
                            match self.index.apply_event(&config, e, &mut p) {
                                Applied::Changed => applied += 1,
                                Applied::Ignored => ignored += 1,
                            }
                        }
                        outcomes.push(None);
                    }
                    LogEntry::Command(c) => {
                        outcomes.push(Some(self.index.apply_command(&config, c, &mut p)));
                    }
                }
            }
            self.index.expire(&config, now, &mut p);
            if p.is_empty() && max_lsn == self.applied_lsn {
                return Ok(false);
            }
            let states_changed = p.states_changed;
            let w = state::BatchWriter::new(&tx);
            p.flush(&self.index, &w)?;
            w.set_applied_lsn(max_lsn)?;
            tx.commit()?;
            Ok(states_changed)
        })();
        match result {
            Ok(states_changed) => {
                self.applied_lsn = max_lsn;
                self.stats
                    .events_applied
                    .fetch_add(applied, Ordering::Relaxed);
                self.stats
                    .events_ignored
                    .fetch_add(ignored, Ordering::Relaxed);
                self.refresh_stats(states_changed);
                for (input, outcome) in batch.into_iter().zip(outcomes) {
                    if let (Some(reply), Some(outcome)) = (input.reply, outcome) {
                        let _ = reply.send(outcome);
                    }
                }
                Ok(())
            }
            Err(e) => {
                for input in batch {
                    if let Some(reply) = input.reply {
                        let _ = reply.send(Err(CommandError::Store(format!(
                            "the store failed; the action is logged and will be applied: {e}"
                        ))));
                    }
                }
                Err(e.to_string())
            }
        }
    }

    fn refresh_stats(&self, states_changed: bool) {
        let s = &self.stats;
        s.alerts_firing
            .store(self.index.alerts_firing, Ordering::Relaxed);
        s.alerts_total
            .store(self.index.alerts.len() as i64, Ordering::Relaxed);
        s.applied_lsn.store(self.applied_lsn, Ordering::Relaxed);
        if states_changed {
            let mut counts = [0i64; 4];
            for i in self.index.incidents.values() {
                counts[state_index(i.state)] += 1;
            }
            for (slot, n) in s.incidents.iter().zip(counts) {
                slot.store(n, Ordering::Relaxed);
            }
        }
    }

    /// Syncs the state store (its routine commits are not synced, see `open_writer`), after
    /// which the log segments it has applied are no longer needed.
    fn make_durable_and_prune(&mut self) {
        self.last_durable = Instant::now();
        let synced = self
            .conn
            .execute_batch("PRAGMA synchronous=FULL; BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE key = 'applied_lsn'; COMMIT; PRAGMA synchronous=NORMAL;");
        match synced {
            Ok(()) => {
                if let Err(e) = log::prune_below(&self.log_dir, self.applied_lsn + 1) {
                    tracing::warn!(error = %e, "could not delete applied log segments");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not sync the state store"),
        }
    }
}
