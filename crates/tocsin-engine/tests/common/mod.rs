//! The harness the engine's integration tests share: an engine over a real store (SQLite, or
//! PostgreSQL with `TOCSIN_TEST_STORE=postgres`: see [`store`]) and event log in a temporary
//! directory, driven with a manual clock; it feeds events and
//! commands in as the intake would (numbering them itself) and reads back the stored rows.
//! Each test file adds what only it needs with an `impl Harness` block of its own.
#![allow(dead_code)]

mod store;

pub use store::StoreDir;

use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::{Clock, ManualClock};
use tocsin_core::command::{Command, IncidentAction};
use tocsin_core::config::{load_str, Config};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_engine::{CommandReply, Engine, EngineStats, Input, EXPIRY_GRACE};
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::paging::{incident_notifications, NotificationRow};
use tocsin_store::sqlite::queries::{self, AlertFilter, IncidentFilter, PageRequest};
use tocsin_store::sqlite::rows::{AlertRow, IncidentRow};

/// 2026-01-01T00:00:00Z, a Thursday: where every harness's clock starts.
pub const T0: i64 = 1_767_225_600_000;
pub const SEC: i64 = 1_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
/// Time-driven steps fall due once the clock is this far past them.
pub const GRACE: i64 = EXPIRY_GRACE.as_millis() as i64;
/// One page of rows large enough for any test.
pub const PAGE: PageRequest = PageRequest {
    after_id: None,
    limit: 1000,
};

pub struct Harness {
    pub dir: StoreDir,
    /// `None` while the engine is down (set it so, move the clock, then `restart`).
    pub engine: Option<Engine>,
    pub clock: Arc<ManualClock>,
    /// The LSN of the last entry fed in.
    pub lsn: u64,
    /// Shared with the engine: store another config in it to reload.
    pub config: Arc<ArcSwap<Config>>,
}

/// An event `key` (its dedup key and its name) from source `test`, critical, with no service
/// or labels, occurring and received `at`. Tests change the rest with `Event { .., ..event() }`.
pub fn event(key: &str, status: Status, at: i64) -> Event {
    Event {
        source: "test".into(),
        integration: String::new(),
        dedup_key: key.into(),
        status,
        severity: Severity::Critical,
        name: key.into(),
        summary: String::new(),
        description: String::new(),
        service: None,
        labels: Default::default(),
        links: vec![],
        occurred_at: at,
        received_at: at,
        ends_at: None,
    }
}

impl Harness {
    /// A new store with the config `yaml`.
    pub fn new(yaml: &str) -> Harness {
        Harness::with_config(load_str(yaml).unwrap())
    }

    /// A new store with `config`.
    pub fn with_config(config: Config) -> Harness {
        Harness::in_dir(StoreDir::new(), config)
    }

    /// The store in `dir` (as it is) with `config`, the clock at T0; numbering goes on from
    /// what the store has applied.
    pub fn in_dir(dir: StoreDir, config: Config) -> Harness {
        let mut h = Harness {
            dir,
            engine: None,
            clock: Arc::new(ManualClock::new(T0)),
            lsn: 0,
            config: Arc::new(ArcSwap::from_pointee(config)),
        };
        h.restart();
        h.lsn = h.engine().applied_lsn();
        h
    }

    /// Stops the engine, if it runs, and starts a new one on the same store, as after a
    /// restart.
    pub fn restart(&mut self) {
        self.engine = None;
        let log_dir = self.dir.path().join("log");
        let durable = log::recover(&log_dir).unwrap().next_lsn - 1;
        self.engine = Some(
            Engine::open(
                self.dir.open(),
                &log_dir,
                durable,
                self.config.clone(),
                self.clock.clone(),
                Arc::new(EngineStats::default()),
            )
            .unwrap(),
        );
    }

    pub fn engine(&mut self) -> &mut Engine {
        self.engine.as_mut().expect("the engine is running")
    }

    /// Feeds `entry` in as the next log entry; commands and silences get a reply channel,
    /// which nobody reads.
    pub fn input(&mut self, entry: LogEntry) {
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let reply = matches!(entry, LogEntry::Command(_) | LogEntry::Silence(_)).then_some(tx);
        self.process(entry, reply);
    }

    /// Feeds `entry` in as the next log entry with `reply`.
    pub fn process(&mut self, entry: LogEntry, reply: Option<CommandReply>) {
        self.lsn += 1;
        let input = Input {
            lsn: self.lsn,
            entry,
            reply,
        };
        self.engine().process(vec![input]).unwrap();
    }

    /// Feeds `events` in as one entry.
    pub fn events(&mut self, events: Vec<Event>) {
        self.input(LogEntry::Events(events));
    }

    /// Lets the engine do what is due now.
    pub fn tick(&mut self) {
        self.engine().process(vec![]).unwrap();
    }

    /// Sets the clock to `t` and lets the engine do what is due.
    pub fn at(&mut self, t: i64) {
        self.clock.set(t);
        self.tick();
    }

    /// Alice takes `action` on incident 1 now.
    pub fn act(&mut self, action: IncidentAction) {
        let at = self.clock.now();
        self.input(LogEntry::Command(Command {
            incident_id: 1,
            action,
            actor: "alice".into(),
            reason: String::new(),
            at,
        }));
    }

    /// What the engine has written so far, to read with the SQLite store's queries. On
    /// PostgreSQL it is a copy: take a new one after the engine writes more.
    pub fn conn(&self) -> rusqlite::Connection {
        self.dir.conn()
    }

    pub fn alerts_where(&self, filter: &AlertFilter) -> Vec<AlertRow> {
        queries::list_alerts(&self.conn(), filter, PAGE)
            .unwrap()
            .items
    }

    pub fn alerts(&self) -> Vec<AlertRow> {
        self.alerts_where(&AlertFilter::default())
    }

    /// The alert with the dedup key `key`.
    pub fn alert(&self, key: &str) -> AlertRow {
        self.alerts()
            .into_iter()
            .find(|a| a.dedup_key == key)
            .unwrap()
    }

    /// Newest first, as the API lists them.
    pub fn incidents(&self) -> Vec<IncidentRow> {
        queries::list_incidents(&self.conn(), &IncidentFilter::default(), PAGE, &|_| {
            String::new()
        })
        .unwrap()
        .items
    }

    /// (kind, message) of the incident's own timeline, in order.
    pub fn timeline(&self, incident: i64) -> Vec<(String, String)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT kind, message FROM incident_timeline WHERE incident_id = ?1 ORDER BY id",
            )
            .unwrap();
        let rows = stmt
            .query_map([incident], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    pub fn notifications(&self, incident: i64) -> Vec<NotificationRow> {
        incident_notifications(&self.conn(), incident).unwrap()
    }
}
