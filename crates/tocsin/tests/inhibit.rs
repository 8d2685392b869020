//! Inhibition rules against a real server: NodeDown on a host mutes that host's warnings
//! (kept and listed, no incident), visible as `inhibited_by` in `/api/v1/alerts` and as
//! `inhibitedBy` / `suppressed` in Alertmanager's `GET /api/v2/alerts` with its
//! `inhibited=` filter; when NodeDown resolves the warning still firing opens its incident.

mod common;

use common::*;
use serde_json::{json, Value};

const CONFIG: &str = r#"
intake: {loopback_without_token: true}
incidents: {group_by: [name, host]}
inhibit_rules:
  - source_matchers: ["alertname=NodeDown"]
    target_matchers: ['severity=~"warning|info"']
    equal: [host]
"#;

fn event(name: &str, host: &str, severity: &str, status: &str) -> Value {
    json!({"source": "zabbix", "dedup_key": format!("{name}/{host}"),
           "status": status, "severity": severity, "summary": format!("{name} on {host}"),
           "labels": {"alertname": name, "host": host}})
}

fn am_alerts(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.get_as(&format!("/api/v2/alerts{query}"), Some(ADMIN));
    r.expect(200);
    r.json().as_array().cloned().unwrap()
}

fn find<'a>(alerts: &'a [Value], key: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["dedup_key"] == key)
        .unwrap_or_else(|| panic!("{key} in {alerts:?}"))
}

#[test]
fn node_down_inhibits_its_hosts_warnings_until_it_resolves() {
    let s = spawn_server(Some(CONFIG));
    s.send_events(&event("NodeDown", "web-01", "critical", "firing"));
    s.settle();
    s.send_events(&event("DiskFull", "web-01", "warning", "firing"));
    s.send_events(&event("DiskFull", "web-02", "warning", "firing"));
    s.settle();

    let all = s.all_alerts();
    let down = find(&all, "NodeDown/web-01");
    let muted = find(&all, "DiskFull/web-01");
    assert_eq!(muted["inhibited_by"], json!([down["id"]]));
    assert_eq!(muted["incident_id"], Value::Null);
    assert_eq!(muted["status"], "firing");
    assert_eq!(find(&all, "DiskFull/web-02")["inhibited_by"], json!([]));
    let inhibited = s.all("/api/v1/alerts", "inhibited=true");
    assert_eq!(inhibited.len(), 1);
    assert_eq!(inhibited[0]["dedup_key"], "DiskFull/web-01");
    assert_eq!(s.all("/api/v1/alerts", "inhibited=false").len(), 2);
    s.get("/api/v1/alerts?inhibited=maybe").expect(400);
    // NodeDown and web-02's warning paged; web-01's warning did not.
    assert_eq!(s.all("/api/v1/incidents", "").len(), 2);

    // What amtool sees: suppressed, inhibited by NodeDown's fingerprint.
    let am = am_alerts(&s, "");
    let fingerprint_of = |host: &str, name: &str| {
        am.iter()
            .find(|a| a["labels"]["alertname"] == name && a["labels"]["host"] == host)
            .unwrap()
            .clone()
    };
    let am_down = fingerprint_of("web-01", "NodeDown");
    let am_muted = fingerprint_of("web-01", "DiskFull");
    assert_eq!(
        am_muted["status"],
        json!({"state": "suppressed", "silencedBy": [], "inhibitedBy": [am_down["fingerprint"]]})
    );
    assert_eq!(am_down["status"]["state"], "active");
    assert_eq!(am_alerts(&s, "?inhibited=false").len(), 2);
    assert_eq!(am_alerts(&s, "?active=false").len(), 1);
    assert_eq!(am_alerts(&s, "?active=false&inhibited=false").len(), 0);

    // NodeDown resolves: the warning still fires, so it pages now.
    s.send_events(&event("NodeDown", "web-01", "critical", "resolved"));
    s.settle();
    let freed = eventually("the warning is attached", || {
        let a = find(&s.all_alerts(), "DiskFull/web-01").clone();
        if a["incident_id"].is_null() {
            Err(format!("{a}"))
        } else {
            Ok(a)
        }
    });
    assert_eq!(freed["inhibited_by"], json!([]));
    assert!(s.all("/api/v1/alerts", "inhibited=true").is_empty());
    assert_eq!(
        am_alerts(&s, "?active=false").len(),
        0,
        "nothing is suppressed any more"
    );
}
