//! The Reports page in a real headless Chromium: sign in, open the page, change the range
//! to the last 7 days by week, and see the report redrawn; screenshots on a desktop and on a
//! 390-pixel phone.

mod common;

use common::browser::Browser;
use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_reports_page_changes_its_range_on_a_desktop_and_a_phone() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(Some(console_configs::REPORTS));
    let password = console::make_login(&s, "alice", "responder");
    s.send_events(&json!([
        {"summary": "slow", "service": "mysql", "dedup_key": "q1", "labels": {"alertname": "SlowQueries"}},
        {"summary": "lag", "service": "mysql", "dedup_key": "r1", "labels": {"alertname": "ReplicationLag"}},
    ]));
    let a = incident_of(&s.wait_alert("api", "q1"));
    s.act(a, "acknowledge", &json!({})).expect(200);
    s.act(a, "resolve", &json!({})).expect(200);
    s.settle();

    b.goto(&s.url("/ui/reports"));
    console::fill_sign_in(&b, "alice", &password);
    b.wait_text("h1", "Reports", Duration::from_secs(10));
    b.wait_text("#noisy", "SlowQueries", Duration::from_secs(5));

    b.script(
        "document.querySelector('select[name=range]').value = '7';
         document.querySelector('select[name=bucket]').value = 'week';
         return null;",
    );
    b.click("form.filters button[type=submit]");
    // The old page has charts too: wait for the new address before looking at the page.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let url = loop {
        let search = b.script("return location.search;");
        let search = search.as_str().unwrap_or_default().to_string();
        if search.contains("range=7") || std::time::Instant::now() > deadline {
            break search;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        url.contains("range=7") && url.contains("bucket=week"),
        "{url}"
    );
    b.wait_for("svg.chart-svg", Duration::from_secs(10));
    b.wait_text("[data-stat=incidents]", "2", Duration::from_secs(5));
    b.screenshot("reports-desktop");

    b.set_window_size(390, 844);
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    assert!(
        overflow.as_i64().unwrap_or(0) <= 1,
        "the page scrolls sideways: {overflow}"
    );
    b.screenshot("reports-phone");
}
