//! Inhibition in the engine with a manual clock: NodeDown on a host mutes that host's
//! warnings (no incident), not another host's; when NodeDown resolves the warning that still
//! fires is attached; a warning that already paged is marked but keeps its incident; and a
//! restart decides the same from the store.

mod common;

use common::{event, Harness};
use tocsin_core::clock::Clock;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_store::sqlite::queries::AlertFilter;

const CONFIG: &str = r#"
intake: {loopback_without_token: true}
incidents: {group_by: [name, host]}
inhibit_rules:
  - source_matchers: ["alertname=NodeDown"]
    target_matchers: ['severity=~"warning|info"']
    equal: [host]
"#;

impl Harness {
    /// `name` on `host` a second after the last event.
    fn send(&mut self, name: &str, host: &str, severity: Severity, status: Status) {
        self.clock.set(self.clock.now() + 1_000);
        let now = self.clock.now();
        self.events(vec![Event {
            source: "prometheus".into(),
            dedup_key: format!("{name}/{host}"),
            severity,
            labels: [("host".to_string(), host.to_string())].into(),
            ..event(name, status, now)
        }]);
    }

    fn inhibited(&self, flag: bool) -> Vec<String> {
        let filter = AlertFilter {
            inhibited: Some(flag),
            ..AlertFilter::default()
        };
        let mut keys: Vec<String> = self
            .alerts_where(&filter)
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
    let mut h = Harness::new(CONFIG);
    h.send("NodeDown", "web-01", Critical, Firing);
    let down = h.alert("NodeDown/web-01");
    assert!(down.incident_id.is_some());

    // Its host's warning is kept and visible, but opens no incident.
    h.send("DiskFull", "web-01", Warning, Firing);
    let muted = h.alert("DiskFull/web-01");
    assert_eq!(muted.incident_id, None);
    assert_eq!(muted.inhibited_by, vec![down.id]);
    assert!(muted.silenced_by.is_empty());

    // Another host's warning pages as usual.
    h.send("DiskFull", "web-02", Warning, Firing);
    let other = h.alert("DiskFull/web-02");
    assert!(other.incident_id.is_some());
    assert!(other.inhibited_by.is_empty());
    assert_eq!(h.inhibited(true), vec!["DiskFull/web-01"]);
    assert_eq!(h.inhibited(false).len(), 2);

    // Sent again while inhibited: still muted.
    h.send("DiskFull", "web-01", Warning, Firing);
    assert_eq!(h.alert("DiskFull/web-01").incident_id, None);

    // A restart decides the same from the store.
    h.restart();
    h.send("DiskFull", "web-01", Warning, Firing);
    let muted = h.alert("DiskFull/web-01");
    assert_eq!(muted.incident_id, None);
    assert_eq!(muted.inhibited_by, vec![down.id]);

    // NodeDown resolves: the warning still fires, so it is attached now.
    h.send("NodeDown", "web-01", Critical, Resolved);
    let freed = h.alert("DiskFull/web-01");
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
    let mut h = Harness::new(CONFIG);
    h.send("HighLoad", "db-01", Warning, Firing);
    let paged = h.alert("HighLoad/db-01");
    let incident = paged.incident_id.expect("pages before any source fires");

    h.send("NodeDown", "db-01", Critical, Firing);
    let down = h.alert("NodeDown/db-01");
    let marked = h.alert("HighLoad/db-01");
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
    assert!(h.alert("NodeDown/db-01").inhibited_by.is_empty());
    assert_eq!(h.alert("HighLoad/db-01").inhibited_by, vec![down.id]);

    h.send("NodeDown", "db-01", Critical, Resolved);
    let after = h.alert("HighLoad/db-01");
    assert!(after.inhibited_by.is_empty());
    assert_eq!(after.incident_id, Some(incident));
    assert!(h
        .timeline(incident)
        .iter()
        .any(|(kind, _)| kind == "uninhibited"));
}

#[test]
fn a_target_resolved_while_inhibited_never_pages() {
    let mut h = Harness::new(CONFIG);
    h.send("NodeDown", "web-03", Critical, Firing);
    h.send("DiskFull", "web-03", Warning, Firing);
    h.send("DiskFull", "web-03", Warning, Resolved);
    h.send("NodeDown", "web-03", Critical, Resolved);
    let gone = h.alert("DiskFull/web-03");
    assert_eq!(gone.status, "resolved");
    assert_eq!(gone.incident_id, None);
    assert!(gone.inhibited_by.is_empty());
}
