//! The incident page in a real headless Chromium (see `common/browser.rs`): a responder
//! signs in, opens an incident, acknowledges it with the button, and sees its state change;
//! screenshots on a desktop and a phone land in `target/screenshots/`.

mod common;

use common::browser::Browser;
use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn a_responder_acknowledges_an_incident_from_its_page() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(Some(console_configs::DETAIL));
    let password = console::make_login(&s, "alice", "responder");
    s.send_events(&json!({
        "source": "nagios",
        "dedup_key": "db-disk",
        "severity": "critical",
        "summary": "Disk almost full on db-01: /var at 97% and growing fast",
        "service": "db",
        "labels": {"host": "db-01"},
        "links": [{"href": "http://grafana.example/d/db", "text": "Grafana board"}]
    }));
    let id = incident_of(&s.wait_alert("nagios", "db-disk"));

    b.goto(&s.url(&format!("/ui/incidents/{id}")));
    // Not signed in: the sign-in page, then back to the incident.
    console::fill_sign_in(&b, "alice", &password);
    b.wait_text("h1", "Disk almost full", Duration::from_secs(10));
    b.wait_text("[data-state]", "Triggered", Duration::from_secs(5));
    b.wait_text("[data-next-page]", "Bob Li", Duration::from_secs(5));
    b.wait_text("table.alerts", "Grafana board", Duration::from_secs(5));

    b.click("[data-action=acknowledge]");
    b.wait_text("[data-state]", "Acknowledged", Duration::from_secs(10));
    assert!(b.find_all("[data-action=acknowledge]").is_empty());
    assert_eq!(s.incident(id)["state"], "acknowledged");
    b.wait_text(".timeline", "acknowledged", Duration::from_secs(5));
    b.screenshot("detail-desktop");

    // Someone else resolves it: the page follows without a reload.
    b.script("window.__same_page = true; return 0;");
    s.act(id, "resolve", &json!({})).expect(200);
    b.wait_text("[data-state]", "Resolved", Duration::from_secs(10));
    assert_eq!(b.script("return window.__same_page === true;"), json!(true));
    b.wait_for("[data-action=reopen]", Duration::from_secs(5));
    b.script("document.querySelector('table.alerts').scrollIntoView(); return 0;");
    b.screenshot("detail-desktop-alerts");

    b.set_window_size(390, 844);
    // Nothing wider than the phone's screen.
    let wide = b.script("return document.documentElement.scrollWidth;");
    assert!(
        wide.as_u64().unwrap_or(9999) <= 390,
        "page is {wide} px wide"
    );
    b.screenshot("detail-phone");
    b.script("document.querySelector('table.alerts').scrollIntoView(); return 0;");
    b.screenshot("detail-phone-alerts");
}

#[test]
fn ticked_alerts_split_out_into_a_new_incident() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(Some(console_configs::DETAIL));
    let password = console::make_login(&s, "bob", "responder");
    let fire = |key: &str, summary: &str| {
        s.send_events(
            &json!({"source": "nagios", "dedup_key": key, "severity": "high",
            "summary": summary, "service": "db"}),
        );
        incident_of(&s.wait_alert("nagios", key))
    };
    let id = fire("db-a", "db replication lag");
    let other = fire("db-b", "db slow queries");
    s.post(
        &format!("/api/v1/incidents/{other}/merge"),
        &json!({"into": id}),
    )
    .expect(200);
    let moved = s.wait_alert("nagios", "db-b")["id"].as_i64().unwrap();

    b.goto(&s.url(&format!("/ui/login?next=/ui/incidents/{id}")));
    console::fill_sign_in(&b, "bob", &password);
    b.wait_text("table.alerts", "db slow queries", Duration::from_secs(10));
    b.click("details.more summary");
    b.click(&format!("[data-select='{moved}']"));
    b.wait_text("[data-bulk-count]", "1", Duration::from_secs(5));
    b.fill("#split-reason", "a different cause");
    b.click("form[data-selected] button[type=submit]");
    // The answer is the new incident, which the page goes to.
    let h1 = b.wait_text("h1", "db slow queries", Duration::from_secs(10));
    assert!(!h1.text().contains(&format!("#{id} ")), "{}", h1.text());
    let left = s.incident(id);
    assert_eq!(left["alerts"].as_array().map(Vec::len), Some(1), "{left}");
}
