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
    // Config overrides say where they come from as `origin`: `from` is a time elsewhere.
    assert_eq!(
        one["overrides"],
        json!([{"user": "carol", "start": "2026-03-10T00:00:00+08:00",
                "end": "2026-03-11T00:00:00+08:00", "origin": "config"}])
    );
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
    // Its times are on the schedule's clock, like shifts.
    assert_eq!(made["start"], json!(shanghai(millis(&json!(from)))));
    assert_eq!(made["end"], json!(shanghai(millis(&json!(to)))));
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
    assert_eq!(live["items"][0]["start"], made["start"]);
    assert_eq!(live["items"][0]["end"], made["end"]);
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
    // An unknown schedule is refused before anything goes into the event log.
    s.settle();
    let logged = s.metric("tocsin_log_lsn");
    let m = s
        .request(
            "DELETE",
            &format!("/api/v1/schedules/nope/overrides/{id}"),
            Some(ADMIN),
            None,
        )
        .expect_error(404, "not_found");
    assert_eq!(m, "no schedule \"nope\"");
    s.settle();
    assert_eq!(s.metric("tocsin_log_lsn"), logged, "nothing was logged");
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
    assert!(
        listed.contains(&shanghai(millis(&json!(from)))),
        "times on the schedule's clock: {listed}"
    );
    assert!(cli(&["delete", "-s", "dba-primary", &id]).status.success());
    let listed =
        String::from_utf8(cli(&["list", "-s", "dba-primary", "--deleted"]).stdout).unwrap();
    assert!(listed.contains("[deleted by admin]"), "{listed}");
    let again = cli(&["delete", "-s", "dba-primary", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("HTTP 404"));
}

/// An instant as the schedule answers it: RFC 3339 on Shanghai's clock, whole seconds.
fn shanghai(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

#[test]
fn the_schedule_list_gives_whole_shifts() {
    // Dave and Erin are in no layer, so their overrides join no shift of the layers.
    let config = CONFIG.replace(
        "users:\n",
        "users:\n  - {id: dave, name: Dave}\n  - {id: erin, name: Erin}\n",
    );
    let s = spawn_server(Some(&config));
    // Whole seconds, so the answers (on the schedule's clock, in seconds) are exact.
    let now = jiff::Timestamp::now().as_second() * 1000;
    let path = "/api/v1/schedules/dba-primary/overrides";
    // Dave took over three hours ago until an hour from now; then Erin for 20 days.
    let (a, b, c) = (now - 3 * HOUR, now + HOUR, now + 20 * DAY);
    for (user, from, to) in [("dave", a, b), ("erin", b, c)] {
        s.post(
            path,
            &json!({"user": user, "from": rfc3339(from), "to": rfc3339(to)}),
        )
        .expect(201);
    }
    let list = s.get("/api/v1/schedules").json();
    let one = s.get("/api/v1/schedules/dba-primary").json();
    for v in [&list["items"][0], &one] {
        assert_eq!(v["on_call_now"], json!(["dave"]));
        assert_eq!(
            v["current_shift"],
            json!({"start": shanghai(a), "end": shanghai(b), "user": "dave"}),
            "when the shift began, not the time of the request"
        );
        assert_eq!(
            v["next_shift"],
            json!({"start": shanghai(b), "end": shanghai(c), "user": "erin"}),
            "when the next shift ends, not cut at a week or so"
        );
    }
}

#[test]
fn the_current_shift_of_the_layers_is_whole_and_matches_the_shift_list() {
    let s = spawn_server(Some(CONFIG));
    let now = jiff::Timestamp::now().as_millisecond();
    let v = s.get("/api/v1/schedules/dba-primary").json();
    let shifts = s
        .get(&format!(
            "/api/v1/schedules/dba-primary/shifts?from={}&to={}",
            enc(&rfc3339(now - 8 * DAY)),
            enc(&rfc3339(now + 16 * DAY))
        ))
        .json();
    let shifts = shifts.as_array().unwrap();
    let i = shifts
        .iter()
        .position(|x| millis(&x["start"]) <= now && now < millis(&x["end"]))
        .unwrap();
    assert_eq!(v["current_shift"], shifts[i]);
    assert_eq!(v["next_shift"], shifts[i + 1]);
    // This schedule hands off on the hour.
    for t in ["start", "end"] {
        for shift in ["current_shift", "next_shift"] {
            let text = v[shift][t].as_str().unwrap();
            assert!(text.ends_with(":00:00+08:00"), "{shift}.{t} {text}");
        }
    }
}

/// `DTSTART` and `DTEND` values of a feed, in order.
fn event_times(feed: &str) -> Vec<(String, String)> {
    let starts = feed.lines().filter_map(|l| l.strip_prefix("DTSTART:"));
    let ends = feed.lines().filter_map(|l| l.strip_prefix("DTEND:"));
    starts
        .zip(ends)
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .collect()
}

#[test]
fn calendar_feeds_hold_whole_shifts_and_stay_the_same_between_fetches() {
    let s = spawn_server(Some(CONFIG));
    let made = s.post("/api/v1/users/carol/calendar", &json!({})).json();
    for feed in [
        made["user_feed"].as_str().unwrap(),
        made["schedule_feeds"]["dba-primary"].as_str().unwrap(),
    ] {
        let first = s.get_as(feed, None);
        first.expect(200);
        // Times are in whole seconds: a second later a cut edge would have moved.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let again = s.get_as(feed, None);
        // Everything but DTSTAMP (when the feed was made) is the same on the next fetch.
        let lines = |text: &str| -> Vec<String> {
            text.split("\r\n")
                .filter(|l| !l.starts_with("DTSTAMP:"))
                .map(str::to_string)
                .collect()
        };
        let (a, b) = (lines(&first.body), lines(&again.body));
        let differs = a.iter().zip(&b).find(|(x, y)| x != y);
        assert!(
            differs.is_none() && a.len() == b.len(),
            "{feed}: the next fetch differs: {differs:?}"
        );
        let times = event_times(&first.body);
        assert!(!times.is_empty());
        // Every hand-off of this schedule is on the hour: no event starts or ends at an edge
        // of the window.
        for (start, end) in &times {
            assert!(
                start.ends_with("0000Z") && end.ends_with("0000Z"),
                "{feed}: {start} {end}"
            );
        }
        let ics_ms = |t: &str| {
            jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", t)
                .unwrap()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp()
                .as_millisecond()
        };
        let now = jiff::Timestamp::now().as_millisecond();
        // The schedule feed covers the window whole: the first event began before it.
        if feed.contains("/schedules/") {
            assert!(ics_ms(&times[0].0) <= now - 31 * DAY, "{:?}", times[0]);
            assert!(ics_ms(&times.last().unwrap().1) >= now + 183 * DAY);
        }
    }
}

#[test]
fn the_cli_ends_quietly_when_its_output_pipe_closes() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let s = spawn_server(Some(CONFIG));
    let (from, to) = soon();
    s.post(
        "/api/v1/schedules/dba-primary/overrides",
        &json!({"user": "bob", "from": from, "to": to}),
    )
    .expect(201);
    let config = s.root().join("config.yaml");
    let url = s.url("");
    let runs: [Vec<&str>; 2] = [
        // `tocsin oncall override list --json | head -0`
        vec![
            "oncall",
            "override",
            "list",
            "-s",
            "dba-primary",
            "--json",
            "--url",
            &url,
            "--token",
            ADMIN,
        ],
        // A year of shifts, printed in one piece.
        vec![
            "oncall",
            "shifts",
            "-c",
            config.to_str().unwrap(),
            "-s",
            "dba-primary",
            "--from",
            "2026-03-02T09:00",
            "--to",
            "2027-03-02T09:00",
            "--format",
            "json",
        ],
    ];
    for args in runs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tocsin"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// Follows `$ref`s to what they name.
fn deref<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => deref(
            doc,
            doc.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolved {r}")),
        ),
        None => schema,
    }
}

/// Whether `value` is what the OpenAPI `schema` says: types, enums, required keys, and every
/// key of every object described (an object schema without `properties` describes nothing).
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = deref(doc, schema);
    if value.is_null() {
        return match schema["nullable"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(format!("{at}: null, not nullable")),
        };
    }
    if let Some(all) = schema["allOf"].as_array() {
        return all.iter().try_for_each(|s| conforms(doc, s, value, at));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    let ok = match schema["type"].as_str() {
        Some("object") => {
            let Some(props) = schema["properties"].as_object() else {
                return Err(format!("{at}: described only as an object"));
            };
            for k in schema["required"].as_array().into_iter().flatten() {
                if value.get(k.as_str().unwrap()).is_none() {
                    return Err(format!("{at}: required {k} missing"));
                }
            }
            for (k, v) in value.as_object().ok_or(format!("{at}: not an object"))? {
                let s = props.get(k).ok_or(format!("{at}.{k}: not in the schema"))?;
                conforms(doc, s, v, &format!("{at}.{k}"))?;
            }
            true
        }
        Some("array") => {
            for (i, v) in value
                .as_array()
                .ok_or(format!("{at}: not an array"))?
                .iter()
                .enumerate()
            {
                conforms(doc, &schema["items"], v, &format!("{at}[{i}]"))?;
            }
            true
        }
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        other => return Err(format!("{at}: schema type {other:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{at}: {value} is not a {}", schema["type"]))
    }
}

/// Asserts that the document lists `status` for the operation, and that `body` (when JSON)
/// is what it says.
#[track_caller]
fn documented(doc: &Value, method: &str, path: &str, status: u16, body: &str) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} answered {status}, which openapi.json does not list"
    );
    let schema = &deref(doc, response)["content"]["application/json"]["schema"];
    if !schema.is_null() && !body.is_empty() {
        let value: Value = serde_json::from_str(body).unwrap();
        if let Err(e) = conforms(doc, schema, &value, "answer") {
            panic!("{method} {path} {status}: {e}\n{value:#}");
        }
    }
}

#[test]
fn the_openapi_document_describes_the_answers() {
    let config = format!(
        "{CONFIG}integrations:\n  \
         - {{name: native, kind: tocsin, key: native-key-0123456789abcdef, rate_limit: {{per_second: 0.5, burst: 1}}}}\n  \
         - {{name: prom, kind: alertmanager, key: prom-key-0123456789abcdef, rate_limit: {{per_second: 0.5, burst: 1}}}}\n"
    );
    let s = spawn_server(Some(&config));
    let doc = s.get_as("/api/v1/openapi.json", None).json();
    for path in ["/api/v1/schedules", "/api/v1/schedules/dba-primary"] {
        let r = s.get(path);
        r.expect(200);
        let documented_path = path.replace("dba-primary", "{id}");
        documented(&doc, "get", &documented_path, 200, &r.body);
    }
    let (from, to) = soon();
    let path = "/api/v1/schedules/{id}/overrides";
    let made = s.post(
        "/api/v1/schedules/dba-primary/overrides",
        &json!({"user": "bob", "from": from, "to": to}),
    );
    documented(&doc, "post", path, made.status, &made.body);
    let list = s.get("/api/v1/schedules/dba-primary/overrides");
    documented(&doc, "get", path, list.status, &list.body);
    let r = s.request(
        "DELETE",
        "/api/v1/schedules/nope/overrides/1",
        Some(ADMIN),
        None,
    );
    documented(
        &doc,
        "delete",
        "/api/v1/schedules/{id}/overrides/{override}",
        r.status,
        &r.body,
    );

    // Intake with an integration key as the bearer, past its rate limit.
    let sends: [(&str, &str, Value); 2] = [
        (
            "/api/v1/events",
            "native-key-0123456789abcdef",
            json!({"summary": "disk full"}),
        ),
        (
            "/api/v2/alerts",
            "prom-key-0123456789abcdef",
            json!([{"labels": {"alertname": "DiskFull"}}]),
        ),
    ];
    for (path, key, body) in sends {
        let body = body.to_string();
        let first = s.request("POST", path, Some(key), Some(body.as_bytes()));
        assert!(first.status < 300, "{path}: {first:?}");
        let second = s.request("POST", path, Some(key), Some(body.as_bytes()));
        second.expect_error(429, "rate_limited");
        documented(&doc, "post", path, 429, &second.body);
    }
}
