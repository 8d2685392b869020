//! `tocsin replay` on a generated scenario stream: every firing event gets the incident its
//! alert ended in, the same stream always gives the same answer, and the CMDB topology maps
//! alerts to services.

mod common;

use common::tocsin;
use std::collections::HashSet;

fn generate(dir: &std::path::Path) -> bool {
    common::scenarios::generate(dir, "mixed", 3, None)
}

#[test]
fn every_firing_event_gets_its_incident_and_replays_are_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    if !generate(dir.path()) {
        return;
    }
    let events = dir.path().join("events.jsonl");
    let run = |out: &str, topology: bool| {
        let out_path = dir.path().join(out);
        let mut args = vec![
            "replay",
            "--events",
            events.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ];
        let topo = dir.path().join("topology.json");
        if topology {
            args.extend(["--topology", topo.to_str().unwrap()]);
        }
        let o = tocsin(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8(o.stdout).unwrap(),
            std::fs::read_to_string(out_path).unwrap(),
        )
    };
    let (summary, first) = run("a.jsonl", false);
    assert!(summary.starts_with("replayed "), "{summary}");
    let truth = std::fs::read_to_string(dir.path().join("truth.jsonl")).unwrap();
    assert_eq!(
        first.lines().count(),
        truth.lines().count(),
        "one line per firing event"
    );
    let incidents: HashSet<String> = first
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["incident"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(incidents.iter().all(|i| i.starts_with("INC-")));
    assert!(incidents.len() > 10);
    let (_, again) = run("b.jsonl", false);
    assert_eq!(first, again, "the same stream decides the same");
    let (_, with_topology) = run("c.jsonl", true);
    assert_ne!(
        first, with_topology,
        "the catalog changes where alerts land"
    );
}

#[test]
fn a_bad_stream_is_refused_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, "{\"seq\": 1, \"at\": \"2026-03-02T00:00:00Z\", \"integration\": \"carrier-pigeon\", \"payload\": {}}\n").unwrap();
    let o = tocsin(&[
        "replay",
        "--events",
        events.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("line 1: unknown integration \"carrier-pigeon\""));
}
