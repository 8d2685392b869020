//! Maintenance windows on a manual clock: an alert that fires inside a window is muted from
//! its first event (no incident), one outside pages as usual, and when the window closes a
//! muted alert that still fires opens its incident; each occurrence is a silence.

use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::{Clock, ManualClock};
use tocsin_core::config::load_str;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_engine::{Engine, EngineStats, Input, EXPIRY_GRACE};
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::queries::{self, AlertFilter, PageRequest};
use tocsin_store::sqlite::rows::AlertRow;

const T0: i64 = 1_767_225_600_000; // Thursday 2026-01-01T00:00:00Z
const HOUR: i64 = 3_600_000;
const GRACE: i64 = EXPIRY_GRACE.as_millis() as i64;

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

struct Harness {
    dir: tempfile::TempDir,
    engine: Engine,
    clock: Arc<ManualClock>,
    lsn: u64,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let durable = log::recover(&dir.path().join("log")).unwrap().next_lsn - 1;
        let engine = Engine::open(
            &dir.path().join("tocsin.db"),
            &dir.path().join("log"),
            durable,
            Arc::new(ArcSwap::from_pointee(load_str(CONFIG).unwrap())),
            clock.clone(),
            Arc::new(EngineStats::default()),
        )
        .unwrap();
        Harness {
            dir,
            engine,
            clock,
            lsn: 0,
        }
    }

    fn fire(&mut self, name: &str, service: &str) {
        let now = self.clock.now();
        self.lsn += 1;
        let entry = LogEntry::Events(vec![Event {
            source: "test".into(),
            integration: String::new(),
            dedup_key: name.into(),
            status: Status::Firing,
            severity: Severity::High,
            name: name.into(),
            summary: String::new(),
            description: String::new(),
            service: Some(service.into()),
            labels: Default::default(),
            links: vec![],
            occurred_at: now,
            received_at: now,
            ends_at: None,
        }]);
        let input = Input {
            lsn: self.lsn,
            entry,
            reply: None,
        };
        self.engine.process(vec![input]).unwrap();
    }

    fn at(&mut self, t: i64) {
        self.clock.set(t);
        self.engine.process(vec![]).unwrap();
    }

    fn alert(&self, name: &str) -> AlertRow {
        let conn = rusqlite::Connection::open(self.dir.path().join("tocsin.db")).unwrap();
        let page = PageRequest {
            after_id: None,
            limit: 100,
        };
        queries::list_alerts(&conn, &AlertFilter::default(), page)
            .unwrap()
            .items
            .into_iter()
            .find(|a| a.name == name)
            .unwrap()
    }
}

#[test]
fn a_window_mutes_what_it_matches_while_it_is_open() {
    let mut h = Harness::new();
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
    let conn = rusqlite::Connection::open(h.dir.path().join("tocsin.db")).unwrap();
    let s = tocsin_store::sqlite::silences::get(&conn, &id)
        .unwrap()
        .unwrap();
    assert_eq!(
        s.spec.comment,
        "maintenance window db-patching: kernel updates"
    );
    h.at(T0 + 3 * HOUR);
    let next = format!("maintenance-db-patching-{}", T0 + 7 * 24 * HOUR + HOUR);
    assert!(tocsin_store::sqlite::silences::get(&conn, &next)
        .unwrap()
        .is_some());
}
