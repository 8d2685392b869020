//! Tokens and roles: viewer < responder < admin, config tokens by SHA-256, API-made tokens,
//! and intake from loopback.

mod common;

use common::*;
use serde_json::json;

const VIEWER: &str = "viewer-token-1";
const RESPONDER: &str = "responder-token-1";

fn config() -> String {
    format!(
        "tokens:\n  - {{name: dashboards, role: viewer, sha256: {}}}\n  - {{name: oncall, role: responder, sha256: \"{}\"}}\n",
        sha256_hex(VIEWER),
        // Upper-case hex works too.
        sha256_hex(RESPONDER).to_uppercase()
    )
}

/// A server with the two config tokens and one incident.
fn server_with_incident() -> (TestServer, i64) {
    let s = spawn_server(Some(&config()));
    s.send_events(&json!({"summary": "boom", "dedup_key": "boom"}));
    let a = s.wait_alert("api", "boom");
    (s, incident_of(&a))
}

#[test]
fn reads_need_a_valid_token() {
    let (s, iid) = server_with_incident();
    let reads = [
        "/api/v1/alerts".to_string(),
        "/api/v1/alerts/1".to_string(),
        "/api/v1/incidents".to_string(),
        format!("/api/v1/incidents/{iid}"),
        "/api/v1/tokens".to_string(),
    ];
    for path in &reads {
        s.get_as(path, None).expect_error(401, "unauthorized");
        s.get_as(path, Some("not-a-token"))
            .expect_error(401, "unauthorized");
        // A token that differs only in case is a different token.
        s.get_as(path, Some(&VIEWER.to_uppercase()))
            .expect_error(401, "unauthorized");
    }
    // Not a bearer token at all.
    for header in ["Basic dXNlcjpwYXNz", "Bearer ", VIEWER] {
        let r = ureq::get(&s.url("/api/v1/alerts"))
            .set("Authorization", header)
            .call();
        match r {
            Err(ureq::Error::Status(code, _)) => assert_eq!(code, 401, "{header:?}"),
            other => panic!("{header:?}: expected 401, got {other:?}"),
        }
    }
    // Refused reads are refused before anything else: even for a missing incident.
    s.get_as("/api/v1/incidents/999", None)
        .expect_error(401, "unauthorized");
}

#[test]
fn viewer_reads_but_may_not_act_or_send() {
    let (s, iid) = server_with_incident();
    s.get_as("/api/v1/alerts", Some(VIEWER)).expect(200);
    s.get_as("/api/v1/incidents", Some(VIEWER)).expect(200);
    s.get_as(&format!("/api/v1/incidents/{iid}"), Some(VIEWER))
        .expect(200);

    for verb in ["acknowledge", "resolve", "comment", "assign", "priority"] {
        let msg = s
            .post_as(
                &format!("/api/v1/incidents/{iid}/{verb}"),
                Some(VIEWER),
                &json!({"text": "x", "assignee": "me", "priority": "P1", "reason": "r"}),
            )
            .expect_error(403, "forbidden");
        assert!(msg.contains("responder"), "{msg}");
    }
    s.post_as(
        "/api/v1/events",
        Some(VIEWER),
        &json!({"summary": "from a viewer", "dedup_key": "viewer"}),
    )
    .expect_error(403, "forbidden");
    s.post_as(
        "/api/v2/alerts",
        Some(VIEWER),
        &json!([{"labels": {"alertname": "FromViewer"}}]),
    )
    .expect_error(403, "forbidden");
    s.get_as("/api/v1/tokens", Some(VIEWER))
        .expect_error(403, "forbidden");
    s.request("POST", "/-/reload", Some(VIEWER), None)
        .expect_error(403, "forbidden");

    s.settle();
    let inc = s.incident(iid);
    assert_eq!(inc["state"], "triggered");
    assert_eq!(
        inc["timeline"].as_array().unwrap().len(),
        2,
        "no action of the viewer was applied: {inc}"
    );
    assert_eq!(s.alert_count(), 1, "nothing the viewer sent was stored");
}

#[test]
fn responder_sends_and_acts_but_does_not_administer() {
    let (s, iid) = server_with_incident();
    s.post_as(
        "/api/v1/events",
        Some(RESPONDER),
        &json!({"summary": "from oncall", "dedup_key": "oncall"}),
    )
    .expect(202);
    s.post_as(
        "/api/v2/alerts",
        Some(RESPONDER),
        &json!([{"labels": {"alertname": "FromOncall"}}]),
    )
    .expect(200);
    let r = s.post_as(
        &format!("/api/v1/incidents/{iid}/acknowledge"),
        Some(RESPONDER),
        &json!({}),
    );
    r.expect(200);
    assert_eq!(r.json()["state"], "acknowledged");
    let entry = r.json()["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "acknowledged")
        .cloned()
        .unwrap();
    assert_eq!(entry["actor"], "oncall");
    s.get_as("/api/v1/tokens", Some(RESPONDER))
        .expect_error(403, "forbidden");
    s.post_as(
        "/api/v1/tokens",
        Some(RESPONDER),
        &json!({"name": "sneaky", "role": "admin"}),
    )
    .expect_error(403, "forbidden");
    s.request("POST", "/-/reload", Some(RESPONDER), None)
        .expect_error(403, "forbidden");
    s.wait_alert("api", "oncall");
    eventually("three alerts", || match s.alert_count() {
        3 => Ok(()),
        n => Err(format!("{n}")),
    });
}

#[test]
fn admin_creates_and_deletes_tokens() {
    let (s, iid) = server_with_incident();
    let r = s.post(
        "/api/v1/tokens",
        &json!({"name": "ci-bot", "role": "responder"}),
    );
    r.expect(201);
    let created = r.json();
    assert_eq!(created["name"], "ci-bot");
    assert_eq!(created["role"], "responder");
    let token = created["token"].as_str().unwrap().to_string();
    let secret = token
        .strip_prefix("tsn_")
        .unwrap_or_else(|| panic!("{token}"));
    assert_eq!(secret.len(), 43, "{token}");
    assert!(
        secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );

    // It works at once, for intake and for actions, and is named in the timeline.
    s.post_as(
        "/api/v1/events",
        Some(&token),
        &json!({"summary": "from ci", "dedup_key": "ci"}),
    )
    .expect(202);
    let r = s.post_as(
        &format!("/api/v1/incidents/{iid}/comment"),
        Some(&token),
        &json!({"text": "ci was here"}),
    );
    r.expect(200);
    assert!(r.json()["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["kind"] == "comment" && t["actor"] == "ci-bot"));
    // But it is not an admin.
    s.get_as("/api/v1/tokens", Some(&token))
        .expect_error(403, "forbidden");

    let list = s.page("/api/v1/tokens");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "ci-bot");
    assert_eq!(items[0]["role"], "responder");
    assert_eq!(items[0]["created_by"], "admin");
    assert!(
        !list.to_string().contains(&token),
        "the token is shown only once"
    );
    assert!(
        items[0].get("sha256").is_none(),
        "hashes are not shown: {list}"
    );
    let config_names: Vec<_> = list["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(config_names, ["dashboards", "oncall"]);

    // Names are unique and checked.
    s.post(
        "/api/v1/tokens",
        &json!({"name": "ci-bot", "role": "viewer"}),
    )
    .expect_error(409, "conflict");
    for bad in [
        json!({"name": "admin", "role": "viewer"}),
        json!({"name": "has space", "role": "viewer"}),
        json!({"name": "", "role": "viewer"}),
        json!({"name": "x", "role": "god"}),
        json!({"name": "x"}),
        json!({"name": "x", "role": "viewer", "expires": "never"}),
    ] {
        s.post("/api/v1/tokens", &bad)
            .expect_error(400, "bad_request");
    }
    // A viewer token made by the API reads only.
    let viewer = s
        .post("/api/v1/tokens", &json!({"name": "ro", "role": "viewer"}))
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    s.get_as("/api/v1/alerts", Some(&viewer)).expect(200);
    s.post_as("/api/v1/events", Some(&viewer), &json!({"summary": "x"}))
        .expect_error(403, "forbidden");

    // Deleting revokes at once.
    s.request("DELETE", "/api/v1/tokens/ci-bot", Some(ADMIN), None)
        .expect(204);
    s.get_as("/api/v1/alerts", Some(&token))
        .expect_error(401, "unauthorized");
    s.post_as(
        "/api/v1/events",
        Some(&token),
        &json!({"summary": "after revoke"}),
    )
    .expect_error(401, "unauthorized");
    s.request("DELETE", "/api/v1/tokens/ci-bot", Some(ADMIN), None)
        .expect_error(404, "not_found");
    // Config tokens are not deleted through the API.
    s.request("DELETE", "/api/v1/tokens/oncall", Some(ADMIN), None)
        .expect_error(404, "not_found");
    s.get_as("/api/v1/alerts", Some(RESPONDER)).expect(200);
    s.request("DELETE", "/api/v1/tokens/ro", Some(VIEWER), None)
        .expect_error(403, "forbidden");
    s.get_as("/api/v1/alerts", Some(&viewer)).expect(200);
}

#[test]
fn api_tokens_survive_a_restart() {
    let mut s = spawn_server(None);
    let token = s
        .post("/api/v1/tokens", &json!({"name": "kept", "role": "viewer"}))
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    s.restart();
    s.get_as("/api/v1/alerts", Some(&token)).expect(200);
}

#[test]
fn with_a_config_file_loopback_intake_needs_a_token() {
    let (s, _) = server_with_incident();
    let msg = s
        .post_as("/api/v1/events", None, &json!({"summary": "anonymous"}))
        .expect_error(401, "unauthorized");
    assert!(msg.contains("token"), "{msg}");
    s.post_as(
        "/api/v2/alerts",
        None,
        &json!([{"labels": {"alertname": "Anonymous"}}]),
    )
    .expect_error(401, "unauthorized");
    s.post_as(
        "/api/v1/events",
        Some("wrong"),
        &json!({"summary": "bad token"}),
    )
    .expect_error(401, "unauthorized");
    s.settle();
    assert_eq!(s.alert_count(), 1);
    assert_eq!(
        s.metric("tocsin_intake_rejected_total{reason=\"auth\"}"),
        Some(3.0)
    );
}

#[test]
fn loopback_without_token_can_be_allowed_in_config_but_a_bad_token_is_still_refused() {
    let s = spawn_server(Some("intake: {loopback_without_token: true}\n"));
    s.post_as("/api/v1/events", None, &json!({"summary": "anonymous"}))
        .expect(202);
    s.post_as(
        "/api/v1/events",
        Some("wrong"),
        &json!({"summary": "bad token"}),
    )
    .expect_error(401, "unauthorized");
    // Reads still need a token.
    s.get_as("/api/v1/alerts", None)
        .expect_error(401, "unauthorized");
}

#[test]
fn health_readiness_and_metrics_need_no_token() {
    let (s, _) = server_with_incident();
    let r = s.get_as("/-/healthy", None);
    r.expect(200);
    assert_eq!(r.body.trim(), "OK");
    s.get_as("/-/ready", None).expect(200);
    let m = s.get_as("/metrics", None);
    m.expect(200);
    for name in [
        "tocsin_events_received_total",
        "tocsin_log_lsn",
        "tocsin_engine_applied_lsn",
        "tocsin_alerts_active",
        "tocsin_incidents",
    ] {
        assert!(
            m.body.contains(name),
            "{name} missing in /metrics:\n{}",
            m.body
        );
    }
    eventually("metrics count the alert and incident", || {
        let firing = s.metric("tocsin_alerts_active");
        let triggered = s.metric("tocsin_incidents{state=\"triggered\"}");
        if firing == Some(1.0) && triggered == Some(1.0) {
            Ok(())
        } else {
            Err(format!("{firing:?} {triggered:?}"))
        }
    });
    // A bad token does not break the open endpoints either.
    s.get_as("/-/healthy", Some("wrong")).expect(200);
}

#[test]
fn openapi_document_describes_the_api() {
    let s = spawn_server(None);
    let r = s.get("/api/v1/openapi.json");
    r.expect(200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "not an OpenAPI 3 document: {doc}"
    );
    assert!(doc["info"]["title"].is_string(), "{doc}");
    for path in [
        "/api/v1/events",
        "/api/v2/alerts",
        "/api/v1/alerts",
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/api/v1/tokens",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing in {doc}");
    }
}
