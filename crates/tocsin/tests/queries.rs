//! List filters and cursor pagination of alerts and incidents, and refused parameters.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

const CONFIG: &str = "
services:
  - {id: web, impact: high}
  - {id: db, impact: low}
intake: {loopback_without_token: true}
";

/// The dedup keys of a list, sorted.
fn keys(items: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = items
        .iter()
        .map(|a| a["dedup_key"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

fn alert_keys(s: &TestServer, query: &str) -> Vec<String> {
    keys(&s.items(&format!("/api/v1/alerts?{query}")))
}

fn incident_ids(s: &TestServer, query: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = s
        .items(&format!("/api/v1/incidents?{query}"))
        .iter()
        .map(id)
        .collect();
    ids.sort();
    ids
}

struct Data {
    s: TestServer,
    w1: Value,
    w2: Value,
    d1: Value,
}

/// Three alerts, a few milliseconds apart: w1 (web, critical), w2 (web, info), d1 (db,
/// warning, resolved); each in an incident of its own; w2's incident acknowledged.
fn data() -> Data {
    let s = spawn_server(Some(CONFIG));
    s.send_events(&json!({
        "dedup_key": "w1", "service": "web", "severity": "critical",
        "summary": "cpu high on w1",
        "labels": {"env": "prod", "alertname": "CpuHigh", "host": "w1"}
    }));
    s.wait_alert("api", "w1");
    std::thread::sleep(Duration::from_millis(30));
    s.send_events(&json!({
        "dedup_key": "w2", "service": "web", "severity": "info",
        "summary": "backup 100% done",
        "labels": {"env": "prod", "role": "batch"}
    }));
    s.wait_alert("api", "w2");
    std::thread::sleep(Duration::from_millis(30));
    s.send_events(&json!({
        "dedup_key": "d1", "service": "db", "severity": "warning",
        "summary": "disk almost full", "description": "only 3% left_over",
        "labels": {"env": "staging"}
    }));
    s.send_events(&json!({
        "dedup_key": "d1", "service": "db", "status": "resolved",
        "summary": "disk almost full", "description": "only 3% left_over",
        "labels": {"env": "staging"}
    }));
    let d1 = s.wait_alert_where("d1 resolved", "api", "d1", |a| a["status"] == "resolved");
    let w1 = s.wait_alert("api", "w1");
    let w2 = s.wait_alert("api", "w2");
    s.act(incident_of(&w2), "acknowledge", &json!({}))
        .expect(200);
    Data { s, w1, w2, d1 }
}

#[test]
fn alert_filters() {
    let Data { s, w1, w2, d1 } = data();
    assert_eq!(alert_keys(&s, ""), ["d1", "w1", "w2"]);
    assert_eq!(alert_keys(&s, "status=firing"), ["w1", "w2"]);
    assert_eq!(alert_keys(&s, "status=resolved"), ["d1"]);
    assert_eq!(alert_keys(&s, "severity=critical"), ["w1"]);
    assert_eq!(alert_keys(&s, "severity=high"), Vec::<String>::new());
    assert_eq!(alert_keys(&s, "service=web"), ["w1", "w2"]);
    assert_eq!(alert_keys(&s, "service=db"), ["d1"]);
    assert_eq!(alert_keys(&s, "service=nope"), Vec::<String>::new());
    assert_eq!(alert_keys(&s, "service=web&severity=info"), ["w2"]);
    // Text in name, summary or description; LIKE wildcards are literal.
    assert_eq!(alert_keys(&s, "q=disk"), ["d1"]);
    assert_eq!(alert_keys(&s, "q=CpuHigh"), ["w1"]);
    assert_eq!(alert_keys(&s, &format!("q={}", enc("left_over"))), ["d1"]);
    assert_eq!(alert_keys(&s, &format!("q={}", enc("%"))), ["d1", "w2"]);
    assert_eq!(alert_keys(&s, &format!("q={}", enc("100%"))), ["w2"]);
    assert_eq!(alert_keys(&s, &format!("q={}", enc("_"))), ["d1"]);
    assert_eq!(alert_keys(&s, "q=nothing-like-this"), Vec::<String>::new());
    // Labels: all given must hold.
    let label = |kv: &str| format!("label={}", enc(kv));
    assert_eq!(alert_keys(&s, &label("env=prod")), ["w1", "w2"]);
    assert_eq!(
        alert_keys(
            &s,
            &format!("{}&{}", label("env=prod"), label("role=batch"))
        ),
        ["w2"]
    );
    assert_eq!(
        alert_keys(
            &s,
            &format!("{}&{}", label("env=prod"), label("env=staging"))
        ),
        Vec::<String>::new()
    );
    assert_eq!(alert_keys(&s, &label("env=nope")), Vec::<String>::new());
    assert_eq!(alert_keys(&s, &label("host=w1")), ["w1"]);
    // By incident.
    assert_eq!(
        alert_keys(&s, &format!("incident_id={}", incident_of(&w1))),
        ["w1"]
    );
    // since: seen at or after; until: first seen before.
    let since = |a: &Value| format!("since={}", enc(a["first_seen"].as_str().unwrap()));
    let until = |a: &Value| format!("until={}", enc(a["first_seen"].as_str().unwrap()));
    assert_eq!(alert_keys(&s, &since(&w2)), ["d1", "w2"]);
    assert_eq!(alert_keys(&s, &since(&d1)), ["d1"]);
    assert_eq!(alert_keys(&s, &until(&w2)), ["w1"]);
    assert_eq!(alert_keys(&s, &until(&w1)), Vec::<String>::new());
    assert_eq!(
        alert_keys(&s, &format!("{}&{}", since(&w2), until(&d1))),
        ["w2"]
    );
    // Any offset is accepted.
    assert_eq!(
        alert_keys(&s, &format!("since={}", enc("2000-01-01T08:00:00+08:00"))),
        ["d1", "w1", "w2"]
    );
    assert_eq!(
        alert_keys(&s, &format!("until={}", enc("2000-01-01T08:00:00+08:00"))),
        Vec::<String>::new()
    );
}

#[test]
fn incident_filters() {
    let Data { s, w1, w2, d1 } = data();
    let (i1, i2, i3) = (incident_of(&w1), incident_of(&w2), incident_of(&d1));
    assert_eq!(incident_ids(&s, ""), [i1, i2, i3]);
    assert_eq!(incident_ids(&s, "state=triggered"), [i1]);
    assert_eq!(incident_ids(&s, "state=acknowledged"), [i2]);
    assert_eq!(
        incident_ids(&s, &format!("state={}", enc("triggered,acknowledged"))),
        [i1, i2]
    );
    assert_eq!(incident_ids(&s, "state=resolved"), [i3]);
    assert_eq!(incident_ids(&s, "state=closed"), Vec::<i64>::new());
    assert_eq!(incident_ids(&s, "service=web"), [i1, i2]);
    assert_eq!(incident_ids(&s, "service=db"), [i3]);
    // web is high impact: critical P1, info P3; db is low impact, warning: P4.
    assert_eq!(incident_ids(&s, "priority=P1"), [i1]);
    assert_eq!(incident_ids(&s, "priority=P3"), [i2]);
    assert_eq!(incident_ids(&s, "priority=P4"), [i3]);
    assert_eq!(incident_ids(&s, "priority=p4"), [i3]);
    assert_eq!(incident_ids(&s, "priority=P2"), Vec::<i64>::new());
    assert_eq!(incident_ids(&s, "q=cpu"), [i1]);
    assert_eq!(incident_ids(&s, &format!("q={}", enc("100%"))), [i2]);
    assert_eq!(
        incident_ids(&s, "service=web&state=triggered&priority=P1&q=cpu"),
        [i1]
    );
    let created = |i: i64| enc(s.incident(i)["created_at"].as_str().unwrap());
    assert_eq!(
        incident_ids(&s, &format!("since={}", created(i2))),
        [i2, i3]
    );
    assert_eq!(incident_ids(&s, &format!("until={}", created(i2))), [i1]);
    // Newest first.
    let order: Vec<i64> = s.items("/api/v1/incidents").iter().map(id).collect();
    assert_eq!(order, [i3, i2, i1]);
}

#[test]
fn cursor_pagination_has_no_gaps_or_duplicates() {
    let s = spawn_server(None);
    let events: Vec<Value> = (0..250)
        .map(|i| {
            json!({"summary": format!("condition {i:03}"), "dedup_key": format!("k{i:03}"),
                        "severity": if i % 2 == 0 { "high" } else { "info" }})
        })
        .collect();
    s.send_events(&Value::Array(events));
    eventually("250 alerts", || match s.alert_count() {
        250 => Ok(()),
        n => Err(format!("{n}")),
    });

    for (path, filter, total) in [
        ("/api/v1/alerts", "", 250usize),
        ("/api/v1/alerts", "&severity=high", 125),
        ("/api/v1/incidents", "", 250),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let mut url = format!("{path}?limit=100{filter}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={}", enc(c)));
            }
            let page = s.page(&url);
            let items = page["items"].as_array().unwrap();
            pages.push(items.len());
            seen.extend(items.iter().map(id));
            match &page["next_cursor"] {
                Value::Null => break,
                Value::String(c) => cursor = Some(c.clone()),
                other => panic!("next_cursor is {other}"),
            }
            assert!(pages.len() < 10, "paging does not end");
        }
        let expected_pages: Vec<usize> = match total {
            250 => vec![100, 100, 50],
            125 => vec![100, 25],
            _ => unreachable!(),
        };
        assert_eq!(pages, expected_pages, "{path}{filter}");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), total, "no duplicates in {path}{filter}");
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest first, strictly: {path}{filter}"
        );
        let all = s.all(path, filter.trim_start_matches('&'));
        let all_ids: Vec<i64> = all.iter().map(id).collect();
        assert_eq!(all_ids, seen, "pages together are the whole list");
    }
    // The alerts are exactly the ones sent.
    let expected: Vec<String> = (0..250).map(|i| format!("k{i:03}")).collect();
    assert_eq!(keys(&s.all_alerts()), expected);

    // The default page is 100; an exact fit has no next cursor.
    let page = s.page("/api/v1/alerts");
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert!(page["next_cursor"].is_string());
    let page = s.page("/api/v1/alerts?limit=250");
    assert_eq!(page["items"].as_array().unwrap().len(), 250);
    assert!(page["next_cursor"].is_null(), "{}", page["next_cursor"]);
    let page = s.page("/api/v1/alerts?limit=1000");
    assert_eq!(page["items"].as_array().unwrap().len(), 250);
    assert!(page["next_cursor"].is_null());
}

#[test]
fn bad_parameters_are_refused() {
    let s = spawn_server(None);
    for query in [
        "foo=1",
        "stat=firing",
        "limit=5000",
        "limit=1001",
        "limit=0",
        "limit=-1",
        "limit=ten",
        "cursor=abc",
        "cursor=",
        "status=open",
        "severity=fatal",
        "label=env",
        &format!("label={}", enc("=prod")),
        "since=today",
        &format!("since={}", enc("2026-01-01 10:00")),
        "until=yesterday",
        "incident_id=x",
        "q=",
        "service=",
        "state=triggered",
    ] {
        let msg = s
            .get(&format!("/api/v1/alerts?{query}"))
            .expect_error(400, "bad_request");
        assert!(!msg.is_empty(), "{query}");
    }
    for query in [
        "foo=1",
        "status=firing",
        "limit=5000",
        "cursor=abc",
        "state=open",
        &format!("state={}", enc("triggered,nope")),
        "priority=P9",
        "priority=1",
        "since=today",
        "q=",
        "label=a=b",
    ] {
        s.get(&format!("/api/v1/incidents?{query}"))
            .expect_error(400, "bad_request");
    }
    let msg = s
        .get("/api/v1/alerts?colour=red")
        .expect_error(400, "bad_request");
    assert!(
        msg.contains("colour"),
        "the message names the parameter: {msg}"
    );
    let msg = s
        .get("/api/v1/alerts?limit=5000")
        .expect_error(400, "bad_request");
    assert!(msg.contains("limit"), "{msg}");
}

#[test]
fn text_and_label_filters_take_special_characters_literally() {
    let s = spawn_server(None);
    s.send_events(&json!([
        {"summary": "path C:\\temp\\x is full", "dedup_key": "win"},
        {"summary": "plain text", "dedup_key": "plain"},
        {"summary": "expr", "dedup_key": "expr", "labels": {"expr": "rate(x[5m]) > 0.5 == 1"}},
        {"summary": "quote 'O''Brien\" %_", "dedup_key": "quote"}
    ]));
    eventually("four alerts", || match s.alert_count() {
        4 => Ok(()),
        n => Err(format!("{n}")),
    });
    assert_eq!(alert_keys(&s, &format!("q={}", enc("\\"))), ["win"]);
    assert_eq!(alert_keys(&s, &format!("q={}", enc("C:\\temp"))), ["win"]);
    assert_eq!(
        alert_keys(&s, &format!("q={}", enc("'O''Brien\""))),
        ["quote"]
    );
    assert_eq!(alert_keys(&s, &format!("q={}", enc("%_"))), ["quote"]);
    assert_eq!(
        alert_keys(&s, &format!("label={}", enc("expr=rate(x[5m]) > 0.5 == 1"))),
        ["expr"]
    );
    assert_eq!(
        alert_keys(&s, &format!("label={}", enc("expr=rate(x[5m])"))),
        Vec::<String>::new()
    );
}
