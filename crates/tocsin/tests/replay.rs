//! `tocsin replay` on a generated scenario stream: every firing event gets the incident its
//! alert ended in, the same stream always gives the same answer, and the CMDB topology maps
//! alerts to services.

mod common;

use common::tocsin;
use std::collections::HashSet;

fn generate(dir: &std::path::Path) {
    common::scenarios::generate(dir, "mixed", 3, "en");
}

#[test]
fn every_firing_event_gets_its_incident_and_replays_are_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
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

#[test]
fn the_summary_says_what_would_have_paged_and_whom() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let config = dir.path().join("paging.yaml");
    std::fs::write(
        &config,
        r#"
users:
  - {id: alice, contacts: [{type: webhook, to: alice}]}
  - {id: bob, contacts: [{type: webhook, to: bob}]}
teams: [{id: ops, members: [alice, bob], escalation_policy: ops}]
escalation_policies:
  - id: ops
    levels:
      - {delay: 5m, targets: [{user: alice}]}
      - {delay: 5m, targets: [{user: bob}]}
channels:
  - {id: hook, type: webhook, url: "http://127.0.0.1:9/page"}
"#,
    )
    .unwrap();
    let summary = common::scenarios::replay(dir.path(), &["--config", config.to_str().unwrap()]);
    let count = |prefix: &str| -> u64 {
        let line = summary
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in {summary}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    // Every incident pages alice first (nothing acknowledges in a replay); those that stay
    // open past five minutes page bob too. None of it was cancelled before it fell due.
    let (alice, bob) = (count("alice: "), count("bob: "));
    assert!(alice > 0 && bob > 0 && bob <= alice, "{summary}");
    let total: u64 = summary
        .split(';')
        .find_map(|p| p.trim().strip_suffix(" notifications would have been sent"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total, alice + bob, "{summary}");
}
