//! Crash safety: under load, every event whose request was answered 2xx is in the store after
//! a `kill -9` and a restart (and after a graceful stop under load).

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What one sender did.
#[derive(Default)]
struct Sent {
    attempted: Vec<String>,
    acked: Vec<String>,
    refused: usize,
}

/// Sends distinct events in batches of `batch` until `stop` or until the server is gone.
fn sender(base: String, tag: String, batch: usize, stop: Arc<AtomicBool>) -> JoinHandle<Sent> {
    std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        let url = format!("{base}/api/v1/events");
        let mut sent = Sent::default();
        let mut n = 0usize;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            let keys: Vec<String> = (0..batch)
                .map(|_| {
                    n += 1;
                    format!("{tag}-{n}")
                })
                .collect();
            let events: Vec<Value> = keys
                .iter()
                .map(|k| json!({"summary": "load", "dedup_key": k, "labels": {"sender": tag}}))
                .collect();
            sent.attempted.extend(keys.iter().cloned());
            let result = agent
                .post(&url)
                .set("Authorization", &format!("Bearer {ADMIN}"))
                .set("Content-Type", "application/json")
                .send_string(&Value::Array(events).to_string());
            match result {
                Ok(r) if (200..300).contains(&r.status()) => {
                    let body: Value = r.into_json().unwrap_or(Value::Null);
                    if body == json!({"accepted": batch}) {
                        sent.acked.extend(keys);
                    }
                }
                Ok(_) | Err(ureq::Error::Status(..)) => sent.refused += 1,
                // The server is gone.
                Err(ureq::Error::Transport(_)) => break,
            }
        }
        sent
    })
}

/// Runs senders (batches of 1 and of 20), calls `interrupt` mid-load, and collects.
fn load(
    s: &mut TestServer,
    interrupt: impl FnOnce(&mut TestServer),
) -> (Vec<String>, Vec<String>, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = [(1, "a"), (1, "b"), (20, "c"), (20, "d")]
        .into_iter()
        .map(|(batch, tag)| sender(s.base.clone(), tag.to_string(), batch, stop.clone()))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(s);
    // Senders stop on their own once the server is gone; the flag bounds the load at ~3 s.
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let (mut attempted, mut acked, mut refused) = (Vec::new(), Vec::new(), 0);
    for h in senders {
        let sent = h.join().expect("sender thread");
        attempted.extend(sent.attempted);
        acked.extend(sent.acked);
        refused += sent.refused;
    }
    (attempted, acked, refused)
}

/// Checks the restarted server against what was sent and acknowledged.
fn verify(s: &TestServer, what: &str, attempted: &[String], acked: &[String], refused: usize) {
    let alerts = s.all_alerts();
    let present: Vec<String> = alerts
        .iter()
        .map(|a| a["dedup_key"].as_str().unwrap().to_string())
        .collect();
    let present_set: HashSet<&String> = present.iter().collect();
    let attempted_set: HashSet<&String> = attempted.iter().collect();
    println!(
        "{what}: {} events attempted, {} acknowledged, {} requests refused, {} alerts after restart",
        attempted.len(),
        acked.len(),
        refused,
        present.len()
    );
    assert!(
        acked.len() >= 100,
        "too little load to test anything: {}",
        acked.len()
    );
    assert_eq!(present_set.len(), present.len(), "no alert is stored twice");
    let lost: Vec<&String> = acked.iter().filter(|k| !present_set.contains(k)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let unknown: Vec<&String> = present
        .iter()
        .filter(|k| !attempted_set.contains(k))
        .collect();
    assert!(unknown.is_empty(), "alerts nobody sent: {unknown:?}");
    // Every alert of the load is one of the same group, so one incident holds them all.
    let incidents = s.all("/api/v1/incidents", "");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["alert_count"], json!(present.len()));
    assert_eq!(incidents[0]["firing_count"], json!(present.len()));
    // The engine's memory agrees with the store: a repeat is a repeat, not a new alert.
    s.send_events(&json!({"summary": "load", "dedup_key": acked[0], "labels": {"sender": "x"}}));
    s.wait_alert_where("the repeat is counted", "api", &acked[0], |a| {
        a["occurrences"] == 2
    });
    assert_eq!(s.alert_count(), present.len());
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_event() {
    let mut s = spawn_server(None);
    let (attempted, acked, refused) = load(&mut s, |s| s.kill9());
    s.start();
    verify(&s, "kill -9", &attempted, &acked, refused);
}

#[test]
fn sigterm_under_load_exits_0_and_loses_nothing() {
    let mut s = spawn_server(None);
    let (attempted, acked, refused) = load(&mut s, |s| {
        let status = s.terminate();
        assert_eq!(status.code(), Some(0), "stderr:\n{}", s.stderr());
    });
    s.start();
    verify(&s, "SIGTERM", &attempted, &acked, refused);
}

fn segments(s: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(s.data.join("log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .collect();
    names.sort();
    names
}

/// More than one 64 MiB log segment: the engine follows the writer into the next segment,
/// recovery reads across segments after `kill -9`, and a graceful stop prunes what is applied
/// (at once here, with no retention; by default applied segments are kept for a week).
#[test]
fn the_log_rotates_and_recovers_across_segments() {
    let mut s = spawn_server(Some(
        "intake: {loopback_without_token: true, log_retention: 0s}\n",
    ));
    let description = "d".repeat(60_000);
    let per_request = 70;
    let mut requests = 0;
    let started = Instant::now();
    while segments(&s).len() < 2 {
        let events: Vec<Value> = (0..per_request)
            .map(|_| json!({"summary": "big", "dedup_key": "big", "description": description}))
            .collect();
        s.send_events(&Value::Array(events));
        requests += 1;
        assert!(requests < 40, "no second segment after {requests} requests");
    }
    println!(
        "rotated after {requests} requests of {per_request} events in {:?}",
        started.elapsed()
    );
    // The engine follows into the new segment.
    s.send_events(&json!({"summary": "after rotation", "dedup_key": "marker-1"}));
    s.wait_alert("api", "marker-1");
    let big = s.wait_alert_where("all applied", "api", "big", |a| {
        a["occurrences"] == json!(requests * per_request)
    });
    assert_eq!(big["description"].as_str().unwrap().len(), 60_000);

    // Recovery after kill -9 reads across the segments.
    s.send_events(&json!({"summary": "just before the crash", "dedup_key": "marker-2"}));
    s.kill9();
    s.start();
    let keys: HashSet<String> = s
        .all_alerts()
        .iter()
        .map(|a| a["dedup_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["big".to_string(), "marker-1".into(), "marker-2".into()])
    );
    assert_eq!(
        s.wait_alert("api", "big")["occurrences"],
        json!(requests * per_request)
    );

    // A graceful stop prunes the applied segments, keeping the newest; all still works after.
    assert_eq!(s.terminate().code(), Some(0));
    let left = segments(&s);
    assert_eq!(
        left.len(),
        1,
        "applied segments are pruned at shutdown: {left:?}"
    );
    s.start();
    assert_eq!(s.alert_count(), 3);
    s.send_events(&json!({"summary": "after pruning", "dedup_key": "marker-3"}));
    let m3 = s.wait_alert("api", "marker-3");
    assert_eq!(id(&m3), 4, "ids continue");
    s.kill9();
    s.start();
    assert_eq!(s.alert_count(), 4);
}

/// Re-applying the log after a crash must decide expiries as they were decided live: an
/// Alertmanager alert that was sent again before its `endsAt` did not expire, however late the
/// log is re-applied. (The same holds while the engine runs behind the log under a storm.)
#[test]
fn recovery_does_not_expire_an_alert_that_was_sent_again_in_time() {
    let mut s = spawn_server(Some(
        "intake: {loopback_without_token: true, max_events_per_request: 50000}\n",
    ));
    let labels = json!({"alertname": "Heartbeat", "instance": "h"});
    // 50 000 events, one engine batch of their own: repeats of one alert, cheap to re-apply.
    let storm = Value::Array(
        (0..50_000)
            .map(|_| json!({"summary": "storm", "dedup_key": "storm"}))
            .collect(),
    );
    let window = Duration::from_millis(1500);
    let started = Instant::now();
    s.send_am(&json!([{"labels": labels, "endsAt": time_in(window.as_millis() as i64)}]));
    s.send_events(&storm);
    // Sent again before its endsAt, with a later one.
    s.send_am(&json!([{"labels": labels, "endsAt": time_in(600_000)}]));
    let resent_at = started.elapsed();
    // Crash while the engine is still on the storm.
    s.kill9();
    assert!(
        resent_at < window - Duration::from_millis(300),
        "setup too slow: the resend went out {resent_at:?} after the first send"
    );
    // Restart after the first endsAt has passed.
    if let Some(rest) = (window + Duration::from_millis(200)).checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    s.start();
    let a = s
        .all_alerts()
        .into_iter()
        .find(|a| a["source"] == "prometheus")
        .expect("the Alertmanager alert");
    let detail = s.get(&format!("/api/v1/alerts/{}", id(&a))).json();
    let kinds: Vec<String> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        (
            a["status"].as_str().unwrap(),
            a["episode"].as_i64().unwrap(),
            kinds.clone()
        ),
        ("firing", 1, vec!["fired".to_string()]),
        "sent again {resent_at:?} after the first send, before its endsAt ({window:?}), yet \
         re-applying the log expired it: history {kinds:?}"
    );
    let inc = s.incident(incident_of(&a));
    assert_eq!(inc["state"], "triggered", "{}", inc["timeline"]);
    assert_eq!(s.alert_count(), 2);
    assert_eq!(s.wait_alert("api", "storm")["occurrences"], 50_000);
}
