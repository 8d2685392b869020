//! Paging end to end: an alert opens an incident, its policy pages the person on call, the
//! dispatcher posts the signed webhook to a local receiver, the incident shows who was
//! notified, how and why, the signed link in the message acknowledges it without logging
//! in, failures are recorded for a retry, and a `kill -9` right after a page neither loses
//! nor repeats it.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as received: its headers (names in lower case) and body.
type Received = (Vec<(String, String)>, String);

/// A local HTTP receiver: records each request's headers and body, answers `status`.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200));
        let (g, st) = (got.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut headers = Vec::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(": ") {
                        headers.push((k.to_ascii_lowercase(), v.to_string()));
                    }
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                g.lock()
                    .unwrap()
                    .push((headers, String::from_utf8_lossy(&body).into()));
                let code = *st.lock().unwrap();
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
        });
        Receiver { port, got, status }
    }

    fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }

    fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.got.lock().unwrap().len() >= n {
                return self.bodies();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{n} request(s) expected, got {}",
            self.got.lock().unwrap().len()
        );
    }
}

fn config(port: u16) -> String {
    format!(
        r#"
users:
  - {{id: alice, name: Alice Wang, language: zh, contacts: [{{type: webhook, to: alice}}]}}
  - {{id: bob, contacts: [{{type: webhook, to: bob}}]}}
teams: [{{id: ops, name: 运维组, members: [alice, bob], escalation_policy: ops}}]
schedules:
  - id: primary
    time_zone: UTC
    layers: [{{rotation: {{every: 1w, start: "2026-01-05T00:00"}}, users: [alice]}}]
escalation_policies:
  - id: ops
    levels:
      - {{delay: 5m, targets: [{{schedule: primary}}]}}
      - {{delay: 5m, targets: [{{user: bob}}]}}
channels:
  - {{id: hook, type: webhook, url: "http://127.0.0.1:{port}/page", secret: "s3cret-signing-key"}}
"#
    )
}

fn fire(s: &TestServer, key: &str) -> i64 {
    s.post(
        "/api/v1/events",
        &json!({"summary": "数据库不可用 db down", "severity": "critical", "dedup_key": key,
                "labels": {"instance": "db1:9100"}}),
    )
    .expect(202);
    incident_of(&s.wait_alert("api", key))
}

#[test]
fn a_page_reaches_the_person_on_call_and_its_link_acknowledges() {
    let receiver = Receiver::start();
    let s = spawn_server(Some(&config(receiver.port)));
    let id = fire(&s, "db-down");
    let got = receiver.wait_for(1);
    assert_eq!(got[0]["recipient"]["user_id"], json!("alice"));
    assert_eq!(got[0]["recipient"]["language"], json!("zh"));
    assert_eq!(got[0]["incidents"][0]["id"], json!(id.to_string()));
    // Where the fault is, and the team by its name beside its id (issue 17 item 2).
    let card = &got[0]["incidents"][0];
    assert_eq!(card["hosts"], json!(["db1"]), "{card}");
    assert_eq!(card["host_count"], json!(1));
    assert_eq!(
        (&card["team"], &card["team_name"]),
        (&json!("ops"), &json!("运维组"))
    );
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    let header = |k: &str| {
        headers
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert!(header("x-tocsin-signature").starts_with("sha256="));
    assert!(!body.is_empty());
    // Without --public-url there is no address people can open, so no console link.
    assert_eq!(got[0]["incidents"][0]["console_url"], Value::Null);

    // The incident says who was notified, how, when and why.
    let i = s.wait_incident(id, "the delivery is recorded", |i| {
        i["notifications"][0]["state"] == json!("sent")
    });
    let n = &i["notifications"][0];
    assert_eq!(
        (n["user"].clone(), n["contact_type"].clone()),
        (json!("alice"), json!("webhook"))
    );
    let why = n["reason"].as_str().unwrap();
    assert!(
        why.contains("level 1 of policy ops") && why.contains("on call in primary"),
        "{why}"
    );
    let timeline: Vec<String> = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        timeline
            .iter()
            .any(|m| m.starts_with("notified alice by webhook")),
        "{timeline:?}"
    );
    // A viewer sees that alice was notified, not her address.
    let viewer = s.post("/api/v1/tokens", &json!({"name": "wall", "role": "viewer"}));
    viewer.expect(201);
    let token = viewer.json()["token"].as_str().unwrap().to_string();
    let seen = s
        .get_as(&format!("/api/v1/incidents/{id}"), Some(&token))
        .json();
    assert_eq!(seen["notifications"][0]["address"], json!("…lice"));
    assert_eq!(
        s.incident(id)["notifications"][0]["address"],
        json!("alice")
    );

    // The signed link: opening it only asks; the button acknowledges, as alice.
    let ack = got[0]["incidents"][0]["ack_url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &ack[ack.find("/act/").unwrap()..];
    let page = s.get_as(path, None);
    page.expect(200);
    assert!(
        page.body.contains("认领"),
        "in alice's language: {}",
        page.body
    );
    assert_eq!(
        s.incident(id)["state"],
        json!("triggered"),
        "opening a link changes nothing"
    );
    s.request("POST", path, None, None).expect(200);
    let i = s.incident(id);
    assert_eq!(i["state"], json!("acknowledged"));
    let by = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == json!("acknowledged"))
        .unwrap()["actor"]
        .clone();
    assert_eq!(by, json!("alice (link)"));
    // Pressed again: nothing to do, said in alice's language (issue 17 item 6).
    let again = s.request("POST", path, None, None);
    again.expect(409);
    assert!(again.body.contains("此事件已被认领"), "{}", again.body);
    // A tampered link does nothing.
    let forged = format!("{}x", path);
    s.request("POST", &forged, None, None).expect(404);
}

#[test]
fn a_failed_send_is_recorded_for_a_retry() {
    let receiver = Receiver::start();
    *receiver.status.lock().unwrap() = 503;
    let s = spawn_server(Some(&config(receiver.port)));
    let id = fire(&s, "db-down");
    receiver.wait_for(1);
    let i = s.wait_incident(id, "the failure is recorded", |i| {
        i["notifications"][0]["attempts"] == json!(1)
    });
    let n = &i["notifications"][0];
    assert_eq!(n["state"], json!("pending"), "a 503 is worth another try");
    assert!(n["last_error"].as_str().unwrap().contains("503"), "{n}");
}

#[test]
fn kill_9_right_after_a_page_neither_loses_nor_repeats_it() {
    let receiver = Receiver::start();
    let mut s = spawn_server(Some(&config(receiver.port)));
    let id = fire(&s, "db-down");
    receiver.wait_for(1);
    s.wait_incident(id, "the page is recorded as sent", |i| {
        i["notifications"][0]["state"] == json!("sent")
    });
    s.kill9();
    s.start();
    // The engine reloads the escalation: level 2 is still due in five minutes, level 1 is
    // not paged again.
    std::thread::sleep(Duration::from_secs(2));
    s.settle();
    assert_eq!(
        receiver.got.lock().unwrap().len(),
        1,
        "not paged again after the restart"
    );
    let i = s.incident(id);
    assert_eq!(i["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(i["state"], json!("triggered"));
}

#[test]
fn a_channel_template_from_config_writes_the_headline() {
    let receiver = Receiver::start();
    let config = config(receiver.port).replace(
        "secret: \"s3cret-signing-key\"}",
        "secret: \"s3cret-signing-key\", template: {title: \"[{{ incidents[0].priority }}] {{ incidents[0].service }}\"}}",
    );
    assert!(config.contains("template"));
    let s = spawn_server(Some(&config));
    fire(&s, "db-down");
    let got = receiver.wait_for(1);
    assert_eq!(got[0]["title"], json!("[P2] default"));
    // A template that does not compile is a config error with its path.
    let bad = config.replace("{{ incidents[0].service }}", "{% if %}");
    let path = s.root().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let out = tocsin(&["check", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("channels[0].template.title: invalid template"));
}

#[test]
fn escalate_now_and_reassign_page_at_once() {
    let receiver = Receiver::start();
    let s = spawn_server(Some(&config(receiver.port)));
    let id = fire(&s, "db-down");
    receiver.wait_for(1);
    // Level 2 (bob) without waiting five minutes.
    s.act(id, "escalate", &json!({"reason": "alice is on a plane"}))
        .expect(200);
    let got = receiver.wait_for(2);
    assert_eq!(got[1]["recipient"]["user_id"], json!("bob"));
    // The CLI reassigns to a schedule's on-call person (alice): paged again, now.
    let out = s.cli(
        Some(ADMIN),
        &[
            "incident",
            "reassign",
            &id.to_string(),
            "--schedule",
            "primary",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = receiver.wait_for(3);
    assert_eq!(got[2]["recipient"]["user_id"], json!("alice"));
    let m = s
        .act(id, "reassign", &json!({"user": "nobody"}))
        .expect_error(400, "bad_request");
    assert!(m.contains("no user"), "{m}");
    s.act(id, "reassign", &json!({}))
        .expect_error(400, "bad_request");
}

#[test]
fn a_hand_off_reminder_reaches_the_next_person_before_their_shift() {
    let receiver = Receiver::start();
    // The first hand-off is two minutes from now; reminders go ten minutes ahead.
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(2);
    let start = jiff::Timestamp::from_second(start.as_second())
        .unwrap()
        .to_string();
    let config = format!(
        r#"
users:
  - {{id: alice, name: Alice Wang, language: zh, contacts: [{{type: webhook, to: alice}}]}}
schedules:
  - id: primary
    name: DBA 一线
    time_zone: Asia/Shanghai
    remind_before: 10m
    layers: [{{rotation: {{every: 1w, start: "{start}"}}, users: [alice]}}]
channels:
  - {{id: hook, type: webhook, url: "http://127.0.0.1:{}/page"}}
"#,
        receiver.port
    );
    let _s = spawn_server(Some(&config));
    let got = receiver.wait_for(1);
    assert_eq!(got[0]["kind"], json!("handoff"));
    assert_eq!(got[0]["recipient"]["user_id"], json!("alice"));
    assert_eq!(got[0]["handoff"]["schedule"], json!("DBA 一线"));
    let title = got[0]["title"].as_str().unwrap();
    assert!(title.starts_with("您将在 DBA 一线 值班"), "{title}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.got.lock().unwrap().len(), 1, "once per shift");
}

#[test]
fn kill_9_while_a_level_falls_due_pages_it_once_after_the_restart() {
    let receiver = Receiver::start();
    // Level 2 two seconds after level 1, for the test's sake.
    let config = config(receiver.port).replace(
        "{delay: 5m, targets: [{schedule: primary}]}",
        "{delay: 2s, targets: [{schedule: primary}]}",
    );
    assert!(config.contains("delay: 2s"));
    let mut s = spawn_server(Some(&config));
    let id = fire(&s, "db-down");
    receiver.wait_for(1);
    s.wait_incident(id, "level 1 recorded as sent", |i| {
        i["notifications"][0]["state"] == json!("sent")
    });
    s.kill9();
    // Down while level 2 falls due.
    std::thread::sleep(Duration::from_secs(3));
    s.start();
    let got = receiver.wait_for(2);
    assert_eq!(
        got[1]["recipient"]["user_id"],
        json!("bob"),
        "level 2, right after the start"
    );
    std::thread::sleep(Duration::from_secs(2));
    let users: Vec<Value> = receiver
        .bodies()
        .iter()
        .map(|b| b["recipient"]["user_id"].clone())
        .collect();
    assert_eq!(
        users,
        [json!("alice"), json!("bob")],
        "no level skipped, none repeated"
    );
}

/// With `--public-url`, every message links to the incident's console page there (issue 17
/// item 3: it was always null).
#[test]
fn with_a_public_url_a_page_links_to_the_incident_in_the_console() {
    let receiver = Receiver::start();
    let mut s = new_server(Some(&config(receiver.port)));
    s.args = vec!["--public-url".into(), "https://tocsin.example.com/".into()];
    s.start();
    let id = fire(&s, "db-down");
    let got = receiver.wait_for(1);
    assert_eq!(
        got[0]["incidents"][0]["console_url"],
        json!(format!("https://tocsin.example.com/ui/incidents/{id}"))
    );
    let ack = got[0]["incidents"][0]["ack_url"].as_str().unwrap();
    assert!(ack.starts_with("https://tocsin.example.com/act/"), "{ack}");
}
