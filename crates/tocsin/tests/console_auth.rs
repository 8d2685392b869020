//! The web console's sign-in, sessions, roles, CSRF guard, language and the incidents board,
//! against a real server.

mod common;

use common::console::{csrf_of, sign_in, sign_in_with};
use common::*;
use serde_json::json;

#[test]
fn pages_need_a_sign_in_and_come_back_after_it() {
    let s = spawn_server(None);
    let r = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .get(&s.url("/ui/incidents?state=open"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.header("location"),
        Some("/ui/login?next=/ui/incidents%3Fstate%3Dopen")
    );
    let login = s.get("/ui/login");
    login.expect(200);
    assert!(login.body.contains(r#"name="password""#));
    // No session: the API still wants a token.
    s.get_as("/api/v1/incidents", None)
        .expect_error(401, "unauthorized");
}

#[test]
fn wrong_passwords_are_refused_and_repeated_ones_lock_the_account() {
    let s = spawn_server(None);
    sign_in(&s, "alice", "responder");
    let refused = sign_in_with(&s, "alice", "wrong-password").err().unwrap();
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("wrong"), "{}", refused.body);
    // An unknown user gets the same answer as a wrong password.
    let unknown = sign_in_with(&s, "mallory", "whatever-1").err().unwrap();
    assert_eq!(unknown.status, 401);
    for _ in 0..4 {
        let _ = sign_in_with(&s, "alice", "wrong-password");
    }
    // Now even the right password waits out the lock.
    let locked = sign_in_with(&s, "alice", "alice-password-1").err().unwrap();
    assert_eq!(locked.status, 429);
}

#[test]
fn the_board_shows_open_incidents_and_the_session_acts_through_the_api_with_its_csrf_token() {
    let s = spawn_server(None);
    s.send_events(&json!([
        {"source": "zabbix", "dedup_key": "db-1", "severity": "critical", "summary": "数据库主库宕机", "labels": {"alertname": "DbDown"}},
        {"source": "zabbix", "dedup_key": "web-1", "severity": "warning", "summary": "web slow", "labels": {"alertname": "WebSlow"}}
    ]));
    let alert = s.wait_alert("zabbix", "db-1");
    let incident = incident_of(&alert);
    let alice = sign_in(&s, "alice", "responder");
    let board = eventually("both incidents on the board", || {
        let page = alice.get(&s, "/ui/incidents");
        (page.body.contains("数据库主库宕机") && page.body.contains("web slow"))
            .then_some(page)
            .ok_or("not yet".to_string())
    });
    // The critical one is first (priority order).
    assert!(board.body.find("数据库主库宕机").unwrap() < board.body.find("web slow").unwrap());
    // Filters and the live fragment.
    let filtered = alice.get(&s, "/ui/incidents?q=web&fragment=1");
    filtered.expect(200);
    assert!(filtered.body.contains("web slow") && !filtered.body.contains("数据库"));
    assert!(
        !filtered.body.contains("<html"),
        "a fragment is the table alone"
    );
    alice.get(&s, "/ui/incidents?priority=P9").expect(400);

    // A change without the page's CSRF token is refused; with it, it is applied as alice.
    let path = format!("/api/v1/incidents/{incident}/acknowledge");
    alice
        .send(&s, "POST", &path, &json!({}), false)
        .expect_error(403, "csrf");
    let acked = alice.post(&s, &path, &json!({}));
    acked.expect(200);
    assert_eq!(acked.json()["state"], "acknowledged");
    let detail = s.incident(incident);
    let by_alice = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "alice" && e["kind"] == "acknowledged");
    assert!(by_alice, "timeline: {}", detail["timeline"]);
}

#[test]
fn viewers_read_but_cannot_act_and_sign_out_ends_the_session() {
    let s = spawn_server(None);
    s.send_events(&json!([{"source": "t", "dedup_key": "a", "summary": "disk full"}]));
    let incident = incident_of(&s.wait_alert("t", "a"));
    let vera = sign_in(&s, "vera", "viewer");
    let page = vera.get(&s, "/ui/incidents");
    assert!(
        !page.body.contains("data-bulk-action"),
        "viewers get no bulk actions"
    );
    vera.post(
        &s,
        &format!("/api/v1/incidents/{incident}/resolve"),
        &json!({}),
    )
    .expect_error(403, "forbidden");
    vera.post(&s, "/ui/logout", &json!({})).expect(204);
    let (after, location) = vera.get_full(&s, "/ui/incidents");
    assert_eq!(after.status, 303);
    assert!(location.unwrap().starts_with("/ui/login"));
}

#[test]
fn the_language_is_the_persons_choice_and_survives_a_restart() {
    let mut s = new_server(None);
    s.start();
    let alice = sign_in(&s, "alice", "responder");
    assert!(alice.get(&s, "/ui/incidents").body.contains("Incidents"));
    alice
        .post(&s, "/ui/prefs", &json!({"language": "fr"}))
        .expect_error(400, "bad_request");
    alice
        .post(&s, "/ui/prefs", &json!({"time_zone": "Mars/Olympus"}))
        .expect_error(400, "bad_request");
    alice
        .post(
            &s,
            "/ui/prefs",
            &json!({"language": "zh", "time_zone": "Asia/Shanghai"}),
        )
        .expect(204);
    let zh = alice.get(&s, "/ui/incidents");
    assert!(zh.body.contains(r#"lang="zh-CN""#) && zh.body.contains("事件"));
    s.restart();
    let again = alice.get(&s, "/ui/incidents");
    again.expect(200);
    assert!(
        again.body.contains("事件"),
        "session and language kept across a restart"
    );
    assert_eq!(csrf_of(&again.body), alice.csrf);
}

#[test]
fn a_config_user_signs_in_with_the_hash_the_cli_prints_and_accounts_are_managed_by_admins() {
    let mut child = std::process::Command::new(BIN)
        .args(["user", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"night-shift-2\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let config = format!(
        "users:\n- id: wang\n  name: 王工\n  language: zh\n  console: {{role: admin, password_hash: '{hash}'}}\n"
    );
    let s = spawn_server(Some(&config));
    let wang = sign_in_with(&s, "wang", "night-shift-2").expect("config login works");
    let page = wang.get(&s, "/ui/incidents");
    assert!(page.body.contains("王工") && page.body.contains("事件"));
    // An admin session may manage accounts; a config login cannot be shadowed.
    wang.post(
        &s,
        "/api/v1/logins",
        &json!({"id": "wang", "role": "viewer", "password": "something-long"}),
    )
    .expect_error(409, "conflict");
    wang.post(
        &s,
        "/api/v1/logins",
        &json!({"id": "li", "role": "viewer", "password": "short"}),
    )
    .expect_error(400, "bad_request");
    wang.post(
        &s,
        "/api/v1/logins",
        &json!({"id": "li", "role": "viewer", "password": "li-password-1"}),
    )
    .expect(201);
    let li = sign_in_with(&s, "li", "li-password-1").expect("new account signs in");
    let listed = s.get_as("/api/v1/logins", Some(ADMIN));
    assert!(listed.body.contains("\"li\"") && !listed.body.contains("argon2"));
    s.request("DELETE", "/api/v1/logins/li", Some(ADMIN), None)
        .expect(204);
    assert_eq!(li.get_full(&s, "/ui/incidents").0.status, 303, "signed out");
}

#[test]
fn the_live_stream_says_when_something_changed() {
    let s = spawn_server(None);
    let alice = sign_in(&s, "alice", "responder");
    let reader = std::thread::spawn({
        let url = s.url("/ui/live");
        let cookie = alice.cookie.clone();
        move || {
            let r = ureq::get(&url).set("Cookie", &cookie).call().unwrap();
            assert_eq!(r.header("content-type"), Some("text/event-stream"));
            let mut lines = std::io::BufRead::lines(std::io::BufReader::new(r.into_reader()));
            lines
                .find(|l| l.as_ref().unwrap().starts_with("event: change"))
                .is_some()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send_events(&json!([{"source": "t", "dedup_key": "x", "summary": "boom"}]));
    assert!(reader.join().unwrap());
    s.get_as("/ui/live", None).expect(401);
}
