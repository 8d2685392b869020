//! The console's on-call pages against a spawned server: who is on call on `/ui/oncall`
//! (the same as the API says), a schedule's calendar across the end of US daylight time
//! (a 25-hour day), an override made through the API with the session cookie and CSRF
//! token showing in the calendar, and the policies, services and teams pages with their
//! cross references. Also the override API's `time_zone` field.

mod common;

use common::*;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::{json, Value};

const CONFIG: &str = r#"
users:
  - {id: alice, name: Alice Adams, time_zone: America/New_York}
  - {id: bob, name: Bob Brown, time_zone: America/New_York}
  - {id: carol, name: Carol Chen, time_zone: America/Chicago}
  - {id: dave, name: Dave Dunn, time_zone: America/New_York}
teams:
  - {id: ops, name: Ops Crew, members: [alice, bob], escalation_policy: ops-policy}
  - {id: data, name: Data Team, members: [carol]}
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
    repeat: 2
    levels:
      - {delay: 5m, targets: [{schedule: ops-primary}]}
      - {delay: 10m, targets: [{user: dave}, {team: ops, round_robin: true}]}
services:
  - id: api
    name: Public API
    team: ops
    impact: high
    depends_on: [db]
  - id: db
    name: Main DB
    team: data
    escalation_policy: ops-policy
    support_hours: {time_zone: America/New_York, days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
    correlation: {threshold: 0.7}
"#;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .max_idle_connections(0)
        .build()
}

/// Makes a responder login `alice` (a config user, so her zone is New York) and signs in.
fn sign_in(s: &TestServer) -> console::Session {
    console::sign_in(s, "alice", "responder")
}

fn page(s: &TestServer, me: &console::Session, path: &str) -> String {
    let r = me.get(s, path);
    assert_eq!(r.status, 200, "GET {path}");
    r.body
}

fn api_post(s: &TestServer, me: &console::Session, path: &str, body: &Value) -> (u16, Value) {
    let r = me.post(s, path, body);
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(Value::Null),
    )
}

/// The part of a page from `from` up to the next `to`.
fn section<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in page"));
    let rest = &html[start..];
    &rest[..rest[1..].find(to).map(|i| i + 1).unwrap_or(rest.len())]
}

fn local(rfc3339: &str, zone: &str) -> String {
    let ts: Timestamp = rfc3339.parse().unwrap();
    ts.to_zoned(TimeZone::get(zone).unwrap())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn name(user: &str) -> &'static str {
    match user {
        "alice" => "Alice Adams",
        "bob" => "Bob Brown",
        "carol" => "Carol Chen",
        "dave" => "Dave Dunn",
        other => panic!("unknown user {other}"),
    }
}

#[test]
fn who_is_on_call_matches_the_api() {
    let s = spawn_server(Some(CONFIG));
    let me = sign_in(&s);
    let html = page(&s, &me, "/ui/oncall");
    let api = &s.items("/api/v1/schedules")[0];
    let card = section(&html, r#"id="schedule-ops-primary""#, "</section>");
    assert!(card.contains("Ops Primary"), "{card}");
    let now = api["current_shift"]["user"].as_str().unwrap();
    assert!(
        card.contains(&format!("<strong>{}</strong>", name(now))),
        "on call now is {now}: {card}"
    );
    let until = local(
        api["current_shift"]["end"].as_str().unwrap(),
        "America/New_York",
    );
    assert!(card.contains(&until), "until {until}: {card}");
    let next = api["next_shift"]["user"].as_str().unwrap();
    let next_part = section(card, r#"class="next""#, "</dd>");
    assert!(
        next_part.contains(name(next)),
        "next is {next}: {next_part}"
    );
    let handoff = local(
        api["next_shift"]["start"].as_str().unwrap(),
        "America/New_York",
    );
    assert!(
        next_part.contains(&handoff),
        "hand-off {handoff}: {next_part}"
    );
    assert!(card.contains(r#"href="/ui/oncall/ops-primary""#));
    assert!(card.contains(r#"href="/ui/policies#policy-ops-policy""#));

    // In Chinese too.
    let (status, _) = api_post(&s, &me, "/ui/prefs", &json!({"language": "zh"}));
    assert_eq!(status, 204, "prefs saved");
    let html = page(&s, &me, "/ui/oncall");
    assert!(html.contains("当前值班"), "Chinese page");
}

#[test]
fn the_calendar_draws_a_25_hour_day_when_new_york_leaves_daylight_time() {
    let s = spawn_server(Some(CONFIG));
    let me = sign_in(&s);
    let html = page(&s, &me, "/ui/oncall/ops-primary?start=2026-10-31&days=3");
    let days: Vec<&str> = html
        .match_indices(r#"class="cal-day" data-date=""#)
        .map(|(i, _)| &html[i + 27..i + 37])
        .collect();
    assert_eq!(days, vec!["2026-10-31", "2026-11-01", "2026-11-02"]);
    let sunday = section(&html, r#"data-date="2026-11-01""#, "</section>");
    assert!(
        sunday.contains(r#"data-hours="25""#),
        "a 25-hour day: {sunday}"
    );
    let saturday = section(&html, r#"data-date="2026-10-31""#, "</section>");
    assert!(!saturday.contains("data-hours"), "a 24-hour day");
    // An hour tick per row (two layers and the final row): 01:00 comes twice that day.
    assert_eq!(sunday.matches(r#"class="tick"#).count(), 25 * 3);

    // The nights layer: 20:00 to 08:00 New York time. On Sunday midnight to 08:00 is nine
    // hours of twenty-five, and 20:00 is twenty-one hours after midnight.
    let row = section(sunday, "2 nights", "</div>");
    assert!(row.contains(r#"x="0.000%" width="36.000%""#), "{row}");
    assert!(row.contains(r#"x="84.000%" width="16.000%""#), "{row}");
    let row = section(saturday, "2 nights", "</div>");
    assert!(row.contains(r#"x="83.333%" width="16.667%""#), "{row}");
    // The weekly layer hands over at 09:00 on Monday: alice, then bob.
    let monday = section(&html, r#"data-date="2026-11-02""#, "</section>");
    let weekly = section(monday, "1 weekly", "</div>");
    assert!(
        weekly.contains(r#"x="0.000%" width="37.500%" height="26" data-user="alice""#),
        "{weekly}"
    );
    assert!(
        weekly.contains(r#"x="37.500%" width="62.500%" height="26" data-user="bob""#),
        "{weekly}"
    );
    // The final row: nights win where they have someone (carol since Saturday 20:00, bob
    // from Sunday 20:00), the weekly layer (alice) between.
    let fin = section(sunday, r#"data-row="final""#, "</div>");
    assert!(
        fin.contains(r#"x="0.000%" width="36.000%" height="26" data-user="carol""#),
        "{fin}"
    );
    assert!(
        fin.contains(r#"x="36.000%" width="48.000%" height="26" data-user="alice""#),
        "{fin}"
    );
    assert!(
        fin.contains(r#"x="84.000%" width="16.000%" height="26" data-user="bob""#),
        "{fin}"
    );
    assert!(
        fin.contains("Carol Chen: 2026-10-31 20:00 – 2026-11-01 08:00"),
        "{fin}"
    );

    // Days are checked.
    let r = agent()
        .get(&s.url("/ui/oncall/ops-primary?days=36"))
        .set("Cookie", &me.cookie)
        .call();
    assert!(
        matches!(r, Err(ureq::Error::Status(400, _))),
        "days over 35"
    );
    let r = agent()
        .get(&s.url("/ui/oncall/nope"))
        .set("Cookie", &me.cookie)
        .call();
    assert!(
        matches!(r, Err(ureq::Error::Status(404, _))),
        "unknown schedule"
    );
}

#[test]
fn an_override_made_with_the_session_shows_in_the_calendar() {
    let s = spawn_server(Some(CONFIG));
    let me = sign_in(&s);
    let ny = TimeZone::get("America/New_York").unwrap();
    let day = Timestamp::now()
        .to_zoned(ny)
        .date()
        .checked_add(2.days())
        .unwrap();
    let body = json!({
        "user": "dave",
        "from": format!("{day}T10:00"),
        "to": format!("{day}T14:00"),
        "reason": "swap for the dentist",
        "time_zone": "America/New_York",
    });
    // Without the CSRF token the cookie alone is refused.
    let r = agent()
        .post(&s.url("/api/v1/schedules/ops-primary/overrides"))
        .set("Cookie", &me.cookie)
        .send_json(body.clone());
    assert!(matches!(r, Err(ureq::Error::Status(403, _))), "{r:?}");
    let (status, made) = api_post(&s, &me, "/api/v1/schedules/ops-primary/overrides", &body);
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_i64().unwrap();

    let html = page(
        &s,
        &me,
        &format!("/ui/oncall/ops-primary?start={day}&days=1"),
    );
    let fin = section(&html, r#"data-row="final""#, "</div>");
    assert!(
        fin.contains(
            r#"x="41.667%" width="16.667%" height="26" data-user="dave" data-override="1""#
        ),
        "{fin}"
    );
    let row = section(&html, r#"data-row="overrides""#, "</div>");
    assert!(row.contains("Dave Dunn"), "{row}");
    let listed = section(&html, &format!(r#"data-override="{id}""#), "</tr>");
    assert!(
        listed.contains("Dave Dunn") && listed.contains("swap for the dentist"),
        "{listed}"
    );
    assert!(listed.contains(&format!("{day} 10:00")), "{listed}");
    assert!(
        listed.contains(&format!(
            r#"data-delete="/api/v1/schedules/ops-primary/overrides/{id}""#
        )),
        "{listed}"
    );
    // The form sends the viewer's zone with the wall-clock times (`/` escaped as `&#x2f;`).
    assert!(
        html.contains(r#"<input type="hidden" name="time_zone" value="America&#x2f;New_York">"#)
    );
    assert!(html.contains(r#"data-api="/api/v1/schedules/ops-primary/overrides""#));
}

#[test]
fn override_times_may_be_wall_clock_in_a_given_zone() {
    let s = spawn_server(Some(CONFIG));
    let day = Timestamp::now()
        .to_zoned(TimeZone::UTC)
        .date()
        .checked_add(3.days())
        .unwrap();
    // 22:00 in Shanghai is 09:00 or 10:00 in New York, depending on daylight time there.
    let made = s
        .post(
            "/api/v1/schedules/ops-primary/overrides",
            &json!({"user": "bob", "from": format!("{day}T22:00"), "to": format!("{day}T23:00"),
                    "time_zone": "Asia/Shanghai"}),
        )
        .expect(201)
        .json();
    let want = day
        .at(22, 0, 0, 0)
        .to_zoned(TimeZone::get("Asia/Shanghai").unwrap())
        .unwrap()
        .timestamp();
    let got: Timestamp = made["start"].as_str().unwrap().parse().unwrap();
    assert_eq!(got, want, "{made}");
    // Times with an offset are instants whatever the zone.
    let made = s
        .post(
            "/api/v1/schedules/ops-primary/overrides",
            &json!({"user": "bob", "from": format!("{day}T10:00:00Z"), "to": format!("{day}T11:00:00Z"),
                    "time_zone": "Asia/Shanghai"}),
        )
        .expect(201)
        .json();
    let got: Timestamp = made["start"].as_str().unwrap().parse().unwrap();
    assert_eq!(got.to_string(), format!("{day}T10:00:00Z"));
    let m = s
        .post(
            "/api/v1/schedules/ops-primary/overrides",
            &json!({"user": "bob", "from": format!("{day}T10:00"), "to": format!("{day}T11:00"),
                    "time_zone": "Mars/Base"}),
        )
        .expect_error(400, "bad_request");
    assert!(m.contains("time_zone"), "{m}");
}

#[test]
fn policies_services_and_teams_show_where_each_is_used() {
    let s = spawn_server(Some(CONFIG));
    let me = sign_in(&s);
    // An open incident on db.
    s.send_events(&json!([{"summary": "db down", "severity": "critical", "dedup_key": "k1", "service": "db"}]));
    s.settle();

    let html = page(&s, &me, "/ui/policies");
    let p = section(&html, r#"id="policy-ops-policy""#, "</section>");
    assert!(p.contains("Ops Escalation"), "{p}");
    assert!(
        p.contains(r#"<a href="/ui/oncall/ops-primary">Ops Primary</a>"#),
        "{p}"
    );
    assert!(p.contains("Dave Dunn"), "{p}");
    assert!(
        p.contains(r#"<a href="/ui/teams#team-ops">Ops Crew</a>"#),
        "{p}"
    );
    assert!(p.contains("round robin"), "{p}");
    assert!(p.contains("5m") && p.contains("2 more times"), "{p}");
    // Services: db names it, api gets it from its team; the team ops uses it.
    assert!(
        p.contains(r#"<a href="/ui/services#service-db">Main DB</a>"#),
        "{p}"
    );
    assert!(p.contains(r#"<a href="/ui/services#service-api">Public API</a> <span class="muted small">(via its team)"#), "{p}");
    assert!(
        p.contains(r#"<a href="/ui/teams#team-ops">Ops Crew</a></dd>"#),
        "{p}"
    );

    let html = page(&s, &me, "/ui/services");
    let db = section(&html, r#"id="service-db""#, "</section>");
    assert!(
        db.contains(r#"<a href="/ui/teams#team-data">Data Team</a>"#),
        "{db}"
    );
    assert!(
        db.contains(r#"<a href="/ui/policies#policy-ops-policy">Ops Escalation</a>"#),
        "{db}"
    );
    assert!(db.contains("mon, tue, wed, thu, fri 09:00–17:00"), "{db}");
    assert!(db.contains("threshold 0.70"), "{db}");
    assert!(
        db.contains(r##"<a href="#service-api">Public API</a>"##),
        "needed by api: {db}"
    );
    assert!(
        db.contains(r#"service=db">1</a>"#),
        "one open incident: {db}"
    );
    let api = section(&html, r#"id="service-api""#, "</section>");
    assert!(api.contains("high"), "{api}");
    assert!(
        api.contains(r##"<a href="#service-db">Main DB</a>"##),
        "{api}"
    );
    assert!(api.contains("(via its team)"), "{api}");
    assert!(api.contains(r#"service=api">0</a>"#), "{api}");

    let html = page(&s, &me, "/ui/teams");
    let ops = section(&html, r#"id="team-ops""#, "</section>");
    assert!(ops.contains("Alice Adams, Bob Brown"), "{ops}");
    assert!(
        ops.contains(r#"<a href="/ui/policies#policy-ops-policy">Ops Escalation</a>"#),
        "{ops}"
    );
    assert!(
        ops.contains(r#"<a href="/ui/services#service-api">Public API</a>"#),
        "{ops}"
    );
    let data = section(&html, r#"id="team-data""#, "</section>");
    assert!(
        data.contains(r#"<a href="/ui/services#service-db">Main DB</a>"#),
        "{data}"
    );
}
