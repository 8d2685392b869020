//! The engine over a real SQLite store and event log, driven with a manual clock.

mod common;

use common::{Harness, StoreDir, T0};
use tocsin_core::clock::Clock;
use tocsin_core::command::{Command, IncidentAction};
use tocsin_core::config::{load_str, Config};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::StateAction;
use tocsin_engine::CommandError;
use tocsin_store::log::{self, encode_entry, LogEntry, LogWriter, Sink};
use tocsin_store::sqlite::queries;

fn event(name: &str, host: &str, status: Status, severity: Severity) -> Event {
    Event {
        dedup_key: format!("{name}/{host}"),
        severity,
        summary: format!("{name} on {host}"),
        labels: [("host".to_string(), host.to_string())].into(),
        ..common::event(name, status, T0)
    }
}

fn firing(name: &str, host: &str) -> Event {
    event(name, host, Status::Firing, Severity::Warning)
}

impl Harness {
    fn command(&mut self, incident_id: i64, action: IncidentAction) -> Result<(), CommandError> {
        self.clock.advance(1000);
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let c = Command {
            incident_id,
            action,
            actor: "alice".into(),
            reason: "testing".into(),
            at: self.clock.now(),
        };
        self.process(LogEntry::Command(c), Some(tx));
        rx.try_recv().expect("a reply after the commit")
    }
}

#[test]
fn duplicates_fold_and_refires_are_new_episodes() {
    let mut h = Harness::with_config(Config::builtin());
    h.events(vec![firing("Down", "a"), firing("Down", "a")]);
    h.events(vec![firing("Down", "a")]);
    let a = &h.alerts()[0];
    assert_eq!(
        (
            h.alerts().len(),
            a.occurrences,
            a.episode,
            a.status.as_str()
        ),
        (1, 3, 1, "firing")
    );

    h.events(vec![event(
        "Down",
        "a",
        Status::Resolved,
        Severity::Warning,
    )]);
    h.events(vec![firing("Down", "a")]);
    let a = &h.alerts()[0];
    assert_eq!(
        (a.episode, a.status.as_str(), a.resolved_at.clone()),
        (2, "firing", None)
    );
    let detail = queries::get_alert(&h.conn(), a.id).unwrap().unwrap();
    let kinds: Vec<_> = detail.history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(kinds, ["fired", "resolved", "fired"]);
    // The first incident resolved with its only alert; the re-fire opened a second one.
    let incidents = h.incidents();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[1].state, "resolved");
    assert_eq!(incidents[0].state, "triggered");
}

#[test]
fn alerts_group_by_service_and_name() {
    let mut h = Harness::with_config(Config::builtin());
    h.events(vec![
        firing("Down", "a"),
        firing("Down", "b"),
        firing("DiskFull", "a"),
    ]);
    let incidents = h.incidents();
    assert_eq!(incidents.len(), 2);
    let down = incidents
        .iter()
        .find(|i| i.title.starts_with("Down"))
        .unwrap();
    assert_eq!((down.alert_count, down.firing_count), (2, 2));

    let by_host = load_str("incidents: {group_by: [labels.host]}").unwrap();
    let mut h = Harness::with_config(by_host);
    h.events(vec![
        firing("Down", "a"),
        firing("Down", "b"),
        firing("DiskFull", "a"),
    ]);
    assert_eq!(h.incidents().len(), 2);
}

#[test]
fn priority_comes_from_impact_and_the_worst_severity() {
    let config = load_str("services: [{id: pay, impact: high}, {id: wiki, impact: low}]").unwrap();
    let mut h = Harness::with_config(config);
    let mut e = firing("Latency", "a");
    e.service = Some("pay".into());
    h.events(vec![e.clone()]);
    assert_eq!(h.incidents()[0].priority, "P2");
    let mut worse = e.clone();
    worse.dedup_key = "other".into();
    worse.severity = Severity::Critical;
    h.events(vec![worse]);
    let i = &h.incidents()[0];
    assert_eq!(
        (i.priority.as_str(), i.severity.as_str()),
        ("P1", "critical")
    );

    let mut wiki = firing("Latency", "w");
    wiki.labels.insert("service".into(), "wiki".into());
    h.events(vec![wiki]);
    let i = h
        .incidents()
        .into_iter()
        .find(|i| i.service == "wiki")
        .unwrap();
    assert_eq!(i.priority, "P4");
}

#[test]
fn commands_follow_the_state_machine_and_leave_a_timeline() {
    let mut h = Harness::with_config(Config::builtin());
    h.events(vec![firing("Down", "a")]);
    let id = h.incidents()[0].id;
    assert_eq!(
        h.command(id, IncidentAction::State(StateAction::Acknowledge)),
        Ok(())
    );
    assert!(matches!(
        h.command(id, IncidentAction::State(StateAction::Acknowledge)),
        Err(CommandError::Conflict(_))
    ));
    assert_eq!(
        h.command(id, IncidentAction::Assign(Some("bob".into()))),
        Ok(())
    );
    assert_eq!(
        h.command(
            id,
            IncidentAction::SetPriority(tocsin_core::priority::Priority::new(1))
        ),
        Ok(())
    );
    assert_eq!(
        h.command(id, IncidentAction::Comment("looking".into())),
        Ok(())
    );
    assert_eq!(
        h.command(id, IncidentAction::State(StateAction::Resolve)),
        Ok(())
    );
    assert_eq!(
        h.command(id, IncidentAction::State(StateAction::Reopen)),
        Ok(())
    );
    assert_eq!(
        h.command(id, IncidentAction::State(StateAction::Resolve)),
        Ok(())
    );
    assert_eq!(
        h.command(id, IncidentAction::State(StateAction::Close)),
        Ok(())
    );
    assert!(matches!(
        h.command(id, IncidentAction::State(StateAction::Reopen)),
        Err(CommandError::Conflict(_))
    ));
    assert_eq!(
        h.command(999, IncidentAction::Comment("x".into())),
        Err(CommandError::NotFound(999))
    );

    let detail = queries::get_incident(&h.conn(), id, &|_| String::new())
        .unwrap()
        .unwrap();
    let i = &detail.incident;
    assert_eq!(
        (
            i.state.as_str(),
            i.priority.as_str(),
            i.priority_source.as_str()
        ),
        ("closed", "P1", "manual")
    );
    assert_eq!(i.assignee.as_deref(), Some("bob"));
    let kinds: Vec<_> = detail.timeline.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "triggered",
            "alert_fired",
            "acknowledged",
            "assigned",
            "priority",
            "comment",
            "resolved",
            "reopened",
            "resolved",
            "closed"
        ]
    );
    assert!(detail
        .timeline
        .iter()
        .filter(|t| t.kind != "triggered" && t.kind != "alert_fired")
        .all(|t| t.actor == "alice"));

    // A firing alert whose incident was closed by hand starts over in a new incident.
    h.events(vec![firing("Down", "a")]);
    let incidents = h.incidents();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0].state, "triggered");
}

#[test]
fn alerts_with_an_end_time_resolve_by_themselves() {
    let mut h = Harness::with_config(Config::builtin());
    let mut e = firing("Latency", "a");
    e.ends_at = Some(T0 + 300_000);
    h.events(vec![e.clone()]);
    let grace = tocsin_engine::EXPIRY_GRACE.as_millis() as i64;
    h.clock.set(T0 + 299_000 + grace);
    h.tick();
    assert_eq!(h.alerts()[0].status, "firing");
    // Sent again: the end moves out.
    e.received_at = T0 + 200_000;
    e.ends_at = Some(T0 + 500_000);
    h.events(vec![e]);
    h.clock.set(T0 + 400_000);
    h.tick();
    assert_eq!(h.alerts()[0].status, "firing");
    h.clock.set(T0 + 500_000 + grace - 1);
    h.tick();
    assert_eq!(h.alerts()[0].status, "firing", "within the grace");
    h.clock.set(T0 + 500_000 + grace);
    h.tick();
    let a = &h.alerts()[0];
    assert_eq!(a.status, "resolved");
    assert_eq!(a.resolved_at.as_deref(), Some("2026-01-01T00:08:20.000Z"));
    assert_eq!(h.incidents()[0].state, "resolved");
}

#[test]
fn restart_rebuilds_state_and_replays_the_log() {
    let dir = StoreDir::new();
    let log_dir = dir.path().join("log");
    // Entries that reached the log but not the store (a crash between the two).
    struct Drop_;
    impl Sink<u32> for Drop_ {
        fn committed(&mut self, _: u64, _: u32) {}
        fn synced(&mut self, _: std::time::Duration, _: usize) {}
    }
    let mut h = Harness::in_dir(dir, Config::builtin());
    h.events(vec![firing("Down", "a")]);
    let dir = h.dir;
    // The harness numbered its entries itself; the real log starts empty, so the store's
    // applied LSN (1) covers the first real log entry: write a placeholder for it.
    let recovered = log::recover(&log_dir).unwrap();
    let (writer, thread) = LogWriter::start(log_dir.clone(), recovered, Drop_).unwrap();
    writer
        .append_blocking(encode_entry(&LogEntry::Events(vec![])), 0)
        .unwrap();
    for host in ["a", "b", "c"] {
        let entry = LogEntry::Events(vec![firing("Down", host)]);
        writer.append_blocking(encode_entry(&entry), 0).unwrap();
    }
    drop(writer);
    thread.join().unwrap();

    let mut h = Harness::in_dir(dir, Config::builtin());
    assert_eq!(h.engine().applied_lsn(), 4);
    let alerts = h.alerts();
    assert_eq!(alerts.len(), 3);
    let a = alerts.iter().find(|a| a.dedup_key == "Down/a").unwrap();
    assert_eq!(a.occurrences, 2);
    let incidents = h.incidents();
    assert_eq!((incidents.len(), incidents[0].alert_count), (1, 3));
}
