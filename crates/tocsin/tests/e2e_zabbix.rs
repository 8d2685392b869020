//! Zabbix end to end: the shipped media type's script (integrations/zabbix/tocsin.js) runs in
//! Zabbix's own JavaScript engine (`zabbix_js`, from zabbix-server-pgsql) against a spawned
//! tocsin, with its parameters expanded from the shipped media type the way a Zabbix server
//! expands them: known macros replaced, the others left as written.

mod common;

use common::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

const KEY: &str = "zbx-key-0123456789abcdef";

const CONFIG: &str = r#"
teams: [{id: ops}]
services:
  - id: web-bj
    team: ops
    hosts:
      - {name: web-bj-02, ips: [10.0.0.101]}
  - {id: inbox, team: ops}
integrations:
  - {name: zabbix-prod, kind: zabbix, key: zbx-key-0123456789abcdef, service: inbox}
"#;

fn shipped(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../integrations/zabbix")
        .join(file)
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The media type's parameters, in file order: `name` and `value` (single-quoted or plain;
/// none means empty), as Zabbix exports them.
fn media_parameters(yaml: &str) -> Vec<(String, String)> {
    let section = yaml
        .split_once("\n      parameters:\n")
        .expect("a parameters list")
        .1;
    let section = section.split_once("\n      script:").expect("a script").0;
    let mut out: Vec<(String, String)> = Vec::new();
    for line in section.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("name: ") {
            out.push((name.to_string(), String::new()));
        } else if let Some(value) = line.strip_prefix("value: ") {
            let value = match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(quoted) => quoted.replace("''", "'"),
                None => value.to_string(),
            };
            out.last_mut().expect("a value after its name").1 = value;
        }
    }
    out
}

/// The `script: |` block of the media type: its lines with the block's indentation removed,
/// ending in one line break (YAML's default "clip").
fn media_script(yaml: &str) -> String {
    let block = yaml.split_once("\n      script: |\n").expect("a script").1;
    let indent = "        ";
    let mut lines = Vec::new();
    for line in block.lines() {
        if line.is_empty() {
            lines.push("");
        } else if let Some(rest) = line.strip_prefix(indent) {
            lines.push(rest);
        } else {
            break;
        }
    }
    while lines.last() == Some(&"") {
        lines.pop();
    }
    lines.join("\n") + "\n"
}

/// The names in the adapter's `PARAMETERS` list (this crate does not link the adapter).
fn adapter_parameters() -> Vec<String> {
    let source = read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tocsin-integrations/src/zabbix.rs"),
    );
    let list = source
        .split_once("pub const PARAMETERS")
        .expect("PARAMETERS in zabbix.rs")
        .1;
    let list = list.split_once("];").expect("the end of PARAMETERS").0;
    list.lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn media_type_carries_the_script_and_every_parameter() {
    let yaml = read(shipped("media_tocsin.yaml"));
    assert!(yaml.contains("\n  version: '6.0'\n"), "a Zabbix 6.0 export");
    assert!(yaml.contains("\n      type: WEBHOOK\n"));
    assert_eq!(
        media_script(&yaml),
        read(shipped("tocsin.js")),
        "media_tocsin.yaml's script must be tocsin.js byte for byte"
    );
    let sent: Vec<String> = media_parameters(&yaml).into_iter().map(|p| p.0).collect();
    let read_by_adapter = adapter_parameters();
    assert!(read_by_adapter.len() >= 20, "{read_by_adapter:?}");
    for name in &read_by_adapter {
        assert!(
            sent.contains(name),
            "the adapter reads {name}; the media type does not send it"
        );
    }
    assert!(sent.contains(&"tocsin_url".to_string()));
    for mode in ["PROBLEM", "RECOVERY", "UPDATE"] {
        assert!(
            yaml.contains(&format!("operation_mode: {mode}\n")),
            "a {mode} message template"
        );
    }
}

/// What the Zabbix server would put in the media type's parameters for one notification.
fn expand(yaml: &str, tocsin_url: &str, macros: &[(&str, String)]) -> Value {
    let mut params = Map::new();
    for (name, mut value) in media_parameters(yaml) {
        if name == "tocsin_url" {
            value = tocsin_url.to_string();
        }
        for (m, v) in macros {
            value = value.replace(m, v);
        }
        params.insert(name, Value::String(value));
    }
    Value::Object(params)
}

/// Runs the shipped script the way Zabbix's alerter does: the parameters as `value`.
fn zabbix_js(params: &Value) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("params.json");
    std::fs::write(&input, params.to_string()).unwrap();
    Command::new("zabbix_js")
        .arg("-s")
        .arg(shipped("tocsin.js"))
        .arg("-i")
        .arg(&input)
        .args(["-t", "20"])
        .output()
        .expect("run zabbix_js")
}

/// What `zabbix_js` reported: it writes the script's log lines and errors to stdout.
fn report(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[track_caller]
fn expect_sent(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "OK",
        "zabbix_js failed: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

const PROBLEM_ID: &str = "36699901";

/// The macros of one problem as Zabbix expands them, with the time of the problem.
fn problem_macros(started: i64) -> Vec<(&'static str, String)> {
    vec![
        ("{EVENT.ID}", PROBLEM_ID.into()),
        ("{EVENT.VALUE}", "1".into()),
        ("{EVENT.SOURCE}", "0".into()),
        ("{EVENT.NAME}", "内存使用率过高 High memory utilization (>90% for 5m)".into()),
        ("{EVENT.NSEVERITY}", "4".into()),
        ("{EVENT.SEVERITY}", "High".into()),
        ("{EVENT.TIMESTAMP}", started.to_string()),
        ("{EVENT.DATE}", "2026.03.02".into()),
        ("{EVENT.TIME}", "08:11:25".into()),
        ("{EVENT.OPDATA}", "Memory utilization is 97%".into()),
        ("{EVENT.TAGSJSON}", r#"[{"tag":"dc","value":"bj"},{"tag":"service","value":"web-bj"},{"tag":"note","value":"a, b: c"}]"#.into()),
        ("{EVENT.TAGS}", "dc:bj, note:a, b: c, service:web-bj".into()),
        ("{EVENT.UPDATE.STATUS}", "0".into()),
        ("{EVENT.ACK.STATUS}", "No".into()),
        ("{TRIGGER.ID}", "19937".into()),
        ("{TRIGGER.DESCRIPTION}", "The system is running out of free memory.".into()),
        ("{TRIGGER.URL}", "".into()),
        ("{HOST.NAME}", "web-bj-02".into()),
        ("{HOST.IP}", "10.0.0.101".into()),
        ("{$ZABBIX.URL}", "https://zabbix.example.com".into()),
    ]
}

/// The problem's macros with some replaced or added.
fn with(
    base: &[(&'static str, String)],
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        changes.iter().map(|(m, v)| (*m, v.to_string())).collect();
    out.extend(
        base.iter()
            .filter(|(m, _)| !changes.iter().any(|(c, _)| c == m))
            .cloned(),
    );
    out
}

#[test]
fn problem_ack_comment_recovery_through_zabbix_js() {
    if !have_tool("zabbix_js") {
        return;
    }
    let yaml = read(shipped("media_tocsin.yaml"));
    let s = spawn_server(Some(CONFIG));
    let url = s.url(&format!("/hooks/{KEY}"));
    let started = millis(&json!(time_in(-120_000))) / 1000;
    let problem = problem_macros(started);

    // Problem: the alert fires on the catalog's host and service, its incident triggers.
    expect_sent(&zabbix_js(&expand(&yaml, &url, &with(&problem, &[]))));
    let a = s.wait_alert("zabbix", PROBLEM_ID);
    assert_eq!(a["status"], "firing");
    assert_eq!(a["severity"], "high");
    assert_eq!(a["service"], "web-bj");
    assert_eq!(
        a["summary"],
        "web-bj-02: 内存使用率过高 High memory utilization (>90% for 5m)"
    );
    assert_eq!(a["labels"]["note"], "a, b: c", "tags arrive as TAGSJSON");
    assert_eq!(a["labels"]["host_ip"], "10.0.0.101");
    assert_eq!(
        millis(&a["started_at"]),
        started * 1000,
        "{{EVENT.TIMESTAMP}}"
    );
    assert_eq!(
        a["links"][0]["href"],
        format!("https://zabbix.example.com/tr_events.php?triggerid=19937&eventid={PROBLEM_ID}")
    );
    let incident = incident_of(&a);
    assert_eq!(s.incident(incident)["state"], "triggered");

    // Acknowledged in Zabbix: the incident is acknowledged, the timeline says by whom.
    let updated = (started + 60).to_string();
    let ack = with(
        &problem,
        &[
            ("{EVENT.UPDATE.STATUS}", "1"),
            ("{EVENT.ACK.STATUS}", "Yes"),
            ("{EVENT.UPDATE.ACTION}", "acknowledged, commented"),
            ("{EVENT.UPDATE.MESSAGE}", "on it / 处理中"),
            ("{USER.FULLNAME}", "Admin (Zabbix Administrator)"),
            ("{EVENT.UPDATE.TIMESTAMP}", &updated),
        ],
    );
    expect_sent(&zabbix_js(&expand(&yaml, &url, &ack)));
    let inc = s.wait_incident(incident, "acknowledged from Zabbix", |i| {
        i["state"] == json!("acknowledged")
    });
    let timeline = inc["timeline"].as_array().unwrap();
    let entry = timeline
        .iter()
        .find(|t| t["kind"] == json!("acknowledged"))
        .unwrap_or_else(|| panic!("no acknowledged entry: {timeline:?}"));
    assert_eq!(entry["actor"], "zabbix-prod (zabbix)");
    assert!(
        entry["message"]
            .as_str()
            .unwrap()
            .contains("acknowledged by Admin (Zabbix Administrator): on it / 处理中"),
        "{entry}"
    );

    // A comment is a note in the timeline; the alert keeps firing.
    let comment = with(
        &problem,
        &[
            ("{EVENT.UPDATE.STATUS}", "1"),
            ("{EVENT.ACK.STATUS}", "Yes"),
            ("{EVENT.UPDATE.ACTION}", "commented"),
            ("{EVENT.UPDATE.MESSAGE}", "restarted php-fpm"),
            ("{USER.FULLNAME}", "Admin (Zabbix Administrator)"),
        ],
    );
    expect_sent(&zabbix_js(&expand(&yaml, &url, &comment)));
    s.wait_incident(incident, "the comment in the timeline", |i| {
        i["timeline"].as_array().unwrap().iter().any(|t| {
            t["kind"] == json!("note")
                && t["message"]
                    == json!("commented by Admin (Zabbix Administrator): restarted php-fpm")
        })
    });
    assert_eq!(s.wait_alert("zabbix", PROBLEM_ID)["status"], "firing");

    // Recovery: same event id, the alert resolves at the recovery's time.
    let recovered = started + 90;
    let recovered_text = recovered.to_string();
    let recovery = with(
        &problem,
        &[
            ("{EVENT.VALUE}", "0"),
            ("{EVENT.RECOVERY.TIMESTAMP}", &recovered_text),
        ],
    );
    expect_sent(&zabbix_js(&expand(&yaml, &url, &recovery)));
    let a = s.wait_alert_where("resolved by the recovery", "zabbix", PROBLEM_ID, |a| {
        a["status"] == json!("resolved")
    });
    assert_eq!(millis(&a["resolved_at"]), recovered * 1000);
    assert_eq!(s.alert_count(), 1, "one alert for problem and recovery");
}

#[test]
fn refusals_fail_in_zabbix_and_store_nothing() {
    if !have_tool("zabbix_js") {
        return;
    }
    let yaml = read(shipped("media_tocsin.yaml"));
    let s = spawn_server(Some(CONFIG));
    let problem = problem_macros(millis(&json!(time_in(0))) / 1000);
    let macros = with(&problem, &[]);

    // A wrong key: Zabbix sees the failure (and would retry), nothing is stored.
    let wrong = s.url("/hooks/not-the-key-0123456789abcdef");
    let out = zabbix_js(&expand(&yaml, &wrong, &macros));
    assert!(!out.status.success());
    let text = report(&out);
    assert!(
        text.contains("tocsin notification failed") && text.contains("HTTP 401"),
        "{text}"
    );

    // A macro the action did not expand is refused by name.
    let broken = with(&problem, &[("{EVENT.VALUE}", "{EVENT.VALUE}")]);
    let out = zabbix_js(&expand(&yaml, &s.url(&format!("/hooks/{KEY}")), &broken));
    assert!(!out.status.success());
    let text = report(&out);
    assert!(
        text.contains("HTTP 400") && text.contains("event_value"),
        "{text}"
    );

    // A tocsin_url that is not a hook URL fails before sending anything.
    let out = zabbix_js(&expand(&yaml, "https://tocsin.example.com/", &macros));
    assert!(!out.status.success());
    assert!(report(&out).contains("tocsin_url must be"));

    s.settle();
    assert_eq!(s.alert_count(), 0);
}
