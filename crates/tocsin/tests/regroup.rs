//! People regrouping alerts: merging an incident into another and splitting alerts out of
//! one, through the API and the CLI; bad requests change nothing; a restart keeps a merge.

mod common;

use common::*;
use serde_json::{json, Value};

/// Fires an alert named `name` (alerts of one name share an incident by default) and
/// returns it once stored.
fn fire(s: &TestServer, name: &str, key: &str, severity: &str) -> Value {
    s.send_events(&json!({
        "summary": format!("{name} on {key}"), "dedup_key": key, "severity": severity,
        "labels": {"alertname": name}
    }));
    s.wait_alert_where("its incident", "api", key, |a| a["incident_id"].is_i64())
}

fn timeline_with(inc: &Value, kind: &str) -> Vec<String> {
    inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == kind)
        .map(|t| t["message"].as_str().unwrap().to_string())
        .collect()
}

fn alert_ids(inc: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = inc["alerts"].as_array().unwrap().iter().map(id).collect();
    ids.sort_unstable();
    ids
}

/// What a refused request must leave as it was.
fn counts(s: &TestServer, ids: &[i64]) -> Vec<(Value, Value, Value)> {
    ids.iter()
        .map(|i| {
            let inc = s.incident(*i);
            (
                inc["state"].clone(),
                inc["alert_count"].clone(),
                inc["firing_count"].clone(),
            )
        })
        .collect()
}

#[test]
fn merge_moves_every_alert_and_resolves_the_merged_incident() {
    let s = spawn_server(None);
    let a = fire(&s, "DiskFull", "db1-disk", "warning");
    let b = fire(&s, "ReplicationLag", "db1-lag", "critical");
    let b2 = fire(&s, "ReplicationLag", "db2-lag", "high");
    let (into, from) = (incident_of(&a), incident_of(&b));
    assert_eq!(incident_of(&b2), from);
    assert_ne!(into, from);

    let urgent = s.incident(from)["priority"].clone();
    assert_ne!(s.incident(into)["priority"], urgent);
    let r = s.post(
        &format!("/api/v1/incidents/{from}/merge"),
        &json!({"into": into, "reason": "same disk"}),
    );
    r.expect(200);
    let target = r.json();
    assert_eq!(id(&target), into, "the answer is the incident merged into");
    assert_eq!(target["alert_count"], 3);
    assert_eq!(target["firing_count"], 3);
    assert_eq!(target["severity"], "critical", "the worst alert decides");
    assert_eq!(
        target["priority"], urgent,
        "the more urgent priority of the two"
    );
    assert_eq!(alert_ids(&target), {
        let mut v = vec![id(&a), id(&b), id(&b2)];
        v.sort_unstable();
        v
    });
    let merged_in = timeline_with(&target, "merged");
    assert_eq!(merged_in.len(), 1, "{merged_in:?}");
    assert!(
        merged_in[0].contains(&format!("#{from} merged in by"))
            && merged_in[0].ends_with(": same disk"),
        "{merged_in:?}"
    );

    let source = s.incident(from);
    assert_eq!(source["state"], "resolved");
    assert_eq!(source["alert_count"], 0);
    assert_eq!(source["firing_count"], 0);
    let merged = timeline_with(&source, "merged");
    assert!(
        merged[0].starts_with(&format!("merged into #{into} by"))
            && merged[0].ends_with(": same disk"),
        "{merged:?}"
    );

    // A moved alert sent again stays where it was moved.
    fire(&s, "ReplicationLag", "db1-lag", "critical");
    let again = s.wait_alert("api", "db1-lag");
    assert_eq!(incident_of(&again), into);
    assert_eq!(s.incident(from)["state"], "resolved", "not reopened");
}

#[test]
fn bad_merges_are_refused_and_change_nothing() {
    let s = spawn_server(Some(
        "intake: {loopback_without_token: true}\ntokens:\n  - {name: dashboards, role: viewer, sha256: \"VIEWER_SHA\"}\n"
            .replace("VIEWER_SHA", &sha256_hex("viewer-token-1"))
            .as_str(),
    ));
    let a = incident_of(&fire(&s, "A", "a", "warning"));
    let b = incident_of(&fire(&s, "B", "b", "warning"));
    let c = incident_of(&fire(&s, "C", "c", "warning"));
    s.act(c, "resolve", &json!({})).expect(200);
    s.act(c, "close", &json!({})).expect(200);
    let before = counts(&s, &[a, b, c]);
    let merge = |from: i64, body: &Value| s.post(&format!("/api/v1/incidents/{from}/merge"), body);

    let m = merge(a, &json!({"into": a})).expect_error(409, "conflict");
    assert!(m.contains("into itself"), "{m}");
    let m = merge(a, &json!({"into": c})).expect_error(409, "conflict");
    assert!(m.contains("closed"), "{m}");
    let m = merge(c, &json!({"into": a})).expect_error(409, "conflict");
    assert!(m.contains("closed"), "{m}");
    let m = merge(a, &json!({"into": 9999})).expect_error(404, "not_found");
    assert!(m.contains("9999"), "{m}");
    merge(9999, &json!({"into": a})).expect_error(404, "not_found");
    merge(a, &json!({})).expect_error(400, "bad_request");
    merge(a, &json!({"into": 0})).expect_error(400, "bad_request");
    merge(a, &json!({"into": b, "colour": "red"})).expect_error(400, "bad_request");
    s.post_raw(&format!("/api/v1/incidents/{a}/merge"), Some(ADMIN), b"{")
        .expect_error(400, "bad_request");
    s.post_as(
        &format!("/api/v1/incidents/{a}/merge"),
        Some("viewer-token-1"),
        &json!({"into": b}),
    )
    .expect_error(403, "forbidden");
    s.post_as(
        &format!("/api/v1/incidents/{a}/merge"),
        None,
        &json!({"into": b}),
    )
    .expect(401);
    assert_eq!(counts(&s, &[a, b, c]), before);
}

#[test]
fn split_opens_one_new_incident_and_keeps_its_alerts() {
    let s = spawn_server(None);
    let x = fire(&s, "HighCPU", "web1", "warning");
    let y = fire(&s, "HighCPU", "web2", "critical");
    let z = fire(&s, "HighCPU", "web3", "warning");
    let from = incident_of(&x);
    assert!([&y, &z].iter().all(|a| incident_of(a) == from));

    let r = s.post(
        &format!("/api/v1/incidents/{from}/split"),
        &json!({"alerts": [id(&y), id(&z)], "reason": "web2 and web3 are another fault"}),
    );
    r.expect(201);
    let created = r.json();
    let new = id(&created);
    assert_ne!(new, from);
    assert_eq!(created["state"], "triggered");
    assert_eq!(created["alert_count"], 2);
    assert_eq!(created["firing_count"], 2);
    assert_eq!(created["severity"], "critical");
    assert_eq!(
        created["title"], "HighCPU on web2",
        "named after its worst alert"
    );
    assert_eq!(alert_ids(&created), vec![id(&y), id(&z)]);
    let note = timeline_with(&created, "split");
    assert!(
        note[0].starts_with(&format!("split from #{from} by"))
            && note[0].ends_with(": web2 and web3 are another fault"),
        "{note:?}"
    );

    let source = s.incident(from);
    assert_eq!(source["state"], "triggered");
    assert_eq!(source["alert_count"], 1);
    assert_eq!(source["firing_count"], 1);
    assert_eq!(alert_ids(&source), vec![id(&x)]);
    let note = timeline_with(&source, "split");
    assert!(
        note[0].contains(&format!("split out into #{new}")),
        "{note:?}"
    );

    // web2 resolves and fires again: back into the incident it was split into, not into
    // its group's; a new alert of the group still joins the old incident.
    s.send_events(
        &json!({"summary": "HighCPU on web2", "dedup_key": "web2", "status": "resolved",
        "labels": {"alertname": "HighCPU"}}),
    );
    s.wait_alert_where("resolved", "api", "web2", |a| a["status"] == "resolved");
    let refired = fire(&s, "HighCPU", "web2", "critical");
    s.wait_alert_where("firing", "api", "web2", |a| a["status"] == "firing");
    assert_eq!(incident_of(&s.wait_alert("api", "web2")), new, "{refired}");
    assert_eq!(incident_of(&fire(&s, "HighCPU", "web4", "warning")), from);
    let created = s.incident(new);
    assert_eq!(created["firing_count"], 2);
    assert_eq!(created["alert_count"], 2);
}

#[test]
fn bad_splits_are_refused_and_change_nothing() {
    let s = spawn_server(Some(
        "intake: {loopback_without_token: true}\ntokens:\n  - {name: dashboards, role: viewer, sha256: \"VIEWER_SHA\"}\n"
            .replace("VIEWER_SHA", &sha256_hex("viewer-token-1"))
            .as_str(),
    ));
    let x = fire(&s, "Down", "x", "warning");
    let y = fire(&s, "Down", "y", "warning");
    let other = fire(&s, "Other", "o", "warning");
    let from = incident_of(&x);
    let before = counts(&s, &[from, incident_of(&other)]);
    let split = |inc: i64, body: &Value| s.post(&format!("/api/v1/incidents/{inc}/split"), body);

    split(from, &json!({"alerts": []})).expect_error(400, "bad_request");
    split(from, &json!({})).expect_error(400, "bad_request");
    split(from, &json!({"alerts": [id(&y), id(&y)]})).expect_error(400, "bad_request");
    let m = split(from, &json!({"alerts": [id(&other)]})).expect_error(404, "not_found");
    assert!(
        m.contains(&format!("alert {} is not in incident {from}", id(&other))),
        "{m}"
    );
    split(from, &json!({"alerts": [99999]})).expect_error(404, "not_found");
    split(9999, &json!({"alerts": [id(&x)]})).expect_error(404, "not_found");
    let m = split(from, &json!({"alerts": [id(&x), id(&y)]})).expect_error(409, "conflict");
    assert!(m.contains("every alert"), "{m}");
    s.post_as(
        &format!("/api/v1/incidents/{from}/split"),
        Some("viewer-token-1"),
        &json!({"alerts": [id(&y)]}),
    )
    .expect_error(403, "forbidden");
    assert_eq!(counts(&s, &[from, incident_of(&other)]), before);
    let total = s.items("/api/v1/incidents?limit=100").len();
    assert_eq!(total, 2, "no incident was opened");

    // Only an open incident is split: it would page for alerts a person has dealt with.
    s.act(from, "resolve", &json!({})).expect(200);
    let m = split(from, &json!({"alerts": [id(&y)]})).expect_error(409, "conflict");
    assert!(m.contains("resolved"), "{m}");
}

#[test]
fn a_merge_survives_a_restart_and_moved_alerts_stay() {
    let mut s = spawn_server(None);
    let a = fire(&s, "A", "a", "warning");
    let b = fire(&s, "B", "b", "warning");
    let (into, from) = (incident_of(&a), incident_of(&b));
    s.post(
        &format!("/api/v1/incidents/{from}/merge"),
        &json!({"into": into}),
    )
    .expect(200);
    s.kill9();
    s.start();
    let target = s.incident(into);
    assert_eq!(target["alert_count"], 2);
    assert_eq!(alert_ids(&target), {
        let mut v = vec![id(&a), id(&b)];
        v.sort_unstable();
        v
    });
    assert_eq!(timeline_with(&target, "merged").len(), 1, "applied once");
    assert_eq!(s.incident(from)["state"], "resolved");
    // The moved alert resolves and fires again after the restart: still the merged-into
    // incident (a's alert keeps it open).
    s.send_events(
        &json!({"summary": "B on b", "dedup_key": "b", "status": "resolved",
        "labels": {"alertname": "B"}}),
    );
    s.wait_alert_where("resolved", "api", "b", |x| x["status"] == "resolved");
    fire(&s, "B", "b", "warning");
    let b = s.wait_alert_where("firing", "api", "b", |x| x["status"] == "firing");
    assert_eq!(incident_of(&b), into);
    assert_eq!(s.incident(from)["state"], "resolved");
}

#[test]
fn the_cli_merges_and_splits() {
    let s = spawn_server(None);
    let x = fire(&s, "Down", "x", "warning");
    let y = fire(&s, "Down", "y", "warning");
    let other = fire(&s, "Other", "o", "warning");
    let (from, into) = (incident_of(&x), incident_of(&other));
    let url = s.url("");
    let run = |args: &[&str]| {
        let mut all = vec!["incident"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--url", &url, "--token", ADMIN]);
        tocsin(&all)
    };
    let y_id = id(&y).to_string();
    let o = run(&[
        "split",
        &from.to_string(),
        "--alert",
        &y_id,
        "-r",
        "y differs",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let split_into = incident_of(&s.wait_alert("api", "y"));
    assert_ne!(split_into, from);
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("incident {split_into}")));

    let o = run(&[
        "merge",
        &split_into.to_string(),
        "--into",
        &into.to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(incident_of(&s.wait_alert("api", "y")), into);

    let o = run(&["merge", &into.to_string(), "--into", &into.to_string()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 409"));
}
