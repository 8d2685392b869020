//! Alertmanager-style timing on a manual clock: group_wait holds the first page (and pages
//! nobody when the incident ends meanwhile, also across a restart), group_interval gathers
//! alerts that join into one update per interval to the people paged (never by voice), and
//! repeat_interval re-notifies while triggered and firing, but not in the minute after a page.

use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::{Clock, ManualClock};
use tocsin_core::command::{Command, IncidentAction};
use tocsin_core::config::{load_str, Config};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::StateAction;
use tocsin_engine::{Engine, EngineStats, Input};
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::group_timers::joined_alerts;
use tocsin_store::sqlite::paging::{incident_notifications, NotificationRow};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const SEC: i64 = 1_000;
const MIN: i64 = 60_000;

/// Alerts of service `payments` wait 30s and group by service alone; the others page at
/// once, update every 5m and repeat every hour.
const CONFIG: &str = r#"
incidents:
  repeat_interval: 1h
  routes:
    - matchers: ['service="payments"']
      group_by: [service]
      group_wait: 30s
services: [{id: payments}, {id: web}]
users:
  - id: alice
    contacts: [{type: voice, to: "+100"}, {type: email, to: alice@example.com}]
channels:
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
  - {id: voice, type: voice, url: "http://127.0.0.1:9/call", body: "{{ text }}"}
escalation_policies:
  - {id: ops, levels: [{delay: 10m, targets: [{user: alice}]}]}
teams: [{id: ops, members: [alice], escalation_policy: ops}]
"#;

struct Harness {
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    clock: Arc<ManualClock>,
    lsn: u64,
    config: Arc<ArcSwap<Config>>,
}

impl Harness {
    fn new(config: &str) -> Harness {
        let mut h = Harness {
            dir: tempfile::tempdir().unwrap(),
            engine: None,
            clock: Arc::new(ManualClock::new(T0)),
            lsn: 0,
            config: Arc::new(ArcSwap::from_pointee(load_str(config).unwrap())),
        };
        h.open();
        h
    }

    /// Opens (or reopens, as after a restart) the engine on the same store.
    fn open(&mut self) {
        self.engine = None;
        let log_dir = self.dir.path().join("log");
        let durable = log::recover(&log_dir).unwrap().next_lsn - 1;
        self.engine = Some(
            Engine::open(
                &self.dir.path().join("tocsin.db"),
                &log_dir,
                durable,
                self.config.clone(),
                self.clock.clone(),
                Arc::new(EngineStats::default()),
            )
            .unwrap(),
        );
    }

    fn input(&mut self, entry: LogEntry) {
        self.lsn += 1;
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let reply = matches!(entry, LogEntry::Command(_)).then_some(tx);
        let input = Input {
            lsn: self.lsn,
            entry,
            reply,
        };
        self.engine.as_mut().unwrap().process(vec![input]).unwrap();
    }

    fn at(&mut self, t: i64) {
        self.clock.set(t);
        self.engine.as_mut().unwrap().process(vec![]).unwrap();
    }

    /// An alert `name` of `service` fires (or resolves) now.
    fn alert(&mut self, service: &str, name: &str, status: Status) {
        let now = self.clock.now();
        self.input(LogEntry::Events(vec![Event {
            source: "test".into(),
            integration: String::new(),
            dedup_key: name.into(),
            status,
            severity: Severity::Critical,
            name: name.into(),
            summary: String::new(),
            description: String::new(),
            service: Some(service.into()),
            labels: Default::default(),
            links: vec![],
            occurred_at: now,
            received_at: now,
            ends_at: None,
        }]));
    }

    fn act(&mut self, action: IncidentAction) {
        let at = self.clock.now();
        self.input(LogEntry::Command(Command {
            incident_id: 1,
            action,
            actor: "alice".into(),
            reason: String::new(),
            at,
        }));
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("tocsin.db")).unwrap()
    }

    fn notifications(&self, incident: i64) -> Vec<NotificationRow> {
        incident_notifications(&self.db(), incident).unwrap()
    }

    /// (kind, contact type, due time from T0) of incident 1's notifications, in order.
    fn sent(&self) -> Vec<(String, String, i64)> {
        self.notifications(1)
            .into_iter()
            .map(|n| (n.kind, n.contact_type, n.due_ms - T0))
            .collect()
    }

    fn timeline(&self) -> Vec<String> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT message FROM incident_timeline WHERE incident_id = 1 ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }
}

fn row(kind: &str, contact: &str, at: i64) -> (String, String, i64) {
    (kind.into(), contact.into(), at)
}

#[test]
fn group_wait_collects_alerts_then_pages_once() {
    let mut h = Harness::new(CONFIG);
    h.alert("payments", "Down", Status::Firing);
    assert!(h.sent().is_empty(), "nobody is paged during group_wait");
    h.at(T0 + 10 * SEC);
    h.alert("payments", "Slow", Status::Firing);
    assert!(
        h.notifications(2).is_empty(),
        "the route groups by service: one incident"
    );
    h.at(T0 + 30 * SEC - 1);
    assert!(h.sent().is_empty(), "not a millisecond early");
    h.at(T0 + 30 * SEC);
    let page = 30 * SEC;
    assert_eq!(
        h.sent(),
        [row("page", "voice", page), row("page", "email", page)],
        "one page for both alerts, at the end of the wait"
    );
    assert!(
        h.timeline()[1].contains("waiting 30s (group_wait)"),
        "{:?}",
        h.timeline()
    );
    // The second alert joined before the first page: no update for it.
    h.at(T0 + 20 * MIN);
    assert!(h.sent().iter().all(|(k, ..)| k == "page"), "{:?}", h.sent());
}

#[test]
fn an_incident_that_ends_within_group_wait_pages_nobody() {
    let mut h = Harness::new(CONFIG);
    h.alert("payments", "Down", Status::Firing);
    h.at(T0 + 10 * SEC);
    h.alert("payments", "Down", Status::Resolved);
    h.at(T0 + 5 * MIN);
    assert!(h.sent().is_empty());
    let timeline = h.timeline();
    assert!(
        timeline
            .iter()
            .any(|m| m == "ended within group_wait: nobody was paged"),
        "{timeline:?}"
    );
}

#[test]
fn a_wait_that_fell_due_while_down_fires_at_start_at_its_own_time() {
    let mut h = Harness::new(CONFIG);
    h.alert("payments", "Down", Status::Firing);
    h.engine = None; // down
    h.clock.set(T0 + 10 * MIN);
    h.open();
    assert_eq!(
        h.sent(),
        [
            row("page", "voice", 30 * SEC),
            row("page", "email", 30 * SEC)
        ],
        "paged at start, dated by the wait, not by the restart"
    );
    // And the restart does not page again.
    h.open();
    h.at(T0 + 11 * MIN);
    assert_eq!(h.sent().len(), 2);
}

#[test]
fn an_alert_sent_again_is_no_news() {
    let mut h = Harness::new(CONFIG);
    h.alert("web", "Down", Status::Firing);
    assert_eq!(h.sent().len(), 2, "no group_wait by default: paged at once");
    for i in 1..=3 {
        h.at(T0 + i * MIN);
        h.alert("web", "Down", Status::Firing);
    }
    h.at(T0 + 20 * MIN);
    assert_eq!(h.sent().len(), 2, "no update for the same alert again");
}

#[test]
fn joined_alerts_are_announced_together_and_never_by_voice() {
    let config = CONFIG.replace("routes:", "group_by: [service]\n  routes:");
    let mut h = Harness::new(&config);
    h.alert("web", "Down", Status::Firing);
    for (i, name) in ["B", "C", "D"].into_iter().enumerate() {
        h.at(T0 + (i as i64 + 1) * MIN);
        h.alert("web", name, Status::Firing);
    }
    h.at(T0 + 5 * MIN - 1);
    assert_eq!(h.sent().len(), 2, "nothing before the interval ends");
    h.at(T0 + 5 * MIN);
    let sent = h.sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        sent[2],
        row("update", "email", 5 * MIN),
        "one update, by mail"
    );
    let update = &h.notifications(1)[2];
    assert_eq!(update.since, Some(T0));
    assert_eq!(
        joined_alerts(&h.db(), 1, T0, update.due_ms).unwrap(),
        ["B", "C", "D"],
        "what the update names"
    );
    // The next joiner waits for the next tick; a quiet interval sends nothing.
    h.at(T0 + 6 * MIN);
    h.alert("web", "E", Status::Firing);
    h.at(T0 + 10 * MIN - 1);
    assert_eq!(h.sent().len(), 3);
    h.at(T0 + 10 * MIN);
    assert_eq!(h.sent().len(), 4, "{:?}", h.sent());
    assert_eq!(h.sent()[3], row("update", "email", 10 * MIN));
    let update = &h.notifications(1)[3];
    assert_eq!(update.since, Some(T0 + 5 * MIN));
    assert_eq!(
        joined_alerts(&h.db(), 1, T0 + 5 * MIN, update.due_ms).unwrap(),
        ["E"]
    );
    h.at(T0 + 15 * MIN);
    assert_eq!(h.sent().len(), 4, "nothing new, nothing sent");
}

#[test]
fn repeats_while_triggered_and_firing_stop_at_acknowledgement() {
    let mut h = Harness::new(CONFIG);
    h.alert("web", "Down", Status::Firing);
    h.at(T0 + 60 * MIN - 1);
    assert_eq!(h.sent().len(), 2);
    h.at(T0 + 60 * MIN);
    assert_eq!(
        h.sent()[2..],
        [
            row("repeat", "voice", 60 * MIN),
            row("repeat", "email", 60 * MIN)
        ]
    );
    // A restart keeps the hourly rhythm.
    h.open();
    h.at(T0 + 120 * MIN);
    assert_eq!(h.sent().len(), 6, "{:?}", h.sent());
    h.at(T0 + 150 * MIN);
    h.act(IncidentAction::State(StateAction::Acknowledge));
    h.at(T0 + 300 * MIN);
    assert_eq!(h.sent().len(), 6, "no repeat once acknowledged");
}

#[test]
fn a_repeat_in_the_minute_after_an_escalation_page_is_skipped() {
    // Level 2 is paged at 59m30s, half a minute before the hourly repeat.
    let config = CONFIG.replace(
        "levels: [{delay: 10m, targets: [{user: alice}]}]",
        "levels: [{delay: 59m30s, targets: [{user: alice}]}, {targets: [{user: alice}]}]",
    );
    let mut h = Harness::new(&config);
    h.alert("web", "Down", Status::Firing);
    h.at(T0 + 60 * MIN);
    let kinds: Vec<String> = h.sent().into_iter().map(|(k, ..)| k).collect();
    assert_eq!(
        kinds,
        ["page", "page", "page", "page"],
        "level 1, then level 2; no repeat"
    );
    assert!(
        h.timeline()
            .iter()
            .any(|m| m == "repeat skipped: paged less than a minute ago"),
        "{:?}",
        h.timeline()
    );
    h.at(T0 + 120 * MIN);
    assert_eq!(h.sent()[4].0, "repeat", "the next hour repeats level 2");
}
