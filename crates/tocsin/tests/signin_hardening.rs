//! Issue 16's sign-in, viewer and outbound-header items against a real server: concurrent
//! wrong passwords are counted before they are checked, a flood of sign-ins is refused at
//! once instead of queued, `next` never breaks the redirect, viewers never see contact
//! addresses in the timeline, and webhook headers read `${NAME}` from the environment.

mod common;

use common::console::{make_login, sign_in};
use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

/// One sign-in form post: status, `Location`, `Retry-After`.
fn post_login(
    s: &TestServer,
    user: &str,
    password: &str,
    next: &str,
) -> (u16, Option<String>, Option<String>) {
    let form = format!(
        "username={}&password={}&next={next}",
        enc(user),
        enc(password)
    );
    let r = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build()
        .post(&s.url("/ui/login"))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&form);
    let r = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("sign-in request failed: {e}"),
    };
    let header = |name: &str| r.header(name).map(str::to_string);
    (r.status(), header("location"), header("retry-after"))
}

/// `n` sign-ins at once (each on its own thread, released together); their answers.
fn at_once(
    s: &TestServer,
    n: usize,
    attempt: impl Fn(usize) -> (String, String) + Send + Sync + 'static,
) -> Vec<(u16, Option<String>, Option<String>)> {
    let start = Arc::new(Barrier::new(n));
    let attempt = Arc::new(attempt);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (start, attempt) = (start.clone(), attempt.clone());
                scope.spawn(move || {
                    let (user, password) = attempt(i);
                    start.wait();
                    post_login(s, &user, &password, "%2Fui%2Fincidents")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn concurrent_wrong_passwords_are_checked_no_more_than_the_lockout_allows() {
    let s = spawn_server(None);
    let password = make_login(&s, "alice", "responder");
    let answers = at_once(&s, 20, |_| ("alice".into(), "wrong-password".into()));
    let checked = answers.iter().filter(|a| a.0 == 401).count();
    let locked = answers.iter().filter(|a| a.0 == 429).count();
    // Each attempt is counted before its hash, so only the lockout's five are checked.
    assert_eq!((checked, locked), (5, 15), "{answers:?}");
    let (status, _, retry_after) = post_login(&s, "alice", &password, "%2Fui%2F");
    assert_eq!(status, 429);
    // The lockout says how long it lasts, so a script knows when to come back.
    assert_eq!(retry_after.as_deref(), Some("60"));
}

#[test]
fn a_flood_of_sign_ins_is_refused_at_once_not_queued_and_memory_stays_bounded() {
    let s = spawn_server(None);
    // Different names, so the lockout does not answer first: every one wants a hash.
    let answers = at_once(&s, 200, |i| (format!("nobody-{i}"), "a-password".into()));
    assert!(
        answers.iter().all(|a| a.0 == 401 || a.0 == 503),
        "{answers:?}"
    );
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(
        !busy.is_empty(),
        "200 at once exceed the pool and its queue"
    );
    assert!(busy.iter().all(|a| a.2.as_deref() == Some("1")), "{busy:?}");
    // At most a few hashes (~19 MiB each) were ever in memory at once.
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    println!(
        "peak RSS after 200 concurrent sign-ins: {} MiB",
        peak_kb / 1024
    );
    assert!(peak_kb < 400 * 1024, "peak RSS {} MiB", peak_kb / 1024);
    // The server still answers, and a sign-in afterwards works.
    s.get("/-/ready").expect(200);
    sign_in(&s, "bob", "viewer");
}

#[test]
fn a_next_that_is_not_a_console_path_falls_back_and_never_breaks_the_answer() {
    let s = spawn_server(None);
    let password = make_login(&s, "nick", "responder");
    for next in [
        "%2Fui%2Fincidents%0D%0ASet-Cookie%3A%20evil%3D1",
        "%2F%2Fevil.example%2Fui%2F",
        "https%3A%2F%2Fevil.example%2Fui%2F",
    ] {
        let (status, location, _) = post_login(&s, "nick", &password, next);
        assert_eq!(status, 303, "next={next}");
        assert_eq!(location.as_deref(), Some("/ui/incidents"), "next={next}");
    }
    let (status, location, _) = post_login(&s, "nick", &password, "%2Fui%2Fincidents%2F7");
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/ui/incidents/7"))
    );
}

/// A local webhook receiver: the header block of each request it got.
fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                head.push_str(&line.to_ascii_lowercase());
                line.clear();
            }
            seen.lock().unwrap().push(head);
            let _ = reader
                .into_inner()
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (port, got)
}

const PHONE: &str = "+8613800001234";

#[test]
fn viewers_never_see_contact_addresses_and_webhook_headers_come_from_the_environment() {
    std::env::set_var("TOCSIN_TEST_HOOK_API_KEY", "key-from-the-environment");
    let (port, got) = receiver();
    let s = spawn_server(Some(&format!(
        r#"
users:
  - {{id: alice, name: Alice Wang, contacts: [{{type: webhook, to: "{PHONE}"}}]}}
teams: [{{id: ops, members: [alice], escalation_policy: ops}}]
escalation_policies:
  - {{id: ops, levels: [{{delay: 5m, targets: [{{user: alice}}]}}]}}
channels:
  - {{id: hook, type: webhook, url: "http://127.0.0.1:{port}/page", headers: {{X-Api-Key: "${{TOCSIN_TEST_HOOK_API_KEY}}"}}}}
"#
    )));
    s.post(
        "/api/v1/events",
        &json!({"summary": "db down", "severity": "critical", "dedup_key": "db"}),
    )
    .expect(202);
    let id = incident_of(&s.wait_alert("api", "db"));
    let head = eventually("the page reaches the receiver", || {
        got.lock()
            .unwrap()
            .first()
            .cloned()
            .ok_or("nothing yet".to_string())
    });
    assert!(
        head.contains("x-api-key: key-from-the-environment\r\n"),
        "{head}"
    );
    // A responder (here the admin) sees the address, as in the notification list.
    let full = s.wait_incident(id, "the delivery is in the timeline", |i| {
        i["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["message"].as_str().unwrap().starts_with("notified alice"))
    });
    assert!(full["timeline"].to_string().contains(PHONE));

    let viewer = s.post("/api/v1/tokens", &json!({"name": "wall", "role": "viewer"}));
    let token = viewer.json()["token"].as_str().unwrap().to_string();
    let seen = s.get_as(&format!("/api/v1/incidents/{id}"), Some(&token));
    seen.expect(200);
    assert!(!seen.body.contains("13800001234"), "{}", seen.body);
    assert!(
        seen.json()["timeline"]
            .to_string()
            .contains("notified alice by webhook (…1234)"),
        "{}",
        seen.body
    );
    // The console shows no address to anyone, as its notification list does not.
    for role in ["viewer", "responder"] {
        let page = sign_in(&s, &format!("{role}-1"), role).get(&s, &format!("/ui/incidents/{id}"));
        page.expect(200);
        assert!(page.body.contains("notified alice by webhook"), "{role}");
        assert!(!page.body.contains("13800001234"), "{role}: {}", page.body);
    }
}

#[test]
fn check_names_an_unset_variable_in_a_webhook_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        "channels:\n  - {id: hook, type: webhook, url: \"http://h/in\", headers: {X-Api-Key: \"${TOCSIN_TEST_UNSET_HOOK_KEY}\"}}\n",
    )
    .unwrap();
    let out = tocsin(&["check", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "channels[0].headers.X-Api-Key: the environment variable TOCSIN_TEST_UNSET_HOOK_KEY is not set"
        ),
        "{stderr}"
    );
}
