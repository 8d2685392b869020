//! Escalation on a manual clock: levels page at their delays, repeats stop at N, an
//! acknowledgement stops escalation and cancels conditional notifications, a restart in the
//! middle neither skips nor repeats a level, and a failed delivery falls back to the next
//! contact.

mod common;

use common::{event, Harness, MIN, T0};
use std::sync::Arc;
use tocsin_core::clock::Clock;
use tocsin_core::command::{DeliveryOutcome, DeliveryReport, IncidentAction};
use tocsin_core::config::load_str;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::StateAction;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::paging::NotificationRow;

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

impl Harness {
    fn fire(&mut self) {
        let now = self.clock.now();
        self.events(vec![Event {
            dedup_key: "db-down".into(),
            summary: "db down".into(),
            ..event("DbDown", Status::Firing, now)
        }]);
    }

    fn sent(&self) -> Vec<NotificationRow> {
        self.notifications(1)
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
    let mut h = Harness::new(CONFIG);
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
    let mut h = Harness::new(CONFIG);
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
    let mut h = Harness::new(CONFIG);
    h.fire();
    // Down from +1m to +12m: level 2 fell due at +5m while nobody was there.
    h.at(T0 + MIN);
    h.engine = None;
    h.clock.set(T0 + 12 * MIN);
    h.restart();
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
    let mut h = Harness::new(CONFIG);
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

const SUPPORT: &str = r#"
users:
  - {id: alice, contacts: [{type: email, to: alice@example.com}]}
channels:
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
escalation_policies:
  - {id: ops, levels: [{targets: [{user: alice}]}]}
teams: [{id: ops, members: [alice], escalation_policy: ops}]
services:
  - id: wiki
    support_hours: {time_zone: UTC, days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
"#;

fn wiki_event(key: &str, severity: Severity, at: i64) -> LogEntry {
    LogEntry::Events(vec![Event {
        severity,
        summary: key.into(),
        service: Some("wiki".into()),
        ..event(key, Status::Firing, at)
    }])
}

#[test]
fn outside_support_hours_paging_waits_for_the_window_unless_it_turns_urgent() {
    let mut h = Harness::new(CONFIG);
    h.config.store(Arc::new(load_str(SUPPORT).unwrap()));
    // Thursday 00:00 UTC: two warnings at night wait; 09:00 pages both at that moment.
    h.input(wiki_event("disk", Severity::Warning, T0));
    h.input(wiki_event("cert", Severity::Warning, T0 + MIN));
    assert_eq!(
        (h.notifications(1).len(), h.notifications(2).len()),
        (0, 0),
        "nobody is paged at night"
    );
    h.at(T0 + 9 * 60 * MIN - 1);
    assert_eq!(h.notifications(1).len(), 0);
    h.at(T0 + 9 * 60 * MIN);
    let due: Vec<i64> = [1, 2]
        .iter()
        .map(|&i| h.notifications(i)[0].due_ms)
        .collect();
    assert_eq!(
        due,
        [T0 + 9 * 60 * MIN; 2],
        "due together: one bundled message"
    );
    // A held incident whose alert turns critical pages at once.
    h.at(T0 + 20 * 60 * MIN);
    h.input(wiki_event("db", Severity::Warning, T0 + 20 * 60 * MIN));
    assert_eq!(h.notifications(3).len(), 0, "20:00 is outside the window");
    h.input(wiki_event(
        "db",
        Severity::Critical,
        T0 + 20 * 60 * MIN + MIN,
    ));
    let n = h.notifications(3);
    assert_eq!(n.len(), 1);
    assert!(n[0].reason.contains("now urgent"), "{}", n[0].reason);
}
