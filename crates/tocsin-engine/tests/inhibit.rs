//! Inhibition in the engine with a manual clock: NodeDown on a host mutes that host's
//! warnings (no incident), not another host's; when NodeDown resolves the warning that still
//! fires is attached; a warning that already paged is marked but keeps its incident; and a
//! restart decides the same from the store.

use arc_swap::ArcSwap;
use std::sync::Arc;
use tocsin_core::clock::{Clock, ManualClock};
use tocsin_core::config::{load_str, Config};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_engine::{Engine, EngineStats, Input};
use tocsin_store::log::{self, LogEntry};
use tocsin_store::sqlite::queries::{self, AlertFilter, PageRequest};
use tocsin_store::sqlite::rows::AlertRow;

const T0: i64 = 1_767_225_600_000;

const CONFIG: &str = r#"
intake: {loopback_without_token: true}
incidents: {group_by: [name, host]}
inhibit_rules:
  - source_matchers: ["alertname=NodeDown"]
    target_matchers: ['severity=~"warning|info"']
    equal: [host]
"#;

struct Harness {
    dir: tempfile::TempDir,
    engine: Engine,
    clock: Arc<ManualClock>,
    lsn: u64,
}

fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> Engine {
    let durable = log::recover(&dir.join("log")).unwrap().next_lsn - 1;
    let config: Config = load_str(CONFIG).unwrap();
    Engine::open(
        &dir.join("tocsin.db"),
        &dir.join("log"),
        durable,
        Arc::new(ArcSwap::from_pointee(config)),
        clock,
        Arc::new(EngineStats::default()),
    )
    .unwrap()
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let engine = open(dir.path(), clock.clone());
        Harness {
            dir,
            engine,
            clock,
            lsn: 0,
        }
    }

    fn restart(&mut self) {
        self.engine = open(self.dir.path(), self.clock.clone());
    }

    fn send(&mut self, name: &str, host: &str, severity: Severity, status: Status) {
        self.clock.set(self.clock.now() + 1_000);
        let now = self.clock.now();
        self.lsn += 1;
        let event = Event {
            source: "prometheus".into(),
            integration: String::new(),
            dedup_key: format!("{name}/{host}"),
            status,
            severity,
            name: name.into(),
            summary: String::new(),
            description: String::new(),
            service: None,
            labels: [("host".to_string(), host.to_string())].into(),
            links: vec![],
            occurred_at: now,
            received_at: now,
            ends_at: None,
        };
        self.engine
            .process(vec![Input {
                lsn: self.lsn,
                entry: LogEntry::Events(vec![event]),
                reply: None,
            }])
            .unwrap();
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("tocsin.db")).unwrap()
    }

    fn alert(&self, name: &str, host: &str) -> AlertRow {
        let page = PageRequest {
            after_id: None,
            limit: 1000,
        };
        queries::list_alerts(&self.conn(), &AlertFilter::default(), page)
            .unwrap()
            .items
            .into_iter()
            .find(|a| a.dedup_key == format!("{name}/{host}"))
            .unwrap()
    }

    fn timeline(&self, incident: i64) -> Vec<(String, String)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT kind, message FROM incident_timeline WHERE incident_id = ?1 ORDER BY rowid",
            )
            .unwrap();
        let rows = stmt
            .query_map([incident], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn inhibited(&self, flag: bool) -> Vec<String> {
        let filter = AlertFilter {
            inhibited: Some(flag),
            ..AlertFilter::default()
        };
        let page = PageRequest {
            after_id: None,
            limit: 1000,
        };
        let mut keys: Vec<String> = queries::list_alerts(&self.conn(), &filter, page)
            .unwrap()
            .items
            .into_iter()
            .map(|a| a.dedup_key)
            .collect();
        keys.sort();
        keys
    }
}

use Severity::{Critical, Warning};
use Status::{Firing, Resolved};

#[test]
fn node_down_mutes_its_hosts_warnings_until_it_resolves() {
    let mut h = Harness::new();
    h.send("NodeDown", "web-01", Critical, Firing);
    let down = h.alert("NodeDown", "web-01");
    assert!(down.incident_id.is_some());

    // Its host's warning is kept and visible, but opens no incident.
    h.send("DiskFull", "web-01", Warning, Firing);
    let muted = h.alert("DiskFull", "web-01");
    assert_eq!(muted.incident_id, None);
    assert_eq!(muted.inhibited_by, vec![down.id]);
    assert!(muted.silenced_by.is_empty());

    // Another host's warning pages as usual.
    h.send("DiskFull", "web-02", Warning, Firing);
    let other = h.alert("DiskFull", "web-02");
    assert!(other.incident_id.is_some());
    assert!(other.inhibited_by.is_empty());
    assert_eq!(h.inhibited(true), vec!["DiskFull/web-01"]);
    assert_eq!(h.inhibited(false).len(), 2);

    // Sent again while inhibited: still muted.
    h.send("DiskFull", "web-01", Warning, Firing);
    assert_eq!(h.alert("DiskFull", "web-01").incident_id, None);

    // A restart decides the same from the store.
    h.restart();
    h.send("DiskFull", "web-01", Warning, Firing);
    let muted = h.alert("DiskFull", "web-01");
    assert_eq!(muted.incident_id, None);
    assert_eq!(muted.inhibited_by, vec![down.id]);

    // NodeDown resolves: the warning still fires, so it is attached now.
    h.send("NodeDown", "web-01", Critical, Resolved);
    let freed = h.alert("DiskFull", "web-01");
    assert!(freed.inhibited_by.is_empty());
    let incident = freed.incident_id.expect("attached when NodeDown resolved");
    let lines = h.timeline(incident);
    assert!(
        lines.iter().any(|(kind, message)| kind == "uninhibited"
            && message.contains(&format!("source alert {} resolved", down.id))),
        "{lines:?}"
    );
    assert!(h.inhibited(true).is_empty());
}

#[test]
fn a_source_that_starts_later_marks_paging_targets_but_closes_nothing() {
    let mut h = Harness::new();
    h.send("HighLoad", "db-01", Warning, Firing);
    let paged = h.alert("HighLoad", "db-01");
    let incident = paged.incident_id.expect("pages before any source fires");

    h.send("NodeDown", "db-01", Critical, Firing);
    let down = h.alert("NodeDown", "db-01");
    let marked = h.alert("HighLoad", "db-01");
    assert_eq!(marked.inhibited_by, vec![down.id]);
    assert_eq!(
        marked.incident_id,
        Some(incident),
        "its incident stays open"
    );
    assert!(h
        .timeline(incident)
        .iter()
        .any(|(kind, _)| kind == "inhibited"));

    // NodeDown itself is never inhibited, and the restart keeps the marks.
    h.restart();
    assert!(h.alert("NodeDown", "db-01").inhibited_by.is_empty());
    assert_eq!(h.alert("HighLoad", "db-01").inhibited_by, vec![down.id]);

    h.send("NodeDown", "db-01", Critical, Resolved);
    let after = h.alert("HighLoad", "db-01");
    assert!(after.inhibited_by.is_empty());
    assert_eq!(after.incident_id, Some(incident));
    assert!(h
        .timeline(incident)
        .iter()
        .any(|(kind, _)| kind == "uninhibited"));
}

#[test]
fn a_target_resolved_while_inhibited_never_pages() {
    let mut h = Harness::new();
    h.send("NodeDown", "web-03", Critical, Firing);
    h.send("DiskFull", "web-03", Warning, Firing);
    h.send("DiskFull", "web-03", Warning, Resolved);
    h.send("NodeDown", "web-03", Critical, Resolved);
    let gone = h.alert("DiskFull", "web-03");
    assert_eq!(gone.status, "resolved");
    assert_eq!(gone.incident_id, None);
    assert!(gone.inhibited_by.is_empty());
}
