//! `tocsin preview` on the history of a real server: replayed with the config the server ran
//! with, it finds the incidents the server made; with coarser grouping, it shows the
//! incidents that merge, per service and in all, as text and JSON, and the same from an
//! exported stream; bad input is refused with exit status 2 and the reason.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// Correlation off, so the grouping is the `group_by` alone.
const CONFIG: &str = r#"
intake: {loopback_without_token: true}
correlation: {enabled: false}
teams: [{id: ops}, {id: dba}]
services:
  - {id: web, team: ops, hosts: [{name: web-01}, {name: web-02}]}
  - {id: db, team: dba, hosts: [{name: db-01}]}
"#;

/// The server's history: web has three alert names (four alerts), db two.
fn history() -> TestServer {
    let mut s = spawn_server(Some(CONFIG));
    let alert = |name: &str, host: &str| json!({"summary": format!("{name} on {host}"), "labels": {"alertname": name, "host": host}});
    s.send_events(&json!([
        alert("HighLatency", "web-01"),
        alert("HighLatency", "web-02"),
        alert("ErrorRate", "web-01"),
        alert("CertExpiry", "web-02"),
        alert("DiskFull", "db-01"),
        alert("SlowQueries", "db-01"),
    ]));
    s.settle();
    assert_eq!(s.alert_count(), 6);
    assert!(s.terminate().success());
    s
}

fn preview(args: &[&str]) -> (String, String) {
    let mut all = vec!["preview"];
    all.extend(args);
    let o = tocsin(&all);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{args:?}: {stderr}");
    (String::from_utf8(o.stdout).unwrap(), stderr)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn coarser_grouping_shows_the_incidents_that_merge() {
    let s = history();
    let dir = tempfile::tempdir().unwrap();
    let current = s.config.as_ref().unwrap().to_str().unwrap().to_string();
    let new = write(
        dir.path(),
        "new.yaml",
        &format!("{CONFIG}incidents: {{group_by: [service]}}\n"),
    );
    let data = s.data.to_str().unwrap();

    // The same config finds what the server made: nothing changes.
    let (same, _) = preview(&["--data", data, "--current", &current, "--config", &current]);
    assert!(
        same.contains("incidents: 5 -> 5\nalerts: 6 -> 6\n"),
        "{same}"
    );
    assert!(same.ends_with("no incident changed\n"), "{same}");

    let (text, _) = preview(&["--data", data, "--current", &current, "-c", &new]);
    assert!(
        text.starts_with("preview of 6 events (6 firing) received "),
        "{text}"
    );
    assert!(
        text.contains("incidents: 5 -> 2\nalerts: 6 -> 6\n"),
        "{text}"
    );
    assert!(
        text.contains("incidents per service (current -> new):\n  web: 3 -> 1\n  db: 2 -> 1\n"),
        "{text}"
    );
    assert!(
        text.contains("2 group(s) of incidents changed: 2 merged\n"),
        "{text}"
    );
    // The bigger merge first, with its alerts and the incidents it was.
    let web = text
        .find("merged: alerts that were in 3 incidents are now in 1\n  alerts: 2 HighLatency (web), 1 CertExpiry (web), 1 ErrorRate (web)\n")
        .unwrap_or_else(|| panic!("{text}"));
    let db = text
        .find("merged: alerts that were in 2 incidents are now in 1\n")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(web < db, "{text}");
    assert!(
        text.contains("  current: \"HighLatency on web-01\" (web), "),
        "{text}"
    );

    let (out, _) = preview(&[
        "--data",
        data,
        "--current",
        &current,
        "-c",
        &new,
        "--format",
        "json",
    ]);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (j["events"].as_u64(), j["firing"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(j["current"]["incidents"], 5);
    assert_eq!(j["new"]["incidents"], 2);
    assert_eq!(j["new"]["alerts"], 6);
    assert_eq!(j["current"]["unplaced"], 0);
    assert_eq!(
        j["services"],
        json!([{"service": "web", "current": 3, "new": 1}, {"service": "db", "current": 2, "new": 1}])
    );
    assert_eq!(j["changed_groups"], 2);
    assert_eq!(j["changes"], json!({"merged": 2}));
    let g = &j["groups"][0];
    assert_eq!(
        (g["kind"].as_str(), g["alerts"].as_u64()),
        (Some("merged"), Some(4))
    );
    assert_eq!(
        g["names"][0],
        json!({"name": "HighLatency", "service": "web", "alerts": 2})
    );
    assert_eq!(
        (g["current"]["count"].as_u64(), g["new"]["count"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(g["new"]["shown"][0]["service"], "web");

    // From an exported stream: the same difference.
    let stream = dir.path().join("history.jsonl");
    let o = tocsin(&["export", "--data", data, "--out", stream.to_str().unwrap()]);
    assert!(o.status.success());
    let (out, _) = preview(&[
        "--events",
        stream.to_str().unwrap(),
        "--current",
        &current,
        "-c",
        &new,
        "--format",
        "json",
    ]);
    let mut from_stream: Value = serde_json::from_str(&out).unwrap();
    let mut from_data = j.clone();
    for v in [&mut from_stream, &mut from_data] {
        v["history"] = Value::Null;
    }
    assert_eq!(from_stream, from_data);
}

#[test]
fn bad_input_is_refused_with_exit_status_2_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", "");
    let bad = write(dir.path(), "bad.yaml", "incidents: {group_by: [colour]}\n");
    let refused = |args: &[&str]| {
        let mut all = vec!["preview"];
        all.extend(args);
        let o = tocsin(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let missing = dir.path().join("nowhere");
    let missing = missing.to_str().unwrap();
    let err = refused(&["--data", missing, "--current", &good, "-c", &good]);
    assert!(err.contains("nowhere: no such directory"), "{err}");
    let err = refused(&["--data", missing, "-c", &good]);
    assert!(err.contains("--current is needed with --data"), "{err}");
    let stream = write(dir.path(), "events.jsonl", "");
    let err = refused(&["--events", &stream, "-c", &bad]);
    assert!(
        err.contains("--config: the config has 1 error(s)") && err.contains("colour"),
        "{err}"
    );
    let err = refused(&["--events", &stream, "--current", &bad, "-c", &good]);
    assert!(err.contains("--current: the config has"), "{err}");
    let err = refused(&["--events", &stream, "--data", missing, "-c", &good]);
    assert!(err.contains("cannot be used with"), "{err}");
}
