//! Follow-ups on a manual clock (issue 17 item 4): once an incident is acknowledged or
//! resolved, each contact its pages reached is told once over the same channel (chat and mail
//! by default, SMS not), except the person who did it; a merge or a close tells nobody. And
//! with `auto_resolve: false`, an incident whose alerts all resolved pages nobody until one
//! fires again.

mod common;

use common::{event, Harness, MIN, T0};
use tocsin_core::clock::Clock;
use tocsin_core::command::{Command, DeliveryOutcome, DeliveryReport, IncidentAction};
use tocsin_core::event::{Event, Status};
use tocsin_core::incident::StateAction;
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::paging::NotificationRow;

const CONFIG: &str = r#"
users:
  - id: alice
    contacts: [{type: dingtalk, to: "13800000001"}, {type: sms, to: "+100"}]
  - {id: bob, contacts: [{type: email, to: bob@example.com}]}
  - {id: carol, contacts: [{type: email, to: carol@example.com, follow_ups: [resolved]}]}
channels:
  - {id: robot, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x"}
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
  - {id: sms, type: sms, url: "http://127.0.0.1:9/sms", body: "{{ text }}"}
escalation_policies:
  - id: ops
    levels:
      - {delay: 5m, targets: [{user: alice}, {user: bob}, {user: carol}]}
      - {delay: 5m, targets: [{user: bob}]}
teams: [{id: ops, members: [alice, bob, carol], escalation_policy: ops}]
"#;

impl Harness {
    fn db(&mut self, status: Status) {
        let now = self.clock.now();
        self.events(vec![Event {
            dedup_key: "db-down".into(),
            summary: "db down".into(),
            ..event("DbDown", status, now)
        }]);
    }

    fn command(&mut self, action: StateAction, actor: &str, reason: &str) {
        let at = self.clock.now();
        self.input(LogEntry::Command(Command {
            incident_id: 1,
            action: IncidentAction::State(action),
            actor: actor.into(),
            reason: reason.into(),
            at,
        }));
    }

    /// Reports every pending notification of incident 1 sent.
    fn deliver_all(&mut self) {
        let at = self.clock.now();
        for n in self.notifications(1) {
            if n.state == "pending" && n.due_ms <= at {
                self.input(LogEntry::Delivery(DeliveryReport {
                    notification_id: n.id,
                    outcome: DeliveryOutcome::Sent,
                    at,
                }));
            }
        }
    }

    /// (user, channel) of incident 1's notifications of this kind.
    fn of_kind(&self, kind: &str) -> Vec<(String, String)> {
        self.rows(kind)
            .into_iter()
            .map(|n| (n.user, n.channel))
            .collect()
    }

    fn rows(&self, kind: &str) -> Vec<NotificationRow> {
        self.notifications(1)
            .into_iter()
            .filter(|n| n.kind == kind)
            .collect()
    }
}

fn to(user: &str, channel: &str) -> (String, String) {
    (user.into(), channel.into())
}

#[test]
fn those_paged_are_told_once_by_the_same_channel_but_not_the_one_who_acted() {
    let mut h = Harness::new(CONFIG);
    h.db(Status::Firing);
    assert_eq!(
        h.of_kind("page"),
        [
            to("alice", "robot"),
            to("alice", "sms"),
            to("bob", "mail"),
            to("carol", "mail")
        ]
    );
    h.deliver_all();
    // Level 2 pages bob again: he is still told once.
    h.clock.set(T0 + 6 * MIN);
    h.tick();
    h.deliver_all();
    assert_eq!(h.of_kind("page").len(), 5, "level 2: bob again");

    h.clock.set(T0 + 8 * MIN);
    h.command(
        StateAction::Acknowledge,
        "bob (link)",
        "restarting the primary",
    );
    // Alice by DingTalk, not by SMS; not bob, who acknowledged; not carol, who wants only
    // resolutions.
    assert_eq!(h.of_kind("acknowledged"), [to("alice", "robot")]);
    let ack = &h.rows("acknowledged")[0];
    assert_eq!(
        (ack.actor.as_deref(), ack.comment.as_deref(), ack.due_ms),
        (
            Some("bob (link)"),
            Some("restarting the primary"),
            T0 + 8 * MIN
        )
    );
    assert_eq!(ack.state, "pending");

    // Its alert resolves: everyone paged is told, bob too (tocsin resolved it, not bob); the
    // acknowledgement's follow-up, not sent yet, still goes.
    h.clock.set(T0 + 9 * MIN);
    h.db(Status::Resolved);
    assert_eq!(
        h.of_kind("resolved"),
        [to("alice", "robot"), to("bob", "mail"), to("carol", "mail")]
    );
    assert!(h.rows("resolved").iter().all(|n| n.actor.is_none()));
    assert_eq!(h.rows("acknowledged")[0].state, "pending");
    assert!(h.timeline(1).iter().any(
        |(_, m)| m == "follow-up (resolved) to alice by dingtalk, bob by email, carol by email"
    ));

    // Closing a resolved incident tells nobody again.
    h.command(StateAction::Close, "alice", "");
    assert_eq!(h.of_kind("resolved").len(), 3);
}

#[test]
fn a_resolve_by_hand_says_who_and_why_and_an_unpaged_incident_tells_nobody() {
    let mut h = Harness::new(CONFIG);
    h.db(Status::Firing);
    // Nothing was delivered yet: nobody was reached, so nobody is told.
    h.command(StateAction::Acknowledge, "alice", "");
    assert!(h.of_kind("acknowledged").is_empty());
    h.deliver_all();
    h.command(StateAction::Resolve, "alice", "failed over to the replica");
    assert_eq!(
        h.of_kind("resolved"),
        [to("bob", "mail"), to("carol", "mail")]
    );
    let r = &h.rows("resolved")[0];
    assert_eq!(
        (r.actor.as_deref(), r.comment.as_deref()),
        (Some("alice"), Some("failed over to the replica"))
    );
}

/// Issue 17 item 5's review: with `auto_resolve: false` an incident whose alerts all
/// resolved stayed open and went on escalating, paging bob for nothing.
#[test]
fn with_auto_resolve_off_an_incident_with_nothing_firing_pages_nobody_until_it_fires() {
    let config = format!("incidents: {{auto_resolve: false}}\n{CONFIG}");
    let mut h = Harness::new(&config);
    h.db(Status::Firing);
    h.deliver_all();
    h.clock.set(T0 + MIN);
    h.db(Status::Resolved);
    assert_eq!(h.incidents()[0].state, "triggered");
    // Level 2 is due at 5 minutes: held.
    h.clock.set(T0 + 6 * MIN);
    h.tick();
    assert_eq!(h.of_kind("page").len(), 4, "bob is not paged again");
    assert!(
        h.timeline(1).iter().any(|(_, m)| m
            == "escalation held: none of its alerts fires (auto_resolve is off: it stays open until someone resolves it)"),
        "{:?}",
        h.timeline(1)
    );
    // It fires again: the held step is taken.
    h.clock.set(T0 + 7 * MIN);
    h.db(Status::Firing);
    let pages = h.of_kind("page");
    assert_eq!(pages.len(), 5, "{pages:?}");
    assert_eq!(pages[4], to("bob", "mail"));
}
