//! The on-call calendar in a real headless Chromium: sign in, open a schedule's calendar,
//! fill and send the override form (which goes to the JSON API through app.js with the
//! session and its CSRF token), and see the override in the calendar and the list; on a
//! desktop and on a 390-pixel-wide phone, with screenshots in `target/screenshots/`.

mod common;

use common::browser::Browser;
use common::*;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::json;
use std::time::Duration;

const CONFIG: &str = r#"
users:
  - {id: alice, name: Alice Adams, time_zone: America/New_York}
  - {id: bob, name: Bob Brown, time_zone: America/New_York}
  - {id: carol, name: Carol Chen, time_zone: America/Chicago}
  - {id: dave, name: Dave Dunn, time_zone: America/New_York}
teams:
  - {id: ops, name: Ops Crew, members: [alice, bob], escalation_policy: ops-policy}
schedules:
  - id: ops-primary
    name: Ops Primary
    time_zone: America/New_York
    layers:
      - name: weekly
        rotation: {every: 1w, start: "2026-10-26T09:00"}
        users: [alice, bob, carol]
      - name: nights
        rotation: {every: 1d, start: "2026-10-26T20:00"}
        users: [bob, carol]
        restrictions:
          - {days: [mon, tue, wed, thu, fri, sat, sun], from: "20:00", to: "08:00"}
escalation_policies:
  - id: ops-policy
    name: Ops Escalation
    levels:
      - {delay: 5m, targets: [{schedule: ops-primary}]}
      - {delay: 10m, targets: [{user: dave}]}
services:
  - {id: api, name: Public API, team: ops, depends_on: [db]}
  - {id: db, name: Main DB, team: ops}
"#;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn an_override_made_with_the_calendar_form_shows_in_the_calendar() {
    let Some(b) = Browser::start() else {
        return;
    };
    let s = spawn_server(Some(CONFIG));

    b.set_window_size(1366, 768);
    console::sign_in_browser(&b, &s, "alice", "responder");
    b.wait_for("header.top nav", WAIT);

    b.goto(&s.url("/ui/oncall"));
    b.wait_text("#schedule-ops-primary", "Ops Primary", WAIT);
    b.screenshot("oncall-summary-desktop");

    // Two days ahead on New York's clock (Alice's zone), 10:00 to 14:00.
    let ny = TimeZone::get("America/New_York").unwrap();
    let day = Timestamp::now()
        .to_zoned(ny)
        .date()
        .checked_add(2.days())
        .unwrap();
    b.goto(&s.url(&format!("/ui/oncall/ops-primary?start={day}&days=3")));
    b.wait_for(".cal-day", WAIT);
    assert!(
        b.find_all("[data-row=final] svg[data-user=dave]")
            .is_empty(),
        "no override yet"
    );
    b.click("select[name=user] option[value=dave]");
    // A datetime-local field takes its value as the date picker would set it.
    b.script(&format!(
        "document.querySelector('input[name=from]').value = '{day}T10:00';
         document.querySelector('input[name=to]').value = '{day}T14:00';"
    ));
    b.fill("input[name=reason]", "covering for the dentist");
    b.click(".override-form button[type=submit]");

    b.wait_for(
        "[data-row=final] svg[data-user=dave][data-override='1']",
        WAIT,
    );
    let row = b.wait_text("table.overrides tbody tr[data-override]", "Dave Dunn", WAIT);
    let text = row.text();
    assert!(text.contains(&format!("{day} 10:00")), "{text}");
    assert!(text.contains(&format!("{day} 14:00")), "{text}");
    assert!(text.contains("covering for the dentist"), "{text}");
    // The API agrees: 10:00 New York time, on the schedule's clock.
    let listed = s.items("/api/v1/schedules/ops-primary/overrides");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["user"], json!("dave"));
    let start: Timestamp = listed[0]["start"].as_str().unwrap().parse().unwrap();
    let want = day
        .at(10, 0, 0, 0)
        .to_zoned(TimeZone::get("America/New_York").unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(start, want);
    b.script("window.scrollTo(0, 0);");
    b.screenshot("oncall-desktop");

    b.set_window_size(390, 844);
    b.goto(&s.url(&format!("/ui/oncall/ops-primary?start={day}&days=3")));
    b.wait_for("[data-row=final] svg[data-user=dave]", WAIT);
    let fits = b.script("return document.documentElement.scrollWidth <= window.innerWidth;");
    assert_eq!(fits, json!(true), "no sideways scrolling on a phone");
    b.screenshot("oncall-phone");
    b.script("document.getElementById('overrides').scrollIntoView();");
    b.screenshot("oncall-phone-overrides");
    for page in ["oncall", "policies", "services", "teams"] {
        b.goto(&s.url(&format!("/ui/{page}")));
        b.wait_for("main h1", WAIT);
        let fits = b.script("return document.documentElement.scrollWidth <= window.innerWidth;");
        assert_eq!(fits, json!(true), "{page} fits a phone");
        b.screenshot(&format!("{page}-list-phone"));
    }
    b.set_window_size(1366, 768);
    b.goto(&s.url("/ui/services"));
    b.wait_text("#service-api", "Main DB", WAIT);
    b.screenshot("services-desktop");
    b.click("#service-api a[href='/ui/policies#policy-ops-policy']");
    b.wait_text("#policy-ops-policy", "Public API", WAIT);
    b.screenshot("policies-desktop");
}
