//! `tocsin replay` finds the storms of a generated `storm` stream (core switches taking
//! hundreds of hosts down within a minute) and none among the ordinary faults of a `mixed`
//! one, with the default `storms:` config.

mod common;

use common::tocsin;
use std::process::Command;

/// Generates a stormsim stream into `dir`; false (skipped) without python3 or the script.
fn generate(dir: &std::path::Path, profile: &str, seed: &str) -> bool {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/scenarios/stormsim.py"
    );
    if !common::have_tool("python3") || !std::path::Path::new(script).exists() {
        eprintln!("skipped: python3 or {script} is missing");
        return false;
    }
    let ok = Command::new("python3")
        .args([
            script,
            "generate",
            "--profile",
            profile,
            "--seed",
            seed,
            "--out",
        ])
        .arg(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "stormsim generate failed");
    true
}

/// The replay's summary line, and the number before "storms detected" in it.
fn storms_detected(dir: &std::path::Path) -> (String, u64) {
    let path = |name: &str| dir.join(name).to_string_lossy().to_string();
    let (events, out, topo) = (
        path("events.jsonl"),
        path("assign.jsonl"),
        path("topology.json"),
    );
    let o = tocsin(&[
        "replay",
        "--events",
        &events,
        "--out",
        &out,
        "--topology",
        &topo,
    ]);
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{text}");
    let n = text
        .split(';')
        .find_map(|part| part.trim().strip_suffix(" storms detected"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no storm count in {text}"));
    (text, n)
}

#[test]
fn storms_in_the_storm_profile_and_none_among_ordinary_faults() {
    let storm = tempfile::tempdir().unwrap();
    if !generate(storm.path(), "storm", "1") {
        return;
    }
    let (text, n) = storms_detected(storm.path());
    assert!(n > 0, "{text}");
    for seed in ["1", "2"] {
        let mixed = tempfile::tempdir().unwrap();
        generate(mixed.path(), "mixed", seed);
        let (text, n) = storms_detected(mixed.path());
        assert_eq!(n, 0, "mixed seed {seed}: {text}");
    }
}
