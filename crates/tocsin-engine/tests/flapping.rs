//! Flapping in the engine with a manual clock: an alert that fires and resolves every two
//! minutes stays in one incident once it flaps, that incident stays open while it flaps and
//! resolves when it has been quiet long enough; a restart keeps it flapping; an alert that
//! changes twice is unaffected; with correlation on, a new fault it fires in takes it.

mod common;

use common::{event, Harness, GRACE, MIN, SEC, T0};
use tocsin_core::clock::Clock;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_store::sqlite::queries::{self, AlertFilter};
use tocsin_store::sqlite::rows::IncidentRow;

impl Harness {
    fn send(&mut self, name: &str, status: Status) {
        let now = self.clock.now();
        self.events(vec![Event {
            severity: Severity::High,
            ..event(name, status, now)
        }]);
    }

    fn flapping_alerts(&self, flag: bool) -> usize {
        let filter = AlertFilter {
            flapping: Some(flag),
            ..Default::default()
        };
        self.alerts_where(&filter).len()
    }

    /// Oldest first.
    fn incidents_oldest_first(&self) -> Vec<IncidentRow> {
        let mut all = self.incidents();
        all.reverse();
        all
    }

    /// The incident's timeline as the API shows it (with what its alerts did), one
    /// `kind: message` a line.
    fn merged_timeline(&self, incident: i64) -> Vec<String> {
        queries::get_incident(&self.conn(), incident, &|_| String::new())
            .unwrap()
            .unwrap()
            .timeline
            .into_iter()
            .map(|t| format!("{}: {}", t.kind, t.message))
            .collect()
    }
}

/// Fires and resolves `name` every two minutes from `from`, `changes` times; returns the
/// time of the last change.
fn flap(h: &mut Harness, name: &str, from: i64, changes: i64) -> i64 {
    let mut t = from;
    for i in 0..changes {
        h.clock.set(t);
        let status = if i % 2 == 0 {
            Status::Firing
        } else {
            Status::Resolved
        };
        h.send(name, status);
        t += 2 * MIN;
    }
    t - 2 * MIN
}

#[test]
fn a_flapping_alert_stays_in_one_incident_until_it_calms_down() {
    let mut h = Harness::new("");
    // Changes 1 and 2 behave as always: an incident, resolved. Change 3 opens a second one;
    // change 4 (a resolve) makes the alert flap and leaves that incident open.
    let last = flap(&mut h, "Disk", T0, 4);
    let incidents = h.incidents_oldest_first();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0].state, "resolved");
    assert_eq!(incidents[1].state, "triggered");
    let alert = h.alert("Disk");
    assert!(alert.flapping);
    assert_eq!(alert.status, "resolved");
    let flapping_id = incidents[1].id;
    assert!(h.merged_timeline(flapping_id).contains(
        &"flapping: alert Disk is flapping: 4 changes in 30m; its resolves no longer close the incident"
            .to_string()
    ));

    // Twenty more flaps: every re-fire rejoins the open incident; nothing new opens.
    let last = flap(&mut h, "Disk", last + 2 * MIN, 20).max(last);
    assert_eq!(h.incidents_oldest_first().len(), 2);
    let open = &h.incidents_oldest_first()[1];
    assert_eq!(open.state, "triggered");
    assert_eq!(open.alert_count, 1);
    assert_eq!(open.firing_count, 0);
    assert_eq!(h.flapping_alerts(true), 1);

    // Quiet for almost 30 minutes: still flapping, still open.
    h.at(last + 30 * MIN - 1);
    assert!(h.alert("Disk").flapping);
    assert_eq!(h.incidents_oldest_first()[1].state, "triggered");
    // The quiet spell is over (decided at the horizon, after the expiry grace).
    h.at(last + 30 * MIN + GRACE);
    assert!(!h.alert("Disk").flapping);
    assert_eq!(h.flapping_alerts(true), 0);
    let incident = &h.incidents_oldest_first()[1];
    assert_eq!(incident.state, "resolved");
    let timeline = h.merged_timeline(flapping_id);
    assert!(timeline.contains(&"stable: alert Disk stopped flapping: no change in 30m".to_string()));
    assert!(timeline.contains(&"resolved: all alerts resolved".to_string()));

    // Calm again, the alert is an ordinary one: its next fire opens a new incident.
    h.clock.set(last + 40 * MIN);
    h.send("Disk", Status::Firing);
    assert_eq!(h.incidents_oldest_first().len(), 3);
}

#[test]
fn a_flapping_alert_that_stays_firing_keeps_its_incident_after_calming() {
    let mut h = Harness::new("flapping: {transitions: 3, window: 10m, quiet: 5m}");
    let last = flap(&mut h, "Link", T0, 3);
    assert!(h.alert("Link").flapping);
    h.at(last + 5 * MIN + GRACE);
    assert!(!h.alert("Link").flapping);
    // It fires: the incident stays open; only its resolve closes it.
    let incident = h.incidents_oldest_first().last().unwrap().clone();
    assert_eq!(incident.state, "triggered");
    h.clock.set(last + 6 * MIN);
    h.send("Link", Status::Resolved);
    assert_eq!(h.incidents_oldest_first().last().unwrap().state, "resolved");
}

#[test]
fn a_restart_mid_flap_keeps_it_flapping() {
    let mut h = Harness::new("");
    let last = flap(&mut h, "Disk", T0, 6);
    assert!(h.alert("Disk").flapping);
    h.restart();
    // Re-fires after the restart still join the open incident.
    let last = flap(&mut h, "Disk", last + 2 * MIN, 4).max(last);
    assert_eq!(h.incidents_oldest_first().len(), 2);
    assert_eq!(h.incidents_oldest_first()[1].state, "triggered");
    assert!(h.alert("Disk").flapping);
    // The quiet spell counts from the last change, across another restart.
    h.restart();
    h.at(last + 30 * MIN - 1);
    assert!(h.alert("Disk").flapping);
    h.at(last + 30 * MIN + GRACE);
    assert!(!h.alert("Disk").flapping);
    assert_eq!(h.incidents_oldest_first()[1].state, "resolved");
}

#[test]
fn a_restart_keeps_counting_changes() {
    let mut h = Harness::new("");
    let last = flap(&mut h, "Disk", T0, 3);
    h.restart();
    h.clock.set(last + 2 * MIN);
    h.send("Disk", Status::Resolved);
    assert!(h.alert("Disk").flapping);
    assert_eq!(h.incidents_oldest_first()[1].state, "triggered");
}

#[test]
fn an_alert_that_changes_twice_is_unaffected() {
    let mut h = Harness::new("");
    flap(&mut h, "Cpu", T0, 2);
    assert!(!h.alert("Cpu").flapping);
    assert_eq!(h.incidents_oldest_first().len(), 1);
    assert_eq!(h.incidents_oldest_first()[0].state, "resolved");
    // Its history is forgotten once out of the window.
    h.at(T0 + 2 * MIN + 30 * MIN + GRACE);
    let rows: i64 = h
        .conn()
        .query_row("SELECT count(*) FROM alert_flaps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn turned_off_nothing_flaps() {
    let mut h = Harness::new("flapping: {enabled: false}");
    flap(&mut h, "Disk", T0, 8);
    assert!(!h.alert("Disk").flapping);
    assert_eq!(h.incidents_oldest_first().len(), 4);
    assert!(h
        .incidents_oldest_first()
        .iter()
        .all(|i| i.state == "resolved"));
}

#[test]
fn a_flapping_alert_that_fires_in_a_new_fault_joins_that_fault() {
    // api depends on db, so correlation is on.
    let mut h = Harness::new("services: [{id: db}, {id: api, depends_on: [db]}]");
    let on = |service: &str, name: &str, status: Status, t: i64| Event {
        service: Some(service.into()),
        severity: Severity::High,
        ..event(name, status, t)
    };
    let mut last = T0;
    for i in 0..4 {
        last = T0 + i * 2 * MIN;
        let status = [Status::Firing, Status::Resolved][i as usize % 2];
        h.clock.set(last);
        h.events(vec![on("api", "Errors", status, last)]);
    }
    assert!(h.alert("Errors").flapping);
    let flapping = h.alert("Errors").incident_id;
    // Alone, well after its last firing: back to its own incident, nothing new opens.
    let t = last + 10 * MIN;
    h.clock.set(t);
    h.events(vec![on("api", "Errors", Status::Firing, t)]);
    assert_eq!(h.alert("Errors").incident_id, flapping);
    h.clock.set(t + MIN);
    h.events(vec![on("api", "Errors", Status::Resolved, t + MIN)]);
    // db goes down: a new fault. api's errors follow 10 s later and belong to it.
    let t = t + 12 * MIN;
    h.clock.set(t);
    h.events(vec![on("db", "DbDown", Status::Firing, t)]);
    let outage = h.alert("DbDown").incident_id;
    assert_ne!(outage, flapping);
    h.clock.set(t + 10 * SEC);
    h.events(vec![on("api", "Errors", Status::Firing, t + 10 * SEC)]);
    assert!(h.alert("Errors").flapping, "still flapping");
    assert_eq!(h.alert("Errors").incident_id, outage);
}
