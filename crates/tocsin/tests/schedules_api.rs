//! On-call schedules over HTTP against a spawned server: the schedule list, who is on call,
//! the shift list (the same as `tocsin oncall shifts`), the report of gaps and load, and the
//! iCalendar feeds read by Python's `icalendar` parser.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

const CONFIG: &str = r#"
channels:
  - {id: mail, type: email, host: localhost, tls: none, from: tocsin@example.com}
users:
  - {id: alice, name: Alice Wang, time_zone: Asia/Shanghai, language: zh, contacts: [{type: email, to: alice@example.com}]}
  - {id: bob, name: Bob Li, time_zone: Asia/Shanghai}
  - {id: carol, name: Carol Zhang, time_zone: Europe/London}
schedules:
  - id: dba-primary
    name: DBA 一线
    time_zone: Asia/Shanghai
    layers:
      - name: weekly
        rotation: {every: 1w, start: "2026-03-02T09:00"}
        users: [alice, bob, carol]
      - name: weeknights
        rotation: {every: 1d, start: "2026-03-02T20:00"}
        users: [bob, carol]
        restrictions:
          - {days: [mon, tue, wed, thu, fri], from: "20:00", to: "08:00"}
    overrides:
      - {user: carol, from: "2026-03-10T00:00:00+08:00", to: "2026-03-11T00:00:00+08:00"}
"#;

const FROM: &str = "2026-03-02T09:00:00%2B08:00";
const TO: &str = "2026-03-16T09:00:00%2B08:00";

#[test]
fn shifts_and_who_match_the_cli() {
    let s = spawn_server(Some(CONFIG));
    let api = s.get(&format!(
        "/api/v1/schedules/dba-primary/shifts?from={FROM}&to={TO}"
    ));
    api.expect(200);
    let config = s.root().join("config.yaml");
    let cli = tocsin(&[
        "oncall",
        "shifts",
        "-c",
        config.to_str().unwrap(),
        "-s",
        "dba-primary",
        "--from",
        "2026-03-02T09:00:00+08:00",
        "--to",
        "2026-03-16T09:00:00+08:00",
        "--format",
        "json",
    ]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api.json(), cli, "the API and the CLI give the same list");
    assert_eq!(
        cli[0],
        json!({"start": "2026-03-02T09:00:00+08:00", "end": "2026-03-02T20:00:00+08:00", "user": "alice"})
    );

    let who = s
        .get("/api/v1/schedules/dba-primary/oncall?at=2026-03-03T02:00")
        .json();
    assert_eq!(who["users"], json!(["bob"]));
    assert_eq!(who["at"], json!("2026-03-03T02:00:00+08:00"));

    let one = s.get("/api/v1/schedules/dba-primary").json();
    assert_eq!(one["name"], json!("DBA 一线"));
    assert_eq!(
        one["layers"][1]["restrictions"][0]["days"],
        json!(["mon", "tue", "wed", "thu", "fri"])
    );
    assert_eq!(one["layers"][0]["every"], json!("1w"));
    let list = s.get("/api/v1/schedules").json();
    assert_eq!(list["items"][0]["id"], json!("dba-primary"));
    let users = s.get("/api/v1/users").json();
    assert_eq!(users["items"][0]["schedules"], json!(["dba-primary"]));
    assert_eq!(
        users["items"][0]["contacts"],
        json!(["email"]),
        "addresses are not shown"
    );
}

#[test]
fn the_report_gives_gaps_and_night_hours() {
    let s = spawn_server(Some(CONFIG));
    let r = s
        .get("/api/v1/schedules/dba-primary/report?from=2026-03-02T00:00&to=2026-03-09T09:00")
        .json();
    assert_eq!(
        r["gaps"],
        json!([{"start": "2026-03-02T00:00:00+08:00", "end": "2026-03-02T09:00:00+08:00"}])
    );
    let hours: f64 = r["load"]
        .as_object()
        .unwrap()
        .values()
        .map(|l| l["hours"].as_f64().unwrap())
        .sum();
    assert_eq!(hours, 7.0 * 24.0);
    assert!(r["load"]["bob"]["night_hours"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_requests_say_what_is_wrong() {
    let s = spawn_server(Some(CONFIG));
    s.get("/api/v1/schedules/nope/shifts")
        .expect_error(404, "not_found");
    let m = s
        .get("/api/v1/schedules/dba-primary/shifts?from=tomorrow")
        .expect_error(400, "bad_request");
    assert!(m.starts_with("from: \"tomorrow\" is not a time"), "{m}");
    let m = s
        .get("/api/v1/schedules/dba-primary/shifts?from=2026-03-02T00:00&to=2028-03-02T00:00")
        .expect_error(400, "bad_request");
    assert!(m.contains("367 days"), "{m}");
    s.get("/api/v1/schedules/dba-primary/oncall?when=now")
        .expect_error(400, "bad_request");
    s.get_as("/api/v1/schedules", None)
        .expect_error(401, "unauthorized");
}

#[test]
fn calendar_feeds_parse_and_match_the_shifts() {
    let s = spawn_server(Some(CONFIG));
    s.post_as("/api/v1/users/alice/calendar", None, &json!({}))
        .expect_error(401, "unauthorized");
    s.post("/api/v1/users/nobody/calendar", &json!({}))
        .expect_error(404, "not_found");
    let made = s.post("/api/v1/users/carol/calendar", &json!({}));
    made.expect(201);
    let made = made.json();
    let user_feed = made["user_feed"].as_str().unwrap().to_string();
    let schedule_feed = made["schedule_feeds"]["dba-primary"]
        .as_str()
        .unwrap()
        .to_string();
    // No Authorization header: the token in the path is the credential.
    let feed = s.get_as(&user_feed, None);
    feed.expect(200);
    let sched = s.get_as(&schedule_feed, None);
    sched.expect(200);
    s.get_as("/calendar/not-a-token/user.ics", None)
        .expect_error(404, "not_found");

    // The feeds cover the last month and the next half year from now; compare with the API's
    // shift list over the same range, parsed by a real iCalendar parser.
    let shifts = s
        .get("/api/v1/schedules/dba-primary/shifts?from=now&to=now")
        .status;
    assert_eq!(shifts, 400, "an empty range is refused");
    if !have_tool("python3") {
        return;
    }
    let events = parse_ics(&sched.body);
    assert!(!events.is_empty());
    let first = &events[0];
    let api = s
        .get(&format!(
            "/api/v1/schedules/dba-primary/shifts?from={}&to={}",
            enc(&first["start"].as_str().unwrap().replace('Z', "+00:00")),
            enc(&events.last().unwrap()["end"]
                .as_str()
                .unwrap()
                .replace('Z', "+00:00"))
        ))
        .json();
    assert_eq!(
        api.as_array().unwrap().len(),
        events.len(),
        "one event per shift"
    );
    let mine = parse_ics(&feed.body);
    assert!(mine
        .iter()
        .all(|e| e["summary"] == json!("On call: DBA 一线")));
    let carols = events
        .iter()
        .filter(|e| e["summary"].as_str().unwrap().starts_with("Carol Zhang"))
        .count();
    assert_eq!(
        mine.len(),
        carols,
        "carol's feed holds her shifts of the schedule"
    );
    // A new token replaces the old one.
    s.post("/api/v1/users/carol/calendar", &json!({}))
        .expect(201);
    s.get_as(&user_feed, None).expect_error(404, "not_found");
}

/// The VEVENTs of a feed as `{start, end, summary, uid}`, by Python's `icalendar`.
fn parse_ics(text: &str) -> Vec<Value> {
    let script = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
out = []
for e in cal.walk("VEVENT"):
    out.append({"start": e.decoded("DTSTART").isoformat().replace("+00:00", "Z"),
                "end": e.decoded("DTEND").isoformat().replace("+00:00", "Z"),
                "summary": str(e.get("SUMMARY")), "uid": str(e.get("UID"))})
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// The start of the next hour, and two hours after it (RFC 3339, UTC).
fn soon() -> (String, String) {
    let now = jiff::Timestamp::now().as_second();
    let hour = |h: i64| {
        jiff::Timestamp::from_second((now / 3600 + h) * 3600)
            .unwrap()
            .to_string()
    };
    (hour(1), hour(3))
}

#[test]
fn runtime_overrides_are_durable_audited_and_win() {
    let mut s = spawn_server(Some(CONFIG));
    let (from, to) = soon();
    let path = "/api/v1/schedules/dba-primary/overrides";
    let body = json!({"user": "bob", "from": from, "to": to, "reason": "swap with alice"});
    // Viewers may read, not change.
    s.post_as(path, None, &body)
        .expect_error(401, "unauthorized");
    let made = s.post(path, &body);
    made.expect(201);
    let made = made.json();
    assert_eq!(made["created_by"], json!("admin"));
    assert_eq!(made["reason"], json!("swap with alice"));
    let id = made["id"].as_i64().unwrap();
    // A later override wins where they overlap.
    let later = s.post(path, &json!({"user": "carol", "from": from, "to": to}));
    later.expect(201);
    let later_id = later.json()["id"].as_i64().unwrap();
    let who = |s: &TestServer| {
        s.get(&format!(
            "/api/v1/schedules/dba-primary/oncall?at={}",
            enc(&from)
        ))
        .json()["users"]
            .clone()
    };
    assert_eq!(who(&s), json!(["carol"]));
    s.request("DELETE", &format!("{path}/{later_id}"), Some(ADMIN), None)
        .expect(204);
    assert_eq!(who(&s), json!(["bob"]));
    // Kept across a restart, with the deleted one in the audit trail.
    s.restart();
    assert_eq!(who(&s), json!(["bob"]));
    let all = s.get(&format!("{path}?deleted=true")).json();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let deleted = items.iter().find(|o| o["id"] == json!(later_id)).unwrap();
    assert_eq!(deleted["deleted_by"], json!("admin"));
    let live = s.get(path).json();
    assert_eq!(live["items"].as_array().unwrap().len(), 1);
    assert_eq!(live["items"][0]["id"], json!(id));
    // The shift list and the calendar feeds see it too.
    let shifts = s
        .get(&format!(
            "/api/v1/schedules/dba-primary/shifts?from={}&to={}",
            enc(&from),
            enc(&to)
        ))
        .json();
    assert_eq!(shifts.as_array().unwrap().len(), 1, "{shifts}");
    assert_eq!(shifts[0]["user"], json!("bob"));

    // Mistakes are 4xx with a message, and nothing is made.
    for (bad, needle) in [
        (
            json!({"user": "zed", "from": from, "to": to}),
            "user: no user",
        ),
        (
            json!({"user": "bob", "from": to, "to": from}),
            "to: must be after from",
        ),
        (
            json!({"user": "bob", "from": "2020-01-01T00:00", "to": "2020-01-02T00:00"}),
            "over already",
        ),
        (json!({"user": "bob", "from": from}), "invalid override"),
        (
            json!({"user": "bob", "from": from, "to": to, "extra": 1}),
            "invalid override",
        ),
    ] {
        let m = s.post(path, &bad).expect_error(400, "bad_request");
        assert!(m.contains(needle), "{bad}: {m}");
    }
    s.post("/api/v1/schedules/nope/overrides", &body)
        .expect_error(404, "not_found");
    s.request("DELETE", &format!("{path}/{later_id}"), Some(ADMIN), None)
        .expect_error(404, "not_found");
    assert_eq!(s.get(path).json()["items"].as_array().unwrap().len(), 1);
}

#[test]
fn the_cli_adds_lists_and_deletes_overrides() {
    let s = spawn_server(Some(CONFIG));
    let (from, to) = soon();
    let url = s.url("");
    let cli = |args: &[&str]| {
        let mut all = vec!["oncall", "override"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--url", &url, "--token", ADMIN]);
        tocsin(&all)
    };
    let out = cli(&[
        "add",
        "-s",
        "dba-primary",
        "-u",
        "carol",
        "--from",
        &from,
        "--to",
        &to,
        "-r",
        "night swap",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.contains("carol") && line.contains("by admin: night swap"),
        "{line}"
    );
    let id = line.split_whitespace().next().unwrap().to_string();
    let listed = String::from_utf8(cli(&["list", "-s", "dba-primary"]).stdout).unwrap();
    assert!(listed.starts_with(&id), "{listed}");
    assert!(cli(&["delete", "-s", "dba-primary", &id]).status.success());
    let listed =
        String::from_utf8(cli(&["list", "-s", "dba-primary", "--deleted"]).stdout).unwrap();
    assert!(listed.contains("[deleted by admin]"), "{listed}");
    let again = cli(&["delete", "-s", "dba-primary", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("HTTP 404"));
}
