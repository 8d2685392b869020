//! `tocsin replay --feedback`: people's merges and splits applied at points of the stream
//! show in the output (a merge puts two events' alerts in one incident, a split takes them
//! apart); a correction that no longer fits is noted with its line and skipped, and the
//! summary counts both; an invalid line stops the replay naming it.

mod common;

use common::tocsin;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

/// Alerts group by service only: web's two alerts are one incident, db's another.
const CONFIG: &str = "incidents: {group_by: [service]}\nservices: [{id: web}, {id: db}]\n";

/// seq 1 and 3 fire on web, seq 2 on db, a second apart; seq 4 resolves seq 3's alert.
fn stream() -> String {
    let line = |seq: u64, service: &str, name: &str, status: &str| {
        let payload = json!({"source": "test", "dedup_key": name, "status": status,
            "severity": "critical", "service": service, "summary": format!("{name} on {service}"),
            "labels": {"alertname": name}});
        let at = format!("2026-03-02T00:00:0{seq}Z");
        json!({"seq": seq, "at": at, "integration": "tocsin", "payload": payload}).to_string()
    };
    [
        line(1, "web", "HighLatency", "firing"),
        line(2, "db", "SlowQueries", "firing"),
        line(3, "web", "ErrorRate", "firing"),
        line(4, "web", "ErrorRate", "resolved"),
    ]
    .join("\n")
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// seq -> incident, from `--out`.
    incident: HashMap<u64, String>,
}

/// Replays the stream with `feedback` as the feedback file (none when `None`).
fn replay(dir: &Path, feedback: Option<&str>) -> Run {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    std::fs::write(path("events.jsonl"), stream()).unwrap();
    std::fs::write(path("tocsin.yaml"), CONFIG).unwrap();
    let (events, config, out, fb) = (
        path("events.jsonl"),
        path("tocsin.yaml"),
        path("out.jsonl"),
        path("feedback.jsonl"),
    );
    let mut args = vec!["replay", "--events", &events, "-c", &config, "--out", &out];
    if let Some(text) = feedback {
        std::fs::write(&fb, text).unwrap();
        args.extend(["--feedback", &fb]);
    }
    let o = tocsin(&args);
    let incident = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["seq"].as_u64().unwrap(),
                v["incident"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
        incident,
    }
}

#[test]
fn a_merge_joins_and_a_split_separates() {
    let dir = tempfile::tempdir().unwrap();
    let plain = replay(dir.path(), None);
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert_eq!(plain.incident[&1], plain.incident[&3]);
    assert_ne!(plain.incident[&1], plain.incident[&2]);
    assert!(!plain.stdout.contains("feedback"), "{}", plain.stdout);

    let feedback = concat!(
        "{\"after_seq\": 2, \"merge\": [2, 1]}\n",
        "\n",
        "{\"after_seq\": 3, \"split\": [3]}\n",
    );
    let r = replay(dir.path(), Some(feedback));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.incident[&2], r.incident[&1], "merged");
    assert_ne!(r.incident[&3], r.incident[&1], "split out");
    assert!(
        r.stdout
            .contains("; feedback: 2 corrections applied, 0 skipped;"),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
}

#[test]
fn corrections_that_no_longer_fit_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let feedback = concat!(
        // Before seq 2 has fired.
        "{\"after_seq\": 1, \"merge\": [1, 2]}\n",
        // seq 4 is a resolve.
        "{\"after_seq\": 4, \"split\": [4]}\n",
        // Already one incident: the engine refuses.
        "{\"after_seq\": 3, \"merge\": [3, 1]}\n",
        // Past the end of the stream.
        "{\"after_seq\": 99, \"split\": [1]}\n",
        "{\"after_seq\": 3, \"merge\": [2, 3]}\n",
    );
    let r = replay(dir.path(), Some(feedback));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for note in [
        "note: feedback line 1 skipped: seq 2 is not a firing event seen by then",
        "note: feedback line 2 skipped: seq 4 is not a firing event seen by then",
        "note: feedback line 3 skipped: incident ",
        "note: feedback line 4 skipped: after_seq 99 is not in the stream",
    ] {
        assert!(r.stderr.contains(note), "{note:?} in {}", r.stderr);
    }
    assert!(
        r.stderr.contains("cannot be merged into itself"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("; feedback: 1 corrections applied, 4 skipped;"),
        "{}",
        r.stdout
    );
    assert_eq!(r.incident[&2], r.incident[&3], "the last line applied");
}

#[test]
fn an_invalid_line_stops_the_replay_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (feedback, says) in [
        (
            "{\"after_seq\": 1, \"merge\": [1, 2]}\n{\"after_seq\": 2, \"merge\": [1, 2], \"why\": 1}\n",
            "feedback.jsonl: line 2: unknown field `why`",
        ),
        ("{\"after_seq\": 1, \"merge\": [1]}\n", "feedback.jsonl: line 1: "),
        (
            "{\"after_seq\": 1}\n",
            "feedback.jsonl: line 1: give one of merge and split",
        ),
        ("not json\n", "feedback.jsonl: line 1: "),
    ] {
        let r = replay(dir.path(), Some(feedback));
        assert_eq!(r.code, Some(2), "{feedback}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("tocsin replay: ") && r.stderr.contains(says),
            "{says:?} in {}",
            r.stderr
        );
    }
}
