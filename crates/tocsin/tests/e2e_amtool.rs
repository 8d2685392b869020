//! End to end with the real tools: `amtool` (alerts, silences, config, cluster) against
//! tocsin unchanged, with a token in its HTTP config file (without one it is refused, from
//! loopback too, with a message it prints); and a real Prometheus whose `alertmanagers`
//! point at tocsin.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const AMTOOL: &str = "amtool";
const PROMETHEUS: &str = "prometheus";

/// Runs amtool against the server with extra global flags; returns its output.
fn amtool(s: &TestServer, global: &[&str], args: &[&str]) -> Output {
    Command::new(AMTOOL)
        .arg(format!("--alertmanager.url={}", s.base))
        .args(global)
        .args(args)
        .env("HOME", s.root())
        .stdin(Stdio::null())
        .output()
        .expect("run amtool")
}

#[track_caller]
fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "amtool failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// amtool's global flags that send the admin token, from an HTTP config file.
fn admin_http_config(s: &TestServer) -> Vec<String> {
    let http = s.root().join("amtool-admin.yml");
    std::fs::write(&http, format!("authorization:\n  credentials: {ADMIN}\n")).unwrap();
    vec!["--http.config.file".into(), http.to_str().unwrap().into()]
}

#[test]
fn amtool_adds_queries_and_silences_alerts() {
    if !have_tool(AMTOOL) {
        return;
    }
    let s = spawn_server(None);
    let global = admin_http_config(&s);
    let amtool = |s: &TestServer, extra: &[&str], args: &[&str]| {
        let mut flags: Vec<&str> = global.iter().map(String::as_str).collect();
        flags.extend_from_slice(extra);
        amtool(s, &flags, args)
    };
    ok(amtool(
        &s,
        &[],
        &[
            "alert",
            "add",
            "alertname=AmtoolDown",
            "instance=web-1",
            "severity=critical",
            "--annotation=summary=web-1 is down",
        ],
    ));
    ok(amtool(
        &s,
        &[],
        &["alert", "add", "alertname=AmtoolOther", "instance=web-2"],
    ));
    let a = s.wait_alert_where(
        "amtool's alert fires",
        "prometheus",
        &dedup_key_of(&s, "AmtoolDown"),
        |a| a["status"] == "firing",
    );
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["summary"], "web-1 is down");

    let all = ok(amtool(&s, &[], &["alert", "query"]));
    assert!(
        all.contains("AmtoolDown") && all.contains("AmtoolOther"),
        "{all}"
    );
    assert!(all.contains("web-1 is down"), "{all}");
    let one = ok(amtool(&s, &[], &["alert", "query", "instance=~web-1"]));
    assert!(
        one.contains("AmtoolDown") && !one.contains("AmtoolOther"),
        "{one}"
    );
    let by_name = ok(amtool(&s, &[], &["alert", "query", "AmtoolOther"]));
    assert!(
        by_name.contains("AmtoolOther") && !by_name.contains("AmtoolDown"),
        "{by_name}"
    );
    let extended = ok(amtool(
        &s,
        &["-o", "extended"],
        &["alert", "query", "alertname=AmtoolDown"],
    ));
    assert!(extended.contains("instance=\"web-1\""), "{extended}");

    let id = ok(amtool(
        &s,
        &[],
        &[
            "silence",
            "add",
            "alertname=AmtoolDown",
            "--comment=maintenance",
            "--author=alice",
            "--duration=1h",
        ],
    ))
    .trim()
    .to_string();
    assert_eq!(id.len(), 36, "a silence id: {id:?}");
    let listed = ok(amtool(&s, &[], &["silence", "query"]));
    assert!(
        listed.contains(&id) && listed.contains("alice") && listed.contains("maintenance"),
        "{listed}"
    );
    assert_eq!(
        ok(amtool(
            &s,
            &[],
            &["silence", "query", "-q", "alertname=AmtoolDown"]
        ))
        .trim(),
        id
    );
    assert_eq!(
        ok(amtool(
            &s,
            &[],
            &["silence", "query", "-q", "alertname=Nope"]
        ))
        .trim(),
        ""
    );
    // The alert is muted: amtool shows it among silenced alerts only.
    let silenced = ok(amtool(&s, &[], &["alert", "query", "--silenced"]));
    assert!(
        silenced.contains("AmtoolDown") && !silenced.contains("AmtoolOther"),
        "{silenced}"
    );
    let active = ok(amtool(&s, &[], &["alert", "query"]));
    assert!(
        !active.contains("AmtoolDown") && active.contains("AmtoolOther"),
        "{active}"
    );

    ok(amtool(&s, &[], &["silence", "expire", &id]));
    assert_eq!(ok(amtool(&s, &[], &["silence", "query", "-q"])).trim(), "");
    assert_eq!(
        ok(amtool(&s, &[], &["silence", "query", "-q", "--expired"])).trim(),
        id
    );
    let back = ok(amtool(&s, &[], &["alert", "query"]));
    assert!(back.contains("AmtoolDown"), "{back}");

    let config = ok(amtool(&s, &[], &["config", "show"]));
    assert!(
        config.contains("receivers:") && config.contains("default"),
        "{config}"
    );
    let cluster = ok(amtool(&s, &[], &["cluster", "show"]));
    assert!(cluster.contains("ready"), "{cluster}");
}

#[test]
fn amtool_without_a_token_is_refused_with_a_401_from_loopback_too() {
    if !have_tool(AMTOOL) {
        return;
    }
    // The built-in config: loopback may send alerts without a token, and only that.
    let s = spawn_server(None);
    ok(amtool(&s, &[], &["alert", "add", "alertname=Tokenless"]));
    for args in [
        &["silence", "add", "alertname=Tokenless", "-c", "drive-by"][..],
        &["silence", "query"][..],
        &["alert", "query"][..],
    ] {
        let out = amtool(&s, &[], args);
        assert!(!out.status.success(), "{args:?} must be refused");
        // amtool prints a body only for the statuses Alertmanager's swagger lists (not 401),
        // so it says "(status 401): {}"; the status is the message. curl shows the text.
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("status 401"), "{args:?}: {said}");
    }
    assert_eq!(s.get("/api/v2/silences").json(), serde_json::json!([]));
}

/// The dedup key of the only alert with this name, once stored.
fn dedup_key_of(s: &TestServer, name: &str) -> String {
    eventually("the alert is stored", || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["name"] == name)
            .map(|a| a["dedup_key"].as_str().unwrap().to_string())
            .ok_or_else(|| "not yet".to_string())
    })
}

#[test]
fn amtool_uses_a_token_from_its_http_config_file() {
    if !have_tool(AMTOOL) {
        return;
    }
    let config = format!(
        "tokens:\n  - {{name: amtool, role: responder, sha256: \"{}\"}}\n",
        sha256_hex("amtool-token")
    );
    let s = spawn_server(Some(&config));
    let http = s.root().join("amtool-http.yml");
    std::fs::write(&http, "authorization:\n  credentials: amtool-token\n").unwrap();
    let with_token = ["--http.config.file", http.to_str().unwrap()];

    // Without the token, a config file's server refuses amtool.
    let refused = amtool(&s, &[], &["silence", "query"]);
    assert!(!refused.status.success(), "no token must be refused");

    let id = ok(amtool(
        &s,
        &with_token,
        &["silence", "add", "service=checkout", "-c", "deploy"],
    ))
    .trim()
    .to_string();
    assert_eq!(
        ok(amtool(&s, &with_token, &["silence", "query", "-q"])).trim(),
        id
    );
    ok(amtool(
        &s,
        &with_token,
        &["alert", "add", "alertname=TokenAlert"],
    ));
    let alerts = ok(amtool(&s, &with_token, &["alert", "query"]));
    assert!(alerts.contains("TokenAlert"), "{alerts}");
    ok(amtool(&s, &with_token, &["silence", "expire", &id]));
    let v = s.get(&format!("/api/v2/silence/{id}"));
    assert_eq!(v.json()["status"]["state"], "expired");
}

/// A Prometheus child process, stopped when dropped.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(dir: &Path, tocsin: &str) -> Prometheus {
    let target = tocsin.trim_start_matches("http://");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: tocsin-e2e\n    interval: 1s\n    rules:\n      - alert: TocsinE2EAlways\n        expr: vector(1)\n        for: 0s\n        labels: {severity: critical, team: e2e}\n        annotations: {summary: \"always firing\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n    - api_version: v2\n      static_configs:\n        - targets: [\"{target}\"]\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(PROMETHEUS)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{}", free_port()))
        // The first evaluation may come before the alertmanager target is discovered, and
        // that send is dropped; firing alerts are then sent again only after this delay
        // (1m by default).
        .arg("--rules.alert.resend-delay=1s")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    Prometheus(child)
}

#[test]
fn a_real_prometheus_alert_fires_in_tocsin() {
    if !have_tool(PROMETHEUS) {
        return;
    }
    let s = spawn_server(None);
    let dir = s.root().join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let _prometheus = start_prometheus(&dir, &s.base);
    // Prometheus starts, evaluates the rule and sends within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    let alert: Value = loop {
        let found = s
            .all_alerts()
            .into_iter()
            .find(|a| a["name"] == "TocsinE2EAlways" && a["status"] == "firing");
        if let Some(a) = found {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "no alert from Prometheus; its log:\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(alert["source"], "prometheus");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["labels"]["team"], "e2e");
    assert_eq!(alert["summary"], "always firing");
    assert!(
        alert["links"][0]["href"]
            .as_str()
            .unwrap_or_default()
            .contains("/graph"),
        "{alert}"
    );
    let incident = s.incident(incident_of(&alert));
    assert_eq!(incident["state"], "triggered");
    let am = s.get("/api/v2/alerts?filter=alertname%3DTocsinE2EAlways");
    assert_eq!(am.json().as_array().unwrap().len(), 1, "{}", am.body);
}
