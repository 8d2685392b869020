//! tocsin's own silences API against a spawned server: a silence made through
//! `/api/v1/silences` mutes a matching alert (kept, listed as silenced, no incident) and is
//! the same record the Alertmanager API lists; expiring it lets the alert page. A recurring
//! silence made at run time mutes inside its window and not outside, survives a restart,
//! and deleting it lets its alerts go. Bad input is refused with a message; roles hold; the
//! CLI does the same end to end.

mod common;

use common::*;
use serde_json::{json, Value};

const VIEWER: &str = "viewer-token-1";
const RESPONDER: &str = "responder-token-1";

fn config() -> String {
    format!(
        "tokens:\n  - {{name: dashboards, role: viewer, sha256: {}}}\n  - {{name: oncall, role: responder, sha256: {}}}\n",
        sha256_hex(VIEWER),
        sha256_hex(RESPONDER)
    )
}

fn disk_full(host: &str) -> Value {
    json!({"source": "zabbix", "dedup_key": format!("disk/{host}"), "severity": "high",
           "summary": format!("Disk full on {host}"),
           "labels": {"alertname": "DiskFull", "host": host}})
}

fn delete(s: &TestServer, path: &str, token: &str) -> Resp {
    s.request("DELETE", path, Some(token), None)
}

#[test]
fn a_silence_mutes_until_it_is_expired_and_is_an_alertmanager_silence() {
    let s = spawn_server(Some(&config()));
    let r = s.post_as(
        "/api/v1/silences",
        Some(RESPONDER),
        &json!({"matchers": ["host=\"db1\"", "alertname=~\"Disk.*\""], "duration": "2h",
                "comment": "disk swap on db1"}),
    );
    r.expect(201);
    let made = r.json();
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["state"], "active");
    assert_eq!(made["author"], "oncall", "the token's name by default");
    assert_eq!(
        made["matchers"],
        json!(["host=\"db1\"", "alertname=~\"Disk.*\""])
    );
    let length = millis(&made["ends_at"]) - millis(&made["starts_at"]);
    assert_eq!(length, 2 * 3_600_000);

    s.send_events(&json!([disk_full("db1"), disk_full("db2")]));
    s.settle();
    let muted = s.wait_alert("zabbix", "disk/db1");
    assert_eq!(muted["silenced_by"], json!([id]));
    assert_eq!(muted["incident_id"], Value::Null, "kept, but no incident");
    assert_eq!(muted["status"], "firing");
    let loud = s.wait_alert("zabbix", "disk/db2");
    assert_eq!(loud["silenced_by"], json!([]));
    assert!(loud["incident_id"].is_i64());

    // The same record in the Alertmanager API, and one made there shows here.
    let am = s.get_as("/api/v2/silences", Some(VIEWER));
    am.expect(200);
    let am = am.json();
    let mine = am.as_array().unwrap().iter().find(|x| x["id"] == json!(id));
    let mine = mine.expect("listed by the Alertmanager API");
    assert_eq!(mine["createdBy"], "oncall");
    assert_eq!(mine["comment"], "disk swap on db1");
    assert_eq!(mine["status"]["state"], "active");
    let am_made = s.post_as(
        "/api/v2/silences",
        Some(RESPONDER),
        &json!({"matchers": [{"name": "service", "value": "web", "isRegex": false}],
                "startsAt": time_in(0), "endsAt": time_in(3_600_000),
                "createdBy": "alice", "comment": "web deploy"}),
    );
    am_made.expect(200);
    let am_id = am_made.json()["silenceID"].as_str().unwrap().to_string();
    let listed = s.get_as("/api/v1/silences", Some(VIEWER));
    listed.expect(200);
    let ids: Vec<Value> = listed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].clone())
        .collect();
    assert!(
        ids.contains(&json!(id)) && ids.contains(&json!(am_id)),
        "{ids:?}"
    );
    let one = s
        .get_as(&format!("/api/v1/silences/{am_id}"), Some(VIEWER))
        .json();
    assert_eq!(one["matchers"], json!(["service=\"web\""]));
    assert_eq!(one["author"], "alice");

    // Viewers read but do not change.
    let r = s.post_as(
        "/api/v1/silences",
        Some(VIEWER),
        &json!({"matchers": ["host=x"], "duration": "1h", "comment": "x"}),
    );
    r.expect_error(403, "forbidden");
    delete(&s, &format!("/api/v1/silences/{id}"), VIEWER).expect_error(403, "forbidden");

    // Expiring lets the alert go: it still fires, so it opens its incident now.
    let r = delete(
        &s,
        &format!("/api/v1/silences/{id}?comment=swapped"),
        RESPONDER,
    );
    r.expect(200);
    assert_eq!(r.json()["state"], "expired");
    assert_eq!(r.json()["expired_by"], "oncall");
    let freed = s.wait_alert_where("unmuted", "zabbix", "disk/db1", |a| {
        a["incident_id"].is_i64()
    });
    assert_eq!(freed["silenced_by"], json!([]));
    let audit = s.get(&format!("/api/v1/silences/{id}")).json()["audit"].clone();
    let lines: Vec<(Value, Value, Value)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["action"].clone(),
                l["actor"].clone(),
                l["comment"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (json!("create"), json!("oncall"), json!("disk swap on db1")),
            (json!("expire"), json!("oncall"), json!("swapped")),
        ]
    );
    // Gone from the default list, still there with all=true; expiring again is a conflict.
    let live = s.get("/api/v1/silences").json()["items"].clone();
    assert!(!live
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == json!(id)));
    let all = s.get("/api/v1/silences?all=true").json()["items"].clone();
    assert!(all.as_array().unwrap().iter().any(|x| x["id"] == json!(id)));
    delete(&s, &format!("/api/v1/silences/{id}"), RESPONDER).expect_error(409, "conflict");
}

/// `HH:MM` in Shanghai, `ms` from now.
fn shanghai_clock(ms: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(ms);
    t.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%H:%M")
        .to_string()
}

fn recurring(s: &TestServer, host: &str, from_ms: i64, to_ms: i64) -> Value {
    let r = s.post_as(
        "/api/v1/silences",
        Some(RESPONDER),
        &json!({"matchers": [format!("host={host}")], "comment": format!("{host} patching"),
                "author": "alice",
                "recurrence": {"from": shanghai_clock(from_ms), "to": shanghai_clock(to_ms),
                               "time_zone": "Asia/Shanghai"}}),
    );
    r.expect(201);
    r.json()
}

#[test]
fn a_recurring_silence_mutes_inside_its_window_survives_a_restart_and_can_be_deleted() {
    const HOUR: i64 = 3_600_000;
    let mut s = spawn_server(Some(&config()));
    // One window open now (from an hour ago to an hour on), one that opens in three hours.
    let open = recurring(&s, "db1", -HOUR, HOUR);
    let later = recurring(&s, "db2", 3 * HOUR, 4 * HOUR);
    let open_id = open["id"].as_str().unwrap().to_string();
    assert_eq!(open["state"], "active", "{open}");
    assert_eq!(later["state"], "pending", "{later}");
    assert_eq!(open["source"], "api");
    assert_eq!(open["author"], "alice");
    assert_eq!(open["recurrence"]["time_zone"], "Asia/Shanghai");
    assert_eq!(open["recurrence"]["days"].as_array().unwrap().len(), 7);
    assert!(millis(&open["starts_at"]) <= millis(&json!(time_in(0))));
    assert!(millis(&later["starts_at"]) > millis(&json!(time_in(2 * HOUR))));

    s.send_events(&json!([disk_full("db1"), disk_full("db2")]));
    s.settle();
    let inside = s.wait_alert("zabbix", "disk/db1");
    let occurrence = inside["silenced_by"][0].as_str().unwrap_or("").to_string();
    assert!(
        occurrence.starts_with(&format!("maintenance-{open_id}-")),
        "{inside}"
    );
    assert_eq!(inside["incident_id"], Value::Null);
    let outside = s.wait_alert("zabbix", "disk/db2");
    assert_eq!(outside["silenced_by"], json!([]));
    assert!(outside["incident_id"].is_i64());
    // The occurrence is a silence like any other: listed with its window, and by amtool.
    let occ = s.get(&format!("/api/v1/silences/{occurrence}")).json();
    assert_eq!(occ["window"], json!(open_id));
    assert_eq!(occ["author"], "alice");
    let am = s.get("/api/v2/silences").json();
    assert!(am
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == json!(occurrence)));

    // Durable: after a restart both windows are there and the open one still mutes.
    s.restart();
    let items = s.get("/api/v1/silences").json()["items"].clone();
    let windows: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["recurrence"].is_object())
        .collect();
    assert_eq!(windows.len(), 2, "{items}");
    let mut again = disk_full("db1");
    again["dedup_key"] = json!("disk2/db1");
    s.send_events(&again);
    s.settle();
    let second = s.wait_alert("zabbix", "disk2/db1");
    assert_eq!(second["silenced_by"], json!([occurrence]));

    // Deleting the window ends its open occurrence: the muted alerts page now.
    let r = delete(
        &s,
        &format!("/api/v1/silences/{open_id}?comment=patching%20done"),
        RESPONDER,
    );
    r.expect(200);
    let gone = r.json();
    assert_eq!(gone["state"], "expired");
    assert_eq!(gone["deleted_by"], "oncall");
    assert_eq!(gone["audit"][1]["action"], "delete");
    assert_eq!(gone["audit"][1]["comment"], "patching done");
    s.wait_alert_where("released", "zabbix", "disk/db1", |a| {
        a["incident_id"].is_i64()
    });
    let occ = s.get(&format!("/api/v1/silences/{occurrence}")).json();
    assert_eq!(occ["state"], "expired");
    delete(&s, &format!("/api/v1/silences/{open_id}"), RESPONDER).expect_error(409, "conflict");
}

#[test]
fn bad_requests_are_refused_with_a_message() {
    let s = spawn_server(Some(&config()));
    let post = |body: Value| s.post_as("/api/v1/silences", Some(RESPONDER), &body);
    let cases = [
        (
            json!({"matchers": ["host=db1"], "duration": "2h"}),
            "comment: required",
        ),
        (
            json!({"matchers": ["host=~\".*\""], "duration": "2h", "comment": "x"}),
            "must not match the empty string",
        ),
        (
            json!({"matchers": ["host db1"], "duration": "2h", "comment": "x"}),
            "matchers[0]: bad matcher format",
        ),
        (
            json!({"matchers": ["host=db1"], "comment": "x"}),
            "give ends_at or duration",
        ),
        (
            json!({"matchers": ["host=db1"], "ends_at": "tomorrow", "comment": "x"}),
            "ends_at: \"tomorrow\" is not an RFC 3339 time",
        ),
        (
            json!({"matchers": ["host=db1"], "comment": "x", "recurrence": {"from": "25:00", "to": "03:00", "time_zone": "UTC"}}),
            "recurrence.from: \"25:00\" is not a time of day",
        ),
        (
            json!({"matchers": ["host=db1"], "comment": "x", "recurrence": {"from": "01:00", "to": "03:00", "time_zone": "Mars/Base"}}),
            "recurrence.time_zone: unknown time zone",
        ),
        (
            json!({"matchers": ["host=db1"], "duration": "1h", "comment": "x", "ttl": 5}),
            "unknown field `ttl`",
        ),
    ];
    for (body, want) in cases {
        let message = post(body.clone()).expect_error(400, "bad_request");
        assert!(
            message.contains(want),
            "{body}: {message:?} should say {want:?}"
        );
    }
    s.get("/api/v1/silences/no-such-silence")
        .expect_error(404, "not_found");
    s.get("/api/v1/silences?all=maybe")
        .expect_error(400, "bad_request");
    // Nothing was made by any of them.
    assert_eq!(
        s.get("/api/v1/silences?all=true").json()["items"],
        json!([])
    );
}

#[test]
fn the_cli_adds_lists_and_expires() {
    let s = spawn_server(Some(&config()));
    let out = s.cli(
        Some(RESPONDER),
        &[
            "silence",
            "add",
            "--matcher",
            "host=\"db1\"",
            "--duration",
            "1h",
            "--comment",
            "cli test",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    let id = line.split_whitespace().next().unwrap().to_string();
    assert!(
        line.contains("active") && line.contains("by oncall: cli test"),
        "{line}"
    );
    let out = s.cli(
        Some(RESPONDER),
        &[
            "silence",
            "add",
            "-m",
            "service=db",
            "--every",
            "sat,sun",
            "--from",
            "01:00",
            "--to",
            "03:00",
            "--time-zone",
            "Asia/Shanghai",
            "--comment",
            "weekend patching",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("[every sat,sun 01:00-03:00 Asia/Shanghai]"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let listed = s.cli(Some(VIEWER), &["silence", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains(&id) && listed.contains("weekend patching"),
        "{listed}"
    );

    let out = s.cli(
        Some(RESPONDER),
        &["silence", "expire", &id, "-c", "done, thanks"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("expired"));
    let audit = s.get(&format!("/api/v1/silences/{id}")).json()["audit"].clone();
    assert_eq!(audit[1]["comment"], "done, thanks");
    let listed = s.cli(Some(VIEWER), &["silence", "list"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&id));
    let listed = s.cli(Some(VIEWER), &["silence", "list", "--all"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&id));

    // Bad input: the server's message, and a failing exit.
    let out = s.cli(
        Some(RESPONDER),
        &[
            "silence",
            "add",
            "-m",
            "host=~\".*\"",
            "--duration",
            "1h",
            "-c",
            "all",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 400") && err.contains("must not match the empty string"),
        "{err}"
    );
}

/// Live silences are capped (each is matched against every new alert): the one past the cap
/// is refused on both APIs with a message, while updating one in place and making one after
/// another is expired still work.
#[test]
fn live_silences_are_capped() {
    use tocsin_core::silence::MAX_LIVE_SILENCES;
    let s = spawn_server(Some(&config()));
    let make = |i: usize| {
        s.post_as(
            "/api/v1/silences",
            Some(RESPONDER),
            &json!({"matchers": [format!("host=\"h{i}\"")], "duration": "2h", "comment": "cap"}),
        )
    };
    // Four at a time, so a thousand take seconds, not minutes.
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let make = &make;
                scope.spawn(move || {
                    (t..MAX_LIVE_SILENCES)
                        .step_by(4)
                        .map(|i| {
                            let r = make(i);
                            r.expect(201);
                            r.json()["id"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), MAX_LIVE_SILENCES);

    let message = make(MAX_LIVE_SILENCES).expect_error(400, "bad_request");
    assert!(message.contains("too many silences"), "{message}");
    let am = s.post_as(
        "/api/v2/silences",
        Some(RESPONDER),
        &json!({"matchers": [{"name": "host", "value": "x", "isRegex": false}],
                "startsAt": time_in(0), "endsAt": time_in(3_600_000), "createdBy": "t", "comment": "c"}),
    );
    am.expect(400);
    assert!(am.body.contains("too many silences"), "{}", am.body);

    // An update replaces: allowed at the cap.
    let one = &ids[0];
    s.post_as(
        "/api/v2/silences",
        Some(RESPONDER),
        &json!({"id": one, "matchers": [{"name": "host", "value": "h0", "isRegex": false}],
                "startsAt": time_in(0), "endsAt": time_in(7_200_000), "createdBy": "t", "comment": "longer"}),
    )
    .expect(200);
    // Expiring one makes room for one.
    delete(&s, &format!("/api/v1/silences/{}", ids[1]), RESPONDER).expect(200);
    make(MAX_LIVE_SILENCES + 1).expect(201);
    make(MAX_LIVE_SILENCES + 2).expect_error(400, "bad_request");
}
