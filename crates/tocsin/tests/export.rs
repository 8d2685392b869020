//! `tocsin export` against a live server: what it writes replays, with the same config, into
//! the same alerts and the same incidents the server made; `--since` and `--until` cut the
//! stream by arrival time; bad input is refused with exit status 2.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const ZBX_KEY: &str = "zbx-key-0123456789abcdef";

const CONFIG: &str = r#"
intake: {loopback_without_token: true}
teams: [{id: ops}, {id: dba}]
services:
  - {id: web, team: ops, hosts: [{name: web-01}, {name: web-02}, {name: web-03}]}
  - {id: db, team: dba, hosts: [{name: db-01}, {name: db-02}]}
integrations:
  - {name: zabbix-prod, kind: zabbix, key: zbx-key-0123456789abcdef}
"#;

/// An alert's identity: (source, dedup_key).
type Identity = (String, String);

/// Alerts grouped by incident, as a set of sets, so two runs compare whatever their ids.
type Grouping = BTreeSet<BTreeSet<Identity>>;

fn grouping(pairs: impl IntoIterator<Item = (Identity, String)>) -> Grouping {
    let mut by_incident: BTreeMap<String, BTreeSet<Identity>> = BTreeMap::new();
    for (identity, incident) in pairs {
        by_incident.entry(incident).or_default().insert(identity);
    }
    by_incident.into_values().collect()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn export(data: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "export",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = tocsin(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "export failed: {stderr}");
    stderr
}

fn zabbix_problem(event_id: &str, name: &str, host: &str) -> Vec<u8> {
    json!({
        "event_id": event_id, "event_value": "1", "event_nseverity": "4",
        "event_name": name, "event_source": "0", "host_name": host,
        "event_timestamp": "1772400000", "trigger_id": "13579",
    })
    .to_string()
    .into_bytes()
}

#[test]
fn an_export_of_a_live_server_replays_into_the_same_alerts_and_incidents() {
    let mut s = spawn_server(Some(CONFIG));
    // Three tools, grouped by the defaults (service and name): HighLatency on web from
    // tocsin's API and from Prometheus; DiskFull on db from the API and from Zabbix, whose
    // name is the trigger's, not its summary ("db-02: DiskFull").
    s.send_events(&json!([
        {"summary": "Latency high on web-01", "severity": "high",
         "labels": {"alertname": "HighLatency", "host": "web-01"}},
        {"summary": "Latency high on web-02", "labels": {"alertname": "HighLatency", "host": "web-02"}},
        {"source": "nightly-check", "dedup_key": "disk-db-01", "summary": "Disk full on db-01",
         "description": "/var at 97%", "labels": {"alertname": "DiskFull", "host": "db-01"},
         "links": [{"href": "https://grafana.example/d/disk", "text": "disk"}],
         "occurred_at": "2026-03-01T21:00:00.250Z"},
    ]));
    s.send_am(
        &json!([{"labels": {"alertname": "HighLatency", "instance": "web-03:9100"},
                        "annotations": {"summary": "p99 above 2s"}}]),
    );
    s.post_raw(
        &format!("/hooks/{ZBX_KEY}"),
        None,
        &zabbix_problem("4711", "DiskFull", "db-02"),
    )
    .expect(202);
    s.send_events(
        &json!({"summary": "Latency high on web-02", "status": "resolved",
                          "labels": {"alertname": "HighLatency", "host": "web-02"}}),
    );
    s.send_events(
        &json!({"summary": "Certificate expires in 7 days", "labels": {"host": "web-01"}}),
    );
    s.settle();
    // A person's action is in the log too, but is not an event.
    let first = incident_of(&s.wait_alert("nightly-check", "disk-db-01"));
    s.act(first, "acknowledge", &json!({})).expect(200);

    std::thread::sleep(Duration::from_millis(50));
    let cut = time_in(0);
    std::thread::sleep(Duration::from_millis(50));
    s.send_events(&json!({"summary": "Queue backlog", "labels": {"alertname": "QueueBacklog", "host": "db-01"}}));
    s.send_am(
        &json!([{"labels": {"alertname": "HighLatency", "instance": "web-03:9100"},
                        "annotations": {"summary": "p99 above 2s"}}]),
    );
    s.settle();

    let live: Vec<Value> = s.all_alerts();
    assert_eq!(live.len(), 7, "{live:?}");
    let identity = |source: &Value, key: &Value| -> Identity {
        (
            source.as_str().unwrap().to_string(),
            key.as_str().unwrap().to_string(),
        )
    };
    let live_grouping = grouping(live.iter().map(|a| {
        (
            identity(&a["source"], &a["dedup_key"]),
            incident_of(a).to_string(),
        )
    }));
    assert_eq!(live_grouping.len(), 4, "{live_grouping:?}");

    // Exported while the server runs.
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.jsonl");
    let note = export(&s.data, &all, &[]);
    assert!(note.starts_with("exported 9 events (8 firing)"), "{note}");
    assert!(!note.contains("warning"), "{note}");
    let stream = lines(&all);
    assert_eq!(stream.len(), 9, "every event, and not the acknowledgement");
    for (n, l) in stream.iter().enumerate() {
        assert_eq!(l["seq"], json!(n + 1));
        assert_eq!(l["integration"], "tocsin");
        let at = l["at"].as_str().unwrap();
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[19] == b'.',
            "{at}"
        );
    }
    let zabbix = stream
        .iter()
        .find(|l| l["payload"]["source"] == "zabbix")
        .expect("the Zabbix event");
    assert_eq!(zabbix["payload"]["dedup_key"], "4711");
    assert_eq!(zabbix["payload"]["labels"]["alertname"], "DiskFull");
    assert_eq!(zabbix["payload"]["occurred_at"], "2026-03-01T21:20:00.000Z");
    let disk = stream
        .iter()
        .find(|l| l["payload"]["dedup_key"] == "disk-db-01")
        .unwrap();
    assert_eq!(disk["payload"]["occurred_at"], "2026-03-01T21:00:00.250Z");
    assert_eq!(disk["payload"]["links"][0]["text"], "disk");
    // Export took no lock: the server goes on accepting.
    s.send_events(&json!({"summary": "after the export", "labels": {"host": "web-03"}}));

    // Replayed with the same config: the same alerts, grouped the same way.
    let assign = dir.path().join("assign.jsonl");
    let o = tocsin(&[
        "replay",
        "--events",
        all.to_str().unwrap(),
        "-c",
        s.config.as_ref().unwrap().to_str().unwrap(),
        "--out",
        assign.to_str().unwrap(),
    ]);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        summary.contains("replayed 9 events (8 firing) into 7 alerts and 4 incidents"),
        "{summary}"
    );
    let by_seq: BTreeMap<u64, Identity> = stream
        .iter()
        .map(|l| {
            let p = &l["payload"];
            (
                l["seq"].as_u64().unwrap(),
                identity(&p["source"], &p["dedup_key"]),
            )
        })
        .collect();
    let replayed = grouping(lines(&assign).iter().map(|l| {
        (
            by_seq[&l["seq"].as_u64().unwrap()].clone(),
            l["incident"].as_str().unwrap().to_string(),
        )
    }));
    assert_eq!(replayed, live_grouping);

    // By arrival time: what came after the cut, and what came before it.
    let after = dir.path().join("after.jsonl");
    export(&s.data, &after, &["--since", &cut]);
    let summaries: Vec<String> = lines(&after)
        .iter()
        .map(|l| l["payload"]["summary"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        summaries,
        ["Queue backlog", "p99 above 2s", "after the export"]
    );
    let before = dir.path().join("before.jsonl");
    export(&s.data, &before, &["--until", &cut]);
    assert_eq!(lines(&before), lines(&all)[..7].to_vec());
    assert_eq!(lines(&before)[6]["seq"], 7);

    // Stopped, the directory exports the same (read-only, without the server's files).
    s.settle();
    assert!(s.terminate().success());
    let stopped = dir.path().join("stopped.jsonl");
    export(&s.data, &stopped, &[]);
    assert_eq!(lines(&stopped).len(), 10);
    assert_eq!(lines(&stopped)[..9].to_vec(), stream);
}

#[test]
fn bad_input_is_refused_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |args: &[&str]| {
        let mut all = vec!["export", "--out", out.to_str().unwrap()];
        all.extend(args);
        let o = tocsin(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let missing = dir.path().join("nowhere");
    let err = run(&["--data", missing.to_str().unwrap()]);
    assert!(err.contains("nowhere: no such directory"), "{err}");
    let empty = dir.path().to_str().unwrap();
    let err = run(&["--data", empty]);
    assert!(
        err.contains("is") && err.contains("a tocsin data directory?"),
        "{err}"
    );
    let err = run(&["--data", empty, "--since", "last tuesday"]);
    assert!(
        err.contains("--since \"last tuesday\": not an RFC 3339 time"),
        "{err}"
    );
    let err = run(&[
        "--data",
        empty,
        "--since",
        "2026-03-02T00:00:00Z",
        "--until",
        "2026-03-01T00:00:00Z",
    ]);
    assert!(err.contains("is not before --until"), "{err}");
    assert!(!out.exists(), "nothing is written on an error");
}
