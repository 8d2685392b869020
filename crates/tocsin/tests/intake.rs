//! Intake of both formats: what is stored, deduplication, episodes, Alertmanager semantics
//! and how alerts group into incidents.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;

const SERVICES: &str = "
services:
  - {id: web, impact: high}
  - {id: db, impact: low}
intake: {loopback_without_token: true}
";

#[test]
fn native_event_is_stored_with_its_fields() {
    let s = spawn_server(None);
    // No token: the built-in config lets loopback send.
    let r = s.post_as(
        "/api/v1/events",
        None,
        &json!({
            "source": "nagios",
            "dedup_key": "disk-db1",
            "severity": "critical",
            "summary": "磁盘将满 disk almost full on db1",
            "description": "/var at 97%",
            "service": "storage",
            "labels": {"host": "db1", "mount": "/var"},
            "links": [{"href": "http://grafana/d/1", "text": "Dashboard"}],
            "occurred_at": "2026-01-01T10:00:00+08:00"
        }),
    );
    r.expect(202);
    assert_eq!(r.json(), json!({"accepted": 1}));

    let a = s.wait_alert("nagios", "disk-db1");
    assert_eq!(a["status"], "firing");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["summary"], "磁盘将满 disk almost full on db1");
    assert_eq!(a["description"], "/var at 97%");
    assert_eq!(a["labels"], json!({"host": "db1", "mount": "/var"}));
    assert_eq!(
        a["links"],
        json!([{"href": "http://grafana/d/1", "text": "Dashboard"}])
    );
    // A service no catalog defines is discovered under its own name (issue 17 item 7).
    assert_eq!(a["service"], "storage");
    assert_eq!(a["episode"], 1);
    assert_eq!(a["occurrences"], 1);
    assert_eq!(a["started_at"], "2026-01-01T02:00:00.000Z");
    assert!(a["resolved_at"].is_null());
    assert!(a["ends_at"].is_null(), "native events do not expire: {a}");
    assert!(incident_of(&a) > 0);

    let detail = s.get(&format!("/api/v1/alerts/{}", id(&a)));
    detail.expect(200);
    let detail = detail.json();
    assert_eq!(detail["dedup_key"], "disk-db1");
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{detail}");
    assert_eq!(history[0]["kind"], "fired");
    assert_eq!(history[0]["episode"], 1);

    let inc = s.incident(incident_of(&a));
    assert_eq!(inc["state"], "triggered");
    assert_eq!(inc["title"], "磁盘将满 disk almost full on db1");
    assert_eq!(inc["alert_count"], 1);
    assert_eq!(inc["firing_count"], 1);
    assert_eq!(inc["alerts"][0]["id"], a["id"]);

    s.get("/api/v1/alerts/999999")
        .expect_error(404, "not_found");
    s.get("/api/v1/alerts/abc").expect_error(400, "bad_request");
}

#[test]
fn native_defaults_source_status_and_severity() {
    let s = spawn_server(None);
    s.send_events(&json!({"summary": "only a summary", "dedup_key": "k1"}));
    let a = s.wait_alert("api", "k1");
    assert_eq!(a["status"], "firing");
    assert_eq!(a["severity"], "warning");
    assert_eq!(a["name"], "only a summary");
}

#[test]
fn alertmanager_alert_is_stored() {
    let s = spawn_server(None);
    let body = json!([{
        "labels": {"alertname": "HighLatency", "severity": "critical", "instance": "web-1", "job": "api"},
        "annotations": {"summary": "p99 above 500ms", "description": "for 10m", "runbook_url": "http://runbooks/latency"},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph?g0.expr=x"
    }]);
    let before = jiff::Timestamp::now().as_millisecond();
    s.send_am(&body);
    let a = eventually("the Alertmanager alert is stored", || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["source"] == "prometheus")
            .ok_or_else(|| "not yet".to_string())
    });
    assert_eq!(a["name"], "HighLatency");
    assert_eq!(a["status"], "firing");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["summary"], "p99 above 500ms");
    assert_eq!(a["description"], "for 10m");
    assert_eq!(a["started_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(a["labels"]["instance"], "web-1");
    assert_eq!(
        a["links"],
        json!([
            {"href": "http://prometheus/graph?g0.expr=x", "text": "Source"},
            {"href": "http://runbooks/latency", "text": "Runbook"}
        ])
    );
    // No endsAt: it resolves by itself after resolve_timeout (5 minutes by default).
    let ends = millis(&a["ends_at"]);
    assert!(
        ends >= before + 290_000 && ends <= before + 310_000,
        "ends_at {} is not about 5 minutes from now",
        a["ends_at"]
    );
    let inc = s.incident(incident_of(&a));
    assert_eq!(inc["title"], "p99 above 500ms");
    assert_eq!(inc["state"], "triggered");
}

#[test]
fn same_identity_repeated_is_one_alert_with_occurrences() {
    let s = spawn_server(None);
    // Identity from source and labels (no dedup_key), five separate requests.
    for i in 0..5 {
        s.send_events(&json!({
            "summary": format!("cpu high, sample {i}"),
            "labels": {"host": "web-1", "check": "cpu"}
        }));
    }
    // Identity from an explicit dedup_key, three times in one request.
    s.send_events(&json!([
        {"summary": "queue deep", "dedup_key": "queue-1"},
        {"summary": "queue deeper", "dedup_key": "queue-1", "severity": "high"},
        {"summary": "queue deepest", "dedup_key": "queue-1", "severity": "critical"}
    ]));
    let queue = s.wait_alert_where("queue-1 seen three times", "api", "queue-1", |a| {
        a["occurrences"] == 3
    });
    assert_eq!(queue["summary"], "queue deepest", "the latest content wins");
    assert_eq!(queue["severity"], "critical");
    assert_eq!(queue["episode"], 1);

    let alerts = eventually("cpu alert seen five times", || {
        let all = s.all_alerts();
        let cpu: Vec<_> = all
            .iter()
            .filter(|a| a["labels"]["check"] == "cpu")
            .cloned()
            .collect();
        if cpu.len() == 1 && cpu[0]["occurrences"] == 5 {
            Ok(all)
        } else {
            Err(format!("{cpu:?}"))
        }
    });
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let cpu = alerts
        .iter()
        .find(|a| a["labels"]["check"] == "cpu")
        .unwrap();
    assert_eq!(cpu["summary"], "cpu high, sample 4");
    assert_eq!(cpu["episode"], 1);
    assert_eq!(cpu["status"], "firing");
    let inc = s.incident(incident_of(cpu));
    assert_eq!(inc["alert_count"], 1, "repeats are not new alerts: {inc}");

    // A different source with the same labels is a different alert.
    s.send_events(&json!({
        "source": "zabbix",
        "summary": "cpu high",
        "labels": {"host": "web-1", "check": "cpu"}
    }));
    eventually("the zabbix alert is separate", || {
        let n = s.alert_count();
        if n == 3 {
            Ok(())
        } else {
            Err(format!("{n} alerts"))
        }
    });
}

#[test]
fn resolve_then_refire_is_the_same_alert_in_episode_two() {
    let s = spawn_server(None);
    let fire = json!({"summary": "db down", "dedup_key": "db-down", "severity": "high"});
    s.send_events(&fire);
    let first = s.wait_alert("api", "db-down");
    let first_incident = incident_of(&first);

    s.send_events(&json!({"summary": "db down", "dedup_key": "db-down", "status": "resolved"}));
    let resolved = s.wait_alert_where("resolved", "api", "db-down", |a| a["status"] == "resolved");
    assert_eq!(resolved["id"], first["id"]);
    assert!(resolved["resolved_at"].is_string(), "{resolved}");
    assert_eq!(resolved["episode"], 1);
    s.wait_incident(first_incident, "auto-resolved", |i| {
        i["state"] == "resolved"
    });

    // A second resolve changes nothing.
    s.send_events(&json!({"summary": "db down", "dedup_key": "db-down", "status": "resolved"}));
    s.settle();

    s.send_events(&fire);
    let again = s.wait_alert_where("fired again", "api", "db-down", |a| a["status"] == "firing");
    assert_eq!(again["id"], first["id"], "same identity, same alert");
    assert_eq!(again["episode"], 2);
    assert_eq!(again["occurrences"], 3, "fire, resolve, fire: {again}");
    assert!(again["resolved_at"].is_null(), "{again}");
    assert_eq!(s.alert_count(), 1);
    // Its incident was resolved, so the new episode opens a new incident.
    let second_incident = incident_of(&again);
    assert_ne!(second_incident, first_incident);
    assert_eq!(s.incident(second_incident)["state"], "triggered");
    assert_eq!(s.incident(first_incident)["state"], "resolved");

    let detail = s.get(&format!("/api/v1/alerts/{}", id(&again))).json();
    let history: Vec<(String, i64, i64)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_string(),
                h["episode"].as_i64().unwrap(),
                h["incident_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("fired".to_string(), 1, first_incident),
            ("resolved".to_string(), 1, first_incident),
            ("fired".to_string(), 2, second_incident),
        ]
    );
}

#[test]
fn alertmanager_ends_at_in_the_past_resolves() {
    let s = spawn_server(None);
    let labels = json!({"alertname": "InstanceDown", "instance": "db-2:9100", "job": "node"});
    s.send_am(&json!([{"labels": labels, "startsAt": time_in(-60_000)}]));
    let firing = eventually("firing", || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["name"] == "InstanceDown")
            .ok_or_else(|| "not yet".to_string())
    });
    assert_eq!(firing["status"], "firing");

    // A future endsAt keeps it firing, with that end.
    let later = time_in(3_600_000);
    s.send_am(&json!([{"labels": labels, "endsAt": later}]));
    let a = s.wait_alert_where(
        "occurrence 2",
        "prometheus",
        firing["dedup_key"].as_str().unwrap(),
        |a| a["occurrences"] == 2,
    );
    assert_eq!(a["status"], "firing");
    assert_eq!(millis(&a["ends_at"]), millis(&json!(later)));

    let ended = time_in(-1_000);
    s.send_am(&json!([{"labels": labels, "startsAt": time_in(-60_000), "endsAt": ended}]));
    let a = s.wait_alert_where(
        "resolved",
        "prometheus",
        firing["dedup_key"].as_str().unwrap(),
        |a| a["status"] == "resolved",
    );
    assert_eq!(a["id"], firing["id"]);
    assert_eq!(millis(&a["resolved_at"]), millis(&json!(ended)));
    assert!(a["ends_at"].is_null(), "{a}");
    s.wait_incident(incident_of(&a), "incident auto-resolved", |i| {
        i["state"] == "resolved" && i["firing_count"] == 0
    });
}

#[test]
fn alertmanager_label_order_does_not_change_the_identity() {
    let s = spawn_server(None);
    // Raw bodies, so the key order on the wire is exactly as written.
    let orders = [
        r#"[{"labels": {"alertname": "Down", "instance": "h1", "job": "node"}}]"#,
        r#"[{"labels": {"job": "node", "alertname": "Down", "instance": "h1"}}]"#,
        r#"[{"labels": {"instance": "h1", "job": "node", "alertname": "Down"}}]"#,
    ];
    for body in orders {
        s.post_raw("/api/v2/alerts", None, body.as_bytes())
            .expect(200);
    }
    // A different value is a different alert.
    s.post_raw(
        "/api/v2/alerts",
        None,
        br#"[{"labels": {"alertname": "Down", "instance": "h2", "job": "node"}}]"#,
    )
    .expect(200);
    let alerts = eventually("two alerts, one seen three times", || {
        let all = s.all_alerts();
        let h1 = all.iter().find(|a| a["labels"]["instance"] == "h1");
        if all.len() == 2 && h1.is_some_and(|a| a["occurrences"] == 3) {
            Ok(all)
        } else {
            Err(format!("{all:?}"))
        }
    });
    let keys: HashSet<_> = alerts.iter().map(|a| a["dedup_key"].clone()).collect();
    assert_eq!(keys.len(), 2);
    // Same group (service and alertname): one incident holding both.
    assert_eq!(alerts[0]["incident_id"], alerts[1]["incident_id"]);
    assert_eq!(s.incident(incident_of(&alerts[0]))["alert_count"], 2);
}

#[test]
fn alertmanager_alert_without_ends_at_expires_after_resolve_timeout() {
    let s = spawn_server(Some(
        "alertmanager: {resolve_timeout: 1s}\nintake: {loopback_without_token: true}\n",
    ));
    s.send_am(&json!([{"labels": {"alertname": "Flapping", "instance": "x"}}]));
    let a = eventually("stored", || {
        s.all_alerts()
            .into_iter()
            .next()
            .ok_or_else(|| "none".to_string())
    });
    assert_eq!(a["status"], "firing");
    let key = a["dedup_key"].as_str().unwrap().to_string();
    let expired = s.wait_alert_where("expired by itself", "prometheus", &key, |a| {
        a["status"] == "resolved"
    });
    assert!(expired["resolved_at"].is_string());
    let detail = s.get(&format!("/api/v1/alerts/{}", id(&expired))).json();
    let kinds: Vec<_> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["fired", "expired"]);
    s.wait_incident(incident_of(&a), "auto-resolved", |i| {
        i["state"] == "resolved"
    });
}

#[test]
fn arrays_of_events_are_applied_in_order() {
    let s = spawn_server(None);
    let r = s.post(
        "/api/v1/events",
        &json!([
            {"summary": "a", "dedup_key": "a"},
            {"summary": "b", "dedup_key": "b", "severity": "info"},
            {"summary": "c", "dedup_key": "c", "severity": "high"},
            {"summary": "c", "dedup_key": "c", "status": "resolved"}
        ]),
    );
    r.expect(202);
    assert_eq!(r.json(), json!({"accepted": 4}));
    let c = s.wait_alert_where("c fired then resolved", "api", "c", |a| {
        a["status"] == "resolved"
    });
    assert_eq!(c["occurrences"], 2);
    let all = s.all_alerts();
    assert_eq!(all.len(), 3);
    let by_key = |k: &str| all.iter().find(|a| a["dedup_key"] == k).unwrap().clone();
    assert_eq!(by_key("a")["status"], "firing");
    assert_eq!(by_key("b")["severity"], "info");
    // Ids are given in arrival order.
    assert!(id(&by_key("a")) < id(&by_key("b")));
    assert!(id(&by_key("b")) < id(&by_key("c")));
    // The metrics count what was accepted.
    assert_eq!(
        s.metric("tocsin_events_received_total{source=\"api\"}"),
        Some(4.0)
    );
}

#[test]
fn incidents_group_by_service_and_alert_name_by_default() {
    let s = spawn_server(Some(SERVICES));
    let ev = |host: &str, name: &str, service: &str| {
        // The identity is source and labels (not the service field): an explicit key.
        json!({"summary": format!("{name} on {host}"), "service": service,
               "dedup_key": format!("{name}/{host}/{service}"),
               "labels": {"alertname": name, "host": host}})
    };
    s.send_events(&json!([
        ev("a", "HighLatency", "web"),
        ev("b", "HighLatency", "web"),
        ev("a", "HighLatency", "db"),
        ev("a", "DiskFull", "web"),
        // A service the catalog lacks is discovered: its own incident, not web's.
        ev("c", "HighLatency", "no-such-service"),
    ]));
    let all = eventually("five alerts", || {
        let all = s.all_alerts();
        if all.len() == 5 {
            Ok(all)
        } else {
            Err(format!("{} alerts", all.len()))
        }
    });
    let find = |host: &str, name: &str, service: &str| {
        all.iter()
            .find(|a| a["labels"]["host"] == host && a["name"] == name && a["service"] == service)
            .unwrap_or_else(|| panic!("no alert {host} {name} {service} in {all:?}"))
            .clone()
    };
    let web_lat = incident_of(&find("a", "HighLatency", "web"));
    assert_eq!(incident_of(&find("b", "HighLatency", "web")), web_lat);
    let discovered = incident_of(&find("c", "HighLatency", "no-such-service"));
    let db_lat = incident_of(&find("a", "HighLatency", "db"));
    let web_disk = incident_of(&find("a", "DiskFull", "web"));
    let distinct: HashSet<_> = [web_lat, db_lat, web_disk, discovered]
        .into_iter()
        .collect();
    assert_eq!(distinct.len(), 4);

    let inc = s.incident(web_lat);
    assert_eq!(inc["alert_count"], 2);
    assert_eq!(inc["firing_count"], 2);
    assert_eq!(inc["service"], "web");
    assert_eq!(inc["title"], "HighLatency on a");
    assert_eq!(inc["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(s.incident(db_lat)["service"], "db");
    assert_eq!(s.incident(discovered)["service"], "no-such-service");
    let list = s.items("/api/v1/incidents");
    assert_eq!(list.len(), 4, "{list:?}");
}

#[test]
fn the_service_label_of_alertmanager_alerts_picks_the_service() {
    let s = spawn_server(Some(SERVICES));
    s.send_am(&json!([
        {"labels": {"alertname": "Slow", "service": "db"}},
        {"labels": {"alertname": "Slow", "service": "web"}}
    ]));
    let all = eventually("two alerts", || {
        let all = s.all_alerts();
        if all.len() == 2 {
            Ok(all)
        } else {
            Err(format!("{all:?}"))
        }
    });
    let services: HashSet<_> = all.iter().map(|a| a["service"].clone()).collect();
    assert_eq!(services, HashSet::from([json!("db"), json!("web")]));
    assert_ne!(all[0]["incident_id"], all[1]["incident_id"]);
}

#[test]
fn group_by_config_option_decides_the_incident() {
    let s = spawn_server(Some(
        "incidents: {group_by: [labels.cluster]}\nintake: {loopback_without_token: true}\n",
    ));
    s.send_events(&json!([
        {"summary": "api slow", "labels": {"alertname": "Slow", "cluster": "eu-1"}},
        {"summary": "db down", "labels": {"alertname": "Down", "cluster": "eu-1"}, "severity": "critical"},
        {"summary": "api slow", "labels": {"alertname": "Slow", "cluster": "us-1"}}
    ]));
    let all: Vec<Value> = eventually("three alerts", || {
        let all = s.all_alerts();
        if all.len() == 3 {
            Ok(all)
        } else {
            Err(format!("{} alerts", all.len()))
        }
    });
    let of = |cluster: &str, name: &str| {
        incident_of(
            all.iter()
                .find(|a| a["labels"]["cluster"] == cluster && a["name"] == name)
                .unwrap(),
        )
    };
    assert_eq!(
        of("eu-1", "Slow"),
        of("eu-1", "Down"),
        "same cluster, one incident"
    );
    assert_ne!(
        of("eu-1", "Slow"),
        of("us-1", "Slow"),
        "other cluster, other incident"
    );
    let eu = s.incident(of("eu-1", "Slow"));
    assert_eq!(eu["alert_count"], 2);
    // The critical alert raised the incident's severity.
    assert_eq!(eu["severity"], "critical");
    assert_eq!(s.items("/api/v1/incidents").len(), 2);
}

#[test]
fn a_resolve_for_an_unknown_alert_is_accepted_and_ignored() {
    let s = spawn_server(None);
    s.send_events(&json!({"summary": "never fired", "dedup_key": "ghost", "status": "resolved"}));
    s.send_am(&json!([{"labels": {"alertname": "Ghost"}, "endsAt": time_in(-5_000)}]));
    s.settle();
    assert_eq!(s.alert_count(), 0);
    assert!(s.items("/api/v1/incidents").is_empty());
    assert_eq!(s.metric("tocsin_events_ignored"), Some(2.0));
    // A firing event afterwards opens it normally, in episode 1.
    s.send_events(&json!({"summary": "never fired", "dedup_key": "ghost"}));
    let a = s.wait_alert("api", "ghost");
    assert_eq!(a["episode"], 1);
    assert_eq!(a["occurrences"], 1);
}

#[test]
fn alertmanager_resends_keep_an_alert_firing() {
    let s = spawn_server(Some(
        "alertmanager: {resolve_timeout: 1s}\nintake: {loopback_without_token: true}\n",
    ));
    let body = json!([{"labels": {"alertname": "Persistent", "instance": "p"}}]);
    // Resent every 300 ms for 2 s: longer than resolve_timeout, but never resolved.
    let until = std::time::Instant::now() + std::time::Duration::from_millis(2000);
    let mut sent = 0;
    while std::time::Instant::now() < until {
        s.send_am(&body);
        sent += 1;
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    s.settle();
    let all = s.all_alerts();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "firing", "{}", all[0]);
    assert_eq!(all[0]["episode"], 1);
    assert_eq!(all[0]["occurrences"], sent);
    let key = all[0]["dedup_key"].as_str().unwrap().to_string();
    // Then the sender stops, and it resolves by itself.
    let a = s.wait_alert_where("expired", "prometheus", &key, |a| a["status"] == "resolved");
    assert_eq!(a["episode"], 1);
}

#[test]
fn a_resolve_keeps_the_content_of_the_firing_event() {
    let s = spawn_server(None);
    s.send_events(&json!({"summary": "hot", "dedup_key": "hot", "severity": "critical"}));
    s.wait_alert("api", "hot");
    s.send_events(&json!({"summary": "cool again", "dedup_key": "hot", "severity": "info", "status": "resolved"}));
    let a = s.wait_alert_where("resolved", "api", "hot", |a| a["status"] == "resolved");
    assert_eq!(a["severity"], "critical", "{a}");
    assert_eq!(
        a["summary"], "hot",
        "a resolve keeps the content of the firing event"
    );
}

#[test]
fn a_resolve_counts_as_seen() {
    let s = spawn_server(None);
    s.send_events(&json!({"summary": "blip", "dedup_key": "blip"}));
    let fired = s.wait_alert("api", "blip");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let before_resolve = time_in(0);
    s.send_events(&json!({"summary": "blip", "dedup_key": "blip", "status": "resolved"}));
    let a = s.wait_alert_where("resolved", "api", "blip", |a| a["status"] == "resolved");
    assert_eq!(a["occurrences"], 2);
    assert!(
        millis(&a["last_seen"]) >= millis(&json!(before_resolve)),
        "last_seen is when tocsin last received an event for it, the resolve included: \
         first_seen {}, last_seen {}, resolve sent at {before_resolve}",
        fired["first_seen"],
        a["last_seen"]
    );
    // So a list of what was seen since then includes it.
    let items = s.items(&format!("/api/v1/alerts?since={}", enc(&before_resolve)));
    assert_eq!(
        items.len(),
        1,
        "since={before_resolve} misses the resolved alert"
    );
}

#[test]
fn a_long_alertmanager_summary_is_cut_at_a_character_boundary() {
    let s = spawn_server(None);
    // 1 + 2 * 1500 bytes: byte 2048 falls inside a two-byte character.
    let summary = format!("x{}", "é".repeat(1500));
    s.send_am(&json!([{"labels": {"alertname": "Long"}, "annotations": {"summary": summary}}]));
    let a = eventually("stored", || {
        s.all_alerts()
            .into_iter()
            .next()
            .ok_or_else(|| "none".to_string())
    });
    let got = a["summary"].as_str().unwrap();
    assert_eq!(
        got.len(),
        2047,
        "cut to at most 2048 bytes, whole characters"
    );
    assert!(summary.starts_with(got));
    // The native format refuses instead of cutting.
    s.post("/api/v1/events", &json!({"summary": summary}))
        .expect_error(400, "bad_request");
}

#[test]
fn text_search_is_ascii_case_insensitive() {
    let s = spawn_server(None);
    s.send_events(&json!({"summary": "Disk Full on DB1", "dedup_key": "d"}));
    s.wait_alert("api", "d");
    for q in ["disk", "DISK", "full on db1"] {
        let items = s.items(&format!("/api/v1/alerts?q={}", enc(q)));
        assert_eq!(items.len(), 1, "{q}");
        let items = s.items(&format!("/api/v1/incidents?q={}", enc(q)));
        assert_eq!(items.len(), 1, "{q}");
    }
}

#[test]
fn extra_alertmanager_annotations_are_kept_in_the_description() {
    let s = spawn_server(None);
    s.send_am(&json!([{
        "labels": {"alertname": "Annotated"},
        "annotations": {"summary": "s", "description": "d", "dashboard": "http://g", "value": "0.7"}
    }]));
    let a = eventually("stored", || {
        s.all_alerts()
            .into_iter()
            .next()
            .ok_or_else(|| "none".to_string())
    });
    assert_eq!(a["summary"], "s");
    assert_eq!(a["description"], "d\ndashboard: http://g\nvalue: 0.7");
}
