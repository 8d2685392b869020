//! Services discovered in alerts (issue 17 item 7): under the built-in config, alerts naming
//! services the catalog lacks land in services of those names (listed as discovered in the
//! API and the console, en and zh, with the YAML to promote them), not all in `default`
//! where they would group into one incident; the cap sends the rest to the default service
//! and counts them; a service the config later defines wins over the discovered record.

mod common;

use common::*;
use serde_json::{json, Value};

/// Fires an alert named `HighErrorRate` (the same name, so grouping by service and name
/// or same-service correlation would merge them) and returns its incident.
fn fire(s: &TestServer, key: &str, service: Option<&str>) -> Value {
    let mut e = json!({"dedup_key": key, "summary": format!("errors in {key}"),
        "severity": "critical", "labels": {"alertname": "HighErrorRate"}});
    if let Some(sv) = service {
        e["labels"]["service"] = json!(sv);
    }
    s.send_events(&e);
    let a = s.wait_alert_where("in an incident", "api", key, |a| {
        a["incident_id"].as_i64().is_some_and(|i| i > 0)
    });
    s.incident(a["incident_id"].as_i64().unwrap())
}

fn services(s: &TestServer) -> Vec<Value> {
    s.items("/api/v1/services")
}

fn find<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items.iter().find(|x| x["id"] == json!(id))
}

#[test]
fn unknown_services_are_discovered_not_collapsed_into_default() {
    let s = spawn_server(None);
    let web = fire(&s, "web", Some("web-a"));
    let db = fire(&s, "db", Some(" db-b "));
    let none = fire(&s, "none", None);
    assert_eq!(web["service"], "web-a");
    assert_eq!(db["service"], "db-b", "trimmed");
    assert_eq!(none["service"], "default", "no service named: the default");
    assert_ne!(web["id"], db["id"], "two services, two incidents");
    assert_ne!(web["id"], none["id"]);
    // The alert records it too.
    assert_eq!(s.wait_alert("api", "web")["service"], "web-a");

    let items = services(&s);
    for id in ["web-a", "db-b"] {
        let sv = find(&items, id).unwrap_or_else(|| panic!("{id} listed: {items:?}"));
        assert_eq!(sv["discovered"], true, "{sv}");
        assert_eq!(sv["team"], find(&items, "default").unwrap()["team"]);
        assert!(sv["first_seen"].as_str().unwrap().ends_with('Z'), "{sv}");
        assert!(sv["last_seen"].is_string(), "{sv}");
    }
    assert_eq!(find(&items, "default").unwrap()["discovered"], false);
    assert_eq!(items.len(), 3);

    let r = s.get("/api/v1/services/discovered.yaml");
    r.expect(200);
    assert!(r.body.contains("- id: db-b\n"), "{}", r.body);
    assert!(r.body.contains("- id: web-a\n"), "{}", r.body);

    // The console lists them, marked, with the YAML to paste, in English and Chinese.
    let me = console::sign_in(&s, "vera", "viewer");
    let html = me.get(&s, "/ui/services").body;
    assert!(html.contains(r#"id="service-web-a""#), "web-a card");
    assert!(html.contains(r#"<span class="tag discovered""#), "marker");
    assert!(html.contains(">discovered</span>"), "English marker");
    assert!(html.contains("Add the discovered services to the config"));
    assert!(html.contains("- id: web-a"), "the YAML");
    let r = me.post(&s, "/ui/prefs", &json!({"language": "zh"}));
    assert_eq!(r.status, 204, "prefs saved");
    let html = me.get(&s, "/ui/services").body;
    assert!(html.contains(">自动发现</span>"), "Chinese marker");
    assert!(html.contains("把自动发现的服务加入配置"));
}

#[test]
fn beyond_the_cap_alerts_go_to_the_default_service_and_are_counted() {
    let s = spawn_server(Some(
        "intake: {loopback_without_token: true, max_discovered_services: 1}\n",
    ));
    assert_eq!(fire(&s, "web", Some("web-a"))["service"], "web-a");
    assert_eq!(fire(&s, "db", Some("db-b"))["service"], "default");
    assert_eq!(
        fire(&s, "web2", Some("web-a"))["service"],
        "web-a",
        "known stays"
    );
    let items = services(&s);
    assert!(find(&items, "db-b").is_none(), "{items:?}");
    assert_eq!(s.metric("tocsin_discovered_services_refused"), Some(1.0));
    assert!(s.stderr().contains("max_discovered_services"), "warned");
}

#[test]
fn a_service_the_config_defines_later_wins() {
    let base = "intake: {loopback_without_token: true}\n";
    let s = spawn_server(Some(base));
    assert_eq!(fire(&s, "web", Some("web-a"))["service"], "web-a");
    assert_eq!(find(&services(&s), "web-a").unwrap()["discovered"], true);

    std::fs::write(
        s.config.as_ref().unwrap(),
        format!("{base}teams: [{{id: web, name: Web}}]\nservices:\n  - {{id: default, team: web}}\n  - {{id: web-a, name: Web A, team: web}}\n"),
    )
    .unwrap();
    s.request("POST", "/-/reload", Some(ADMIN), None)
        .expect(200);
    let items = services(&s);
    let listed: Vec<&Value> = items.iter().filter(|x| x["id"] == "web-a").collect();
    assert_eq!(listed.len(), 1, "once: {items:?}");
    assert_eq!(listed[0]["discovered"], false);
    assert_eq!(listed[0]["name"], "Web A");
    let r = s.get("/api/v1/services/discovered.yaml");
    assert_eq!(r.body, "services: []\n");
}
