//! The shared scenario generator (`stormsim.py` in `../shared/scenarios`, beside the
//! repository) for replay tests: generate a stream, replay it, score the replay.

use super::{have_tool, tocsin};
use std::path::{Path, PathBuf};
use std::process::Command;

/// stormsim.py, or `None` (the test is skipped) without it or python3. `TOCSIN_SCENARIOS`
/// may name its folder when the repository is not checked out beside `shared/`.
pub fn stormsim() -> Option<PathBuf> {
    let dir = std::env::var_os("TOCSIN_SCENARIOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scenarios"));
    let script = dir.join("stormsim.py");
    if !have_tool("python3") || !script.exists() {
        eprintln!("skipped: python3 or {} is missing", script.display());
        return None;
    }
    Some(script)
}

/// Generates a stream into `dir` (with another vocabulary when `catalog` is given); false
/// when stormsim is not here.
pub fn generate(dir: &Path, profile: &str, seed: u32, catalog: Option<&Path>) -> bool {
    let Some(script) = stormsim() else {
        return false;
    };
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .args([
            "generate",
            "--profile",
            profile,
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(dir);
    if let Some(c) = catalog {
        cmd.arg("--catalog").arg(c);
    }
    assert!(cmd.status().unwrap().success(), "stormsim generate failed");
    true
}

/// Replays `dir`'s stream with its topology (and `extra` arguments); the summary line.
pub fn replay(dir: &Path, extra: &[&str]) -> String {
    let path = |name: &str| dir.join(name).to_string_lossy().to_string();
    let (events, out, topo) = (
        path("events.jsonl"),
        path("assign.jsonl"),
        path("topology.json"),
    );
    let mut args = vec![
        "replay",
        "--events",
        &events,
        "--out",
        &out,
        "--topology",
        &topo,
    ];
    args.extend(extra);
    let o = tocsin(&args);
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{text}");
    text
}

/// What `stormsim.py score` says of the last replay of `dir`.
#[derive(Debug)]
pub struct Score {
    pub b3_f1: f64,
    pub refire_kept: f64,
    pub incidents: u64,
    pub true_incidents: u64,
}

pub fn score(dir: &Path) -> Score {
    let script = stormsim().expect("stormsim is here");
    let o = Command::new("python3")
        .arg(script)
        .args(["score", "--truth"])
        .arg(dir.join("truth.jsonl"))
        .arg("--assign")
        .arg(dir.join("assign.jsonl"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    // system  B3 P/R/F1 0.909/0.959/0.934  pair P/R/F1 ...  refire-kept 0.911  incidents 258 (true 277) ...
    let line = text
        .lines()
        .find(|l| l.starts_with("system"))
        .expect("a system line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |w: &str| words[words.iter().position(|x| *x == w).unwrap() + 1];
    let f1 = words[3].rsplit('/').next().unwrap().parse().unwrap();
    Score {
        b3_f1: f1,
        refire_kept: after("refire-kept").parse().unwrap(),
        incidents: after("incidents").parse().unwrap(),
        true_incidents: after("(true").trim_end_matches(')').parse().unwrap(),
    }
}
