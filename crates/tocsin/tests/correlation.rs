//! Topology correlation against a real server: a switch goes down, the host behind it and
//! the service that depends on that host's service alert within seconds, and all of it is
//! one incident whose timeline says why each joined; an unrelated alert at the same moment
//! still opens its own. Turned off, every group is its own incident. The same check failing
//! again soon after reopens its incident, and a restart keeps what correlation knew.

mod common;

use common::*;
use serde_json::{json, Value};

const CATALOG: &str = r#"
intake: {loopback_without_token: true}
services:
  - id: network
    hosts: [{name: core-sw}, {name: agg-sw-1, uplink: core-sw}]
  - id: db
    hosts: [{name: db-01, ips: [10.0.0.5], uplink: agg-sw-1}]
  - id: api
    depends_on: [db]
    hosts: [{name: api-01, uplink: core-sw}]
  - id: mail
    hosts: [{name: mail-01}]
"#;

fn alert(key: &str, host_label: (&str, &str), name: &str, status: &str) -> Value {
    json!({"source": "test", "dedup_key": key, "status": status, "severity": "critical",
           "summary": format!("{name} on {}", host_label.1),
           "labels": {"alertname": name, host_label.0: host_label.1}})
}

fn fire(s: &TestServer, key: &str, host_label: (&str, &str), name: &str) -> i64 {
    s.send_events(&alert(key, host_label, name, "firing"));
    s.settle();
    incident_of(&s.wait_alert("test", key))
}

fn timeline_says(s: &TestServer, id: i64, kind: &str, text: &str) -> bool {
    s.incident(id)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["kind"] == kind && t["message"].as_str().unwrap().contains(text))
}

#[test]
fn one_fault_is_one_incident_and_says_why() {
    let s = spawn_server(Some(CATALOG));
    let switch = fire(&s, "sw", ("host", "agg-sw-1"), "LinkDown");
    // Prometheus names the machine by address and port: the catalog knows it.
    let db = fire(&s, "db", ("instance", "10.0.0.5:9100"), "InstanceDown");
    let api = fire(&s, "api", ("host", "api-01"), "HighErrorRate");
    let mail = fire(&s, "mail", ("host", "mail-01"), "QueueBacklog");
    assert_eq!(
        db, switch,
        "the host behind the switch joins the switch's incident"
    );
    assert_eq!(
        api, switch,
        "a service depending on db joins where db alerted"
    );
    assert_ne!(mail, switch, "an unrelated service opens its own incident");
    assert!(timeline_says(
        &s,
        switch,
        "correlated",
        "alert InstanceDown from test joined: score "
    ));
    assert!(timeline_says(
        &s,
        switch,
        "correlated",
        "topology: db-01 hangs off agg-sw-1, which alerted here"
    ));
    assert!(timeline_says(
        &s,
        switch,
        "correlated",
        "topology: api depends on db, which alerted here"
    ));
    assert_eq!(s.incident(switch)["alert_count"], 3);
    assert_eq!(s.all("/api/v1/incidents", "").len(), 2);
}

#[test]
fn turned_off_every_group_is_its_own_incident() {
    let config = format!("{CATALOG}correlation: {{enabled: false}}\n");
    let s = spawn_server(Some(&config));
    let switch = fire(&s, "sw", ("host", "agg-sw-1"), "LinkDown");
    let db = fire(&s, "db", ("instance", "10.0.0.5:9100"), "InstanceDown");
    let api = fire(&s, "api", ("host", "api-01"), "HighErrorRate");
    assert!(switch != db && db != api && switch != api);
}

#[test]
fn the_same_check_failing_again_soon_reopens_its_incident() {
    let s = spawn_server(Some(CATALOG));
    let first = fire(&s, "mail-1", ("host", "mail-01"), "QueueBacklog");
    s.send_events(&alert(
        "mail-1",
        ("host", "mail-01"),
        "QueueBacklog",
        "resolved",
    ));
    s.settle();
    s.wait_incident(first, "resolved with its alert", |i| {
        i["state"] == "resolved"
    });
    // Zabbix gives every new problem a new event id: a new identity, the same check.
    let again = fire(&s, "mail-2", ("host", "mail-01"), "QueueBacklog");
    assert_eq!(again, first);
    let i = s.incident(first);
    assert_eq!(i["state"], "triggered");
    assert!(timeline_says(
        &s,
        first,
        "reopened",
        "reopened: alert QueueBacklog fired again; recurrence: the same alert was in this incident"
    ));
}

#[test]
fn a_restart_keeps_what_correlation_knew() {
    let mut s = new_server(Some(CATALOG));
    s.start();
    let switch = fire(&s, "sw", ("host", "agg-sw-1"), "LinkDown");
    s.restart();
    let db = fire(&s, "db", ("host", "db-01"), "InstanceDown");
    assert_eq!(db, switch);
}
