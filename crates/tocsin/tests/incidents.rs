//! Incidents: state changes, comments, assignment, priority, auto-resolve and the timeline.

mod common;

use common::*;
use serde_json::{json, Value};

/// Fires one event and returns its incident once it is stored.
fn fire(s: &TestServer, key: &str, extra: Value) -> (Value, Value) {
    let mut e = json!({"summary": format!("{key} is failing"), "dedup_key": key});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        e[k] = v;
    }
    s.send_events(&e);
    let a = s.wait_alert("api", key);
    let inc = s.incident(incident_of(&a));
    (a, inc)
}

fn kinds(inc: &Value) -> Vec<String> {
    inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

fn last_entry(inc: &Value, kind: &str) -> Value {
    inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} entry in {}", inc["timeline"]))
        .clone()
}

#[test]
fn lifecycle_triggered_acknowledged_resolved_closed() {
    let s = spawn_server(None);
    let (_, inc) = fire(&s, "api-5xx", json!({"severity": "high"}));
    let iid = id(&inc);
    assert_eq!(inc["state"], "triggered");
    assert!(inc["acknowledged_at"].is_null());

    let r = s.act(iid, "acknowledge", &json!({"reason": "looking"}));
    r.expect(200);
    let acked = r.json();
    assert_eq!(
        acked["id"], iid,
        "the answer is the incident after the action"
    );
    assert_eq!(acked["state"], "acknowledged");
    assert!(acked["acknowledged_at"].is_string());

    let resolved = s.act(iid, "resolve", &json!({})).json();
    assert_eq!(resolved["state"], "resolved");
    assert!(resolved["resolved_at"].is_string());

    // An empty body is fine for state changes.
    let r = s.request(
        "POST",
        &format!("/api/v1/incidents/{iid}/close"),
        Some(ADMIN),
        None,
    );
    r.expect(200);
    let closed = r.json();
    assert_eq!(closed["state"], "closed");
    assert!(closed["closed_at"].is_string());

    let k = kinds(&closed);
    assert_eq!(k[0], "triggered", "{k:?}");
    for expected in ["alert_fired", "acknowledged", "resolved", "closed"] {
        assert!(
            k.contains(&expected.to_string()),
            "{expected} missing in {k:?}"
        );
    }
    let ack = last_entry(&closed, "acknowledged");
    assert_eq!(ack["actor"], "admin");
    assert!(
        ack["message"].as_str().unwrap().contains("looking"),
        "the reason is kept: {ack}"
    );

    // Closed is final.
    for verb in ["acknowledge", "resolve", "reopen", "close"] {
        let msg = s.act(iid, verb, &json!({})).expect_error(409, "conflict");
        assert!(msg.contains("closed"), "{verb}: {msg}");
    }
    let after = s.incident(iid);
    assert_eq!(after["state"], "closed");
    assert_eq!(
        kinds(&after).len(),
        kinds(&closed).len(),
        "refused actions leave no trace"
    );
}

#[test]
fn invalid_transitions_are_conflicts() {
    let s = spawn_server(None);
    let (_, inc) = fire(&s, "a", json!({}));
    let iid = id(&inc);
    let msg = s
        .act(iid, "close", &json!({}))
        .expect_error(409, "conflict");
    assert!(
        msg.contains("cannot close") && msg.contains("triggered"),
        "{msg}"
    );
    s.act(iid, "reopen", &json!({}))
        .expect_error(409, "conflict");
    s.act(iid, "acknowledge", &json!({})).expect(200);
    let msg = s
        .act(iid, "acknowledge", &json!({}))
        .expect_error(409, "conflict");
    assert!(msg.contains("acknowledged"), "{msg}");
    s.act(iid, "reopen", &json!({}))
        .expect_error(409, "conflict");
    assert_eq!(s.incident(iid)["state"], "acknowledged");
}

#[test]
fn reopen_from_resolved_takes_new_alerts_again() {
    let s = spawn_server(None);
    let labels = |host: &str| json!({"labels": {"alertname": "Down", "host": host}});
    let (_, inc) = fire(&s, "down-a", labels("a"));
    let iid = id(&inc);
    s.act(iid, "acknowledge", &json!({})).expect(200);
    s.act(iid, "resolve", &json!({})).expect(200);
    let reopened = s.act(iid, "reopen", &json!({"reason": "still broken"}));
    reopened.expect(200);
    let reopened = reopened.json();
    assert_eq!(reopened["state"], "triggered");
    assert!(reopened["resolved_at"].is_null(), "{reopened}");
    assert!(reopened["acknowledged_at"].is_null(), "{reopened}");
    let entry = last_entry(&reopened, "reopened");
    assert_eq!(entry["actor"], "admin");
    assert!(entry["message"].as_str().unwrap().contains("still broken"));

    // Another alert of the same group joins the reopened incident.
    let (b, _) = fire(&s, "down-b", labels("b"));
    assert_eq!(incident_of(&b), iid);
    assert_eq!(s.incident(iid)["alert_count"], 2);
}

#[test]
fn an_alert_still_firing_after_a_manual_resolve_opens_a_new_incident() {
    let s = spawn_server(None);
    let (a, inc) = fire(&s, "sticky", json!({}));
    let iid = id(&inc);
    s.act(iid, "resolve", &json!({})).expect(200);
    s.send_events(&json!({"summary": "sticky is failing", "dedup_key": "sticky"}));
    let moved = s.wait_alert_where("moved to a new incident", "api", "sticky", |x| {
        x["incident_id"] != json!(iid)
    });
    assert_eq!(moved["id"], a["id"]);
    assert_eq!(moved["occurrences"], 2);
    let new_inc = s.incident(incident_of(&moved));
    assert_eq!(new_inc["state"], "triggered");
    assert_eq!(new_inc["firing_count"], 1);
    let old = s.incident(iid);
    assert_eq!(old["state"], "resolved");
    assert_eq!(old["firing_count"], 0, "{old}");
}

#[test]
fn comment_assign_and_priority() {
    let s = spawn_server(None);
    let (_, inc) = fire(&s, "x", json!({"severity": "warning"}));
    let iid = id(&inc);
    // Built-in service: medium impact; warning is medium urgency.
    assert_eq!(inc["priority"], "P3");
    assert_eq!(inc["priority_source"], "matrix");
    assert_eq!(inc["impact"], "medium");
    assert_eq!(inc["urgency"], "medium");

    let r = s.act(iid, "comment", &json!({"text": "  rolled back 部署  "}));
    r.expect(200);
    let c = last_entry(&r.json(), "comment");
    assert_eq!(c["actor"], "admin");
    assert_eq!(c["message"], "rolled back 部署");
    s.act(iid, "comment", &json!({}))
        .expect_error(400, "bad_request");
    s.act(iid, "comment", &json!({"text": "   "}))
        .expect_error(400, "bad_request");
    s.act(iid, "comment", &json!({"text": "x".repeat(17 * 1024)}))
        .expect_error(400, "bad_request");

    let assigned = s.act(iid, "assign", &json!({"assignee": "alice"})).json();
    assert_eq!(assigned["assignee"], "alice");
    assert!(last_entry(&assigned, "assigned")["message"]
        .as_str()
        .unwrap()
        .contains("alice"));
    s.act(iid, "assign", &json!({}))
        .expect_error(400, "bad_request");
    s.act(iid, "assign", &json!({"assignee": ""}))
        .expect_error(400, "bad_request");
    let unassigned = s.act(iid, "assign", &json!({"assignee": null})).json();
    assert!(unassigned["assignee"].is_null(), "{unassigned}");

    // A manual priority needs a reason.
    let msg = s
        .act(iid, "priority", &json!({"priority": "P1"}))
        .expect_error(400, "bad_request");
    assert!(msg.contains("reason"), "{msg}");
    s.act(iid, "priority", &json!({"priority": "P1", "reason": "  "}))
        .expect_error(400, "bad_request");
    s.act(iid, "priority", &json!({"priority": "P6", "reason": "x"}))
        .expect_error(400, "bad_request");
    s.act(iid, "priority", &json!({}))
        .expect_error(400, "bad_request");
    assert_eq!(
        s.incident(iid)["priority"],
        "P3",
        "refused changes change nothing"
    );

    let manual = s
        .act(
            iid,
            "priority",
            &json!({"priority": "P1", "reason": "CEO is watching"}),
        )
        .json();
    assert_eq!(manual["priority"], "P1");
    assert_eq!(manual["priority_source"], "manual");
    let entry = last_entry(&manual, "priority");
    assert!(
        entry["message"].as_str().unwrap().contains("P3")
            && entry["message"].as_str().unwrap().contains("P1")
            && entry["message"]
                .as_str()
                .unwrap()
                .contains("CEO is watching"),
        "{entry}"
    );

    // Lowering it by hand is allowed too; a worse alert does not override a manual priority.
    s.act(
        iid,
        "priority",
        &json!({"priority": "P5", "reason": "test system"}),
    )
    .expect(200);
    s.send_events(&json!({"summary": "x is failing", "dedup_key": "x", "severity": "critical"}));
    let inc = s.wait_incident(iid, "critical seen", |i| i["severity"] == "critical");
    assert_eq!(inc["priority"], "P5");
    assert_eq!(inc["priority_source"], "manual");

    // null returns to the matrix, which now sees the critical alert: medium x high = P2.
    let back = s.act(iid, "priority", &json!({"priority": null})).json();
    assert_eq!(back["priority_source"], "matrix");
    assert_eq!(back["priority"], "P2");
    assert_eq!(back["urgency"], "high");
}

#[test]
fn priority_comes_from_service_impact_and_alert_urgency() {
    let s = spawn_server(Some(
        "
services:
  - {id: payments, impact: high}
  - {id: wiki, impact: low}
  - {id: shop}
intake: {loopback_without_token: true}
",
    ));
    let (_, p1) = fire(
        &s,
        "pay",
        json!({"service": "payments", "severity": "critical"}),
    );
    assert_eq!(p1["priority"], "P1");
    assert_eq!(p1["impact"], "high");
    assert_eq!(p1["urgency"], "high");
    assert_eq!(p1["priority_source"], "matrix");
    assert_eq!(p1["service"], "payments");

    let (_, wiki_info) = fire(
        &s,
        "wiki-info",
        json!({"service": "wiki", "severity": "info"}),
    );
    assert_eq!(wiki_info["priority"], "P5");
    assert_eq!(wiki_info["impact"], "low");
    assert_eq!(wiki_info["urgency"], "low");

    // Default impact is medium.
    let (_, shop) = fire(&s, "shop", json!({"service": "shop", "severity": "high"}));
    assert_eq!(shop["priority"], "P2");

    // low x medium = P4; a critical alert joining the same incident raises it to low x high.
    let grouped = json!({"service": "wiki", "labels": {"alertname": "Errors"}});
    let mut warn = grouped.clone();
    warn["severity"] = json!("warning");
    let (_, inc) = fire(&s, "wiki-err-1", warn);
    assert_eq!(inc["priority"], "P4");
    let mut crit = grouped.clone();
    crit["severity"] = json!("critical");
    let (a, _) = fire(&s, "wiki-err-2", crit);
    assert_eq!(incident_of(&a), id(&inc), "same service and name");
    let raised = s.wait_incident(id(&inc), "priority raised", |i| i["priority"] == "P3");
    assert_eq!(raised["severity"], "critical");
    let entry = last_entry(&raised, "priority");
    assert_eq!(entry["actor"], "tocsin");
    assert!(entry["message"].as_str().unwrap().contains("P3"), "{entry}");

    // Filters by priority see these.
    let p1s = s.items("/api/v1/incidents?priority=P1");
    assert_eq!(p1s.len(), 1);
    assert_eq!(p1s[0]["id"], p1["id"]);
}

#[test]
fn priority_matrix_and_urgency_are_configurable() {
    let s = spawn_server(Some(
        "
services: [{id: edge, impact: low}]
priority:
  urgency: {warning: high}
  matrix: {low: {high: P2}}
intake: {loopback_without_token: true}
",
    ));
    let (_, inc) = fire(&s, "edge", json!({"severity": "warning"}));
    assert_eq!(inc["urgency"], "high");
    assert_eq!(inc["priority"], "P2");
}

#[test]
fn incident_resolves_by_itself_when_all_its_alerts_resolve() {
    let s = spawn_server(None);
    let ev = |host: &str, status: &str| {
        json!({"summary": "Down", "status": status, "dedup_key": format!("down-{host}"),
               "labels": {"alertname": "Down", "host": host}})
    };
    s.send_events(&json!([ev("a", "firing"), ev("b", "firing")]));
    let a = s.wait_alert("api", "down-a");
    let iid = incident_of(&a);
    let inc = s.wait_incident(iid, "two alerts", |i| i["firing_count"] == 2);
    assert_eq!(inc["alert_count"], 2);

    s.send_events(&ev("a", "resolved"));
    let inc = s.wait_incident(iid, "one firing", |i| i["firing_count"] == 1);
    assert_eq!(inc["state"], "triggered");
    assert_eq!(inc["alert_count"], 2, "resolved alerts still belong to it");

    s.send_events(&ev("b", "resolved"));
    let inc = s.wait_incident(iid, "auto-resolved", |i| i["state"] == "resolved");
    assert_eq!(inc["firing_count"], 0);
    assert!(inc["resolved_at"].is_string());
    let entry = last_entry(&inc, "resolved");
    assert_eq!(entry["actor"], "tocsin");
    assert_eq!(entry["message"], "all alerts resolved");
    let alert_kinds: Vec<_> = kinds(&inc)
        .into_iter()
        .filter(|k| k.starts_with("alert_"))
        .collect();
    assert_eq!(
        alert_kinds,
        [
            "alert_fired",
            "alert_fired",
            "alert_resolved",
            "alert_resolved"
        ]
    );
    // Closing is the person's step.
    s.act(iid, "close", &json!({})).expect(200);
}

#[test]
fn auto_resolve_can_be_turned_off() {
    let s = spawn_server(Some(
        "incidents: {auto_resolve: false}\nintake: {loopback_without_token: true}\n",
    ));
    let (_, inc) = fire(&s, "k", json!({}));
    s.send_events(&json!({"summary": "k", "dedup_key": "k", "status": "resolved"}));
    s.wait_alert_where("resolved", "api", "k", |a| a["status"] == "resolved");
    s.settle();
    let inc = s.incident(id(&inc));
    assert_eq!(inc["state"], "triggered", "{inc}");
    assert_eq!(inc["firing_count"], 0);
}

#[test]
fn timeline_names_the_actor() {
    let bob = "bob-secret-token";
    let config = format!(
        "intake: {{loopback_without_token: true}}\ntokens:\n  - {{name: oncall-bob, role: responder, sha256: {}}}\n",
        sha256_hex(bob)
    );
    let s = spawn_server(Some(&config));
    let (_, inc) = fire(&s, "t", json!({}));
    let iid = id(&inc);
    let r = s.post_as(
        &format!("/api/v1/incidents/{iid}/acknowledge"),
        Some(bob),
        &json!({"reason": "on it"}),
    );
    r.expect(200);
    let entry = last_entry(&r.json(), "acknowledged");
    assert_eq!(entry["actor"], "oncall-bob");
    assert_eq!(entry["message"], "acknowledged by oncall-bob: on it");
    let c = s.act(iid, "comment", &json!({"text": "admin here"})).json();
    assert_eq!(last_entry(&c, "comment")["actor"], "admin");
    let triggered = last_entry(&c, "triggered");
    assert_eq!(triggered["actor"], "tocsin");
    let fired = last_entry(&c, "alert_fired");
    assert_eq!(fired["actor"], "tocsin");
    assert!(fired["alert_id"].is_i64(), "{fired}");
    // Entries are in time order.
    let times: Vec<i64> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| millis(&t["at"]))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn unknown_incidents_and_actions() {
    let s = spawn_server(None);
    let (_, inc) = fire(&s, "k", json!({}));
    let iid = id(&inc);
    let msg = s
        .get("/api/v1/incidents/424242")
        .expect_error(404, "not_found");
    assert!(msg.contains("424242"), "{msg}");
    s.act(424242, "acknowledge", &json!({}))
        .expect_error(404, "not_found");
    s.act(424242, "comment", &json!({"text": "hi"}))
        .expect_error(404, "not_found");
    s.get("/api/v1/incidents/abc")
        .expect_error(400, "bad_request");
    s.get("/api/v1/incidents/0")
        .expect_error(400, "bad_request");
    s.act(iid, "snooze", &json!({}))
        .expect_error(404, "not_found");
    s.post_raw(
        &format!("/api/v1/incidents/{iid}/acknowledge"),
        Some(ADMIN),
        b"{not json",
    )
    .expect_error(400, "bad_request");
    s.act(iid, "acknowledge", &json!({"reason": "x", "colour": "red"}))
        .expect_error(400, "bad_request");
    s.get("/api/v1/nothing-here").expect_error(404, "not_found");
    // None of that touched the incident.
    let after = s.incident(iid);
    assert_eq!(after["state"], "triggered");
    assert_eq!(kinds(&after), kinds(&inc));
}

#[test]
fn concurrent_actions_are_applied_once() {
    let s = std::sync::Arc::new(spawn_server(None));
    let (_, inc) = fire(&s, "race", json!({}));
    let iid = id(&inc);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || s.act(iid, "acknowledge", &json!({})).status)
        })
        .collect();
    let mut codes: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, [200, 409, 409, 409, 409, 409, 409, 409]);
    let inc = s.incident(iid);
    assert_eq!(
        kinds(&inc).iter().filter(|k| *k == "acknowledged").count(),
        1
    );
    // Comments do not conflict: all eight land.
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                s.act(iid, "comment", &json!({"text": format!("note {i}")}))
                    .status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let inc = s.incident(iid);
    assert_eq!(kinds(&inc).iter().filter(|k| *k == "comment").count(), 8);
}

#[test]
fn a_refiring_alert_rejoins_its_open_incident_without_counting_twice() {
    let s = spawn_server(None);
    let ev = |host: &str, status: &str| {
        json!({"summary": "Errors", "status": status, "dedup_key": format!("err-{host}"),
               "labels": {"alertname": "Errors", "host": host}})
    };
    s.send_events(&json!([ev("a", "firing"), ev("b", "firing")]));
    let iid = incident_of(&s.wait_alert("api", "err-a"));
    s.send_events(&ev("a", "resolved"));
    s.send_events(&ev("a", "firing"));
    let a = s.wait_alert_where("a in episode 2", "api", "err-a", |a| a["episode"] == 2);
    assert_eq!(incident_of(&a), iid, "b kept the incident open");
    let inc = s.wait_incident(iid, "two firing", |i| i["firing_count"] == 2);
    assert_eq!(
        inc["alert_count"], 2,
        "the same alert again is not a new alert"
    );
    assert_eq!(inc["state"], "triggered");
}

#[test]
fn closed_incidents_still_take_comments_assignment_and_priority() {
    let s = spawn_server(None);
    let (_, inc) = fire(&s, "done", json!({}));
    let iid = id(&inc);
    s.act(iid, "resolve", &json!({})).expect(200);
    s.act(iid, "close", &json!({"reason": "postmortem filed"}))
        .expect(200);
    s.act(iid, "comment", &json!({"text": "late note"}))
        .expect(200);
    let a = s.act(iid, "assign", &json!({"assignee": "bob"})).json();
    assert_eq!(a["assignee"], "bob");
    let p = s
        .act(
            iid,
            "priority",
            &json!({"priority": "P4", "reason": "minor after all"}),
        )
        .json();
    assert_eq!(p["priority"], "P4");
    assert_eq!(p["state"], "closed");
    // A field the action does not use is ignored, not refused.
    let c = s
        .act(
            iid,
            "comment",
            &json!({"text": "with extras", "assignee": "x", "priority": "P1"}),
        )
        .json();
    assert_eq!(c["assignee"], "bob");
    assert_eq!(c["priority"], "P4");
    let closed = last_entry(&c, "closed");
    assert_eq!(closed["message"], "closed by admin: postmortem filed");
}

#[test]
fn a_reattached_alert_and_later_episodes_show_in_the_timeline() {
    let s = spawn_server(None);
    let (a, inc) = fire(&s, "flappy", json!({}));
    let first = id(&inc);
    // Resolved by hand while still firing: the next firing event moves it.
    s.act(first, "resolve", &json!({})).expect(200);
    s.send_events(&json!({"summary": "flappy is failing", "dedup_key": "flappy"}));
    let moved = s.wait_alert_where("reattached", "api", "flappy", |x| {
        x["incident_id"] != json!(first)
    });
    let second = incident_of(&moved);
    let inc2 = s.incident(second);
    let entry = last_entry(&inc2, "alert_reattached");
    assert_eq!(entry["alert_id"], a["id"]);
    let history = s.get(&format!("/api/v1/alerts/{}", id(&a))).json()["history"].clone();
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["kind"],
        "reattached"
    );
    // Resolve and fire again: episode 2, named in the message.
    s.send_events(&json!({"summary": "ok", "dedup_key": "flappy", "status": "resolved"}));
    s.wait_alert_where("resolved", "api", "flappy", |x| x["status"] == "resolved");
    s.send_events(&json!({"summary": "flappy is failing", "dedup_key": "flappy"}));
    let again = s.wait_alert_where("episode 2", "api", "flappy", |x| x["episode"] == 2);
    let inc3 = s.incident(incident_of(&again));
    let fired = last_entry(&inc3, "alert_fired");
    assert!(
        fired["message"].as_str().unwrap().ends_with(", episode 2"),
        "{fired}"
    );
}
