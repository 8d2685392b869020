//! The engine thread: recovery at start, then batches of log entries applied in order, each
//! batch one SQLite transaction.

use crate::apply::Applied;
use crate::commands::{CommandError, CommandReply};
use crate::failures::{Failures, Report};
use crate::index::Index;
use crate::pending::Pending;
use crate::stats::{state_index, EngineStats};
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, Sender};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tocsin_core::clock::Clock;
use tocsin_core::config::Config;
use tocsin_core::correlation::cofire::Cofire;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineStore, EngineTx, StoreResult};
use tocsin_store::log::{self, LogCursor, LogEntry, RefusedMarks};
use tocsin_store::StoreError;

/// One committed log entry on its way into the engine.
pub struct Input {
    pub lsn: u64,
    pub entry: LogEntry,
    /// For commands: who waits for the outcome.
    pub reply: Option<CommandReply>,
}

/// A transaction holds at most this many entries, or about this many events, so replies
/// never wait long and a batch's memory stays small.
const MAX_BATCH_ENTRIES: usize = 20_000;
const MAX_BATCH_EVENTS: usize = 5_000;
/// The engine waits at least this long between batches, so that under load it applies
/// fewer, larger transactions (each commit costs the same however many rows it holds).
const MIN_BATCH_INTERVAL: Duration = Duration::from_millis(10);
/// Alerts expire this long after their end time. An entry's time is read when intake takes
/// it, a little before it is in the log; the grace covers that gap, so an alert sent again
/// just before its end is never expired before the engine has seen the resend.
pub const EXPIRY_GRACE: Duration = Duration::from_secs(2);
/// How often, at least, the engine looks for maintenance window occurrences.
const MAINTENANCE_LOOK: i64 = 60_000;
/// How often the state store is synced so that applied log segments can be deleted.
const DURABLE_EVERY: Duration = Duration::from_secs(30);

/// What the log writer tells the engine: how far the log is durable, who waits for which
/// command, and when to stop. The engine reads the entries themselves from the log.
pub struct EngineFeed {
    durable_lsn: AtomicU64,
    replies: Mutex<HashMap<u64, CommandReply>>,
    stop: AtomicBool,
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
}

impl EngineFeed {
    pub fn new(durable_lsn: u64) -> Arc<EngineFeed> {
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        Arc::new(EngineFeed {
            durable_lsn: AtomicU64::new(durable_lsn),
            replies: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
            wake_tx,
            wake_rx,
        })
    }

    /// Registers who waits for the command at `lsn`; call before [`Self::synced`].
    pub fn await_command(&self, lsn: u64, reply: CommandReply) {
        self.replies.lock().unwrap().insert(lsn, reply);
    }

    /// Everything up to `lsn` is on disk.
    pub fn synced(&self, lsn: u64) {
        self.durable_lsn.fetch_max(lsn, Ordering::SeqCst);
        let _ = self.wake_tx.try_send(());
    }

    /// Apply what is durable, then stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake_tx.try_send(());
    }

    pub fn durable_lsn(&self) -> u64 {
        self.durable_lsn.load(Ordering::SeqCst)
    }

    fn take_reply(&self, lsn: u64) -> Option<CommandReply> {
        self.replies.lock().unwrap().remove(&lsn)
    }
}

pub struct Engine {
    store: Box<dyn EngineStore>,
    index: Index,
    cursor: LogCursor,
    config: Arc<ArcSwap<Config>>,
    clock: Arc<dyn Clock>,
    stats: Arc<EngineStats>,
    log_dir: PathBuf,
    applied_lsn: u64,
    last_durable: Instant,
    /// The latest entry time applied so far: the engine's notion of "now" while it works
    /// through a backlog, so re-applying the log decides expiries as the live run did.
    log_time: Millis,
    /// Whether the batch being applied ends at the durable end of the log; only then may
    /// expiries use the wall clock.
    caught_up: bool,
    /// Logged changes whose sender was answered 503 because the store failed: skipped when
    /// the log is read again, so what was refused is never applied later. Kept durably in
    /// `marks` (when the file could be opened) for re-reading after a crash.
    refused: HashSet<u64>,
    marks: Option<RefusedMarks>,
    /// The run of failed batches going on, if any: retries and what to log.
    failures: Failures,
    /// Whether the last batch failed because the disk is full.
    store_full: bool,
}

impl Engine {
    /// Loads the index from `store` and re-applies the log from where the store is up to
    /// `durable_lsn`, the end of the recovered log.
    pub fn open(
        store: Box<dyn EngineStore>,
        log_dir: &Path,
        durable_lsn: u64,
        config: Arc<ArcSwap<Config>>,
        clock: Arc<dyn Clock>,
        stats: Arc<EngineStats>,
    ) -> Result<Engine, String> {
        let mut engine = Engine {
            store,
            index: Index::default(),
            cursor: LogCursor::open(log_dir.to_path_buf(), 0),
            config,
            clock,
            stats,
            log_dir: log_dir.to_path_buf(),
            applied_lsn: 0,
            last_durable: Instant::now(),
            log_time: 0,
            caught_up: true,
            refused: HashSet::new(),
            marks: None,
            failures: Failures::default(),
            store_full: false,
        };
        engine.reload()?;
        match RefusedMarks::open(log_dir) {
            Ok(marks) => {
                engine.refused = marks.after(engine.applied_lsn).collect();
                engine.marks = Some(marks);
            }
            // Only when the disk was full before the file was ever made: refusals are then
            // remembered until the process ends.
            Err(e) => tracing::warn!(error = %e, "cannot keep marks of refused changes"),
        }
        let started = Instant::now();
        let from = engine.applied_lsn;
        loop {
            match engine.step(durable_lsn, None) {
                Ok(true) => {}
                Ok(false) => break,
                // A full disk must not keep the server from starting: it starts read-only
                // (reads work, writes are refused) and applies the rest once there is space.
                Err(e) if engine.store_full => {
                    engine.log_failure(&e);
                    engine.reload()?;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if engine.applied_lsn > from {
            tracing::info!(entries = engine.applied_lsn - from, took = ?started.elapsed(), "re-applied the event log");
        }
        Ok(engine)
    }

    /// Rebuilds the index from the store and points the cursor after what it holds: at
    /// start, and after a failed write.
    fn reload(&mut self) -> Result<(), String> {
        // One transaction, so that everything loaded is of the same moment.
        let tx = self
            .store
            .begin()
            .map_err(|e| format!("loading state: {e}"))?;
        self.index = Index::load(&*tx).map_err(|e| format!("loading state: {e}"))?;
        let settings = &self.config.load().correlation;
        self.index.correlator =
            crate::correlation::Correlator::load(&*tx, settings, &self.index.incidents)
                .map_err(|e| format!("loading correlation state: {e}"))?;
        // What it learned is saved with each batch (see `process`), so it is as of
        // `applied_lsn`: the log read from there on counts each of its firings once.
        let (kinds, pairs) = tx
            .load_learned()
            .map_err(|e| format!("loading learned co-fire rates: {e}"))?;
        self.index.correlator.learned.load(kinds, pairs);
        self.applied_lsn = tx.applied_lsn().map_err(|e| e.to_string())?;
        drop(tx);
        self.cursor = LogCursor::open(self.log_dir.clone(), self.applied_lsn);
        self.refresh_stats(true);
        Ok(())
    }

    /// Applies the next batch of the log up to `upto` (and the expiries due); tells whether
    /// more is waiting.
    fn step(&mut self, upto: u64, feed: Option<&EngineFeed>) -> Result<bool, String> {
        let mut batch = Vec::new();
        let mut events = 0;
        let mut more = true;
        while more {
            if batch.len() >= MAX_BATCH_ENTRIES || events >= MAX_BATCH_EVENTS {
                break;
            }
            let next = self
                .cursor
                .next(upto)
                .map_err(|e| format!("reading the event log: {e}"))?;
            match next {
                Some((lsn, entry)) => {
                    if let LogEntry::Events(e) = &entry {
                        events += e.len();
                    }
                    let reply = feed.and_then(|f| f.take_reply(lsn));
                    batch.push(Input { lsn, entry, reply });
                }
                None => more = false,
            }
        }
        self.caught_up = !more;
        self.process(batch)?;
        Ok(more)
    }

    /// The LSN the store has reached.
    pub fn applied_lsn(&self) -> u64 {
        self.applied_lsn
    }

    pub fn spawn(self, feed: Arc<EngineFeed>) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("tocsin-engine".into())
            .spawn(move || {
                // A panic here is a bug; a server whose engine is gone would go on taking
                // events that nobody applies. Exit instead: the next start re-applies the log.
                let run = std::panic::AssertUnwindSafe(|| self.run(feed));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!("the engine failed; exiting so that a restart recovers");
                    std::process::exit(70);
                }
            })
    }

    fn run(mut self, feed: Arc<EngineFeed>) {
        lower_priority();
        let mut last_batch = Instant::now();
        let mut more = false;
        loop {
            // Behind the log: go on at once. Caught up: wait for news or the next expiry.
            if !more {
                let wait = self.until_next_expiry().min(Duration::from_secs(1));
                let _ = feed.wake_rx.recv_timeout(wait);
            }
            let stopping = feed.stop.load(Ordering::SeqCst);
            let since = last_batch.elapsed();
            if !stopping && !more && since < MIN_BATCH_INTERVAL {
                std::thread::sleep(MIN_BATCH_INTERVAL - since);
            }
            last_batch = Instant::now();
            match self.step(feed.durable_lsn(), Some(&feed)) {
                Ok(m) => more = m,
                Err(e) => {
                    self.log_failure(&e);
                    // A stop does not wait for the store to recover: what is not applied is
                    // in the log, and the next start applies it.
                    loop {
                        if !wait_unless_stopped(&feed, self.failures.retry_in()) {
                            tracing::info!(
                                applied_lsn = self.applied_lsn,
                                "engine stopped while the store could not be written"
                            );
                            return;
                        }
                        match self.reload() {
                            Ok(()) => break,
                            Err(e) => self.log_failure(&e),
                        }
                    }
                    more = true;
                    continue;
                }
            }
            if stopping || self.last_durable.elapsed() >= DURABLE_EVERY {
                self.make_durable_and_prune();
            }
            // A stop does not wait for a backlog: it is in the log, and the next start
            // applies it.
            if stopping {
                let behind = feed.durable_lsn().saturating_sub(self.applied_lsn);
                tracing::info!(applied_lsn = self.applied_lsn, behind, "engine stopped");
                return;
            }
        }
    }

    /// Logs a failed batch or reload, rate-limited: the first of a run, then a summary now
    /// and then (see [`crate::failures`]).
    fn log_failure(&mut self, error: &str) {
        match self.failures.failed(Instant::now()) {
            Some(Report::First) if self.store_full => tracing::error!(
                error,
                "the data directory is full: the server is read-only until it has space \
                 (intake and changes answer 503, reads work, /-/ready is not ready); \
                 acknowledged events wait in the log and are applied then"
            ),
            Some(Report::First) => tracing::error!(
                error,
                "applying the log failed; the server refuses new entries and retries"
            ),
            Some(Report::Summary { failed, since }) => tracing::error!(
                error,
                failed,
                since = ?since,
                "the state store still cannot be written; {failed} more attempts failed"
            ),
            None => {}
        }
    }

    fn until_next_expiry(&self) -> Duration {
        let config = self.config.load();
        let alert = self.index.expiries.first().map(|&(at, _)| at);
        let heartbeat = self.index.next_heartbeat_due(&config);
        let silence = self.index.silences.next_due();
        let flap = self.index.flaps.next_due();
        let storm = self.index.storms.next_due(&config);
        // Escalation steps and group timers are due at their time, without the expiry grace
        // added below; taking the grace off here makes the wait end right at the step.
        let escalation = self
            .index
            .paging_due()
            .map(|at| at - EXPIRY_GRACE.as_millis() as i64);
        // Maintenance windows become silences as their occurrences come up: look at least
        // once a minute even when nothing else is due.
        let maintenance = self
            .index
            .has_maintenance(&config)
            .then(|| self.clock.now() + MAINTENANCE_LOOK - EXPIRY_GRACE.as_millis() as i64);
        match alert
            .into_iter()
            .chain(heartbeat)
            .chain(silence)
            .chain(flap)
            .chain(storm)
            .chain(escalation)
            .chain(maintenance)
            .min()
        {
            Some(at) => {
                let due = at + EXPIRY_GRACE.as_millis() as i64;
                Duration::from_millis((due - self.clock.now()).max(0) as u64)
            }
            None => Duration::MAX,
        }
    }

    /// The id and current episode of an alert, by its key (`tocsin replay` asks, to name
    /// the incident of each firing it fed).
    pub fn alert_episode(&self, key: u64) -> Option<(i64, i64)> {
        self.index
            .alerts
            .get(&key)
            .map(|a| (a.id, i64::from(a.episode)))
    }

    /// What correlation has learned of which kinds of alert fire together.
    pub fn learned(&self) -> &Cofire {
        &self.index.correlator.learned
    }

    /// Applies a batch and the time-outs that are due, in one transaction. Command replies
    /// are sent only after the commit.
    pub fn process(&mut self, batch: Vec<Input>) -> Result<(), String> {
        let config = self.config.load_full();
        let mut log_time = self.log_time;
        let mut outcomes: Vec<Option<Result<(), CommandError>>> = Vec::with_capacity(batch.len());
        let (mut applied, mut ignored) = (0u64, 0u64);
        let mut max_lsn = self.applied_lsn;
        // Declared before the batch's pending writes, which borrow from it.
        let mut missed_heartbeats = Vec::new();
        // Whether the outbox gained notifications (the dispatcher is woken after commit).
        let mut notified = false;
        let result = (|| -> StoreResult<bool> {
            let batch_tx = self.store.begin()?;
            let tx: &dyn EngineTx = &*batch_tx;
            let mut p = Pending::default();
            // A maintenance window that is open when this batch's first entry arrived is
            // started before the entries are applied, so an alert that fires inside it is
            // muted from its first event rather than after it paged.
            if self.index.has_maintenance(&config) {
                let first = batch.first().and_then(|i| entry_time(&i.entry));
                let at = first.unwrap_or(log_time).max(self.log_time);
                self.index.schedule_maintenance(&config, at, tx, &mut p)?;
                if self.index.silences.next_due().is_some_and(|due| due <= at) {
                    self.index.silence_transitions(&config, at, tx, &mut p)?;
                }
            }
            // Starting or ending a silence reads alerts from the store, so the batch so far
            // is written first (same transaction); then what is still pending is not the
            // whole story of what this batch wrote.
            let mut wrote = false;
            let mut earlier_states_changed = false;
            // At start and after a config change the inhibition sources are (re)built.
            if self.index.inhibition_due(&config) {
                wrote = true;
                let at = self.clock.now().max(log_time);
                self.index.settle_inhibition(&config, at, tx, &mut p)?;
            }
            for input in &batch {
                if input.lsn <= self.applied_lsn {
                    outcomes.push(None);
                    continue;
                }
                max_lsn = max_lsn.max(input.lsn);
                if self.refused.contains(&input.lsn) {
                    outcomes.push(None);
                    continue;
                }
                match &input.entry {
                    LogEntry::Events(events) => {
                        for e in events {
                            log_time = log_time.max(e.received_at);
                            match self.index.apply_event(&config, e, &mut p) {
                                Applied::Changed => applied += 1,
                                Applied::Ignored => ignored += 1,
                            }
                        }
                        // What new or ended sources do to alerts already firing.
                        if self.index.inhibition_due(&config) {
                            earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                            wrote = true;
                            self.index
                                .settle_inhibition(&config, log_time, tx, &mut p)?;
                        }
                        outcomes.push(None);
                    }
                    LogEntry::Command(c) => {
                        log_time = log_time.max(c.at);
                        outcomes.push(Some(self.index.apply_command(&config, c, &mut p)));
                    }
                    LogEntry::Delivery(d) => {
                        log_time = log_time.max(d.at);
                        wrote = true;
                        earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                        notified |= self.index.apply_delivery(&config, d, tx, &mut p)?;
                        outcomes.push(None);
                    }
                    LogEntry::Override(c) => {
                        log_time = log_time.max(c.at);
                        wrote = true;
                        outcomes.push(Some(crate::overrides::apply_override(&config, c, tx)?));
                    }
                    LogEntry::Silence(c) => {
                        log_time = log_time.max(c.at);
                        earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                        wrote = true;
                        let outcome = self.index.apply_silence(&config, c, tx, &mut p)?;
                        outcomes.push(Some(outcome));
                    }
                    LogEntry::Maintenance(c) => {
                        log_time = log_time.max(c.at);
                        earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                        wrote = true;
                        let outcome = self.index.apply_maintenance(&config, c, tx, &mut p)?;
                        outcomes.push(Some(outcome));
                    }
                    LogEntry::Regroup(c) => {
                        log_time = log_time.max(c.at);
                        // It reads the moved alerts' rows, and writes them.
                        earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                        wrote = true;
                        let outcome = self.index.apply_regroup(&config, c, tx, &mut p)?;
                        outcomes.push(Some(outcome));
                    }
                }
            }
            let horizon = if self.caught_up {
                self.clock.now().max(log_time)
            } else {
                log_time
            };
            let due = horizon - EXPIRY_GRACE.as_millis() as i64;
            self.index.expire(&config, due, &mut p);
            self.index.calm_flaps(&config, due, &mut p);
            self.index.storm_tick(&config, due);
            if self.index.has_maintenance(&config) {
                self.index.schedule_maintenance(&config, due, tx, &mut p)?;
            }
            if self.index.silences.next_due().is_some_and(|at| at <= due) {
                earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                wrote = true;
                self.index.silence_transitions(&config, due, tx, &mut p)?;
            }
            missed_heartbeats = self.index.missed_heartbeats(&config, due);
            for e in &missed_heartbeats {
                self.index.apply_event(&config, e, &mut p);
            }
            if self.index.inhibition_due(&config) {
                earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                wrote = true;
                self.index.settle_inhibition(&config, due, tx, &mut p)?;
            }
            // Paging reads the store (who is on call, overrides) and writes the outbox, so
            // what this batch did to incidents is written first. Steps fall due at the
            // horizon itself: the grace of expiries is for resends racing their end, and a
            // page must not wait for it.
            if !p.paging.is_empty() || self.index.paging_due().is_some_and(|at| at <= horizon) {
                earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                wrote = true;
                notified |= self.index.run_paging(&config, horizon, tx, &mut p)?;
            }
            // Storm summaries are pages too: the batch so far is written first.
            if self.index.storms.pending() {
                earlier_states_changed |= write_so_far(&mut p, &mut self.index, tx)?;
                wrote = true;
                notified |= self.index.run_storms(&config, tx, &mut p)?;
            }
            if p.is_empty() && max_lsn == self.applied_lsn && !wrote {
                return Ok(false);
            }
            let states_changed = p.states_changed || earlier_states_changed;
            let w = tx;
            p.flush(&mut self.index, w)?;
            // What correlation learned in this batch commits with the log position: after
            // a crash the store has both or neither, so re-applying the log from
            // `applied_lsn` never counts a firing twice. If the batch fails, `reload` reads
            // the learner back from the store, dropping what this batch taught it.
            let (kinds, pairs) = self.index.correlator.learned.take_changes();
            w.learned(&kinds, &pairs)?;
            w.set_progress(max_lsn, self.index.next_history_seq)?;
            batch_tx.commit()?;
            Ok(states_changed)
        })();
        match result {
            Ok(states_changed) => {
                if notified {
                    self.stats.outbox.notify_one();
                }
                self.store_writable();
                self.applied_lsn = max_lsn;
                self.refused.retain(|&lsn| lsn > max_lsn);
                self.log_time = log_time;
                self.stats
                    .events_applied
                    .fetch_add(applied, Ordering::Relaxed);
                self.stats
                    .events_ignored
                    .fetch_add(ignored, Ordering::Relaxed);
                self.stats
                    .discovered_refused
                    .fetch_add(self.index.discovered.take_refused(), Ordering::Relaxed);
                self.refresh_stats(states_changed);
                for (input, outcome) in batch.into_iter().zip(outcomes) {
                    if let (Some(reply), Some(outcome)) = (input.reply, outcome) {
                        let _ = reply.send(outcome);
                    }
                }
                Ok(())
            }
            Err(e) => {
                let why = self.store_failed(&e);
                // Whoever waits is told the change was not made, so it must never be: it
                // is marked refused before the answer goes out, and skipped from then on.
                for input in batch {
                    if let Some(reply) = input.reply {
                        self.refuse(input.lsn);
                        let _ = reply.send(Err(CommandError::Store(format!(
                            "not applied: {why}; nothing was changed, make the change again \
                             once the server is ready"
                        ))));
                    }
                }
                Err(e.to_string())
            }
        }
    }

    /// A batch failed: refuses new log entries until one commits, saying why.
    fn store_failed(&mut self, e: &StoreError) -> String {
        self.store_full = e.is_disk_full();
        let why = if self.store_full {
            format!("the data directory is full ({e})")
        } else {
            format!("the state store cannot be written ({e})")
        };
        self.stats.gate.close(&why);
        why
    }

    /// A batch committed: accepts new entries again, and says so after a failure.
    fn store_writable(&mut self) {
        if let Some((failed, over)) = self.failures.succeeded(Instant::now()) {
            self.store_full = false;
            tracing::info!(
                failed,
                over = ?over,
                "the state store can be written again; the server accepts requests"
            );
        }
        // After the line above: whoever sees the server ready again finds it in the log.
        self.stats.gate.open();
    }

    /// Marks a logged change as refused, durably when the marks file is there.
    fn refuse(&mut self, lsn: u64) {
        self.refused.insert(lsn);
        let Some(marks) = &mut self.marks else { return };
        if let Err(e) = marks.add(lsn, self.applied_lsn) {
            // Still skipped while this process runs; only a crash before the store
            // recovers could apply it.
            tracing::error!(lsn, error = %e, "could not mark a refused change durably");
        }
    }

    fn refresh_stats(&self, states_changed: bool) {
        let s = &self.stats;
        s.alerts_firing
            .store(self.index.alerts_firing, Ordering::Relaxed);
        s.alerts_total
            .store(self.index.alerts.len() as i64, Ordering::Relaxed);
        s.applied_lsn.store(self.applied_lsn, Ordering::Relaxed);
        let storms = self.index.storms.active_count() as i64;
        s.storms_active.store(storms, Ordering::Relaxed);
        let (kinds, pairs) = self.index.correlator.learned.len();
        s.correlation_kinds.store(kinds as i64, Ordering::Relaxed);
        s.correlation_pairs.store(pairs as i64, Ordering::Relaxed);
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

    /// Makes the state store durable (its routine commits need not be), after which the
    /// log segments it has applied are no longer needed.
    fn make_durable_and_prune(&mut self) {
        self.last_durable = Instant::now();
        let synced = self.store.make_durable();
        match synced {
            Ok(()) => {
                let intake = &self.config.load().intake;
                let retention = Duration::from_millis(intake.log_retention.max(0) as u64);
                let pruned = log::prune_applied(
                    &self.log_dir,
                    self.applied_lsn + 1,
                    retention,
                    intake.log_max_bytes,
                );
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "could not delete applied log segments");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not sync the state store"),
        }
    }
}

/// Writes what a batch holds so far, in its transaction; tells whether incident states
/// changed in it.
/// When a log entry happened, by its own clock.
fn entry_time(entry: &LogEntry) -> Option<Millis> {
    match entry {
        LogEntry::Events(events) => events.first().map(|e| e.received_at),
        LogEntry::Command(c) => Some(c.at),
        LogEntry::Silence(c) => Some(c.at),
        LogEntry::Override(c) => Some(c.at),
        LogEntry::Delivery(d) => Some(d.at),
        LogEntry::Maintenance(c) => Some(c.at),
        LogEntry::Regroup(c) => Some(c.at),
    }
}

fn write_so_far(p: &mut Pending<'_>, index: &mut Index, tx: &dyn EngineTx) -> StoreResult<bool> {
    // Paging cues are not writes: they stay for run_paging, later in the same batch.
    let cues = std::mem::take(&mut p.paging);
    let so_far = std::mem::take(p);
    p.paging = cues;
    let changed = so_far.states_changed;
    so_far.flush(index, tx)?;
    Ok(changed)
}

/// Waits `wait`, or less when a stop is asked for; tells whether to go on.
fn wait_unless_stopped(feed: &EngineFeed, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    while !feed.stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        let _ = feed.wake_rx.recv_timeout(left);
    }
    false
}

/// When intake and the engine compete for the CPU (a storm), intake wins: an event is safe
/// once it is in the log, and the engine catches up when the storm eases.
fn lower_priority() {
    // SAFETY: plain system calls on the calling thread; no memory is shared.
    let rc = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, ENGINE_NICE)
    };
    if rc != 0 {
        tracing::debug!("could not lower the engine thread's priority");
    }
}

const ENGINE_NICE: libc::c_int = 10;
