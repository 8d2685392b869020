//! Integrations as configured by a user: keys in the path or a header, rate limits, the
//! service catalog placing alerts from different tools on one host, acknowledgements from
//! a source tool, heartbeats, and keys changing on reload.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const WEB_KEY: &str = "web-key-0123456789abcdef";
const SLOW_KEY: &str = "slow-key-0123456789abcdef";
const PROM_KEY: &str = "prom-key-0123456789abcdef";
const BEAT_KEY: &str = "beat-key-0123456789abcdef";

const CONFIG: &str = r#"
teams: [{id: ops}, {id: dba}]
services:
  - id: web
    team: ops
    hosts:
      - {name: web-01, ips: [10.0.3.4], aliases: [web01.example.com]}
  - {id: db, team: dba}
  - {id: inbox, team: ops}
service_rules:
  - {service: db, match: {job: mysql}}
integrations:
  - name: uptime
    kind: webhook
    key: web-key-0123456789abcdef
    service: inbox
    mapping:
      summary: "{{ title }}"
      dedup_key: "{{ id }}"
      status: "{{ state }}"
      acknowledged_values: [acked]
      host: "{{ host }}"
      labels: {job: "{{ job }}"}
  - name: slow
    kind: webhook
    key: slow-key-0123456789abcdef
    rate_limit: {per_second: 0.5, burst: 2}
    mapping: {summary: "{{ title }}"}
  - {name: prom-dc1, kind: alertmanager, key: prom-key-0123456789abcdef}
  - {name: backup, kind: heartbeat, key: beat-key-0123456789abcdef, interval: 1s}
"#;

/// A request with extra headers (the harness sends only Authorization).
fn send(s: &TestServer, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut req = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
        .request(method, &s.url(path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = if method == "GET" {
        req.call()
    } else {
        req.send_bytes(body)
    };
    match result {
        Ok(r) => Resp {
            status: r.status(),
            body: r.into_string().unwrap_or_default(),
        },
        Err(ureq::Error::Status(status, r)) => Resp {
            status,
            body: r.into_string().unwrap_or_default(),
        },
        Err(e) => panic!("request failed: {e}"),
    }
}

fn alert(id: &str, title: &str) -> Vec<u8> {
    json!({"id": id, "title": title, "state": "down", "host": "web01.example.com"})
        .to_string()
        .into_bytes()
}

#[test]
fn the_key_goes_in_the_path_or_a_header_and_a_wrong_one_stores_nothing() {
    let s = spawn_server(Some(CONFIG));
    s.post_raw(&format!("/hooks/{WEB_KEY}"), None, &alert("a1", "path"))
        .expect(202);
    send(
        &s,
        "POST",
        "/hooks",
        &[("X-Tocsin-Key", WEB_KEY)],
        &alert("a2", "header"),
    )
    .expect(202);
    s.post_raw("/hooks", Some(WEB_KEY), &alert("a3", "bearer"))
        .expect(202);
    for a in ["a1", "a2", "a3"] {
        let stored = s.wait_alert("webhook", a);
        assert_eq!(stored["integration"], json!("uptime"));
    }

    let m = s
        .post_raw("/hooks/wrong-key-0123456789abcdef", None, &alert("x1", "x"))
        .expect_error(401, "unauthorized");
    assert!(m.contains("integration key is not valid"), "{m}");
    let m = s
        .post_raw("/hooks", None, &alert("x2", "x"))
        .expect_error(401, "unauthorized");
    assert!(m.contains("/hooks/KEY"), "{m}");
    // An API token is not an integration key, and a key is not an API token.
    s.post_raw("/hooks", Some(ADMIN), &alert("x3", "x"))
        .expect_error(401, "unauthorized");
    s.get_as("/api/v1/alerts", Some(WEB_KEY))
        .expect_error(401, "unauthorized");
    s.settle();
    assert_eq!(
        s.alert_count(),
        3,
        "nothing from a refused request is stored"
    );
}

#[test]
fn past_its_rate_limit_a_key_gets_429_with_retry_after() {
    let s = spawn_server(Some(CONFIG));
    let body = json!({"title": "flood"}).to_string();
    let path = format!("/hooks/{SLOW_KEY}");
    s.post_raw(&path, None, body.as_bytes()).expect(202);
    s.post_raw(&path, None, body.as_bytes()).expect(202);
    let r = send(
        &s,
        "POST",
        &path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    let m = r.expect_error(429, "rate_limited");
    assert!(m.contains("\"slow\"") && m.contains("0.5"), "{m}");
    // Another integration's key has its own bucket.
    s.post_raw(&format!("/hooks/{WEB_KEY}"), None, &alert("b1", "other"))
        .expect(202);
    let retry = ureq::AgentBuilder::new()
        .build()
        .post(&s.url(&path))
        .send_bytes(body.as_bytes());
    match retry {
        Err(ureq::Error::Status(429, r)) => {
            let after: u64 = r.header("Retry-After").unwrap().parse().unwrap();
            assert!((1..=2).contains(&after), "Retry-After {after}");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    s.settle();
    let counted = s.metric("tocsin_intake_rejected_total{reason=\"rate_limited\"}");
    assert_eq!(counted, Some(2.0));
}

#[test]
fn one_machine_seen_by_two_tools_is_one_host_of_its_service() {
    let s = spawn_server(Some(CONFIG));
    // Prometheus names it by address and port, with the integration key as its bearer.
    s.post_raw(
        "/api/v2/alerts",
        Some(PROM_KEY),
        json!([{"labels": {"alertname": "NodeDown", "instance": "10.0.3.4:9100"}}])
            .to_string()
            .as_bytes(),
    )
    .expect(200);
    // The webhook tool names it by an alias.
    s.post_raw(
        &format!("/hooks/{WEB_KEY}"),
        None,
        &alert("c1", "HTTP check failed"),
    )
    .expect(202);
    // A rule wins over the host's service; unknown hosts fall back to the integration's.
    s.post_raw(
        &format!("/hooks/{WEB_KEY}"),
        None,
        json!({"id": "c2", "title": "replication lag", "host": "web-01", "job": "mysql"})
            .to_string()
            .as_bytes(),
    )
    .expect(202);
    s.post_raw(
        &format!("/hooks/{WEB_KEY}"),
        None,
        json!({"id": "c3", "title": "unknown box", "host": "10.9.9.9"})
            .to_string()
            .as_bytes(),
    )
    .expect(202);
    s.settle();
    let on_host = s.all("/api/v1/alerts", "host=web-01");
    let mut sources: Vec<&str> = on_host
        .iter()
        .map(|a| a["source"].as_str().unwrap())
        .collect();
    sources.sort();
    assert_eq!(sources, ["prometheus", "webhook", "webhook"], "{on_host:?}");
    let by_key = |k: &str| {
        s.all_alerts()
            .into_iter()
            .find(|a| a["dedup_key"] == json!(k))
            .unwrap()
    };
    let prom = s
        .all("/api/v1/alerts", "source=prometheus")
        .pop()
        .expect("the Prometheus alert");
    assert_eq!(prom["service"], json!("web"));
    assert_eq!(prom["integration"], json!("prom-dc1"));
    assert_eq!(by_key("c1")["service"], json!("web"));
    assert_eq!(by_key("c2")["service"], json!("db"));
    assert_eq!(by_key("c3")["service"], json!("inbox"));
    assert_eq!(by_key("c3")["host"], json!("10.9.9.9"));
    // The incident belongs to the service's team.
    let incident = s.incident(incident_of(&by_key("c2")));
    assert_eq!(incident["team"], json!("dba"));
    // The catalog as the API shows it.
    let services = s.get("/api/v1/services").json();
    assert_eq!(services["items"][0]["hosts"][0]["name"], json!("web-01"));
    assert_eq!(services["items"][0]["hosts"][0]["ips"], json!(["10.0.3.4"]));
    let teams = s.get("/api/v1/teams").json();
    assert_eq!(
        teams["items"][1],
        json!({"id": "dba", "name": "dba", "services": ["db"]})
    );
}

#[test]
fn an_acknowledgement_in_the_source_tool_acknowledges_the_incident() {
    let s = spawn_server(Some(CONFIG));
    let path = format!("/hooks/{WEB_KEY}");
    s.post_raw(&path, None, &alert("d1", "disk full"))
        .expect(202);
    let a = s.wait_alert("webhook", "d1");
    let id = incident_of(&a);
    s.post_raw(
        &path,
        None,
        json!({"id": "d1", "title": "looking into it", "state": "acked"})
            .to_string()
            .as_bytes(),
    )
    .expect(202);
    let i = s.wait_incident(id, "acknowledged from the tool", |i| {
        i["state"] == json!("acknowledged")
    });
    let entry = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == json!("acknowledged"))
        .expect("a timeline entry")
        .clone();
    assert_eq!(entry["actor"], json!("uptime (webhook)"));
    assert!(entry["message"]
        .as_str()
        .unwrap()
        .contains("looking into it"));
    // The alert still fires; an acknowledgement is not a resolve.
    assert_eq!(s.wait_alert("webhook", "d1")["status"], json!("firing"));
    // An acknowledgement for an alert tocsin never saw changes nothing.
    s.post_raw(
        &path,
        None,
        json!({"id": "nope", "title": "x", "state": "acked"})
            .to_string()
            .as_bytes(),
    )
    .expect(202);
    s.settle();
    assert_eq!(s.alert_count(), 1);
}

#[test]
fn a_heartbeat_that_stops_raises_an_alert_and_the_next_ping_resolves_it() {
    let mut s = spawn_server(Some(CONFIG));
    let path = format!("/hooks/{BEAT_KEY}");
    // Any method and body is a ping.
    s.get_as(&path, None).expect(202);
    s.settle();
    assert_eq!(s.alert_count(), 0, "a ping alone raises nothing");
    // 1 s interval plus the engine's 2 s grace.
    let a = s.wait_alert_where("the heartbeat is missed", "heartbeat", "backup", |a| {
        a["status"] == json!("firing")
    });
    assert!(a["summary"]
        .as_str()
        .unwrap()
        .contains("No heartbeat from backup for 1s"));
    assert_eq!(a["severity"], json!("critical"));
    s.post_raw(&path, None, b"not even json").expect(202);
    s.wait_alert_where("the ping resolves it", "heartbeat", "backup", |a| {
        a["status"] == json!("resolved")
    });
    // The last ping survives a restart, so a heartbeat that stays silent alerts again.
    s.restart();
    s.wait_alert_where("missed again after a restart", "heartbeat", "backup", |a| {
        a["status"] == json!("firing") && a["episode"] == json!(2)
    });
    // A heartbeat taken out of the config can never be pinged again: its alert resolves.
    let without = CONFIG.replace(
        "  - {name: backup, kind: heartbeat, key: beat-key-0123456789abcdef, interval: 1s}\n",
        "",
    );
    assert_ne!(without, CONFIG);
    std::fs::write(s.root().join("config.yaml"), without).unwrap();
    s.post_as("/-/reload", Some(ADMIN), &json!({})).expect(200);
    let a = s.wait_alert_where("resolved once removed", "heartbeat", "backup", |a| {
        a["status"] == json!("resolved")
    });
    assert_eq!(a["episode"], json!(2));
}

#[test]
fn a_reload_that_changes_a_key_takes_effect_at_once() {
    let s = spawn_server(Some(CONFIG));
    let path = format!("/hooks/{WEB_KEY}");
    s.post_raw(&path, None, &alert("e1", "before")).expect(202);
    let new_key = "web-key-rotated-0123456789";
    let rotated = CONFIG.replace(WEB_KEY, new_key);
    std::fs::write(s.root().join("config.yaml"), rotated).unwrap();
    s.post_as("/-/reload", Some(ADMIN), &json!({})).expect(200);
    s.post_raw(&path, None, &alert("e2", "old key"))
        .expect_error(401, "unauthorized");
    s.post_raw(&format!("/hooks/{new_key}"), None, &alert("e3", "new key"))
        .expect(202);
    s.wait_alert("webhook", "e3");
    // A config whose integrations are invalid is refused and the running one kept.
    std::fs::write(
        s.root().join("config.yaml"),
        CONFIG.replace("kind: webhook", "kind: webhok"),
    )
    .unwrap();
    let r = s.post_as("/-/reload", Some(ADMIN), &json!({}));
    assert!(r.status >= 400, "{}", r.body);
    assert!(r.body.contains("integrations[0].kind"), "{}", r.body);
    s.post_raw(&format!("/hooks/{new_key}"), None, &alert("e4", "still"))
        .expect(202);
    s.wait_alert("webhook", "e4");
}

#[test]
fn cloudevents_arrive_in_structured_and_binary_mode() {
    let s = spawn_server(Some(
        &(CONFIG.to_string()
            + "  - {name: events, kind: cloudevents, key: ce-key-0123456789abcdef}\n"),
    ));
    let structured = json!({
        "specversion": "1.0", "id": "1", "source": "//ci", "type": "build.failed",
        "subject": "main", "data": {"summary": "build broke", "severity": "high"}
    });
    send(
        &s,
        "POST",
        "/hooks/ce-key-0123456789abcdef",
        &[("Content-Type", "application/cloudevents+json")],
        structured.to_string().as_bytes(),
    )
    .expect(202);
    send(
        &s,
        "POST",
        "/hooks/ce-key-0123456789abcdef",
        &[
            ("Content-Type", "application/json"),
            ("ce-specversion", "1.0"),
            ("ce-id", "2"),
            ("ce-source", "//ci"),
            ("ce-type", "build.failed.resolved"),
            ("ce-subject", "main"),
        ],
        b"{}",
    )
    .expect(202);
    s.settle();
    let alerts: Vec<Value> = s.all("/api/v1/alerts", "source=cloudevents");
    assert_eq!(
        alerts.len(),
        1,
        "both events are about one alert: {alerts:?}"
    );
    assert_eq!(alerts[0]["status"], json!("resolved"));
    assert_eq!(alerts[0]["summary"], json!("build broke"));
    let bad = send(
        &s,
        "POST",
        "/hooks/ce-key-0123456789abcdef",
        &[("Content-Type", "application/cloudevents+json")],
        br#"{"specversion": "1.0", "source": "//ci", "type": "x"}"#,
    );
    assert!(bad
        .expect_error(400, "bad_request")
        .contains("id: required"));
}

#[test]
fn a_key_from_tocsin_key_works_by_its_hash() {
    let out = tocsin(&["key"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let (key, sha) = (field("key:"), field("key_sha256:"));
    assert_eq!(sha, sha256_hex(&key));
    // A key says it is a key: API tokens start with tsn_ (issue 17 item 10).
    assert!(key.starts_with("tik_"), "{key}");
    let config = format!("integrations:\n  - {{name: api, kind: tocsin, key_sha256: {sha}}}\n");
    let s = spawn_server(Some(&config));
    s.post_raw(&format!("/hooks/{key}"), None, br#"{"summary": "by hash"}"#)
        .expect(202);
    let stored = eventually("the alert is stored", || {
        s.all_alerts().pop().ok_or_else(|| "none yet".to_string())
    });
    assert_eq!(stored["integration"], json!("api"));
    // `tocsin check` lists the integrations it read.
    let checked = tocsin(&[
        "check",
        "-c",
        s.root().join("config.yaml").to_str().unwrap(),
    ]);
    let listed = String::from_utf8(checked.stdout).unwrap();
    assert!(
        listed.contains("0 hosts, 1 integration, 0 users"),
        "{listed}"
    );
    assert!(listed.contains("integration api (tocsin)"), "{listed}");
}
