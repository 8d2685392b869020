//! Flapping against a real server, with small windows so it runs in seconds: an alert that
//! fires and resolves over and over through `/api/v1/events` is marked flapping (shown and
//! filtered in `/api/v1/alerts`), stays in one open incident that says so in its timeline,
//! and that incident resolves once the alert has been quiet long enough.

mod common;

use common::*;
use serde_json::{json, Value};

const CONFIG: &str = r#"
intake: {loopback_without_token: true}
flapping: {transitions: 4, window: 30s, quiet: 2s}
"#;

fn event(status: &str) -> Value {
    json!({"source": "nagios", "dedup_key": "web-01/http", "labels": {"alertname": "HttpDown"},
           "status": status, "severity": "critical", "summary": "HTTP down on web-01"})
}

#[test]
fn a_flapping_alert_pages_once_and_resolves_when_quiet() {
    let s = spawn_server(Some(CONFIG));
    for i in 0..10 {
        s.send_events(&event(if i % 2 == 0 { "firing" } else { "resolved" }));
        s.settle();
    }
    // Changes 1-2 made an incident and resolved it; change 3 opened the second, and from
    // change 4 on the alert flaps: every later re-fire rejoined that incident.
    let incidents = s.all("/api/v1/incidents", "");
    assert_eq!(incidents.len(), 2, "{incidents:?}");
    let alert = s.wait_alert("nagios", "web-01/http");
    assert_eq!(alert["flapping"], true);
    assert_eq!(alert["status"], "resolved");
    assert_eq!(s.all("/api/v1/alerts", "flapping=true").len(), 1);
    assert_eq!(s.all("/api/v1/alerts", "flapping=false").len(), 0);
    s.get("/api/v1/alerts?flapping=often").expect(400);

    let id = alert["incident_id"].as_i64().unwrap();
    let detail = s.incident(id);
    assert_eq!(detail["state"], "triggered");
    let says = |kind: &str, text: &str| {
        s.incident(id)["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == kind && t["message"].as_str().unwrap().contains(text))
    };
    assert!(says(
        "flapping",
        "alert HttpDown is flapping: 4 changes in 30s"
    ));

    // Quiet for 2s (plus the expiry grace): it calms down and its incident resolves.
    s.wait_incident(id, "resolved after the quiet spell", |i| {
        i["state"] == "resolved"
    });
    assert!(says(
        "stable",
        "alert HttpDown stopped flapping: no change in 2s"
    ));
    assert_eq!(s.wait_alert("nagios", "web-01/http")["flapping"], false);
    assert_eq!(s.all("/api/v1/incidents", "").len(), 2);
}

/// Issue 17 item 5: an incident held open only by a resolved flapping alert escalated on,
/// paging bob with nothing firing. Its escalation now holds, and goes on when it fires again.
#[test]
fn an_incident_held_open_by_a_resolved_flapping_alert_pages_nobody() {
    let s = spawn_server(Some(
        r#"
intake: {loopback_without_token: true}
flapping: {transitions: 4, window: 30s, quiet: 30s}
users:
  - {id: alice, contacts: [{type: webhook, to: alice}]}
  - {id: bob, contacts: [{type: webhook, to: bob}]}
teams: [{id: ops, members: [alice, bob], escalation_policy: ops}]
escalation_policies:
  - id: ops
    levels:
      - {delay: 1s, targets: [{user: alice}]}
      - {delay: 1s, targets: [{user: bob}]}
channels:
  - {id: hook, type: webhook, url: "http://127.0.0.1:9/page"}
"#,
    ));
    // Changes 1-2 open and resolve one incident, 3 opens the second (alice is paged) and
    // 4 makes the alert flap: its resolve leaves that incident open with nothing firing.
    for i in 0..4 {
        s.send_events(&event(if i % 2 == 0 { "firing" } else { "resolved" }));
        s.settle();
    }
    let alert = s.wait_alert("nagios", "web-01/http");
    assert_eq!(
        (&alert["flapping"], &alert["status"]),
        (&json!(true), &json!("resolved"))
    );
    let id = alert["incident_id"].as_i64().unwrap();
    let paged = |i: &Value| -> Vec<String> {
        let mut users: Vec<String> = i["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["user"].as_str().unwrap().to_string())
            .collect();
        users.dedup();
        users
    };
    // Level 2 falls due a second after alice's page: held, so bob is not paged.
    let held = s.wait_incident(id, "the escalation step is held", |i| {
        i["timeline"].as_array().unwrap().iter().any(|t| {
            t["message"]
                .as_str()
                .unwrap()
                .starts_with("escalation held: none of its alerts fires")
        })
    });
    assert_eq!(held["state"], "triggered");
    assert_eq!(held["firing_count"], 0, "{held}");
    s.settle();
    assert_eq!(paged(&s.incident(id)), ["alice"]);

    // It fires again, rejoins the incident, and the held step is taken: bob is paged.
    s.send_events(&event("firing"));
    s.wait_incident(id, "the escalation goes on", |i| {
        paged(i) == ["alice", "bob"]
    });
}
