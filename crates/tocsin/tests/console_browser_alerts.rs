//! "Silence this alert" in a real headless Chromium: from an alert's page to the form it
//! fills in, submitted by the page's script through the API, and the silence listed; with
//! screenshots of the explorer, the alert, the form and the silences at 1366x768 and on a
//! 390-pixel phone.

mod common;

use common::browser::Browser;
use common::*;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn silence_this_alert_from_its_page() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(Some(console_configs::ALERTS));
    s.send_events(&json!([
        {"source": "zabbix", "dedup_key": "db-disk", "service": "db", "severity": "critical",
         "summary": "数据库磁盘已满 /var/lib/mysql 98%", "labels": {"alertname": "DiskFull", "host": "db-01", "mount": "/var/lib/mysql"},
         "links": [{"href": "https://zabbix.example/tr_events.php?eventid=7", "text": "Zabbix event"}]},
        {"source": "zabbix", "dedup_key": "web-slow", "service": "web", "severity": "warning",
         "summary": "web slow: p99 latency above 2s for 10 minutes", "labels": {"alertname": "WebSlow", "host": "web-01"}}
    ]));
    let disk = id(&s.wait_alert("zabbix", "db-disk"));
    s.wait_alert("zabbix", "web-slow");
    let password = console::make_login(&s, "alice", "responder");

    b.goto(&s.url("/ui/alerts"));
    console::fill_sign_in(&b, "alice", &password);
    b.wait_text("main", "数据库磁盘已满", WAIT);
    b.screenshot("alerts-desktop");

    b.click(&format!("a[href=\"/ui/alerts/{disk}\"]"));
    b.wait_text("h1", "DiskFull", WAIT);
    b.wait_text(".timeline", "Fired", WAIT);
    b.screenshot("alert-desktop");
    b.click("[data-silence-alert]");
    b.wait_for("form[data-api=\"/api/v1/silences\"]", WAIT);
    let values = b.script(
        "return [...document.querySelectorAll('[data-matcher]')].map(e => e.value).filter(Boolean);",
    );
    assert_eq!(
        values,
        json!(["alertname=\"DiskFull\"", "service=\"db\"", "host=\"db-01\""])
    );
    b.screenshot("silence-form-desktop");
    b.fill("textarea[name=comment]", "replacing the disk");
    b.click("form[data-api] button[type=submit]");
    b.wait_text("table.silences", "replacing the disk", WAIT);
    let row = b.wait_text("tr[data-silence]", "replacing the disk", WAIT);
    assert!(
        row.text().contains("alertname=\"DiskFull\""),
        "{}",
        row.text()
    );
    b.screenshot("silences-desktop");
    eventually("the alert silenced", || {
        let a = s.wait_alert("zabbix", "db-disk");
        (a["silenced_by"].as_array().map(Vec::len) == Some(1))
            .then_some(())
            .ok_or(a.to_string())
    });

    // On a phone: nothing wider than the screen.
    b.set_window_size(390, 844);
    let wide = "return document.documentElement.scrollWidth;";
    for (path, name) in [
        ("/ui/silences".to_string(), "silences-phone"),
        ("/ui/alerts".to_string(), "alerts-phone"),
        (format!("/ui/alerts/{disk}"), "alert-phone"),
        (
            format!("/ui/silences/new?from_alert={disk}"),
            "silence-form-phone",
        ),
    ] {
        b.goto(&s.url(&path));
        b.wait_for("main h1", WAIT);
        b.screenshot(name);
        assert!(
            b.script(wide).as_u64().unwrap() <= 390,
            "{path} is wider than a phone"
        );
    }
}
