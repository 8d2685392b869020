//! The tool adapters behind `/hooks/KEY` and `/v2/enqueue`, black-box: Open-Falcon (GET
//! and form), Grafana, Nightingale, PagerDuty's Events API v2 and an Alertmanager's webhook,
//! each posted the way the tool posts, through one server with one integration of each
//! kind. Checks what is stored (source, integration, status, severity, host) and that a
//! refused request stores nothing.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const FALCON_KEY: &str = "falcon-key-0123456789abcdef";
const GRAFANA_KEY: &str = "grafana-key-0123456789abcdef";
const N9E_KEY: &str = "n9e-key-0123456789abcdef";
const PD_KEY: &str = "pd-key-0123456789abcdef";
const AM_KEY: &str = "am-key-0123456789abcdef";

const CONFIG: &str = r#"
services:
  - id: web
    hosts:
      - {name: web-01, ips: [10.0.3.4]}
  - {id: cart}
integrations:
  - {name: falcon, kind: open-falcon, key: falcon-key-0123456789abcdef}
  - {name: grafana-prod, kind: grafana, key: grafana-key-0123456789abcdef}
  - {name: n9e, kind: nightingale, key: n9e-key-0123456789abcdef}
  - {name: pd-bridge, kind: pagerduty, key: pd-key-0123456789abcdef}
  - {name: am-dc1, kind: alertmanager-webhook, key: am-key-0123456789abcdef}
"#;

/// A request with its own content type (the harness always says JSON).
fn send(s: &TestServer, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
    let req = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
        .request(method, &s.url(path));
    let result = if method == "GET" {
        req.call()
    } else {
        req.set("Content-Type", content_type).send_bytes(body)
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

/// The one alert of `source` that `pred` picks, once it holds.
#[track_caller]
fn wait_for(s: &TestServer, what: &str, source: &str, pred: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || {
        let alerts: Vec<Value> = s
            .all_alerts()
            .into_iter()
            .filter(|a| a["source"] == json!(source) && pred(a))
            .collect();
        match alerts.as_slice() {
            [one] => Ok(one.clone()),
            other => Err(format!("{} alerts match: {other:?}", other.len())),
        }
    })
}

/// Posts a refused body and checks the 400, its message, and that nothing was stored.
#[track_caller]
fn refused(s: &TestServer, path: &str, body: &[u8], expect: &str) {
    s.settle();
    let before = s.alert_count();
    let message = s
        .post_raw(path, None, body)
        .expect_error(400, "bad_request");
    assert!(message.contains(expect), "{path}: {message}");
    s.settle();
    assert_eq!(
        s.alert_count(),
        before,
        "{path}: a refused request stored something"
    );
}

#[test]
fn every_tool_posts_the_way_it_does() {
    let s = spawn_server(Some(CONFIG));
    open_falcon(&s);
    grafana(&s);
    nightingale(&s);
    pagerduty(&s);
    alertmanager_webhook(&s);
}

fn open_falcon(s: &TestServer) {
    let query = "endpoint=web-01&exp_id=0&left_value=13&metric=load.1min&priority=1\
        &status=PROBLEM&step=1&stra_id=959&tags=service%3Acart%2Cdc%3Abj\
        &time=2026-03-02+00%3A24%3A01&tpl_id=243";
    let r = send(s, "GET", &format!("/hooks/{FALCON_KEY}?{query}"), "", b"");
    r.expect(202);
    assert_eq!(r.json(), json!({"accepted": 1}));
    let a = wait_for(s, "Open-Falcon problem stored", "open-falcon", |a| {
        a["status"] == json!("firing")
    });
    assert_eq!(a["integration"], json!("falcon"));
    assert_eq!(a["severity"], json!("critical"));
    assert_eq!(a["host"], json!("web-01"));
    assert_eq!(a["service"], json!("cart"), "the service tag names it");
    assert_eq!(a["labels"]["metric"], json!("load.1min"));

    // The recovery as a form POST, the tags in another order: the same alert.
    let ok = query
        .replace("status=PROBLEM", "status=OK")
        .replace("service%3Acart%2Cdc%3Abj", "dc%3Abj%2Cservice%3Acart");
    send(
        s,
        "POST",
        &format!("/hooks/{FALCON_KEY}"),
        "application/x-www-form-urlencoded",
        ok.as_bytes(),
    )
    .expect(202);
    s.wait_alert_where(
        "Open-Falcon OK resolves",
        "open-falcon",
        a["dedup_key"].as_str().unwrap(),
        |a| a["status"] == json!("resolved"),
    );

    let path = format!("/hooks/{FALCON_KEY}");
    let r = send(
        s,
        "GET",
        &format!("{path}?endpoint=web-01&metric=m"),
        "",
        b"",
    );
    let m = r.expect_error(400, "bad_request");
    assert!(m.contains("status: missing"), "{m}");
    refused(
        s,
        &path,
        br#"{"endpoint": "web-01", "metric": "m", "status": "SOMETIMES"}"#,
        "status",
    );
}

const GRAFANA: &str = r#"{
  "receiver": "tocsin", "status": "firing", "orgId": 1, "version": "1",
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "High memory usage", "grafana_folder": "Infra", "instance": "web-01", "severity": "high"},
    "annotations": {"summary": "Memory above 90% on web-01"},
    "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "https://grafana.example.com/alerting/grafana/fe1xa/view",
    "fingerprint": "c6eadffa33fcdf37",
    "silenceURL": "https://grafana.example.com/alerting/silence/new",
    "dashboardURL": "https://grafana.example.com/d/abc", "panelURL": "https://grafana.example.com/d/abc?viewPanel=2",
    "values": {"B": 93.5, "C": 1}
  }],
  "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
  "externalURL": "https://grafana.example.com/", "groupKey": "{}:{}", "truncatedAlerts": 0
}"#;

fn grafana(s: &TestServer) {
    let path = format!("/hooks/{GRAFANA_KEY}");
    s.post_raw(&path, None, GRAFANA.as_bytes()).expect(202);
    let a = wait_for(s, "Grafana alert stored", "grafana", |_| true);
    assert_eq!(a["integration"], json!("grafana-prod"));
    assert_eq!(a["status"], json!("firing"));
    assert_eq!(a["severity"], json!("high"));
    assert_eq!(a["host"], json!("web-01"));
    assert_eq!(a["service"], json!("web"), "the catalog host's service");
    let links: Vec<&str> = a["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(links, ["Alert rule", "Dashboard", "Panel", "Silence"]);

    let resolved = GRAFANA.replace(r#""status": "firing","#, r#""status": "resolved","#);
    s.post_raw(&path, None, resolved.as_bytes()).expect(202);
    s.wait_alert_where(
        "Grafana resolve",
        "grafana",
        a["dedup_key"].as_str().unwrap(),
        |a| a["status"] == json!("resolved"),
    );

    refused(
        s,
        &path,
        br#"{"title": "[Alerting] CPU", "ruleId": 3, "state": "alerting"}"#,
        "legacy",
    );
    refused(
        s,
        &path,
        br#"{"alerts": [{"status": "firing", "labels": {"a": "1"}}, {"status": "x", "labels": {"a": "2"}}]}"#,
        "alerts[1].status",
    );
}

const N9E: &str = r#"{
  "hash": "5f2e8e6f1b3b4c1d9a0e7c6b5a4d3c2b", "rule_id": 7, "rule_name": "CPU usage high",
  "rule_note": "CPU above 90%", "severity": 2, "group_name": "Default",
  "target_ident": "10.0.3.4", "trigger_value": "93.2", "trigger_time": 1767225540,
  "first_trigger_time": 1767225300, "last_eval_time": 1767225585,
  "tags": ["ident=10.0.3.4", "cpu=cpu-total"], "tags_map": null, "annotations": null,
  "is_recovered": false, "notify_users_obj": null
}"#;

fn nightingale(s: &TestServer) {
    let path = format!("/hooks/{N9E_KEY}");
    s.post_raw(&path, None, N9E.as_bytes()).expect(202);
    let key = "5f2e8e6f1b3b4c1d9a0e7c6b5a4d3c2b";
    let a = s.wait_alert("nightingale", key);
    assert_eq!(a["integration"], json!("n9e"));
    assert_eq!(a["status"], json!("firing"));
    assert_eq!(a["severity"], json!("warning"));
    assert_eq!(a["host"], json!("web-01"), "the catalog knows the address");
    assert_eq!(a["summary"], json!("CPU usage high on 10.0.3.4: 93.2"));

    let recovered = N9E.replace(r#""is_recovered": false"#, r#""is_recovered": true"#);
    s.post_raw(&path, None, format!("[{recovered}]").as_bytes())
        .expect(202);
    s.wait_alert_where("n9e recovery", "nightingale", key, |a| {
        a["status"] == json!("resolved")
    });

    refused(
        s,
        &path,
        br#"{"hash": "h", "rule_name": "r", "severity": 9}"#,
        "severity",
    );
    refused(s, &path, b"{not json", "invalid JSON");
}

fn pagerduty(s: &TestServer) {
    let trigger = json!({
        "routing_key": PD_KEY,
        "event_action": "trigger",
        "payload": {
            "summary": "DISK at 99% on web-01",
            "source": "10.0.3.4",
            "severity": "critical",
            "component": "mysql",
            "custom_details": {"free space": "1%"}
        },
        "links": [{"href": "https://monitoring.example.com/disk", "text": "Graph"}]
    });
    let r = s.post_as("/v2/enqueue", None, &trigger);
    r.expect(202);
    let answer = r.json();
    assert_eq!(answer["status"], json!("success"));
    assert_eq!(answer["message"], json!("Event processed"));
    let key = answer["dedup_key"]
        .as_str()
        .expect("a dedup_key is made up")
        .to_string();
    assert_eq!(key.len(), 32);
    let a = s.wait_alert("pagerduty", &key);
    assert_eq!(a["integration"], json!("pd-bridge"));
    assert_eq!(a["status"], json!("firing"));
    assert_eq!(a["severity"], json!("critical"));
    assert_eq!(a["host"], json!("web-01"));

    let r = s.post_as(
        "/v2/enqueue",
        None,
        &json!({"routing_key": PD_KEY, "event_action": "acknowledge", "dedup_key": key}),
    );
    r.expect(202);
    assert_eq!(r.json()["dedup_key"], json!(key));
    let incident = s.wait_incident(incident_of(&a), "acknowledged from PagerDuty", |i| {
        i["state"] == json!("acknowledged")
    });
    assert_eq!(incident["alert_count"], json!(1));

    s.post_as(
        "/v2/enqueue",
        None,
        &json!({"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": key}),
    )
    .expect(202);
    s.wait_alert_where("PagerDuty resolve", "pagerduty", &key, |a| {
        a["status"] == json!("resolved")
    });

    s.settle();
    let before = s.alert_count();
    let mut wrong = trigger.clone();
    wrong["routing_key"] = json!("not-a-key-0123456789abcdef");
    s.post_as("/v2/enqueue", None, &wrong)
        .expect_error(401, "unauthorized");
    // The key of another kind of integration is not a PagerDuty routing key either.
    wrong["routing_key"] = json!(N9E_KEY);
    s.post_as("/v2/enqueue", None, &wrong)
        .expect_error(401, "unauthorized");
    s.settle();
    assert_eq!(
        s.alert_count(),
        before,
        "nothing from a wrong routing key is stored"
    );

    let mut invalid = trigger.clone();
    invalid["payload"]["severity"] = json!("fatal");
    refused(
        s,
        "/v2/enqueue",
        invalid.to_string().as_bytes(),
        "payload.severity",
    );
    refused(
        s,
        "/v2/enqueue",
        json!({"routing_key": PD_KEY, "event_action": "resolve"})
            .to_string()
            .as_bytes(),
        "dedup_key",
    );
}

const AM: &str = r#"{
  "version": "4", "groupKey": "{}:{alertname=\"InstanceDown\"}", "truncatedAlerts": 0,
  "status": "firing", "receiver": "tocsin",
  "groupLabels": {"alertname": "InstanceDown"},
  "commonLabels": {"alertname": "InstanceDown", "instance": "10.0.3.4:9100", "job": "node", "severity": "critical"},
  "commonAnnotations": {"summary": "10.0.3.4:9100 is down"},
  "externalURL": "http://alertmanager.example.com:9093",
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "InstanceDown", "instance": "10.0.3.4:9100", "job": "node", "severity": "critical"},
    "annotations": {"summary": "10.0.3.4:9100 is down"},
    "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
    "fingerprint": "a1b2c3d4e5f60718"
  }]
}"#;

fn alertmanager_webhook(s: &TestServer) {
    let path = format!("/hooks/{AM_KEY}");
    s.post_raw(&path, None, AM.as_bytes()).expect(202);
    let a = wait_for(s, "Alertmanager webhook alert stored", "prometheus", |a| {
        a["labels"]["alertname"] == json!("InstanceDown")
    });
    assert_eq!(a["integration"], json!("am-dc1"));
    assert_eq!(a["status"], json!("firing"));
    assert_eq!(a["severity"], json!("critical"));
    assert_eq!(a["host"], json!("web-01"));
    assert!(
        a["ends_at"].is_null(),
        "waits for the Alertmanager's resolve: {a}"
    );
    let key = a["dedup_key"].as_str().unwrap().to_string();

    // The same alert straight from Prometheus is the same alert, one more occurrence.
    s.send_am(&json!([{
        "labels": {"alertname": "InstanceDown", "instance": "10.0.3.4:9100", "job": "node", "severity": "critical"},
    }]));
    s.wait_alert_where("one alert, seen twice", "prometheus", &key, |a| {
        a["occurrences"] == json!(2)
    });

    let resolved = AM.replace(
        r#""status": "firing",
    "labels""#,
        r#""status": "resolved",
    "labels""#,
    );
    assert_ne!(resolved, AM);
    s.post_raw(&path, None, resolved.as_bytes()).expect(202);
    s.wait_alert_where("Alertmanager resolve", "prometheus", &key, |a| {
        a["status"] == json!("resolved")
    });

    refused(s, &path, br#"[{"labels": {"a": "1"}}]"#, "JSON object");
    refused(
        s,
        &path,
        br#"{"version": "4", "alerts": [{"status": "firing", "labels": {"a": 1}}]}"#,
        "alerts[0].labels.a",
    );
}
