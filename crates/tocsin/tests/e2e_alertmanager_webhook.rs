//! End to end with a real Alertmanager: its webhook receiver posts to tocsin's
//! `/hooks/KEY`; an alert posted to the Alertmanager's own API shows in tocsin as firing
//! with its labels, and resolves when the Alertmanager is told it ended.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const KEY: &str = "am-webhook-key-0123456789abcdef";

/// The Alertmanager process, killed when the test ends however it ends.
struct Alertmanager {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts an Alertmanager whose only route sends to tocsin at once (1 s group wait and
/// interval, so the test is quick) and waits until it is ready.
fn start_alertmanager(tocsin: &str) -> Alertmanager {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:
  receiver: tocsin
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: {tocsin}/hooks/{KEY}
        send_resolved: true
"
        ),
    )
    .expect("write alertmanager.yml");
    let base = format!("http://127.0.0.1:{}", free_port());
    let child = Command::new(ALERTMANAGER)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!(
            "--web.listen-address={}",
            base.trim_start_matches("http://")
        ))
        .arg("--cluster.listen-address=")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log"))
        .spawn()
        .expect("start alertmanager");
    let am = Alertmanager {
        child,
        base,
        _dir: dir,
    };
    poll(Duration::from_secs(15), "the Alertmanager is ready", || {
        ureq::get(&format!("{}/-/ready", am.base))
            .call()
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    am
}

/// Polls for longer than the harness does: the Alertmanager adds its group wait.
#[track_caller]
fn poll<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => panic!("{what}: not so after {limit:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn post_alert(am: &Alertmanager, alert: &Value) {
    ureq::post(&format!("{}/api/v2/alerts", am.base))
        .send_json(json!([alert]))
        .expect("the Alertmanager takes the alert");
}

#[test]
fn alerts_from_a_real_alertmanager_fire_and_resolve() {
    if !have_tool(ALERTMANAGER) {
        return;
    }
    let s = spawn_server(Some(&format!(
        "integrations:\n  - {{name: am-dc1, kind: alertmanager-webhook, key: {KEY}}}\n"
    )));
    let am = start_alertmanager(&s.base);
    let labels = json!({
        "alertname": "DiskFull", "instance": "db-01:9100", "job": "node",
        "severity": "critical", "service": "storage"
    });
    let mut alert = json!({
        "labels": labels,
        "annotations": {"summary": "/var on db-01 is 97% full", "runbook_url": "https://runbooks.example.com/disk"},
        "startsAt": time_in(-60_000),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk"
    });
    post_alert(&am, &alert);

    let find = || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["source"] == json!("prometheus") && a["labels"] == labels)
            .ok_or_else(|| "not in tocsin yet".to_string())
    };
    let a = poll(Duration::from_secs(20), "the alert reaches tocsin", find);
    assert_eq!(a["status"], json!("firing"));
    assert_eq!(a["integration"], json!("am-dc1"));
    assert_eq!(a["severity"], json!("critical"));
    assert_eq!(a["summary"], json!("/var on db-01 is 97% full"));
    assert_eq!(a["host"], json!("db-01"));
    let links: Vec<&str> = a["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(links, ["Source", "Runbook"], "{a}");

    alert["endsAt"] = json!(time_in(-1_000));
    post_alert(&am, &alert);
    poll(
        Duration::from_secs(20),
        "the resolve reaches tocsin",
        || {
            let a = find()?;
            if a["status"] == json!("resolved") {
                Ok(a)
            } else {
                Err(a.to_string())
            }
        },
    );
    assert_eq!(s.alert_count(), 1);
}
