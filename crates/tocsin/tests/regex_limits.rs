//! Regular expressions from clients cannot stall the server (issue 16, items 1 and 2).
//!
//! A silence or a filter with a pathological regex (`(.{0,100}){0,100}x`, cheap to write and
//! ~10 MB compiled) used to take seconds per thousand alerts: a silence stalled the engine
//! thread, four filters froze every async worker and so all HTTP, intake included. Now such
//! a regex is refused with a 400 naming the matcher before anything matches, and what is
//! accepted matches within a bound (the worst accepted silence is measured here too).

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PATHOLOGICAL: &str = "(.{0,100}){0,100}x";

/// `n` firing alerts whose names are ~100 bytes, as in the report.
fn alerts(prefix: &str, n: usize) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let name = format!("{prefix}-{i:05}-{}", "aé".repeat(45));
            json!({"source": "load", "dedup_key": format!("{prefix}/{i}"), "summary": "load",
                   "labels": {"alertname": name}})
        })
        .collect();
    Value::Array(events)
}

fn silence(pattern: &str) -> Value {
    json!({
        "matchers": [{"name": "alertname", "value": pattern, "isRegex": true}],
        "startsAt": time_in(0),
        "endsAt": time_in(3_600_000),
        "createdBy": "mallory",
        "comment": "stall the engine",
    })
}

/// Sends 100 new alerts and returns how long the engine took to apply them.
fn hundred_more(s: &TestServer) -> Duration {
    let started = Instant::now();
    s.send_events(&alerts("after", 100));
    s.settle();
    started.elapsed()
}

#[test]
fn a_pathological_silence_regex_is_refused_at_once_and_the_engine_stays_fast() {
    let s = spawn_server(None);
    s.send_events(&alerts("firing", 1000));
    s.settle();

    let started = Instant::now();
    let r = s.post("/api/v2/silences", &silence(PATHOLOGICAL));
    let took = started.elapsed();
    eprintln!("POST /api/v2/silences with {PATHOLOGICAL}: {took:?}");
    r.expect(400);
    let message = r.json().as_str().unwrap().to_string();
    assert!(
        message.contains(&format!("invalid matcher alertname=~\"{PATHOLOGICAL}\""))
            && message.contains("too large (compiled size over 524288 bytes); simplify it"),
        "{message}"
    );
    assert!(took < Duration::from_secs(1), "refused in {took:?}");
    assert!(
        s.get("/api/v2/silences")
            .json()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing stored"
    );

    // Our own API refuses it the same way, naming the matcher's place.
    let r = s.post(
        "/api/v1/silences",
        &json!({"matchers": [format!("alertname=~\"{PATHOLOGICAL}\"")], "duration": "1h",
                "comment": "stall"}),
    );
    let message = r.expect_error(400, "bad_request");
    assert!(
        message.starts_with("matchers[0]: invalid matcher alertname=~")
            && message.contains("too large"),
        "{message}"
    );

    // Listing silences with such a filter is refused the same way.
    let r = s.get(&format!(
        "/api/v2/silences?filter={}",
        enc(&format!("alertname=~\"{PATHOLOGICAL}\""))
    ));
    r.expect(400);
    assert!(
        r.json().as_str().unwrap().contains("too large"),
        "{}",
        r.body
    );

    let took = hundred_more(&s);
    eprintln!("100 new alerts applied in {took:?} after the refusal");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// `n` firing alerts with a 4 KiB label (the intake's limit) of varied text, the costliest
/// values to match: each takes the lazy DFA somewhere new.
fn long_valued_alerts(n: usize) -> Vec<Value> {
    let alphabet = ['a', 'é', 'b', '-', '0', 'x', '日'];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|i| {
            let mut detail = String::new();
            while detail.len() < 4090 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                detail.push(alphabet[(seed % 7) as usize]);
            }
            json!({"source": "load", "dedup_key": format!("long/{i}"), "summary": "load",
                   "labels": {"alertname": format!("Long{i}"), "detail": detail}})
        })
        .collect()
}

#[test]
fn the_costliest_accepted_silence_keeps_the_engine_within_its_bound() {
    // `(.*[aé]){N}` is the costliest family found that still compiles under the limit:
    // every `.*` stays live, so the lazy DFA's states are large. Starting the silence
    // matches it against every firing alert on the engine thread.
    let s = spawn_server(None);
    let alerts = long_valued_alerts(1100);
    for chunk in alerts[..1000].chunks(250) {
        s.send_events(&Value::Array(chunk.to_vec()));
    }
    s.settle();
    let mut body = silence("(.*[aé]){430}");
    body["matchers"][0]["name"] = json!("detail");
    let started = Instant::now();
    let r = s.post("/api/v2/silences", &body);
    let took = started.elapsed();
    r.expect(200);
    eprintln!("costliest accepted silence started over 1000 alerts with 4 KiB values: {took:?}");
    let started = Instant::now();
    s.send_events(&Value::Array(alerts[1000..].to_vec()));
    s.settle();
    let took = started.elapsed();
    eprintln!("100 more such alerts applied under it in {took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn four_pathological_filters_are_refused_and_intake_stays_fast() {
    let s = spawn_server(None);
    s.send_events(&alerts("firing", 1000));
    s.settle();
    let filter = format!(
        "/api/v2/alerts?filter={}",
        enc(&format!(
            "alertname=~\"{}y\"",
            &PATHOLOGICAL[..PATHOLOGICAL.len() - 1]
        ))
    );
    let receiver = format!("/api/v2/alerts/groups?receiver={}", enc(PATHOLOGICAL));
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4)
            .map(|i| {
                let path = if i == 3 {
                    receiver.clone()
                } else {
                    filter.clone()
                };
                let s = &s;
                scope.spawn(move || {
                    let started = Instant::now();
                    let r = s.get(&path);
                    (r, started.elapsed())
                })
            })
            .collect();
        // Let the reads start first: before the fix they held every async worker by now.
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        s.send_events(&json!({"source": "probe", "dedup_key": "p", "summary": "still here"}));
        let intake = started.elapsed();
        eprintln!("intake during four pathological reads: {intake:?}");
        for (i, reader) in readers.into_iter().enumerate() {
            let (r, took) = reader.join().unwrap();
            eprintln!("pathological read {i}: HTTP {} in {took:?}", r.status);
            r.expect(400);
            let message = r.json().as_str().unwrap().to_string();
            let want = if i == 3 {
                "failed to parse receiver param: the regular expression is too large"
            } else {
                "invalid matcher alertname=~"
            };
            assert!(message.contains(want), "{message}");
            assert!(took < Duration::from_secs(1), "{took:?}");
        }
        assert!(intake < Duration::from_secs(1), "{intake:?}");
    });
}

#[test]
fn tocsin_check_reports_a_pathological_config_regex_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "services:\n  - {{id: web, team: default}}\nservice_rules:\n  - {{service: web, match_re: {{host: \"{PATHOLOGICAL}\"}}}}\n"
        ),
    )
    .unwrap();
    let out = tocsin(&["check", "-c", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("service_rules[0].match_re.host: the regular expression is too large (compiled size over 524288 bytes); simplify it"),
        "{stderr}"
    );
}
