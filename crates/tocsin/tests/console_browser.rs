//! The web console in a real headless Chromium (see `common/browser.rs`): pages as a
//! person sees them, on a desktop and on a 390-pixel-wide phone, with screenshots kept in
//! `target/screenshots/`.

mod common;

use common::browser::Browser;
use common::*;
use std::time::Duration;

#[test]
fn chromium_shows_a_page_of_the_server_on_a_desktop_and_a_phone() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(None);
    b.goto(&s.url("/-/healthy"));
    b.wait_text("body", "OK", Duration::from_secs(5));
    let shot = b.screenshot("healthy-desktop");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "{} is no PNG", shot.display());

    b.set_window_size(390, 844);
    let viewport = b.script("return [window.innerWidth, window.innerHeight];");
    assert_eq!(viewport, serde_json::json!([390, 844]));
    b.screenshot("healthy-phone");
}

/// Signs `id` (made through the API) in through the sign-in form.
fn sign_in_page(b: &Browser, s: &TestServer, id: &str, role: &str) {
    let password = console::make_login(s, id, role);
    b.goto(&s.url("/ui/incidents"));
    b.wait_for("#username", Duration::from_secs(5));
    b.screenshot("login");
    console::fill_sign_in(b, id, &password);
    b.wait_for("table.board", Duration::from_secs(5));
}

#[test]
fn an_incident_appears_live_is_acknowledged_and_resolved_and_the_language_switches() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(None);
    sign_in_page(&b, &s, "alice", "responder");
    b.wait_text("table.board", "All quiet", Duration::from_secs(5));
    // A mark on the page that a reload would wipe: the incident must arrive without one.
    b.script("window.notReloaded = true; return null;");
    s.send_events(&serde_json::json!([{
        "source": "zabbix", "dedup_key": "db-1", "severity": "critical",
        "summary": "db-1 primary is down", "labels": {"alertname": "DbDown"}
    }]));
    b.wait_text(
        "table.board",
        "db-1 primary is down",
        Duration::from_secs(10),
    );
    assert_eq!(
        b.script("return window.notReloaded === true;"),
        serde_json::json!(true)
    );
    b.screenshot("board-live-incident");

    b.click("[data-select]");
    b.click("[data-bulk-action=acknowledge]");
    b.wait_text("table.board", "Acknowledged", Duration::from_secs(10));
    b.screenshot("board-acknowledged");
    // The selection survives the live refresh; resolve it too.
    if b.script("return document.querySelector('[data-select]').checked;")
        != serde_json::json!(true)
    {
        b.click("[data-select]");
    }
    b.click("[data-bulk-action=resolve]");
    b.wait_text("table.board", "All quiet", Duration::from_secs(10));
    let id = incident_of(&s.wait_alert("zabbix", "db-1"));
    s.wait_incident(id, "resolved by alice", |i| i["state"] == "resolved");

    b.click("#lang-switch option[value=zh]");
    b.wait_text("header nav", "事件", Duration::from_secs(5));
    b.wait_text("table.board", "一切正常", Duration::from_secs(5));
    b.screenshot("board-zh");
    b.set_window_size(390, 844);
    b.screenshot("board-zh-phone");
}
