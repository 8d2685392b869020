//! Refused input: every bad request answers 4xx with a JSON error, stores nothing, and leaves
//! the server serving.

mod common;

use common::*;
use serde_json::{json, Value};

const LIMITS: &str =
    "intake: {loopback_without_token: true, max_body_bytes: 1000, max_events_per_request: 5}\n";

const EVENTS: &str = "/api/v1/events";
const AM: &str = "/api/v2/alerts";

/// A server with one stored alert, so "nothing changed" has something to compare with.
fn server(config: Option<&str>) -> TestServer {
    let s = spawn_server(config);
    s.send_events(&json!({"summary": "baseline", "dedup_key": "baseline"}));
    s.wait_alert("api", "baseline");
    s.settle();
    s
}

/// Posts a body that must be refused with `status`, then checks that nothing reached the
/// event log or the store and that the server still answers.
#[track_caller]
fn refused(s: &TestServer, path: &str, body: &[u8], status: u16, code: &str) -> String {
    let lsn = s.metric("tocsin_log_lsn");
    let alerts = s.alert_count();
    let r = s.post_raw(path, None, body);
    let msg = r.expect_error(status, code);
    s.settle();
    assert_eq!(
        s.metric("tocsin_log_lsn"),
        lsn,
        "a refused request reached the event log: {}",
        String::from_utf8_lossy(body)
    );
    assert_eq!(s.alert_count(), alerts, "a refused request stored alerts");
    s.get_as("/-/healthy", None).expect(200);
    msg
}

#[test]
fn malformed_json_is_refused() {
    let s = server(None);
    for body in [
        r#"{"summary": "a""#,
        r#"{"summary": "a"} trailing"#,
        r#"{"summary": "a"}{"summary": "b"}"#,
        r#"[{"summary": "a"},]"#,
        r#"{summary: "a"}"#,
        r#"{'summary': 'a'}"#,
        "[",
        "{",
        "42",
        "\"just a string\"",
        "null",
        "true",
        "<xml/>",
    ] {
        refused(&s, EVENTS, body.as_bytes(), 400, "bad_request");
    }
    for body in [
        "[{\"labels\": {\"a\": \"1\"}}",
        "{\"labels\": {\"a\": \"1\"}}",
        "null",
        "x",
    ] {
        refused(&s, AM, body.as_bytes(), 400, "bad_request");
    }
}

#[test]
fn wrong_types_and_values_are_refused_with_the_place_named() {
    let s = server(None);
    for (body, place) in [
        (r#"{"summary": 5}"#, "summary"),
        (r#"{"summary": null}"#, "summary"),
        (r#"{"summary": ["a"]}"#, "summary"),
        (r#"{"summary": "a", "labels": {"n": 5}}"#, "labels.n"),
        (r#"{"summary": "a", "labels": ["x"]}"#, "labels"),
        (r#"{"summary": "a", "severity": "fatal"}"#, "severity"),
        (r#"{"summary": "a", "status": "open"}"#, "status"),
        (r#"{"summary": "a", "status": "Firing"}"#, "status"),
        (r#"{"summary": "a", "links": "http://x"}"#, "links"),
        (
            r#"{"summary": "a", "links": [{"text": "no href"}]}"#,
            "links",
        ),
        (
            r#"{"summary": "a", "occurred_at": "yesterday"}"#,
            "occurred_at",
        ),
        (
            r#"{"summary": "a", "occurred_at": 1700000000}"#,
            "occurred_at",
        ),
        (r#"{"summary": "a", "dedup_key": 7}"#, "dedup_key"),
        (
            r#"[{"summary": "ok"}, {"summary": "b", "severity": "fatal"}]"#,
            "[1].severity",
        ),
    ] {
        let msg = refused(&s, EVENTS, body.as_bytes(), 400, "bad_request");
        assert!(msg.contains(place), "{body}: {msg:?} does not name {place}");
    }
}

#[test]
fn values_out_of_bounds_are_refused() {
    let s = server(None);
    let long = |n: usize| "x".repeat(n);
    let labels: serde_json::Map<String, Value> =
        (0..129).map(|i| (format!("l{i}"), json!("v"))).collect();
    let links: Vec<Value> = (0..17)
        .map(|i| json!({"href": format!("http://l/{i}")}))
        .collect();
    for body in [
        json!({"summary": ""}),
        json!({"summary": "   "}),
        json!({"description": "no summary"}),
        json!({"summary": long(2049)}),
        json!({"summary": "a", "source": ""}),
        json!({"summary": "a", "source": long(513)}),
        json!({"summary": "a", "dedup_key": ""}),
        json!({"summary": "a", "dedup_key": long(513)}),
        json!({"summary": "a", "service": long(513)}),
        json!({"summary": "a", "description": long(64 * 1024 + 1)}),
        json!({"summary": "a", "labels": labels}),
        json!({"summary": "a", "labels": {"": "empty name"}}),
        json!({"summary": "a", "labels": {"k": long(4097)}}),
        json!({"summary": "a", "labels": {long(257): "v"}}),
        json!({"summary": "a", "links": links}),
        json!({"summary": "a", "links": [{"href": long(2049)}]}),
    ] {
        refused(&s, EVENTS, body.to_string().as_bytes(), 400, "bad_request");
    }
    // The largest allowed values are fine.
    s.send_events(&json!({"summary": long(2048), "dedup_key": long(512)}));
}

#[test]
fn unknown_fields_in_tocsin_events_are_refused() {
    let s = server(None);
    for (body, field) in [
        (r#"{"summary": "a", "serverity": "high"}"#, "serverity"),
        (
            r#"[{"summary": "a"}, {"summary": "b", "title": "x"}]"#,
            "title",
        ),
        (
            r#"{"summary": "a", "links": [{"href": "http://x", "url": "http://y"}]}"#,
            "url",
        ),
    ] {
        let msg = refused(&s, EVENTS, body.as_bytes(), 400, "bad_request");
        assert!(msg.contains(field), "{msg}");
    }
}

#[test]
fn empty_bodies_and_arrays_are_refused() {
    let s = server(None);
    for body in ["", "   \n", "[]", " [ ] "] {
        refused(&s, EVENTS, body.as_bytes(), 400, "bad_request");
        refused(&s, AM, body.as_bytes(), 400, "bad_request");
    }
    refused(&s, EVENTS, b"{}", 400, "bad_request");
    refused(&s, EVENTS, b"[{}]", 400, "bad_request");
}

#[test]
fn invalid_utf8_is_refused() {
    let s = server(None);
    for body in [
        &b"{\"summary\": \"\xff\xfe\"}"[..],
        b"{\"summary\": \"ok\", \"labels\": {\"h\xc3\x28\": \"v\"}}",
        b"\xef\xbb\xbf{\"summary\": \"bom\"}",
        b"{\"summary\": \"\xed\xa0\x80 surrogate\"}",
    ] {
        refused(&s, EVENTS, body, 400, "bad_request");
    }
    refused(
        &s,
        AM,
        b"[{\"labels\": {\"alertname\": \"\xc0\xaf\"}}]",
        400,
        "bad_request",
    );
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    let s = server(Some(LIMITS));
    let sized = |n: usize| {
        let skeleton = json!({"summary": "", "dedup_key": "sized"}).to_string();
        json!({"summary": "s".repeat(n - skeleton.len()), "dedup_key": "sized"}).to_string()
    };
    let big = sized(1001);
    assert_eq!(big.len(), 1001);
    // With a Content-Length.
    let msg = refused(&s, EVENTS, big.as_bytes(), 413, "too_large");
    assert!(msg.contains("1000"), "{msg}");
    refused(&s, EVENTS, sized(5000).as_bytes(), 413, "too_large");
    // Without one (chunked), the limit holds while reading.
    let lsn = s.metric("tocsin_log_lsn");
    s.post_chunked(EVENTS, None, big.clone().into_bytes())
        .expect_error(413, "too_large");
    s.post_chunked(AM, None, format!("[{}]", " ".repeat(3000)).into_bytes())
        .expect_error(413, "too_large");
    s.settle();
    assert_eq!(s.metric("tocsin_log_lsn"), lsn);
    assert_eq!(s.alert_count(), 1);
    // Exactly at the limit is accepted, chunked or not.
    let exact = sized(1000);
    assert_eq!(exact.len(), 1000);
    s.post_raw(EVENTS, None, exact.as_bytes()).expect(202);
    s.post_chunked(EVENTS, None, exact.into_bytes()).expect(202);
    let a = s.wait_alert_where("stored twice", "api", "sized", |a| a["occurrences"] == 2);
    assert_eq!(a["status"], "firing");
    assert!(
        s.metric("tocsin_intake_rejected_total{reason=\"too_large\"}") >= Some(4.0),
        "rejections are counted"
    );
}

#[test]
fn too_many_events_in_one_request_are_refused() {
    let s = server(Some(LIMITS));
    let events = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"summary": "e", "dedup_key": format!("e{i}")}))
                .collect(),
        )
        .to_string()
    };
    let msg = refused(&s, EVENTS, events(6).as_bytes(), 400, "bad_request");
    assert!(msg.contains("at most 5"), "{msg}");
    // Refused at the first item too many, before the rest is read (issue 16, item 11): what
    // follows it is not even JSON.
    let tiny = format!(
        "[{}, this is never read",
        [r#"{"summary": "e"}"#; 6].join(",")
    );
    let msg = refused(&s, EVENTS, tiny.as_bytes(), 400, "bad_request");
    assert_eq!(
        msg,
        "the array: more than 5 items in one request; at most 5 are allowed \
         (intake.max_events_per_request)"
    );
    let alerts = Value::Array(
        (0..6)
            .map(|i| json!({"labels": {"a": format!("{i}")}}))
            .collect(),
    )
    .to_string();
    refused(&s, AM, alerts.as_bytes(), 400, "bad_request");
    let tiny = format!(
        "[{}, this is never read",
        [r#"{"labels": {"a": "1"}}"#; 6].join(",")
    );
    let msg = refused(&s, AM, tiny.as_bytes(), 400, "bad_request");
    assert!(msg.contains("intake.max_events_per_request"), "{msg}");
    s.post_raw(EVENTS, None, events(5).as_bytes()).expect(202);
    eventually("five more alerts", || match s.alert_count() {
        6 => Ok(()),
        n => Err(format!("{n}")),
    });
}

#[test]
fn bad_alertmanager_alerts_are_refused() {
    let s = server(None);
    for (body, expect) in [
        (r#"[{"labels": {}}]"#, "at least one label"),
        (r#"[{"annotations": {"summary": "x"}}]"#, "labels"),
        (r#"[{"labels": {"bad-name": "1"}}]"#, "bad-name"),
        (r#"[{"labels": {"1abc": "1"}}]"#, "1abc"),
        (r#"[{"labels": {"": "1"}}]"#, "label"),
        (r#"[{"labels": {"has space": "1"}}]"#, "has space"),
        (r#"[{"labels": {"ünï": "1"}}]"#, "label"),
        (r#"[{"labels": {"a": 1}}]"#, "labels.a"),
        (r#"[{"labels": {"a": null}}]"#, "labels.a"),
        (r#"[{"labels": ["a"]}]"#, "labels"),
        (
            r#"[{"labels": {"a": "1"}, "annotations": {"summary": 5}}]"#,
            "annotations",
        ),
        (r#"[{"labels": {"a": "1"}, "startsAt": "now"}]"#, "startsAt"),
        (
            r#"[{"labels": {"a": "1"}, "endsAt": "tomorrow"}]"#,
            "endsAt",
        ),
        (r#"[{"labels": {"a": "1"}}, {"labels": {}}]"#, "[1]"),
        (r#"[5]"#, ""),
        (r#"[[]]"#, ""),
    ] {
        let msg = refused(&s, AM, body.as_bytes(), 400, "bad_request");
        assert!(msg.contains(expect), "{body}: {msg}");
    }
}

#[test]
fn one_bad_item_refuses_the_whole_request() {
    let s = server(None);
    let body = json!([
        {"summary": "good 1", "dedup_key": "g1"},
        {"summary": "good 2", "dedup_key": "g2"},
        {"summary": "bad", "severity": "apocalyptic"}
    ]);
    let msg = refused(&s, EVENTS, body.to_string().as_bytes(), 400, "bad_request");
    assert!(msg.starts_with("[2]"), "{msg}");
    let am = json!([{"labels": {"alertname": "Good"}}, {"labels": {"bad-name": "x"}}]);
    refused(&s, AM, am.to_string().as_bytes(), 400, "bad_request");
    let keys: Vec<_> = s
        .all_alerts()
        .iter()
        .map(|a| a["dedup_key"].clone())
        .collect();
    assert_eq!(keys, [json!("baseline")]);
}

#[test]
fn the_server_keeps_working_after_bad_input() {
    let s = server(Some(LIMITS));
    for body in [&b"{"[..], b"\xff", b"[]", b"{\"summary\": 1}"] {
        s.post_raw(EVENTS, None, body).expect(400);
    }
    s.post_raw(EVENTS, None, "x".repeat(2000).as_bytes())
        .expect(413);
    s.send_events(&json!({"summary": "after the storm", "dedup_key": "after"}));
    s.wait_alert("api", "after");
    assert_eq!(s.alert_count(), 2);
    s.get_as("/-/ready", None).expect(200);
}

#[test]
fn a_number_for_an_enum_field_is_refused_naming_the_field() {
    let s = server(None);
    for (body, place) in [
        (r#"{"summary": "a", "severity": 1}"#, "severity"),
        (r#"{"summary": "a", "status": 0}"#, "status"),
        (
            r#"[{"summary": "a"}, {"summary": "b", "severity": true}]"#,
            "[1].severity",
        ),
    ] {
        let msg = refused(&s, EVENTS, body.as_bytes(), 400, "bad_request");
        assert!(
            msg.contains(place),
            "{body} is valid JSON with a wrong type; the message should name {place}, got {msg:?}"
        );
    }
}

#[test]
fn a_wrong_method_answers_with_a_json_error() {
    let s = server(None);
    let r = s.request("GET", EVENTS, Some(ADMIN), None);
    r.expect(405);
    r.expect_error(405, "method_not_allowed");
}

#[test]
fn an_oversized_action_body_answers_with_a_json_error() {
    let s = server(None);
    let iid = incident_of(&s.wait_alert("api", "baseline"));
    // Above the 64 KiB limit of the endpoints other than intake.
    let big = json!({"text": "x".repeat(70 * 1024)}).to_string();
    let r = s.post_raw(
        &format!("/api/v1/incidents/{iid}/comment"),
        Some(ADMIN),
        big.as_bytes(),
    );
    r.expect(413);
    r.expect_error(413, "too_large");
}
