//! Alertmanager-style timing on a manual clock: group_wait holds the first page (and pages
//! nobody when the incident ends meanwhile, also across a restart), group_interval gathers
//! alerts that join into one update per interval to the people paged (never by voice), and
//! repeat_interval re-notifies while triggered and firing, but not in the minute after a page.

mod common;

use common::{event, Harness, MIN, SEC, T0};
use tocsin_core::clock::Clock;
use tocsin_core::command::IncidentAction;
use tocsin_core::event::{Event, Status};
use tocsin_core::incident::StateAction;
use tocsin_store::sqlite::group_timers::joined_alerts;

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

impl Harness {
    /// An alert `name` of `service` fires (or resolves) now.
    fn send(&mut self, service: &str, name: &str, status: Status) {
        let now = self.clock.now();
        self.events(vec![Event {
            service: Some(service.into()),
            ..event(name, status, now)
        }]);
    }

    /// (kind, contact type, due time from T0) of incident 1's notifications, in order.
    fn sent(&self) -> Vec<(String, String, i64)> {
        self.notifications(1)
            .into_iter()
            .map(|n| (n.kind, n.contact_type, n.due_ms - T0))
            .collect()
    }

    /// The messages of incident 1's timeline.
    fn messages(&self) -> Vec<String> {
        self.timeline(1).into_iter().map(|(_, m)| m).collect()
    }
}

fn row(kind: &str, contact: &str, at: i64) -> (String, String, i64) {
    (kind.into(), contact.into(), at)
}

#[test]
fn group_wait_collects_alerts_then_pages_once() {
    let mut h = Harness::new(CONFIG);
    h.send("payments", "Down", Status::Firing);
    assert!(h.sent().is_empty(), "nobody is paged during group_wait");
    h.at(T0 + 10 * SEC);
    h.send("payments", "Slow", Status::Firing);
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
        h.messages()[1].contains("waiting 30s (group_wait)"),
        "{:?}",
        h.messages()
    );
    // The second alert joined before the first page: no update for it.
    h.at(T0 + 20 * MIN);
    assert!(h.sent().iter().all(|(k, ..)| k == "page"), "{:?}", h.sent());
}

#[test]
fn an_incident_that_ends_within_group_wait_pages_nobody() {
    let mut h = Harness::new(CONFIG);
    h.send("payments", "Down", Status::Firing);
    h.at(T0 + 10 * SEC);
    h.send("payments", "Down", Status::Resolved);
    h.at(T0 + 5 * MIN);
    assert!(h.sent().is_empty());
    let timeline = h.messages();
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
    h.send("payments", "Down", Status::Firing);
    h.engine = None; // down
    h.clock.set(T0 + 10 * MIN);
    h.restart();
    assert_eq!(
        h.sent(),
        [
            row("page", "voice", 30 * SEC),
            row("page", "email", 30 * SEC)
        ],
        "paged at start, dated by the wait, not by the restart"
    );
    // And the restart does not page again.
    h.restart();
    h.at(T0 + 11 * MIN);
    assert_eq!(h.sent().len(), 2);
}

#[test]
fn an_alert_sent_again_is_no_news() {
    let mut h = Harness::new(CONFIG);
    h.send("web", "Down", Status::Firing);
    assert_eq!(h.sent().len(), 2, "no group_wait by default: paged at once");
    for i in 1..=3 {
        h.at(T0 + i * MIN);
        h.send("web", "Down", Status::Firing);
    }
    h.at(T0 + 20 * MIN);
    assert_eq!(h.sent().len(), 2, "no update for the same alert again");
}

#[test]
fn joined_alerts_are_announced_together_and_never_by_voice() {
    let config = CONFIG.replace("routes:", "group_by: [service]\n  routes:");
    let mut h = Harness::new(&config);
    h.send("web", "Down", Status::Firing);
    for (i, name) in ["B", "C", "D"].into_iter().enumerate() {
        h.at(T0 + (i as i64 + 1) * MIN);
        h.send("web", name, Status::Firing);
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
        joined_alerts(&h.conn(), 1, T0, update.due_ms).unwrap(),
        ["B", "C", "D"],
        "what the update names"
    );
    // The next joiner waits for the next tick; a quiet interval sends nothing.
    h.at(T0 + 6 * MIN);
    h.send("web", "E", Status::Firing);
    h.at(T0 + 10 * MIN - 1);
    assert_eq!(h.sent().len(), 3);
    h.at(T0 + 10 * MIN);
    assert_eq!(h.sent().len(), 4, "{:?}", h.sent());
    assert_eq!(h.sent()[3], row("update", "email", 10 * MIN));
    let update = &h.notifications(1)[3];
    assert_eq!(update.since, Some(T0 + 5 * MIN));
    assert_eq!(
        joined_alerts(&h.conn(), 1, T0 + 5 * MIN, update.due_ms).unwrap(),
        ["E"]
    );
    h.at(T0 + 15 * MIN);
    assert_eq!(h.sent().len(), 4, "nothing new, nothing sent");
}

#[test]
fn repeats_while_triggered_and_firing_stop_at_acknowledgement() {
    let mut h = Harness::new(CONFIG);
    h.send("web", "Down", Status::Firing);
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
    h.restart();
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
    h.send("web", "Down", Status::Firing);
    h.at(T0 + 60 * MIN);
    let kinds: Vec<String> = h.sent().into_iter().map(|(k, ..)| k).collect();
    assert_eq!(
        kinds,
        ["page", "page", "page", "page"],
        "level 1, then level 2; no repeat"
    );
    assert!(
        h.messages()
            .iter()
            .any(|m| m == "repeat skipped: paged less than a minute ago"),
        "{:?}",
        h.messages()
    );
    h.at(T0 + 120 * MIN);
    assert_eq!(h.sent()[4].0, "repeat", "the next hour repeats level 2");
}
