//! Escalation on a manual clock: levels page at their delays, repeats stop at N, an
//! acknowledgement stops escalation and cancels conditional notifications, a restart in the
//! middle neither skips nor repeats a level, and a failed delivery falls back to the next
//! contact.

use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::{Clock, ManualClock};
use tocsin_core::command::{Command, DeliveryOutcome, DeliveryReport, IncidentAction};
use tocsin_core::config::{load_str, Config};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::StateAction;
use tocsin_engine::{Engine, EngineStats, Input};
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::paging::{incident_notifications, NotificationRow};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, a Thursday
const MIN: i64 = 60_000;

const CONFIG: &str = r#"
users:
  - id: alice
    contacts: [{type: email, to: alice@example.com}, {type: sms, to: "+100"}]
    notification_rules:
      - steps: [{contact: email}, {contact: sms, after: 2m}]
  - {id: bob, contacts: [{type: email, to: bob@example.com}]}
channels:
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
  - {id: sms, type: sms, url: "http://127.0.0.1:9/sms", body: "{{ text }}"}
escalation_policies:
  - id: ops
    repeat: 1
    levels:
      - {delay: 5m, targets: [{user: alice}]}
      - {delay: 10m, targets: [{user: bob}]}
teams: [{id: ops, members: [alice, bob], escalation_policy: ops}]
"#;

struct Harness {
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    clock: Arc<ManualClock>,
    lsn: u64,
    config: Arc<ArcSwap<Config>>,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Harness {
            dir,
            engine: None,
            clock: Arc::new(ManualClock::new(T0)),
            lsn: 0,
            config: Arc::new(ArcSwap::from_pointee(load_str(CONFIG).unwrap())),
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

    fn fire(&mut self) {
        let now = self.clock.now();
        self.input(LogEntry::Events(vec![Event {
            source: "test".into(),
            integration: String::new(),
            dedup_key: "db-down".into(),
            status: Status::Firing,
            severity: Severity::Critical,
            name: "DbDown".into(),
            summary: "db down".into(),
            description: String::new(),
            service: None,
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

    fn sent(&self) -> Vec<NotificationRow> {
        let conn = rusqlite::Connection::open(self.dir.path().join("tocsin.db")).unwrap();
        incident_notifications(&conn, 1).unwrap()
    }

    /// (user, contact type, level, pass) of each notification, in order.
    fn pages(&self) -> Vec<(String, String, i64, i64)> {
        self.sent()
            .into_iter()
            .map(|n| {
                (
                    n.user,
                    n.contact_type,
                    n.level.unwrap_or(-1) + 1,
                    n.round.unwrap_or(-1) + 1,
                )
            })
            .collect()
    }
}

fn page(user: &str, kind: &str, level: i64, pass: i64) -> (String, String, i64, i64) {
    (user.into(), kind.into(), level, pass)
}

#[test]
fn levels_page_at_their_delays_and_repeats_stop_at_n() {
    let mut h = Harness::new();
    h.fire();
    let level1 = [page("alice", "email", 1, 1), page("alice", "sms", 1, 1)];
    assert_eq!(
        h.pages(),
        level1,
        "level 1 at once (sms after 2m, if unacknowledged)"
    );
    assert_eq!(h.sent()[1].due_ms, T0 + 2 * MIN);
    h.at(T0 + 5 * MIN - 1);
    assert_eq!(h.pages().len(), 2, "not a millisecond early");
    h.at(T0 + 5 * MIN);
    assert_eq!(h.pages()[2], page("bob", "email", 2, 1));
    h.at(T0 + 15 * MIN);
    assert_eq!(
        h.pages()[3..],
        [page("alice", "email", 1, 2), page("alice", "sms", 1, 2)]
    );
    h.at(T0 + 20 * MIN);
    assert_eq!(h.pages()[5], page("bob", "email", 2, 2));
    h.at(T0 + 60 * MIN);
    assert_eq!(h.pages().len(), 6, "one repeat, then no more");
}

#[test]
fn an_acknowledgement_stops_escalation_and_cancels_what_waits_for_it() {
    let mut h = Harness::new();
    h.fire();
    h.at(T0 + MIN);
    h.act(IncidentAction::State(StateAction::Acknowledge));
    let states: Vec<String> = h.sent().into_iter().map(|n| n.state).collect();
    assert_eq!(
        states,
        ["pending", "cancelled"],
        "the SMS after 2m is not sent"
    );
    h.at(T0 + 30 * MIN);
    assert_eq!(h.pages().len(), 2, "no level after an acknowledgement");
    // Reopened, it starts over at level 1.
    h.act(IncidentAction::State(StateAction::Resolve));
    h.act(IncidentAction::State(StateAction::Reopen));
    assert_eq!(h.pages()[2], page("alice", "email", 1, 1));
}

#[test]
fn a_restart_in_the_middle_neither_skips_nor_repeats_a_level() {
    let mut h = Harness::new();
    h.fire();
    // Down from +1m to +12m: level 2 fell due at +5m while nobody was there.
    h.at(T0 + MIN);
    h.engine = None;
    h.clock.set(T0 + 12 * MIN);
    h.open();
    h.at(T0 + 12 * MIN);
    assert_eq!(h.pages().len(), 3);
    assert_eq!(
        h.pages()[2],
        page("bob", "email", 2, 1),
        "level 2 right after the start"
    );
    h.at(T0 + 14 * MIN);
    assert_eq!(h.pages().len(), 3, "and not again");
    // The repeat is due 10 minutes after level 2 was due, not after the restart.
    h.at(T0 + 15 * MIN);
    assert_eq!(h.pages().len(), 5);
}

#[test]
fn escalate_now_and_a_failed_delivery_falls_back_to_the_next_contact() {
    let mut h = Harness::new();
    h.fire();
    h.at(T0 + MIN);
    h.act(IncidentAction::Escalate);
    assert_eq!(
        h.pages()[2],
        page("bob", "email", 2, 1),
        "level 2 without waiting"
    );
    let email = h.sent()[0].id;
    h.input(LogEntry::Delivery(DeliveryReport {
        notification_id: email,
        outcome: DeliveryOutcome::Failed {
            error: "550 no such mailbox".into(),
        },
        at: T0 + MIN,
    }));
    let rows = h.sent();
    assert_eq!(rows[0].state, "failed");
    assert_eq!(rows[0].last_error.as_deref(), Some("550 no such mailbox"));
    // Alice's SMS, planned two minutes after the page, goes now instead: no second SMS.
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[1].contact_type.as_str(), rows[1].due_ms),
        ("sms", T0 + MIN)
    );
    h.input(LogEntry::Delivery(DeliveryReport {
        notification_id: rows[1].id,
        outcome: DeliveryOutcome::Sent,
        at: T0 + MIN,
    }));
    assert_eq!(h.sent()[1].state, "sent");
    // Bob's only contact fails: there is nothing further to fall back to.
    h.input(LogEntry::Delivery(DeliveryReport {
        notification_id: rows[2].id,
        outcome: DeliveryOutcome::Failed {
            error: "timeout".into(),
        },
        at: T0 + MIN,
    }));
    assert_eq!(h.sent().len(), 3);
}
