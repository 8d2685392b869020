//! Follow-ups end to end (issue 17 item 4): an incident pages a DingTalk robot (a local
//! stand-in), a real SMTP server and an SMS gateway; someone acknowledges it with a comment,
//! then its alert resolves. Those paged hear of both by the channel that paged them, in their
//! language and on their clock, with the console link and no action links; the person who
//! acknowledged is not told of it; the SMS contact hears nothing (off by default).

mod common;

use common::receiver::Receiver;
use common::*;
use serde_json::{json, Value};

const ALICE: &str = "alice-token-3b1f";
const PUBLIC: &str = "https://tocsin.example.com";

fn config(http: u16, smtp: u16) -> String {
    format!(
        r#"
users:
  - {{id: alice, name: 王芳, language: zh, time_zone: Asia/Shanghai, contacts: [{{type: dingtalk, to: "13800000001"}}]}}
  - {{id: bob, name: Bob Lim, time_zone: America/New_York, contacts: [{{type: email, to: bob@example.com}}]}}
  - {{id: carol, contacts: [{{type: sms, to: "+8613800000003"}}]}}
teams: [{{id: ops, members: [alice, bob, carol], escalation_policy: ops}}]
escalation_policies:
  - id: ops
    levels:
      - {{delay: 10m, targets: [{{user: alice}}, {{user: bob}}, {{user: carol}}]}}
channels:
  - {{id: robot, type: dingtalk, url: "http://127.0.0.1:{http}/robot/send?access_token=t"}}
  - {{id: mail, type: email, host: 127.0.0.1, port: {smtp}, tls: none, from: "tocsin <tocsin@example.com>"}}
  - {{id: sms, type: sms, url: "http://127.0.0.1:{http}/sms", body: '{{ "to": {{{{ to | tojson }}}}, "text": {{{{ text | tojson }}}} }}'}}
tokens:
  - {{name: alice, role: responder, sha256: {}}}
"#,
        sha256_hex(ALICE)
    )
}

fn event(status: &str) -> Value {
    json!({"source": "nagios", "dedup_key": "db1/mysql", "status": status,
           "severity": "critical", "summary": "MySQL primary down",
           "labels": {"alertname": "MysqlDown", "host": "db1"}})
}

/// `rfc3339` as a reader in `zone` reads it in a message.
fn on_clock(rfc3339: &Value, zone: &str) -> String {
    let ts: jiff::Timestamp = rfc3339.as_str().unwrap().parse().unwrap();
    ts.in_tz(zone)
        .unwrap()
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The DingTalk markdown of a robot request.
fn markdown(r: &common::receiver::Request) -> String {
    r.json()["markdown"]["text"].as_str().unwrap().to_string()
}

#[test]
fn those_paged_hear_who_acknowledged_and_that_it_resolved() {
    let http = Receiver::start();
    let smtp = common::smtp::start();
    let mut s = new_server(Some(&config(http.port, smtp.port)));
    s.args = vec!["--public-url".into(), PUBLIC.into()];
    s.start();

    s.post("/api/v1/events", &event("firing")).expect(202);
    let id = incident_of(&s.wait_alert("nagios", "db1/mysql"));
    // Paged: alice by DingTalk, bob by mail, carol by SMS.
    http.wait_for("/robot/send", 1);
    http.wait_for("/sms", 1);
    smtp.wait_for("Subject: [tocsin] [P2] MySQL primary down");
    s.wait_incident(id, "the pages are recorded as sent", |i| {
        let n = i["notifications"].as_array().unwrap();
        n.len() == 3 && n.iter().all(|n| n["state"] == "sent")
    });

    let acked = s.post_as(
        &format!("/api/v1/incidents/{id}/acknowledge"),
        Some(ALICE),
        &json!({"reason": "restarting the primary"}),
    );
    acked.expect(200);
    let acked_at = on_clock(&acked.json()["acknowledged_at"], "America/New_York");
    let mail = smtp.wait_for("Subject: [tocsin] Acknowledged: [P2] MySQL primary down");
    for line in [
        format!("Acknowledged by 王芳 at {acked_at}, under a minute after it opened: restarting the primary"),
        format!("Open in tocsin: {PUBLIC}/ui/incidents/{id}"),
    ] {
        assert!(mail.contains(&line), "{line:?} not in\n{mail}");
    }
    assert!(!mail.contains("/act/"), "no action link:\n{mail}");

    s.post("/api/v1/events", &event("resolved")).expect(202);
    let resolved = s.wait_incident(id, "resolved", |i| i["state"] == "resolved");
    let robot = http.wait_for("/robot/send", 2);
    let text = markdown(&robot[1]);
    let line = format!(
        "{} 告警已全部恢复，事件自动解决（持续 不到 1 分钟）",
        on_clock(&resolved["resolved_at"], "Asia/Shanghai")
    );
    assert!(text.contains(&line), "{line:?} not in\n{text}");
    assert!(text.contains("【已解决】"), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC}/ui/incidents/{id}")),
        "{text}"
    );
    assert!(!text.contains("/act/"), "{text}");
    let mail = smtp.wait_for("Subject: [tocsin] Resolved: [P2] MySQL primary down");
    assert!(
        mail.contains("all its alerts resolved, open for under a minute"),
        "{mail}"
    );

    // The follow-ups are in the incident, with who and what they wrote; none is to carol
    // (SMS), none tells alice of her own acknowledgement.
    let i = s.wait_incident(id, "the follow-ups are recorded as sent", |i| {
        let n = i["notifications"].as_array().unwrap();
        n.len() == 6 && n.iter().all(|n| n["state"] == "sent")
    });
    let text = |v: &Value| v.as_str().map(String::from);
    let mut follow_ups: Vec<_> = i["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] != "page")
        .map(|n| {
            (
                text(&n["kind"]),
                text(&n["user"]),
                text(&n["actor"]),
                text(&n["comment"]),
            )
        })
        .collect();
    follow_ups.sort();
    let some = |t: &str| Some(t.to_string());
    assert_eq!(
        follow_ups,
        [
            (
                some("acknowledged"),
                some("bob"),
                some("alice"),
                some("restarting the primary")
            ),
            (some("resolved"), some("alice"), None, None),
            (some("resolved"), some("bob"), None, None),
        ]
    );
    s.settle();
    assert_eq!(http.to("/sms").len(), 1, "carol's SMS is only the page");
    assert_eq!(http.to("/robot/send").len(), 2);
    assert_eq!(smtp.messages().len(), 3);
}
