//! Failed deliveries show (issue 17 item 1): a DingTalk robot that answers HTTP 500 is
//! counted in `/metrics` (failed notifications, retries, the outbox's backlog and its age),
//! warned about once in the server's log however often it fails, without its token or
//! signing secret, shown in a banner on every console page in English and Chinese and in
//! `GET /api/v1/channels`; when the robot answers again the banner goes, the log says so
//! once and `sent` counts up.

mod common;

use common::console::sign_in;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "robot-token-7f3a9c";
const SECRET: &str = "SECsigning-secret-42";

/// A robot endpoint answering every request with `status` (DingTalk's `errcode` 0 in the
/// body when it is 200); answers how many requests it got.
fn robot(status: Arc<AtomicU16>) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut len = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let _ = reader.read_exact(&mut vec![0; len]);
            count.fetch_add(1, Ordering::SeqCst);
            let code = status.load(Ordering::SeqCst);
            let body = if code == 200 {
                r#"{"errcode":0,"errmsg":"ok"}"#
            } else {
                "upstream exploded"
            };
            let _ = write!(
                reader.into_inner(),
                "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, got)
}

fn config(port: u16) -> String {
    format!(
        r#"
users:
  - {{id: alice, contacts: [{{type: dingtalk, to: "13800000001"}}]}}
  - {{id: bob, contacts: [{{type: dingtalk, to: "13800000002"}}]}}
  - {{id: carol, contacts: [{{type: dingtalk, to: "13800000003"}}]}}
teams: [{{id: ops, members: [alice, bob, carol], escalation_policy: ops}}]
escalation_policies:
  - id: ops
    levels:
      - {{delay: 30m, targets: [{{user: alice}}, {{user: bob}}, {{user: carol}}]}}
channels:
  - {{id: robot, type: dingtalk, url: "http://127.0.0.1:{port}/robot/send?access_token={TOKEN}", secret: "{SECRET}"}}
"#
    )
}

const FAILED: &str =
    r#"tocsin_notifications_total{channel="robot",type="dingtalk",outcome="failed"}"#;
const SENT: &str = r#"tocsin_notifications_total{channel="robot",type="dingtalk",outcome="sent"}"#;

/// Polls `f` for up to `secs` seconds (a retry waits 10 s, longer than `eventually`).
fn within<T>(secs: u64, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => panic!("{what}: still not so: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn lines_with(log: &str, text: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(text))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_failing_channel_is_counted_logged_once_and_shown_until_it_delivers_again() {
    let status = Arc::new(AtomicU16::new(500));
    let (port, requests) = robot(status.clone());
    let s = spawn_server(Some(&config(port)));
    let alice = sign_in(&s, "watcher", "viewer");
    assert!(
        !alice
            .get(&s, "/ui/incidents")
            .body
            .contains("paging-trouble"),
        "no banner before anything failed"
    );
    s.post(
        "/api/v1/events",
        &json!({"summary": "db down", "severity": "critical", "dedup_key": "db"}),
    )
    .expect(202);

    // Three people, three messages, three failures (each to be retried).
    let failed = eventually("three failures are counted", || match s.metric(FAILED) {
        Some(n) if n >= 3.0 => Ok(n),
        other => Err(format!("{other:?}")),
    });
    assert_eq!(failed, 3.0);
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    assert_eq!(
        s.metric(r#"tocsin_notification_retries_total{channel="robot"}"#),
        Some(3.0)
    );
    assert_eq!(s.metric(SENT), None, "nothing was sent");
    let pending = eventually("the outbox holds the three retries", || {
        match s.metric("tocsin_outbox_pending") {
            Some(n) if n == 3.0 => Ok(n),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(pending, 3.0);
    let age = s.metric("tocsin_outbox_oldest_pending_seconds").unwrap();
    assert!(age > 0.0 && age < 60.0, "waiting since the page: {age}");

    // One warning for three failures, naming the channel, its type and the error, and
    // neither the robot's token nor its signing secret.
    let log = eventually("the warning is logged", || {
        let log = s.stderr();
        if log.contains("channel is failing") {
            Ok(log)
        } else {
            Err(log)
        }
    });
    let warnings = lines_with(&log, "channel is failing");
    assert_eq!(warnings.len(), 1, "{log}");
    let w = &warnings[0];
    assert!(w.contains("WARN"), "{w}");
    assert!(w.contains("channel=robot channel_type=dingtalk"), "{w}");
    assert!(w.contains("HTTP 500: upstream exploded"), "{w}");
    assert!(
        w.contains("failures_since_last_warning=1"),
        "the first failure warns at once: {w}"
    );
    assert!(!log.contains(TOKEN) && !log.contains(SECRET), "{log}");

    // The banner, on the board and on every other page, in both languages.
    let board = alice.get(&s, "/ui/incidents");
    board.expect(200);
    assert!(
        board.body.contains("Paging is failing on 1 channel"),
        "{}",
        board.body
    );
    assert!(board.body.contains(r#"data-failing-channel="robot""#));
    assert!(board.body.contains("3 failed attempts"), "{}", board.body);
    assert!(board.body.contains("HTTP 500"));
    assert!(!board.body.contains(TOKEN));
    assert!(alice
        .get(&s, "/ui/silences")
        .body
        .contains("Paging is failing on 1 channel"));
    alice
        .post(&s, "/ui/prefs", &json!({"language": "zh"}))
        .expect(204);
    let zh = alice.get(&s, "/ui/incidents").body;
    assert!(zh.contains("1 个通知渠道发送失败"), "{zh}");
    assert!(zh.contains("失败 3 次"), "{zh}");

    // The same in the API.
    let channels = s.get_as("/api/v1/channels", Some(ADMIN)).json();
    let robot = &channels["items"][0];
    assert_eq!(robot["id"], json!("robot"));
    assert_eq!(robot["type"], json!("dingtalk"));
    assert_eq!(robot["state"], json!("failing"));
    assert_eq!(robot["failures"], json!(3));
    assert!(robot["last_error"].as_str().unwrap().contains("HTTP 500"));
    assert_eq!(channels["outbox"]["pending"], json!(3));

    // The robot answers again: the retries (10 s later) get through.
    status.store(200, Ordering::SeqCst);
    within(30, "the retries are sent", || match s.metric(SENT) {
        Some(n) if n >= 1.0 => Ok(()),
        other => Err(format!("{other:?}")),
    });
    within(30, "the outbox empties", || {
        match s.metric("tocsin_outbox_pending") {
            Some(0.0) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    assert_eq!(s.metric("tocsin_outbox_oldest_pending_seconds"), Some(0.0));
    assert_eq!(s.metric(FAILED), Some(3.0), "no failure since");
    let zh = alice.get(&s, "/ui/incidents").body;
    assert!(!zh.contains("paging-trouble"), "{zh}");
    let channels: Value = s.get_as("/api/v1/channels", Some(ADMIN)).json();
    assert_eq!(channels["items"][0]["state"], json!("ok"));
    let log = s.stderr();
    let recovered = lines_with(&log, "channel delivers again");
    assert_eq!(recovered.len(), 1, "{log}");
    assert!(
        recovered[0].contains("channel=robot") && recovered[0].contains("failed_attempts=3"),
        "{}",
        recovered[0]
    );
    assert_eq!(
        lines_with(&log, "channel is failing").len(),
        1,
        "still one warning"
    );
}
