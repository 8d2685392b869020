//! A storm's summary through the real dispatcher (docs/storms.md): a burst of new alerts on
//! one service pages the incidents before the storm as usual (together, as one message),
//! then sends one webhook message about the storm, with its figures and the incident it is
//! filed under, instead of a page per incident.

mod common;

use common::receiver::Receiver;
use common::*;
use serde_json::{json, Value};

/// A storm at the third new alert in a minute (a fresh service's normal is the floor of 1,
/// times 2); correlation off, so that each alert opens its own incident.
fn config(port: u16) -> String {
    format!(
        r#"
storms: {{factor: 2, min_alerts: 3, window: 1m}}
correlation: {{enabled: false}}
services: [{{id: core, name: Core network}}]
users: [{{id: alice, contacts: [{{type: webhook, to: alice}}]}}]
teams: [{{id: ops, members: [alice], escalation_policy: ops}}]
escalation_policies: [{{id: ops, levels: [{{delay: 30m, targets: [{{user: alice}}]}}]}}]
channels: [{{id: hook, type: webhook, url: "http://127.0.0.1:{port}/page"}}]
"#
    )
}

#[test]
fn a_burst_pages_its_first_incidents_then_one_storm_summary() {
    let receiver = Receiver::start();
    let s = spawn_server(Some(&config(receiver.port)));
    let burst: Vec<Value> = (1..=5)
        .map(|i| {
            json!({"summary": format!("switch port {i} down"), "severity": "critical",
                   "dedup_key": format!("port-{i}"), "service": "core",
                   "labels": {"alertname": format!("PortDown{i}"), "host": format!("sw{i}")}})
        })
        .collect();
    s.send_events(&Value::Array(burst));
    s.settle();

    let storms = s.get("/api/v1/storms").json();
    let storm = &storms["items"][0];
    assert_eq!(storm["alerts"], 3, "alerts 3 to 5 came during it: {storm}");
    let lead = storm["lead_incident"].as_i64().unwrap();

    // The two incidents before the storm are paged (as one message when both are due at
    // the dispatcher's same look); the three inside it are told of in one summary.
    let pages_and_summary = || {
        let got: Vec<Value> = receiver.to("/page").iter().map(|r| r.json()).collect();
        let (summaries, pages): (Vec<Value>, Vec<Value>) =
            got.into_iter().partition(|m| m["kind"] == "storm");
        let mut paged: Vec<Value> = pages
            .iter()
            .flat_map(|p| p["incidents"].as_array().unwrap().clone())
            .map(|i| i["id"].clone())
            .collect();
        paged.sort_by_key(|id| id.to_string());
        (pages, paged, summaries)
    };
    eventually("the pages and the summary are sent", || {
        let (_, paged, summaries) = pages_and_summary();
        match paged.len() == 2 && !summaries.is_empty() {
            true => Ok(()),
            false => Err(format!("paged {paged:?}, {} summaries", summaries.len())),
        }
    });
    // Nothing more: the dispatcher looks at the outbox twice a second.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (pages, paged, summaries) = pages_and_summary();
    assert_eq!(paged, [json!("1"), json!("2")], "{pages:?}");
    assert!(pages.iter().all(|p| p["kind"] == "new"), "{pages:?}");
    assert_eq!(summaries.len(), 1, "one summary: {summaries:?}");
    let summary = &summaries[0];
    let title = summary["title"].as_str().unwrap();
    assert!(
        title.starts_with("Alert storm in core: 3 alerts, 3 incidents"),
        "{title}"
    );
    let note = &summary["storm"];
    assert_eq!(note["id"], storm["id"], "{note}");
    assert_eq!(note["scope"], "core", "{note}");
    assert_eq!(
        note["summary"], 1,
        "the first summary, not an update: {note}"
    );
    assert_eq!(
        (&note["alerts"], &note["incidents"]),
        (&json!(3), &json!(3))
    );
    assert_eq!(note["hosts"], 3, "{note}");
    assert_eq!(summary["recipient"]["user_id"], "alice");
    assert_eq!(
        summary["incidents"][0]["id"],
        json!(lead.to_string()),
        "filed under the storm's first incident"
    );
}
