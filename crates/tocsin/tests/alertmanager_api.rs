//! The Alertmanager API v2 against a real server: status, receivers, alerts with filters and
//! groups, the silence lifecycle with Alertmanager's update rules and errors, roles, and
//! silences that really mute: a silenced alert pages nobody until its silence ends.

mod common;

use common::*;
use serde_json::{json, Value};

fn silence(matchers: Value, starts_in_ms: i64, ends_in_ms: i64) -> Value {
    json!({
        "matchers": matchers,
        "startsAt": time_in(starts_in_ms),
        "endsAt": time_in(ends_in_ms),
        "createdBy": "alice",
        "comment": "maintenance",
    })
}

fn eq(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value, "isRegex": false, "isEqual": true})
}

/// Creates a silence with the admin token.
#[track_caller]
fn add_silence(s: &TestServer, body: &Value) -> String {
    let r = s.post_as("/api/v2/silences", Some(ADMIN), body);
    r.expect(200);
    r.json()["silenceID"].as_str().unwrap().to_string()
}

fn get_silence(s: &TestServer, id: &str) -> Value {
    let r = s.get_as(&format!("/api/v2/silence/{id}"), Some(ADMIN));
    r.expect(200);
    r.json()
}

fn am_alerts(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.get_as(&format!("/api/v2/alerts{query}"), Some(ADMIN));
    r.expect(200);
    r.json().as_array().cloned().unwrap()
}

fn names(alerts: &[Value]) -> Vec<String> {
    let mut n: Vec<String> = alerts
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

#[test]
fn status_and_receivers_describe_tocsin() {
    let s = spawn_server(None);
    let status = s.get_as("/api/v2/status", Some(ADMIN));
    status.expect(200);
    let v = status.json();
    assert_eq!(v["cluster"]["status"], "ready");
    assert_eq!(v["cluster"]["peers"], json!([]));
    assert!(v["versionInfo"]["version"].is_string());
    let original = v["config"]["original"].as_str().unwrap();
    assert!(
        original.contains("receivers:\n  - name: \"default\""),
        "{original}"
    );
    assert!(millis(&v["uptime"]) <= millis(&json!(time_in(0))));
    let r = s.get_as("/api/v2/receivers", Some(ADMIN));
    r.expect(200);
    assert_eq!(r.json(), json!([{"name": "default"}]));
}

#[test]
fn alerts_of_every_source_with_filters_and_groups() {
    let s = spawn_server(None);
    s.send_am(&json!([
        {"labels": {"alertname": "Down", "instance": "web-1", "env": "prod"},
         "annotations": {"summary": "web-1 is down"}, "generatorURL": "http://prom/graph"},
        {"labels": {"alertname": "Down", "instance": "web-2", "env": "dev"}},
        {"labels": {"alertname": "Slow", "instance": "db-1", "env": "prod", "severity": "critical"}},
    ]));
    s.send_events(
        &json!({"source": "zabbix", "dedup_key": "z1", "status": "firing",
        "severity": "high", "summary": "Disk full", "labels": {"host": "db-1"}}),
    );
    s.settle();
    let all = am_alerts(&s, "");
    assert_eq!(all.len(), 4, "{all:?}");
    let web1 = all
        .iter()
        .find(|a| a["labels"]["instance"] == "web-1")
        .unwrap();
    assert_eq!(web1["annotations"]["summary"], "web-1 is down");
    assert_eq!(web1["generatorURL"], "http://prom/graph");
    assert_eq!(
        web1["status"],
        json!({"state": "active", "silencedBy": [], "inhibitedBy": []})
    );
    assert_eq!(web1["receivers"], json!([{"name": "default"}]));
    assert_eq!(web1["fingerprint"].as_str().unwrap().len(), 16);
    assert!(millis(&web1["endsAt"]) > millis(&web1["startsAt"]));
    // A non-Prometheus alert gets alertname, service and severity labels.
    let zabbix = all
        .iter()
        .find(|a| a["labels"]["host"] == "db-1" && a["labels"].get("env").is_none())
        .unwrap();
    assert_eq!(zabbix["labels"]["service"], "default");
    assert_eq!(zabbix["labels"]["severity"], "high");
    assert!(zabbix["labels"]["alertname"].is_string());
    let f = |q: &str| names(&am_alerts(&s, q));
    assert_eq!(f("?filter=alertname%3D%22Down%22"), ["Down", "Down"]);
    assert_eq!(f("?filter=alertname%3DDown&filter=env%3Dprod"), ["Down"]);
    assert_eq!(
        f("?filter=instance%3D~%22(web%7Cdb)-1%22&filter=env!%3Ddev").len(),
        2
    );
    assert_eq!(f("?filter=env!~%22prod%7Cdev%22").len(), 1);
    assert_eq!(f("?filter=severity%3Dcritical"), ["Slow"]);
    assert_eq!(f("?receiver=def.*").len(), 4);
    assert!(f("?receiver=nobody").is_empty());
    assert!(f("?active=false").is_empty());
    let bad = s.get_as("/api/v2/alerts?filter=nonsense", Some(ADMIN));
    bad.expect(400);
    assert!(
        bad.json().as_str().unwrap().contains("bad matcher format"),
        "{}",
        bad.body
    );
    s.get_as("/api/v2/alerts?receiver=(", Some(ADMIN))
        .expect(400);
    // Groups follow incidents.group_by (service, alertname by default).
    let g = s.get_as("/api/v2/alerts/groups", Some(ADMIN));
    g.expect(200);
    let groups = g.json();
    let down = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["labels"]["alertname"] == "Down")
        .unwrap();
    assert_eq!(
        down["labels"],
        json!({"alertname": "Down", "service": "default"})
    );
    assert_eq!(down["receiver"], json!({"name": "default"}));
    assert_eq!(down["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(groups.as_array().unwrap().len(), 3);
}

#[test]
fn silence_lifecycle_pending_active_expired() {
    let s = spawn_server(None);
    let id = add_silence(
        &s,
        &silence(json!([eq("alertname", "Later")]), 1_200, 3_600_000),
    );
    assert_eq!(id.len(), 36);
    let v = get_silence(&s, &id);
    assert_eq!(v["status"]["state"], "pending");
    assert_eq!(v["matchers"], json!([eq("alertname", "Later")]));
    assert_eq!(v["createdBy"], "alice");
    assert_eq!(v["comment"], "maintenance");
    eventually("the silence becomes active at startsAt", || {
        let state = get_silence(&s, &id)["status"]["state"].clone();
        if state == "active" {
            Ok(())
        } else {
            Err(state.to_string())
        }
    });
    let list = s.get_as(
        "/api/v2/silences?filter=alertname%3D%22Later%22",
        Some(ADMIN),
    );
    list.expect(200);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    let none = s.get_as(
        "/api/v2/silences?filter=alertname%3D~%22Later%22",
        Some(ADMIN),
    );
    assert_eq!(
        none.json(),
        json!([]),
        "filters compare matcher definitions"
    );
    let del = s.request(
        "DELETE",
        &format!("/api/v2/silence/{id}"),
        Some(ADMIN),
        None,
    );
    del.expect(200);
    let v = get_silence(&s, &id);
    assert_eq!(v["status"]["state"], "expired");
    assert!(millis(&v["endsAt"]) <= millis(&json!(time_in(0))));
    // Expiring again changes nothing; unknown and malformed ids are refused.
    s.request(
        "DELETE",
        &format!("/api/v2/silence/{id}"),
        Some(ADMIN),
        None,
    )
    .expect(200);
    let unknown = "0b3c1f5e-3c0e-4b8a-9d6e-2f1a7c9e4d21";
    s.get_as(&format!("/api/v2/silence/{unknown}"), Some(ADMIN))
        .expect(404);
    s.request(
        "DELETE",
        &format!("/api/v2/silence/{unknown}"),
        Some(ADMIN),
        None,
    )
    .expect(404);
    s.get_as("/api/v2/silence/nope", Some(ADMIN)).expect(400);
}

#[test]
fn updates_follow_alertmanager() {
    let s = spawn_server(None);
    let body = silence(json!([eq("alertname", "Upd")]), 0, 3_600_000);
    let id = add_silence(&s, &body);
    let first = get_silence(&s, &id);
    // Same matchers, same start, later end and a new comment: changed in place.
    let mut longer = body.clone();
    longer["id"] = json!(id);
    longer["startsAt"] = first["startsAt"].clone();
    longer["endsAt"] = json!(time_in(7_200_000));
    longer["comment"] = json!("longer");
    assert_eq!(add_silence(&s, &longer), id);
    let v = get_silence(&s, &id);
    assert_eq!(v["comment"], "longer");
    assert_eq!(v["status"]["state"], "active");
    // Other matchers: the old silence expires and a new one replaces it.
    let mut other = longer.clone();
    other["matchers"] = json!([eq("alertname", "Other")]);
    let new_id = add_silence(&s, &other);
    assert_ne!(new_id, id);
    assert_eq!(get_silence(&s, &id)["status"]["state"], "expired");
    assert_eq!(get_silence(&s, &new_id)["status"]["state"], "active");
    // Updating an expired silence creates a new one too.
    let mut again = other.clone();
    again["id"] = json!(id);
    let third = add_silence(&s, &again);
    assert!(third != id && third != new_id);
    // An update of a silence that never existed is 404.
    let mut ghost = body.clone();
    ghost["id"] = json!("0b3c1f5e-3c0e-4b8a-9d6e-2f1a7c9e4d21");
    s.post_as("/api/v2/silences", Some(ADMIN), &ghost)
        .expect(404);
}

#[test]
fn invalid_silences_are_400_with_alertmanager_messages() {
    let s = spawn_server(None);
    let cases = [
        (
            silence(json!([eq("a", "b")]), 3_600_000, 60_000),
            "start time must be before end time",
        ),
        (
            silence(json!([]), 0, 60_000),
            "at least one matcher required",
        ),
        (
            silence(
                json!([{"name": "a", "value": ".*", "isRegex": true}]),
                0,
                60_000,
            ),
            "at least one matcher must not match the empty string",
        ),
        (
            silence(
                json!([{"name": "a", "value": "(", "isRegex": true}]),
                0,
                60_000,
            ),
            "invalid regular expression",
        ),
        (
            silence(json!([eq("1a", "b")]), 0, 60_000),
            "invalid label name",
        ),
        (
            silence(json!([eq("a", "b")]), -120_000, -60_000),
            "end time can't be in the past",
        ),
        (json!({"matchers": [eq("a", "b")]}), "missing field"),
        (
            json!({"matchers": [eq("a", "b")], "startsAt": "soon", "endsAt": time_in(1000),
                   "createdBy": "x", "comment": ""}),
            "startsAt",
        ),
    ];
    for (body, want) in cases {
        let r = s.post_as("/api/v2/silences", Some(ADMIN), &body);
        r.expect(400);
        let message = r.json().as_str().unwrap_or_default().to_string();
        assert!(
            message.contains(want),
            "{body}: {message:?} should say {want:?}"
        );
    }
    s.post_raw("/api/v2/silences", Some(ADMIN), b"{")
        .expect(400);
    assert_eq!(s.get_as("/api/v2/silences", Some(ADMIN)).json(), json!([]));
}

#[test]
fn reads_need_a_viewer_and_writes_a_responder() {
    let config = format!(
        "tokens:\n  - {{name: ro, role: viewer, sha256: \"{}\"}}\n  - {{name: ops, role: responder, sha256: \"{}\"}}\n",
        sha256_hex("viewer-token"),
        sha256_hex("responder-token")
    );
    let s = spawn_server(Some(&config));
    let body = silence(json!([eq("alertname", "Auth")]), 0, 60_000);
    // No token is no access, from loopback too.
    for path in [
        "/api/v2/status",
        "/api/v2/alerts",
        "/api/v2/silences",
        "/api/v2/receivers",
    ] {
        s.get_as(path, None).expect(401);
        s.get_as(path, Some("viewer-token")).expect(200);
    }
    s.post_as("/api/v2/silences", None, &body).expect(401);
    s.post_as("/api/v2/silences", Some("viewer-token"), &body)
        .expect(403);
    let r = s.post_as("/api/v2/silences", Some("responder-token"), &body);
    r.expect(200);
    let id = r.json()["silenceID"].as_str().unwrap().to_string();
    let path = format!("/api/v2/silence/{id}");
    s.get_as(&path, Some("viewer-token")).expect(200);
    s.request("DELETE", &path, Some("viewer-token"), None)
        .expect(403);
    s.request("DELETE", &path, Some("responder-token"), None)
        .expect(200);
    s.get_as(&path, Some("bad-token")).expect(401);
}

fn incidents(s: &TestServer) -> Vec<Value> {
    s.all("/api/v1/incidents", "")
}

#[test]
fn a_silenced_alert_opens_no_incident_until_its_silence_is_deleted() {
    let s = spawn_server(None);
    let id = add_silence(
        &s,
        &silence(json!([eq("alertname", "Muted")]), 0, 3_600_000),
    );
    s.send_am(&json!([{"labels": {"alertname": "Muted", "instance": "h1"}}]));
    s.send_am(&json!([{"labels": {"alertname": "Loud", "instance": "h1"}}]));
    s.settle();
    let muted = s
        .all("/api/v1/alerts", "silenced=true")
        .into_iter()
        .find(|a| a["name"] == "Muted")
        .expect("the muted alert is listed as silenced");
    assert_eq!(muted["silenced_by"], json!([id]));
    assert_eq!(muted["incident_id"], Value::Null);
    assert_eq!(muted["status"], "firing");
    let loud: Vec<Value> = s.all("/api/v1/alerts", "silenced=false");
    assert_eq!(loud.len(), 1);
    assert_eq!(loud[0]["silenced_by"], json!([]));
    // Only the loud alert paged.
    let open = incidents(&s);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["title"], "Loud");
    let am = am_alerts(&s, "?filter=alertname%3DMuted");
    assert_eq!(
        am[0]["status"],
        json!({"state": "suppressed", "silencedBy": [id], "inhibitedBy": []})
    );
    assert!(am_alerts(&s, "?silenced=false&filter=alertname%3DMuted").is_empty());
    // Sent again while silenced: still no incident.
    s.send_am(&json!([{"labels": {"alertname": "Muted", "instance": "h1"}}]));
    s.settle();
    assert_eq!(incidents(&s).len(), 1);

    s.request(
        "DELETE",
        &format!("/api/v2/silence/{id}"),
        Some(ADMIN),
        None,
    )
    .expect(200);
    let a = s.wait_alert_where(
        "attached once the silence ends",
        "prometheus",
        muted["dedup_key"].as_str().unwrap(),
        |a| a["incident_id"].is_i64(),
    );
    assert_eq!(a["silenced_by"], json!([]));
    let incident = s.incident(incident_of(&a));
    assert_eq!(incident["title"], "Muted");
    let line = incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "unsilenced")
        .expect("a timeline line says it was silenced");
    assert!(line["message"].as_str().unwrap().contains(&id), "{line}");
}

#[test]
fn a_silence_over_paging_alerts_marks_them_and_closes_nothing() {
    let s = spawn_server(None);
    s.send_am(&json!([{"labels": {"alertname": "Paging", "instance": "h1"}}]));
    let a = s.wait_alert_where("paging", "prometheus", &alert_key(&s, "Paging"), |a| {
        a["incident_id"].is_i64()
    });
    let incident = incident_of(&a);
    let id = add_silence(&s, &silence(json!([eq("instance", "h1")]), 0, 3_600_000));
    let a = s.wait_alert_where(
        "marked silenced",
        "prometheus",
        a["dedup_key"].as_str().unwrap(),
        |a| a["silenced_by"] == json!([id]),
    );
    assert_eq!(incident_of(&a), incident, "it stays in its incident");
    let i = s.incident(incident);
    assert_eq!(i["state"], "triggered");
    assert!(
        i["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "silenced"),
        "{i}"
    );
}

/// The dedup key of the only alert with this name.
fn alert_key(s: &TestServer, name: &str) -> String {
    eventually("the alert is stored", || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["name"] == name)
            .map(|a| a["dedup_key"].as_str().unwrap().to_string())
            .ok_or_else(|| "not yet".to_string())
    })
}

#[test]
fn silences_and_muting_survive_a_restart() {
    let mut s = spawn_server(None);
    let id = add_silence(&s, &silence(json!([eq("alertname", "Kept")]), 0, 3_600_000));
    s.send_am(&json!([{"labels": {"alertname": "Kept"}}]));
    let key = alert_key(&s, "Kept");
    s.wait_alert_where("muted", "prometheus", &key, |a| {
        a["silenced_by"] == json!([id])
    });
    s.restart();
    assert_eq!(get_silence(&s, &id)["status"]["state"], "active");
    let a = s.wait_alert("prometheus", &key);
    assert_eq!(a["silenced_by"], json!([id]));
    assert!(incidents(&s).is_empty());
    // The engine remembers what the silence mutes: deleting it now attaches the alert.
    s.request(
        "DELETE",
        &format!("/api/v2/silence/{id}"),
        Some(ADMIN),
        None,
    )
    .expect(200);
    s.wait_alert_where("attached after the restart", "prometheus", &key, |a| {
        a["incident_id"].is_i64()
    });
    assert_eq!(incidents(&s).len(), 1);
}
