//! Storms in the engine on a manual clock: a burst of new alerts on one service is a storm,
//! and a flood over many services one storm, not one per service; the incidents it opens are
//! not paged one by one but summarised once, then updated at most every `summary_interval`
//! and only when new alerts came; an incident on a service outside the storm pages as usual
//! meanwhile; and a restart goes on with the storm in progress.

mod common;

use common::{event, Harness, GRACE, MIN, SEC, T0};
use tocsin_core::event::{Event, Status};
use tocsin_store::sqlite::storms::{self, StormRow};

/// A storm at 10 new alerts a minute (a fresh service's normal is the floor of 1, times 10);
/// a long calm so the storm outlives its burst and a quiet summary interval can be seen.
/// Correlation is off so that each alert opens its own incident, each of which would page.
const CONFIG: &str = r#"
storms: {factor: 10, min_alerts: 10, window: 1m, summary_interval: 5m, calm: 15m}
correlation: {enabled: false}
services: [{id: core}, {id: web}, {id: s0}, {id: s1}, {id: s2}, {id: s3}, {id: s4}]
users:
  - id: alice
    contacts: [{type: email, to: alice@example.com}]
channels:
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
escalation_policies:
  - {id: ops, levels: [{delay: 30m, targets: [{user: alice}]}]}
teams: [{id: ops, members: [alice], escalation_policy: ops}]
"#;

impl Harness {
    /// A new alert `name` of `service` fires at `t`.
    fn fire(&mut self, t: i64, service: &str, name: &str) {
        self.clock.set(t);
        self.events(vec![Event {
            dedup_key: format!("{service}/{name}"),
            service: Some(service.into()),
            ..event(name, Status::Firing, t)
        }]);
    }

    /// `n` distinct new alerts on `service`, one a second from `from`, named `{prefix}{i}`.
    fn burst(&mut self, service: &str, prefix: &str, from: i64, n: i64) {
        for i in 0..n {
            self.fire(from + i * SEC, service, &format!("{prefix}{i}"));
        }
    }

    /// The outbox: (kind, incident, due time from T0), in order.
    fn outbox(&self) -> Vec<(String, i64, i64)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT kind, incident_id, due_at FROM notifications ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? - T0)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The storm summaries in the outbox: (storm, summary number, due time from T0).
    fn summaries(&self) -> Vec<(i64, i64, i64)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT s.storm_id, s.summary, n.due_at FROM storm_notifications s
                 JOIN notifications n ON n.id = s.notification_id ORDER BY n.id",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? - T0)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn storms(&self) -> Vec<StormRow> {
        let mut all = storms::list(&self.conn(), 100).unwrap();
        all.reverse();
        all
    }

    /// The incidents paged on their own (not by a storm summary).
    fn paged_incidents(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .outbox()
            .into_iter()
            .filter(|(kind, ..)| kind == "page")
            .map(|(_, incident, _)| incident)
            .collect();
        ids.dedup();
        ids
    }

    fn says(&self, incident: i64, kind: &str, text: &str) -> bool {
        self.timeline(incident)
            .iter()
            .any(|(k, m)| k == kind && m.contains(text))
    }
}

#[test]
fn a_burst_is_one_storm_summarised_once() {
    let mut h = Harness::new(CONFIG);
    h.burst("core", "Down", T0, 30);
    let storms = h.storms();
    assert_eq!(storms.len(), 1, "one storm for one burst: {storms:?}");
    let storm = &storms[0];
    assert_eq!(
        (storm.scope.as_str(), storm.service.as_deref()),
        ("service", Some("core"))
    );
    assert_eq!(
        storm.started_at,
        T0 + 9 * SEC,
        "the 10th new alert in a minute starts it"
    );
    assert_eq!(storm.ended_at, None);
    assert_eq!(storm.alerts, 21, "alerts 10 to 30 came during it");
    assert_eq!(storm.lead_incident, Some(10));
    // The nine incidents before it were paged as usual; none of the 21 inside it.
    assert_eq!(h.paged_incidents(), (1..=9).collect::<Vec<_>>());
    assert_eq!(
        h.summaries(),
        [(1, 1, 9 * SEC)],
        "exactly one summary, at the start"
    );
    assert!(
        h.outbox()
            .iter()
            .any(|(k, i, t)| k == "storm" && *i == 10 && *t == 9 * SEC),
        "filed under its first incident as kind storm: {:?}",
        h.outbox()
    );
    assert!(h.says(
        10,
        "storm",
        "storm in core: 10 new alerts/min against a normal 1/min"
    ));
    assert!(h.says(
        30,
        "paging",
        "not paged on its own: it opened during a storm"
    ));
    assert!(h.says(
        10,
        "paging",
        "storm 1 summary (1 alerts in 1 incidents) to alice"
    ));
    assert!(
        !h.says(9, "storm", ""),
        "opened before the storm: untouched"
    );
}

#[test]
fn a_flood_over_many_services_is_one_storm_not_one_per_service() {
    let mut h = Harness::new(CONFIG);
    // 60 alerts round the five services: all services reach 10 first (the global storm),
    // then each service its own 10 (storms of their own, started later).
    for i in 0..60 {
        h.fire(T0 + i * SEC, &format!("s{}", i % 5), &format!("Down{i}"));
    }
    let storms = h.storms();
    assert_eq!(
        storms.len(),
        1,
        "the services' own storms had no alert of their own: {storms:?}"
    );
    assert_eq!((storms[0].scope.as_str(), storms[0].alerts), ("global", 51));
    assert_eq!(h.summaries(), [(1, 1, 9 * SEC)]);
    assert!(h.says(
        10,
        "storm",
        "storm in all services: 10 new alerts/min against a normal 1/min"
    ));
    assert_eq!(h.paged_incidents(), (1..=9).collect::<Vec<_>>());
}

#[test]
fn updates_only_after_the_interval_and_only_with_news() {
    let mut h = Harness::new(CONFIG);
    h.burst("core", "Down", T0, 30);
    // More alerts keep coming in the first interval: none of them is a notification.
    h.burst("core", "Late", T0 + 2 * MIN, 20);
    assert_eq!(h.summaries().len(), 1);
    let before = h.outbox().len();
    h.at(T0 + 9 * SEC + 5 * MIN - 1 + GRACE);
    assert_eq!(h.outbox().len(), before, "not a millisecond early");
    h.at(T0 + 9 * SEC + 5 * MIN + GRACE);
    assert_eq!(
        h.summaries(),
        [(1, 1, 9 * SEC), (1, 2, 9 * SEC + 5 * MIN)],
        "one update for the 40 alerts since the first summary"
    );
    assert!(h.says(
        10,
        "paging",
        "storm 1 summary, update 1 (41 alerts in 41 incidents)"
    ));
    // Nothing new in the next interval: no update, although the storm is still on.
    h.at(T0 + 9 * SEC + 10 * MIN + GRACE);
    assert_eq!(h.summaries().len(), 2);
    assert_eq!(h.storms()[0].ended_at, None, "still calming down");
    // One new alert in the third interval: one more update at its end, not at once.
    h.fire(T0 + 12 * MIN, "core", "Straggler");
    assert_eq!(h.summaries().len(), 2);
    h.at(T0 + 9 * SEC + 15 * MIN + GRACE);
    assert_eq!(h.summaries().len(), 3);
    assert_eq!(h.summaries()[2], (1, 3, 9 * SEC + 15 * MIN));
    // Every alert inside the storm opened an incident and none was paged on its own.
    assert_eq!(h.paged_incidents(), (1..=9).collect::<Vec<_>>());
    assert_eq!(h.outbox().len(), 9 + 3);
}

#[test]
fn the_storm_ends_after_its_calm_and_new_incidents_page_again() {
    let mut h = Harness::new(CONFIG);
    h.burst("core", "Down", T0, 30);
    // The window empties a minute after the burst, then 15m of calm.
    h.at(T0 + 30 * MIN);
    let storm = &h.storms()[0];
    let ended = storm.ended_at.expect("over by now");
    assert!(
        (T0 + 15 * MIN..=T0 + 17 * MIN).contains(&ended),
        "ends a calm after its rate fell: {}",
        ended - T0
    );
    h.fire(T0 + 31 * MIN, "core", "After");
    assert!(h.paged_incidents().contains(&31), "{:?}", h.outbox());
}

#[test]
fn an_unrelated_incident_pages_at_once_during_a_storm() {
    let mut h = Harness::new(CONFIG);
    h.burst("core", "Down", T0, 30);
    h.fire(T0 + 40 * SEC, "web", "HttpDown");
    let web = 31;
    assert_eq!(
        h.outbox().last().unwrap(),
        &("page".to_string(), web, 40 * SEC),
        "paged on its own, at once"
    );
    assert!(!h.says(web, "storm", ""), "{:?}", h.timeline(web));
    assert!(!h.says(web, "paging", "not paged on its own"));
    // Neither is it in the storm's summaries later.
    h.at(T0 + 20 * MIN);
    let conn = h.conn();
    assert_eq!(
        storms::storms_of_incident(&conn, web).unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(
        h.summaries().len(),
        1,
        "the storm had no news after its first summary"
    );
}

#[test]
fn a_restart_goes_on_with_the_storm_in_progress() {
    let mut h = Harness::new(CONFIG);
    h.burst("core", "Down", T0, 30);
    h.restart();
    assert_eq!(h.summaries().len(), 1, "the restart sends no summary again");
    // Alerts after the restart are still inside the storm: held, counted, summarised.
    h.burst("core", "Late", T0 + MIN, 5);
    assert_eq!(h.paged_incidents(), (1..=9).collect::<Vec<_>>());
    assert!(h.says(35, "paging", "not paged on its own"));
    let storms = h.storms();
    assert_eq!(storms.len(), 1, "the same storm, not a new one: {storms:?}");
    assert_eq!(storms[0].alerts, 26);
    // Down across the summary's due time: the update goes out at start, dated when due.
    h.engine = None;
    h.clock.set(T0 + 8 * MIN);
    h.restart();
    assert_eq!(h.summaries(), [(1, 1, 9 * SEC), (1, 2, 9 * SEC + 5 * MIN)]);
    h.restart();
    h.at(T0 + 9 * MIN);
    assert_eq!(h.summaries().len(), 2, "and only once");
}
