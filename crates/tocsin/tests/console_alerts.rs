//! The console's alerts explorer, an alert's page with its history, and the silences page
//! with the form "Silence this alert" fills in, against a real server: signed in with a
//! session cookie, changes through the API with the page's CSRF token.

mod common;

use common::*;
use serde_json::{json, Value};

/// The rows of the explorer's table: the alert ids, in page order.
fn rows(html: &str) -> Vec<i64> {
    html.split(r#"data-alert=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The values of the form's matcher fields, prefilled.
fn matcher_values(html: &str) -> Vec<String> {
    html.split(r#"name="matchers[]" value=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .filter(|v| !v.is_empty())
        .map(|v| v.replace("&quot;", "\"").replace("&#x3d;", "="))
        .collect()
}

#[test]
fn explorer_filters_history_and_silencing_an_alert_from_its_page() {
    let s = spawn_server(Some(console_configs::ALERTS));
    s.send_events(&json!([
        {"source": "zabbix", "dedup_key": "db-disk", "service": "db", "severity": "critical",
         "summary": "数据库磁盘已满", "labels": {"alertname": "DiskFull", "host": "db-01"},
         "links": [{"href": "https://zabbix.example/tr_events.php?eventid=7", "text": "Zabbix event"},
                   {"href": "javascript:alert(1)", "text": "evil"}]},
        {"source": "zabbix", "dedup_key": "web-slow", "service": "web", "severity": "warning",
         "summary": "web slow", "labels": {"alertname": "WebSlow", "host": "web-01"}}
    ]));
    let disk = s.wait_alert("zabbix", "db-disk");
    let web = s.wait_alert("zabbix", "web-slow");
    let (disk_id, web_id) = (id(&disk), id(&web));
    let alice = console::sign_in(&s, "alice", "responder");

    // Everything, newest first, each row linking to the alert and its incident.
    let all = alice.get(&s, "/ui/alerts");
    all.expect(200);
    assert_eq!(rows(&all.body), vec![web_id, disk_id]);
    assert!(all.body.contains(&format!("/ui/alerts/{disk_id}")));
    assert!(all
        .body
        .contains(&format!("/ui/incidents/{}", incident_of(&disk))));

    // By service, by text (Chinese too), by label, by severity, by silenced.
    let by_service = alice.get(&s, "/ui/alerts?service=web");
    assert_eq!(rows(&by_service.body), vec![web_id]);
    let by_text = alice.get(&s, &format!("/ui/alerts?q={}", enc("磁盘")));
    assert_eq!(rows(&by_text.body), vec![disk_id]);
    assert!(by_text.body.contains("数据库磁盘已满"));
    let by_label = alice.get(&s, "/ui/alerts?label=alertname%3DWebSlow");
    assert_eq!(rows(&by_label.body), vec![web_id]);
    let by_severity = alice.get(&s, "/ui/alerts?severity=critical&status=firing");
    assert_eq!(rows(&by_severity.body), vec![disk_id]);
    assert_eq!(
        rows(&alice.get(&s, "/ui/alerts?silenced=yes").body),
        Vec::<i64>::new()
    );
    // A filter the API refuses is said on the page, the form kept.
    let refused = alice.get(&s, "/ui/alerts?label=nonsense&service=web");
    refused.expect(200);
    assert!(refused.body.contains("NAME=VALUE"), "{}", refused.body);
    assert!(refused.body.contains(r#"name="service" value="web""#));

    // Paging: 50 a page, then "Older" with a cursor.
    let many: Vec<Value> = (0..55)
        .map(|i| {
            json!({"source": "bulk", "dedup_key": format!("b{i}"), "service": "web",
                        "severity": "info", "summary": format!("bulk {i}")})
        })
        .collect();
    s.send_events(&json!(many));
    s.wait_alert("bulk", "b54");
    let first = alice.get(&s, "/ui/alerts?source=bulk");
    let first_rows = rows(&first.body);
    assert_eq!(first_rows.len(), 50);
    let older = first
        .body
        .split(r#"<a href=""#)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|href| href.contains("cursor="))
        .expect("an Older link")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    assert!(
        older.starts_with("/ui/alerts?source=bulk&cursor="),
        "{older}"
    );
    let second_rows = rows(&alice.get(&s, &older).body);
    assert_eq!(second_rows.len(), 5);
    assert!(second_rows.iter().all(|r| r < first_rows.last().unwrap()));

    // Resolve and fire again: the page shows both episodes.
    let resolve = json!({"source": "zabbix", "dedup_key": "db-disk", "status": "resolved",
                         "service": "db", "severity": "critical", "summary": "数据库磁盘已满"});
    s.send_events(&resolve);
    s.wait_alert_where("resolved", "zabbix", "db-disk", |a| {
        a["status"] == "resolved"
    });
    s.send_events(&json!({"source": "zabbix", "dedup_key": "db-disk", "service": "db",
        "severity": "critical", "summary": "数据库磁盘已满", "labels": {"alertname": "DiskFull", "host": "db-01"},
        "links": [{"href": "https://zabbix.example/tr_events.php?eventid=7", "text": "Zabbix event"},
                  {"href": "javascript:alert(1)", "text": "evil"}]}));
    let again = s.wait_alert_where("firing again", "zabbix", "db-disk", |a| {
        a["status"] == "firing" && a["episode"] == 2
    });
    let page = alice.get(&s, &format!("/ui/alerts/{disk_id}"));
    page.expect(200);
    for text in [
        "数据库磁盘已满",
        "Fired again",
        "Resolved",
        "alertname=DiskFull",
        r#"<a href="https:&#x2f;&#x2f;zabbix.example&#x2f;tr_events.php?eventid=7" rel="noopener noreferrer" target="_blank">Zabbix event</a>"#,
        "Silence this alert",
    ] {
        assert!(page.body.contains(text), "{text} in the alert's page");
    }
    assert!(
        !page.body.contains(r#"href="javascript:"#),
        "only web links are links"
    );
    assert!(page
        .body
        .contains(&format!("/ui/incidents/{}", incident_of(&again))));
    assert!(page
        .body
        .contains(&format!("/ui/silences/new?from_alert={disk_id}")));
    alice.get(&s, "/ui/alerts/999999").expect(404);

    // In Chinese.
    alice
        .post(&s, "/ui/prefs", &json!({"language": "zh"}))
        .expect(204);
    let zh = alice.get(&s, &format!("/ui/alerts/{disk_id}"));
    assert!(zh.body.contains("再次触发") && zh.body.contains("静默此告警"));
    let zh_list = alice.get(&s, &format!("/ui/alerts?q={}", enc("磁盘")));
    assert!(zh_list.body.contains("告警中") && zh_list.body.contains("数据库磁盘已满"));
    alice
        .post(&s, "/ui/prefs", &json!({"language": "en"}))
        .expect(204);

    // The prefilled form: this alert's name, service and host, for two hours.
    let form = alice.get(&s, &format!("/ui/silences/new?from_alert={disk_id}"));
    form.expect(200);
    let matchers = matcher_values(&form.body);
    assert_eq!(
        matchers,
        vec![
            r#"alertname="DiskFull""#,
            r#"service="db""#,
            r#"host="db-01""#
        ],
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"name="duration" value="2h""#));
    // What the page would send, sent with the cookie and the CSRF token.
    let made = alice.post(
        &s,
        "/api/v1/silences",
        &json!({"matchers": matchers, "duration": "2h", "comment": "disk being replaced"}),
    );
    made.expect(201);
    let silence = made.json()["id"].as_str().unwrap().to_string();
    // It mutes this alert and not the other one.
    s.wait_alert_where("silenced", "zabbix", "db-disk", |a| {
        a["silenced_by"] == json!([silence.clone()])
    });
    assert_eq!(s.wait_alert("zabbix", "web-slow")["silenced_by"], json!([]));
    let list = alice.get(&s, "/ui/silences");
    list.expect(200);
    let row = list
        .body
        .split(&format!(r#"data-silence="{silence}""#))
        .nth(1)
        .expect("the silence is listed")
        .split("</tr>")
        .next()
        .unwrap()
        .to_string();
    assert!(
        row.contains("disk being replaced") && row.contains("active"),
        "{row}"
    );
    assert!(
        row.contains(r#"<td class="num">1</td>"#),
        "mutes one alert: {row}"
    );
    assert!(row.contains(&format!(r#"data-delete="/api/v1/silences/{silence}""#)));
    // The config's window, read only.
    assert!(list.body.contains("db-patching") && list.body.contains("weekly patching"));
    assert_eq!(
        rows(&alice.get(&s, "/ui/alerts?silenced=yes").body),
        vec![disk_id]
    );

    // Expire it: gone from the list, shown behind the toggle.
    alice
        .delete(&s, &format!("/api/v1/silences/{silence}"))
        .expect(200);
    let after = alice.get(&s, "/ui/silences");
    assert!(!after.body.contains(&format!(r#"data-silence="{silence}""#)));
    assert!(after.body.contains("/ui/silences?expired=1"));
    let expired = alice.get(&s, "/ui/silences?expired=1");
    assert!(expired
        .body
        .contains(&format!(r#"data-silence="{silence}""#)));
}

#[test]
fn alertmanager_alerts_are_silenced_by_their_label_set_and_viewers_cannot_act() {
    let s = spawn_server(Some(console_configs::ALERTS));
    s.send_am(&json!([
        {"labels": {"alertname": "InstanceDown", "instance": "db-01:9100", "job": "node", "service": "db"},
         "annotations": {"summary": "db-01 down"}},
        {"labels": {"alertname": "InstanceDown", "instance": "web-01:9100", "job": "node", "service": "web"},
         "annotations": {"summary": "web-01 down"}}
    ]));
    s.settle();
    let alerts = s.all_alerts();
    let db = alerts
        .iter()
        .find(|a| a["labels"]["instance"] == "db-01:9100")
        .expect("the db alert");
    let bob = console::sign_in(&s, "bob", "responder");
    let form = bob.get(&s, &format!("/ui/silences/new?from_alert={}", id(db)));
    let matchers = matcher_values(&form.body);
    assert_eq!(
        matchers,
        vec![
            r#"alertname="InstanceDown""#,
            r#"instance="db-01:9100""#,
            r#"job="node""#,
            r#"service="db""#
        ]
    );
    let made = bob.post(
        &s,
        "/api/v1/silences",
        &json!({"matchers": matchers, "duration": "2h", "comment": "reboot"}),
    );
    made.expect(201);
    let silence = made.json()["id"].as_str().unwrap().to_string();
    eventually("only the db alert muted", || {
        let muted: Vec<Value> = s
            .all_alerts()
            .into_iter()
            .filter(|a| a["silenced_by"] == json!([silence.clone()]))
            .collect();
        (muted.len() == 1 && muted[0]["labels"]["instance"] == "db-01:9100")
            .then_some(())
            .ok_or(format!("{muted:?}"))
    });

    // A viewer sees the silence but no button to expire it or make one.
    let carol = console::sign_in(&s, "carol", "viewer");
    let list = carol.get(&s, "/ui/silences");
    assert!(list.body.contains(&format!(r#"data-silence="{silence}""#)));
    assert!(!list.body.contains("data-delete="));
    let page = carol.get(&s, &format!("/ui/alerts/{}", id(db)));
    assert!(!page.body.contains("from_alert="));
}
