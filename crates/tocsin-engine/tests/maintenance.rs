//! Maintenance windows on a manual clock: an alert that fires inside a window is muted from
//! its first event (no incident), one outside pages as usual, and when the window closes a
//! muted alert that still fires opens its incident; each occurrence is a silence.

mod common;

use common::{event, Harness, GRACE, HOUR, T0};
use tocsin_core::clock::Clock;
use tocsin_core::event::{Event, Severity, Status};

const CONFIG: &str = r#"
services: [{id: db}, {id: web}]
maintenance_windows:
  - name: db-patching
    matchers: ["service=db"]
    time_zone: UTC
    days: [thu]
    from: "01:00"
    to: "02:00"
    comment: kernel updates
"#;

impl Harness {
    fn fire(&mut self, name: &str, service: &str) {
        let now = self.clock.now();
        self.events(vec![Event {
            severity: Severity::High,
            service: Some(service.into()),
            ..event(name, Status::Firing, now)
        }]);
    }
}

#[test]
fn a_window_mutes_what_it_matches_while_it_is_open() {
    let mut h = Harness::new(CONFIG);
    h.at(T0 + HOUR / 2);
    h.fire("before", "db");
    assert!(
        h.alert("before").incident_id.is_some(),
        "before the window: pages"
    );

    h.clock.set(T0 + HOUR + 5 * 60_000);
    h.fire("during", "db");
    let during = h.alert("during");
    let id = format!("maintenance-db-patching-{}", T0 + HOUR);
    assert_eq!(
        during.silenced_by,
        vec![id.clone()],
        "muted from its first event"
    );
    assert_eq!(during.incident_id, None);
    h.fire("other", "web");
    assert!(h.alert("other").incident_id.is_some(), "not matched: pages");

    // The window closes at 02:00: the still-firing alert opens its incident then.
    h.at(T0 + 2 * HOUR + GRACE);
    let after = h.alert("during");
    assert!(after.silenced_by.is_empty());
    assert!(after.incident_id.is_some());

    // The occurrence is a silence like any other, and next week's is made as time goes on.
    let conn = h.conn();
    let s = tocsin_store::sqlite::silences::get(&conn, &id)
        .unwrap()
        .unwrap();
    assert_eq!(
        s.spec.comment,
        "maintenance window db-patching: kernel updates"
    );
    h.at(T0 + 3 * HOUR);
    let next = format!("maintenance-db-patching-{}", T0 + 7 * 24 * HOUR + HOUR);
    assert!(tocsin_store::sqlite::silences::get(&h.conn(), &next)
        .unwrap()
        .is_some());
}
