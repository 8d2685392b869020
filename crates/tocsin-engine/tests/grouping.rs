//! With correlation on, an alert's group (its service and name) decides where it goes only
//! when the catalog did not place it: a placed alert is scored, so a same-named alert that
//! comes minutes after its service's burst in an incident opens its own; an unplaced one
//! still joins its group's incident while that one gathers. An alert naming a service the
//! catalog lacks is placed (in a discovered service), so it is scored too.

mod common;

use common::{event, Harness, MIN, SEC, T0};
use tocsin_core::event::{Event, Status};

/// api depends on db, so correlation is on.
const CONFIG: &str = "services: [{id: db}, {id: api, depends_on: [db]}]";

/// Sends alert `key` named Errors of `service` (none if empty) at `t`, from host `key` (one
/// alert per host, so none is the same alert again); returns its incident.
fn errors(h: &mut Harness, service: &str, key: &str, t: i64) -> Option<i64> {
    h.clock.set(t);
    let mut e = Event {
        dedup_key: key.into(),
        service: (!service.is_empty()).then(|| service.into()),
        ..event("Errors", Status::Firing, t)
    };
    e.labels.insert("host".into(), key.into());
    h.events(vec![e]);
    h.alert(key).incident_id
}

#[test]
fn a_placed_alert_is_scored_rather_than_grouped() {
    let mut h = Harness::new(CONFIG);
    let first = errors(&mut h, "api", "e1", T0);
    // Every 80 s another host's (within `same_service` of the last): while api's burst in
    // the incident is young, they link.
    assert_eq!(errors(&mut h, "api", "e2", T0 + 80 * SEC), first);
    assert_eq!(errors(&mut h, "api", "e3", T0 + 160 * SEC), first);
    // The incident still gathers and api alerted there 80 s before, but its burst there
    // began 240 s before (past `burst`): more likely a new fault.
    let late = errors(&mut h, "api", "e4", T0 + 240 * SEC);
    assert!(late.is_some());
    assert_ne!(late, first);
}

#[test]
fn an_unplaced_alert_joins_its_group() {
    let mut h = Harness::new(CONFIG);
    let first = errors(&mut h, "", "e1", T0);
    assert_eq!(errors(&mut h, "", "e2", T0 + 4 * MIN), first);
}

#[test]
fn an_alert_of_a_discovered_service_is_scored_like_a_placed_one() {
    let mut h = Harness::new(CONFIG);
    let first = errors(&mut h, "billing", "e1", T0);
    assert_eq!(errors(&mut h, "billing", "e2", T0 + 80 * SEC), first);
    assert_eq!(errors(&mut h, "billing", "e3", T0 + 160 * SEC), first);
    let late = errors(&mut h, "billing", "e4", T0 + 240 * SEC);
    assert!(late.is_some());
    assert_ne!(late, first, "scored, not grouped");
    // It never joins another service's incident by name alone.
    let other = errors(&mut h, "shipping", "e5", T0 + 250 * SEC);
    assert!(other.is_some() && other != late && other != first);
}
