//! The process: signals, restarts on the same data, config reload, `tocsin check`, and the
//! command-line client against a running server.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn token_config(name: &str, token: &str, extra: &str) -> String {
    format!(
        "tokens:\n  - {{name: {name}, role: responder, sha256: {}}}\n{extra}",
        sha256_hex(token)
    )
}

#[test]
fn sigterm_while_idle_exits_0_promptly() {
    let mut s = spawn_server(None);
    // Leave a keep-alive connection open in a client's pool.
    let agent = ureq::AgentBuilder::new().build();
    let r = agent
        .get(&s.url("/api/v1/alerts"))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.into_string().unwrap();
    let started = Instant::now();
    let status = s.terminate();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", s.stderr());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        started.elapsed()
    );
    let log = s.stderr();
    assert!(log.contains("stopped"), "{log}");
    // Written to a file, the log has no colour codes (issue 17 item 10).
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a log file: {log:?}"
    );
}

#[test]
fn sigint_exits_0_too() {
    let mut s = spawn_server(None);
    // Not at once: see signals_right_after_the_ready_line_are_handled.
    std::thread::sleep(Duration::from_millis(300));
    s.signal(libc::SIGINT);
    let status = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_after_intake_applies_everything_before_exit() {
    let mut s = spawn_server(None);
    let events: Vec<Value> = (0..200)
        .map(|i| json!({"summary": "e", "dedup_key": format!("e{i}")}))
        .collect();
    s.send_events(&Value::Array(events));
    // No waiting for the engine: the graceful stop must apply what was accepted.
    assert_eq!(s.terminate().code(), Some(0));
    s.start();
    assert_eq!(s.alert_count(), 200, "everything accepted is there at once");
}

#[test]
fn data_persists_across_a_restart_and_ids_continue() {
    let mut s = spawn_server(None);
    s.send_events(&json!([
        {"summary": "api down", "dedup_key": "a", "severity": "critical", "labels": {"alertname": "ApiDown"}},
        {"summary": "db slow", "dedup_key": "b", "labels": {"alertname": "DbSlow"}}
    ]));
    let a = s.wait_alert("api", "a");
    let b = s.wait_alert("api", "b");
    let (ia, ib) = (incident_of(&a), incident_of(&b));
    assert_ne!(ia, ib);
    s.act(ia, "acknowledge", &json!({"reason": "mine"}))
        .expect(200);
    s.act(ia, "comment", &json!({"text": "before restart"}))
        .expect(200);
    let before_a = s.incident(ia);
    let before_alerts = s.all_alerts();

    s.restart();

    assert_eq!(s.all_alerts(), before_alerts, "alerts are unchanged");
    let after_a = s.incident(ia);
    assert_eq!(
        after_a, before_a,
        "incident with alerts and timeline unchanged"
    );
    assert_eq!(after_a["state"], "acknowledged");
    assert_eq!(s.incident(ib)["state"], "triggered");

    // The engine's memory came back too: the same identity is the same alert.
    s.send_events(&json!({"summary": "api down", "dedup_key": "a", "severity": "critical", "labels": {"alertname": "ApiDown"}}));
    let a2 = s.wait_alert_where("a repeated", "api", "a", |x| x["occurrences"] == 2);
    assert_eq!(a2["id"], a["id"]);
    assert_eq!(incident_of(&a2), ia, "joins its open incident");
    // Firing counts came back: resolving b resolves its incident.
    s.send_events(&json!({"summary": "db slow", "dedup_key": "b", "status": "resolved", "labels": {"alertname": "DbSlow"}}));
    s.wait_incident(ib, "b's incident auto-resolves", |i| {
        i["state"] == "resolved"
    });
    // New rows are numbered after the old ones.
    s.send_events(&json!({"summary": "new one", "dedup_key": "c"}));
    let c = s.wait_alert("api", "c");
    assert_eq!(id(&c), id(&a).max(id(&b)) + 1);
    assert_eq!(incident_of(&c), ia.max(ib) + 1);
    // Actions after the restart keep working.
    s.act(ia, "resolve", &json!({})).expect(200);
}

#[test]
fn accepted_events_survive_kill_9() {
    let mut s = spawn_server(None);
    let events: Vec<Value> = (0..50)
        .map(|i| json!({"summary": "k", "dedup_key": format!("k{i}")}))
        .collect();
    s.send_events(&Value::Array(events));
    s.send_events(&json!({"summary": "last", "dedup_key": "last"}));
    s.kill9();
    s.start();
    assert_eq!(
        s.alert_count(),
        51,
        "what was acknowledged is there at once"
    );
    // And the server works on.
    s.send_events(&json!({"summary": "after", "dedup_key": "after"}));
    s.wait_alert("api", "after");
}

#[test]
fn reload_endpoint_refuses_an_invalid_config_and_applies_a_valid_one() {
    let s = spawn_server(Some(&token_config("old", "old-token", "")));
    let config = s.config.clone().unwrap();
    s.get_as("/api/v1/alerts", Some("old-token")).expect(200);

    std::fs::write(
        &config,
        "tokens: [{name: new, role: god, sha256: nope}]\ncolour: blue\n",
    )
    .unwrap();
    let msg = s
        .request("POST", "/-/reload", Some(ADMIN), None)
        .expect_error(400, "bad_request");
    for path in ["colour", "tokens[0].role"] {
        assert!(msg.contains(path), "{path} missing in {msg}");
    }
    s.get_as("/api/v1/alerts", Some("old-token")).expect(200);
    std::fs::write(&config, "teams: [").unwrap();
    s.request("POST", "/-/reload", Some(ADMIN), None)
        .expect_error(400, "bad_request");
    std::fs::remove_file(&config).unwrap();
    s.request("POST", "/-/reload", Some(ADMIN), None)
        .expect_error(400, "bad_request");
    s.get_as("/api/v1/alerts", Some("old-token")).expect(200);
    // Loopback intake without a token stays refused, as the running config says.
    s.post_as("/api/v1/events", None, &json!({"summary": "x"}))
        .expect(401);

    std::fs::write(
        &config,
        token_config(
            "new",
            "new-token",
            "intake: {loopback_without_token: true, max_events_per_request: 2}\n",
        ),
    )
    .unwrap();
    let r = s.request("POST", "/-/reload", Some(ADMIN), None);
    r.expect(200);
    assert_eq!(r.json()["status"], "ok");
    s.get_as("/api/v1/alerts", Some("new-token")).expect(200);
    s.get_as("/api/v1/alerts", Some("old-token"))
        .expect_error(401, "unauthorized");
    s.post_as("/api/v1/events", None, &json!({"summary": "x"}))
        .expect(202);
    s.post_as(
        "/api/v1/events",
        None,
        &json!([{"summary": "1"}, {"summary": "2"}, {"summary": "3"}]),
    )
    .expect_error(400, "bad_request");
    // Reload needs the admin role.
    s.request("POST", "/-/reload", Some("new-token"), None)
        .expect_error(403, "forbidden");
    s.request("POST", "/-/reload", None, None)
        .expect_error(401, "unauthorized");
}

#[test]
fn sighup_reloads_the_config() {
    let s = spawn_server(Some(&token_config("old", "old-token", "")));
    let config = s.config.clone().unwrap();
    // Give the server time to install its signal handlers (see
    // signals_right_after_the_ready_line_are_handled for what happens otherwise).
    std::thread::sleep(Duration::from_millis(300));
    // An invalid config on SIGHUP is refused; the server runs on with the old one.
    std::fs::write(&config, "intake: {max_body_bytes: 0}\n").unwrap();
    s.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    s.get_as("/-/healthy", None).expect(200);
    s.get_as("/api/v1/alerts", Some("old-token")).expect(200);
    eventually("the refusal is logged", || {
        let log = s.stderr();
        if log.contains("max_body_bytes") {
            Ok(())
        } else {
            Err(log)
        }
    });

    std::fs::write(&config, token_config("hup", "hup-token", "")).unwrap();
    s.signal(libc::SIGHUP);
    eventually("the new token works", || {
        match s.get_as("/api/v1/alerts", Some("hup-token")).status {
            200 => Ok(()),
            other => Err(format!("HTTP {other}")),
        }
    });
    s.get_as("/api/v1/alerts", Some("old-token"))
        .expect_error(401, "unauthorized");
}

#[test]
fn check_accepts_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.yaml");
    std::fs::write(
        &path,
        "teams: [{id: dba}]\nservices:\n  - {id: mysql, impact: high}\n  - {id: redis}\ntokens:\n  - {name: ci, role: viewer, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}\n",
    )
    .unwrap();
    let o = tocsin(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "valid (1 team, 2 services, 0 hosts, 0 integrations, 0 users, 0 schedules, 1 token)"
        ),
        "{}",
        stdout(&o)
    );
    // An empty file is the default config.
    std::fs::write(&path, "").unwrap();
    assert_eq!(
        tocsin(&["check", "-c", path.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
}

/// A config that reads `${NAME}`: `tocsin check` names the variables, and a reload on a
/// server whose environment lacks one says why and how to fix it (issue 17 item 8).
#[test]
fn a_config_that_reads_the_environment_says_so_in_check_and_on_reload() {
    let channel = |var: &str| {
        format!(
            "channels:\n  - {{id: robot, type: dingtalk, url: \"https://oapi.dingtalk.com/robot/send?access_token=x\", secret: \"${{{var}}}\"}}\n"
        )
    };
    let s = spawn_server(Some(""));
    let dir = s.root().join("env-check");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("robot.yaml");
    std::fs::write(&path, channel("TOCSIN_TEST_ONLY_IN_THE_SHELL")).unwrap();
    let o = std::process::Command::new(BIN)
        .args(["check", "-c", path.to_str().unwrap()])
        .env("TOCSIN_TEST_ONLY_IN_THE_SHELL", "s3cret")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("reads the environment: TOCSIN_TEST_ONLY_IN_THE_SHELL (set here)"),
        "{}",
        stdout(&o)
    );

    // The server was started without it: its reload refuses, saying where to set it.
    let config = s.config.clone().unwrap();
    std::fs::write(&config, channel("TOCSIN_TEST_ONLY_IN_THE_SHELL")).unwrap();
    let msg = s
        .request("POST", "/-/reload", Some(ADMIN), None)
        .expect_error(400, "bad_request");
    assert!(
        msg.contains("TOCSIN_TEST_ONLY_IN_THE_SHELL is not set") && msg.contains("Environment="),
        "{msg}"
    );
}

#[test]
fn check_reports_every_error_with_its_path_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "
teams: [{id: a}, {id: a}]
services:
  - {id: s1, team: missing}
  - {id: s2, team: a, impact: huge}
default_service: nowhere
incidents: {group_by: [service, colour]}
priority: {matrix: {high: {high: P9}}}
alertmanager: {resolve_timeout: soon}
intake: {max_body_bytes: 0}
tokens: [{name: t, role: god, sha256: x}]
colour: blue
",
    )
    .unwrap();
    let o = tocsin(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for p in [
        "teams[1].id",
        "services[0].team",
        "services[1].impact",
        "default_service",
        "incidents.group_by[1]",
        "priority.matrix.high.high",
        "alertmanager.resolve_timeout",
        "intake.max_body_bytes",
        "tokens[0].role",
        "colour",
    ] {
        assert!(err.contains(p), "{p} missing in:\n{err}");
    }
    let count: usize = err
        .lines()
        .next()
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no error count in:\n{err}"));
    assert!(count >= 10, "{count} errors counted:\n{err}");
    assert_eq!(err.lines().count(), count + 1, "one line per error:\n{err}");

    // YAML syntax errors and a missing file exit 2 as well.
    std::fs::write(&path, "teams: [").unwrap();
    let o = tocsin(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("YAML"), "{}", stderr(&o));
    let missing = dir.path().join("missing.yaml");
    let o = tocsin(&["check", "--config", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn serve_refuses_to_start_with_an_invalid_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "intake: {max_body_bytes: 0}\ncolour: blue\n").unwrap();
    let o = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .arg("--data")
        .arg(dir.path().join("data"))
        .env("TOCSIN_ADMIN_TOKEN", ADMIN)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("intake.max_body_bytes") && err.contains("colour"),
        "{err}"
    );
    assert!(!stdout(&o).contains("listening"));
}

#[test]
fn cli_send_and_incident_commands() {
    let s = spawn_server(None);
    let o = s.cli(
        Some(ADMIN),
        &[
            "send",
            "--summary",
            "disk full on db1",
            "--severity",
            "critical",
            "--service",
            "storage",
            "--source",
            "cli",
            "--dedup-key",
            "cli-1",
            "-l",
            "host=db1",
            "--label",
            "env=prod",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "accepted: 1");
    let a = s.wait_alert("cli", "cli-1");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["labels"], json!({"host": "db1", "env": "prod"}));
    let iid = incident_of(&a);

    let o = s.cli(
        Some(ADMIN),
        &["send", "--summary", "x", "--severity", "bogus"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("HTTP 400"), "{}", stderr(&o));
    let o = s.cli(Some(ADMIN), &["send", "--summary", "x", "-l", "novalue"]);
    assert!(!o.status.success());

    let o = s.cli(Some(ADMIN), &["incident", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("disk full on db1"))
        .unwrap_or_else(|| panic!("incident missing in:\n{out}"));
    assert!(line.starts_with(&iid.to_string()), "{line}");
    assert!(line.contains("triggered") && line.contains("P2"), "{line}");

    let o = s.cli(Some(ADMIN), &["incident", "list", "--json"]);
    let page: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(page["items"][0]["id"], iid);
    let o = s.cli(Some(ADMIN), &["incident", "list", "--state", "resolved"]);
    assert!(!stdout(&o).contains("disk full"), "{}", stdout(&o));

    let o = s.cli(Some(ADMIN), &["incident", "show", &iid.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for part in [
        &format!("incident {iid}"),
        "disk full on db1",
        "alerts:",
        "timeline:",
        "triggered",
    ] {
        assert!(out.contains(part), "{part} missing in:\n{out}");
    }
    let o = s.cli(
        Some(ADMIN),
        &["incident", "show", &iid.to_string(), "--json"],
    );
    let shown: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown, s.incident(iid));

    let o = s.cli(
        Some(ADMIN),
        &["incident", "ack", &iid.to_string(), "--reason", "on it"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("acknowledged"), "{}", stdout(&o));
    let inc = s.incident(iid);
    assert_eq!(inc["state"], "acknowledged");
    assert!(
        inc["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "acknowledged" && t["message"] == "acknowledged by admin: on it"),
        "{}",
        inc["timeline"]
    );

    let o = s.cli(Some(ADMIN), &["incident", "resolve", &iid.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(s.incident(iid)["state"], "resolved");

    // Refusals exit 1 and say why.
    let o = s.cli(Some(ADMIN), &["incident", "ack", &iid.to_string()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("HTTP 409"), "{}", stderr(&o));
    let o = s.cli(Some(ADMIN), &["incident", "show", "9999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("HTTP 404"), "{}", stderr(&o));
    let o = s.cli(Some("wrong"), &["incident", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("HTTP 401"), "{}", stderr(&o));
    // A 401 says which token was used and what to set instead (issue 17 item 9).
    assert!(
        stderr(&o).contains("token: the one given in --token or TOCSIN_TOKEN"),
        "{}",
        stderr(&o)
    );
    let o = s.cli(None, &["incident", "list"]);
    assert_eq!(o.status.code(), Some(1), "no token: {}", stdout(&o));
    assert!(
        stderr(&o).contains("admin-token is not readable") && stderr(&o).contains("--data"),
        "{}",
        stderr(&o)
    );

    // send --resolve resolves the alert.
    let o = s.cli(
        Some(ADMIN),
        &[
            "send",
            "--summary",
            "disk full on db1",
            "--source",
            "cli",
            "--dedup-key",
            "cli-1",
            "--resolve",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    s.wait_alert_where("resolved by the CLI", "cli", "cli-1", |a| {
        a["status"] == "resolved"
    });
}

#[test]
fn cli_reports_an_unreachable_server() {
    let o = std::process::Command::new(BIN)
        .args(["incident", "list"])
        .env("TOCSIN_URL", "http://127.0.0.1:1")
        .env("TOCSIN_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot reach"), "{}", stderr(&o));
}

#[test]
fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let s = spawn_server(None);
    let mut second = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&s.data)
        .env("TOCSIN_ADMIN_TOKEN", ADMIN)
        .env_remove("TOCSIN_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.is_none() {
        second.kill().unwrap();
    }
    let o = second.wait_with_output().unwrap();
    assert!(
        status.is_some_and(|st| !st.success()),
        "a second `tocsin serve` on a data directory in use kept running (stdout {:?}); two \
         processes then append to the same event log and SQLite store, and events one of them \
         acknowledges are lost",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("listening"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("in use by another tocsin server"),
        "{}",
        stderr(&o)
    );
    // The first one is unharmed.
    s.send_events(&json!({"summary": "still here", "dedup_key": "x"}));
    s.wait_alert("api", "x");
}

#[test]
fn a_generated_admin_token_is_kept_in_the_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = new_server(None);
    s.admin_from_env = false;
    s.start();
    let path = s.data.join("admin-token");
    let token = std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert!(token.len() >= 40, "{token}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is private");
    assert!(s.stderr().contains(&token), "shown once at generation");
    s.get_as("/api/v1/tokens", Some(&token)).expect(200);
    s.get_as("/api/v1/tokens", Some(ADMIN))
        .expect_error(401, "unauthorized");
    // The CLI finds it through TOCSIN_DATA.
    let o = s.cli_with_data_dir(&["incident", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    s.restart();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().trim(),
        token,
        "kept across restarts"
    );
    assert!(!s.stderr().contains(&token), "not shown again");
    s.get_as("/api/v1/tokens", Some(&token)).expect(200);
}

#[test]
fn reload_keeps_api_tokens_and_works_without_a_config_file() {
    let s = spawn_server(None);
    let token = s
        .post("/api/v1/tokens", &json!({"name": "made", "role": "viewer"}))
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.request("POST", "/-/reload", Some(ADMIN), None);
    r.expect(200);
    assert_eq!(r.json()["status"], "ok");
    s.get_as("/api/v1/alerts", Some(&token)).expect(200);
    // The built-in config is still in force: loopback may send.
    s.post_as("/api/v1/events", None, &json!({"summary": "x"}))
        .expect(202);

    let c = spawn_server(Some(&token_config("cfg", "cfg-token", "")));
    let made = c
        .post("/api/v1/tokens", &json!({"name": "made", "role": "viewer"}))
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(c.config.as_ref().unwrap(), "").unwrap();
    c.request("POST", "/-/reload", Some(ADMIN), None)
        .expect(200);
    c.get_as("/api/v1/alerts", Some(&made)).expect(200);
    c.get_as("/api/v1/alerts", Some("cfg-token"))
        .expect_error(401, "unauthorized");
}

#[test]
fn alerts_due_while_the_server_was_down_expire_after_start() {
    let mut s = spawn_server(Some(
        "alertmanager: {resolve_timeout: 1s}\nintake: {loopback_without_token: true}\n",
    ));
    s.send_am(&json!([{"labels": {"alertname": "Gone", "instance": "i"}}]));
    s.send_am(
        &json!([{"labels": {"alertname": "Later", "instance": "i"}, "endsAt": time_in(3_600_000)}]),
    );
    eventually("two alerts", || match s.alert_count() {
        2 => Ok(()),
        n => Err(format!("{n}")),
    });
    assert_eq!(s.terminate().code(), Some(0));
    std::thread::sleep(Duration::from_millis(1300));
    s.start();
    let gone = eventually("expired after the restart", || {
        let a = s
            .all_alerts()
            .into_iter()
            .find(|a| a["name"] == "Gone")
            .unwrap();
        if a["status"] == "resolved" {
            Ok(a)
        } else {
            Err(a.to_string())
        }
    });
    assert!(gone["resolved_at"].is_string());
    let later = s
        .all_alerts()
        .into_iter()
        .find(|a| a["name"] == "Later")
        .unwrap();
    assert_eq!(later["status"], "firing", "not due yet");
}

/// The "listening" line tells scripts the server is up; a SIGHUP or SIGTERM sent right after
/// it must be handled (reload; graceful stop), not kill the process by the default action.
#[test]
fn signals_right_after_the_ready_line_are_handled() {
    for round in 0..10 {
        let s = spawn_server(None);
        s.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(100));
        let r = ureq::get(&s.url("/-/healthy")).call();
        assert!(
            r.is_ok(),
            "round {round}: the server died of a SIGHUP sent right after it printed its address: {r:?}"
        );
        let mut s = spawn_server(None);
        s.signal(libc::SIGTERM);
        let status = s.wait_exit(Duration::from_secs(10));
        assert_eq!(
            status.code(),
            Some(0),
            "round {round}: SIGTERM right after the ready line: {status:?}"
        );
    }
}

/// A client that sends half a request and then stalls must not keep the server from
/// stopping: a graceful stop needs a deadline (or reads need a timeout).
#[test]
fn sigterm_is_not_held_up_by_a_stalled_client() {
    use std::io::Write;
    let mut s = spawn_server(None);
    std::thread::sleep(Duration::from_millis(300));
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"summ",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.signal(libc::SIGTERM);
    let started = Instant::now();
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(5) {
        if let Some(code) = s.exit_status() {
            exited = Some(code);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stalled);
    let exited = exited.unwrap_or_else(|| {
        // It would stop once the client goes away; make sure the test does not hang either.
        s.wait_exit(Duration::from_secs(10));
        panic!(
            "SIGTERM: still running after 5 s, waiting for a client that sent 6 of 100 body \
             bytes; it stopped only when the client closed its connection"
        )
    });
    assert_eq!(exited.code(), Some(0));
}

#[test]
fn a_lost_event_log_does_not_hide_new_events() {
    let mut s = spawn_server(None);
    s.send_events(&json!([
        {"summary": "one", "dedup_key": "one"},
        {"summary": "two", "dedup_key": "two"}
    ]));
    s.wait_alert("api", "two");
    s.act(1, "acknowledge", &json!({})).expect(200);
    assert_eq!(s.terminate().code(), Some(0));
    // The store has applied everything; the log is gone (a disk mishap, a careless cleanup).
    std::fs::remove_dir_all(s.data.join("log")).unwrap();
    s.start();
    assert_eq!(s.alert_count(), 2);
    s.send_events(&json!({"summary": "three", "dedup_key": "three"}));
    let three = s.wait_alert("api", "three");
    assert_eq!(id(&three), 3);
    let r = s.act(
        incident_of(&three),
        "comment",
        &json!({"text": "still works"}),
    );
    r.expect(200);
    // And it survives another restart.
    s.kill9();
    s.start();
    assert_eq!(s.alert_count(), 3);
}

#[test]
fn an_invalid_config_creates_nothing_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "colour: blue\n").unwrap();
    let data = dir.path().join("data");
    let o = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .arg("--data")
        .arg(&data)
        .env_remove("TOCSIN_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        !data.join("admin-token").exists(),
        "no admin token is made for a server that does not start"
    );
    assert!(
        !stderr(&o).contains("generated an admin API token"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_tokens_may_not_take_reserved_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        format!(
            "tokens:\n  - {{name: admin, role: viewer, sha256: {0}}}\n  - {{name: loopback, role: viewer, sha256: {0}}}\n",
            sha256_hex("x")
        ),
    )
    .unwrap();
    let o = tocsin(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    for p in ["tokens[0].name", "tokens[1].name"] {
        assert!(stderr(&o).contains(p), "{p}: {}", stderr(&o));
    }
}
