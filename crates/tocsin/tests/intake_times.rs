//! Times a sender gets wrong (issue 16, item 12): a malformed one is refused naming the
//! field and the item, and nothing is stored; an implausible but well-formed one is
//! replaced, so the alert still pages, and the alert's `tocsin_time_adjusted` label names
//! what was replaced. docs/api.md ("Times tocsin adjusts") describes the rules.

mod common;

use common::*;
use serde_json::json;

const EVENTS: &str = "/api/v1/events";
const AM: &str = "/api/v2/alerts";

/// Asserts that a time from the API is within the window of the request that set it.
#[track_caller]
fn within(time: &serde_json::Value, before: i64, after: i64) {
    let t = millis(time);
    assert!(before <= t && t <= after, "{time} not within the request");
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[test]
fn malformed_times_and_label_names_are_refused_naming_the_item() {
    let s = spawn_server(None);
    for (path, body, expect) in [
        (
            EVENTS,
            json!([{"summary": "a"}, {"summary": "b", "occurred_at": "2026-01-01T00:00:00+25:00"}]),
            "[1].occurred_at: not an RFC 3339 time: the offset",
        ),
        (
            EVENTS,
            json!([{"summary": "a", "labels": {"ho\u{0}st": "db1"}}]),
            "[0].labels: the label name \"ho\\0st\" has a control character",
        ),
        (
            EVENTS,
            json!({"summary": "a", "labels": {"host\n": "db1"}}),
            "labels: the label name \"host\\n\" has a control character",
        ),
        (
            EVENTS,
            json!({"summary": "a", "labels": {"host": "d\u{0}b1"}}),
            "labels.host: the value has a NUL character",
        ),
        (
            AM,
            json!([{"labels": {"a": "1"}}, {"labels": {"a": "2"}, "startsAt": "2026-01-01T00:00:00-24:30"}]),
            "[1].startsAt: not an RFC 3339 time",
        ),
    ] {
        let r = s.post_as(path, None, &body);
        let msg = r.expect_error(400, "bad_request");
        assert!(msg.starts_with(expect), "{body}: {msg}");
    }
    s.settle();
    assert_eq!(s.alert_count(), 0, "a refused request stored alerts");
}

#[test]
fn implausible_times_are_replaced_and_noted() {
    let s = spawn_server(None);
    let before = now();
    s.send_events(&json!([
        {"summary": "zero time", "dedup_key": "zero", "occurred_at": "0001-01-01T00:00:00Z"},
        {"summary": "clock ahead", "dedup_key": "ahead", "occurred_at": time_in(86_400_000)},
        {"summary": "fine", "dedup_key": "fine", "occurred_at": time_in(-60_000)},
    ]));
    let after = now();
    for key in ["zero", "ahead"] {
        let a = s.wait_alert("api", key);
        within(&a["started_at"], before, after);
        assert_eq!(
            a["labels"],
            json!({"tocsin_time_adjusted": "occurred_at"}),
            "{a}"
        );
    }
    let fine = s.wait_alert("api", "fine");
    assert_eq!(
        fine["labels"],
        json!({}),
        "a plausible time is kept as sent"
    );

    // A resolve dated tomorrow happened now; one dated before the alert fired, when it
    // fired: never resolved before it fired.
    let before = now();
    s.send_events(&json!([
        {"summary": "clock ahead", "dedup_key": "ahead", "status": "resolved", "occurred_at": time_in(86_400_000)},
        {"summary": "fine", "dedup_key": "fine", "status": "resolved", "occurred_at": time_in(-3_600_000)},
    ]));
    let after = now();
    let ahead = s.wait_alert_where("resolved", "api", "ahead", |a| a["status"] == "resolved");
    within(&ahead["resolved_at"], before, after);
    let fine = s.wait_alert_where("resolved", "api", "fine", |a| a["status"] == "resolved");
    assert_eq!(fine["resolved_at"], fine["started_at"], "{fine}");

    // Alertmanager: an end before the start is the start (Alertmanager itself would refuse
    // the alert, and Prometheus would drop it).
    s.send_am(&json!([
        {"labels": {"alertname": "Backwards"}, "startsAt": time_in(240_000), "endsAt": time_in(120_000)},
    ]));
    let a = eventually("the Alertmanager alert", || {
        s.all_alerts()
            .into_iter()
            .find(|a| a["name"] == "Backwards")
            .ok_or_else(|| "not stored".to_string())
    });
    assert_eq!(a["status"], "firing", "{a}");
    assert_eq!(a["labels"]["tocsin_time_adjusted"], "ends_at", "{a}");
    assert_eq!(millis(&a["ends_at"]), millis(&a["started_at"]), "{a}");
}
