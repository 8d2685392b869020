//! Scenario streams for replay tests, from `tocsin simulate write`: generate a stream,
//! replay it with its topology, and read the score `replay --truth` prints.

use super::tocsin;
use std::path::Path;

/// Writes a stream of `profile` at `seed` into `dir`, in `vocabulary` (`en`, `zh` or a
/// file); the summary line.
pub fn generate(dir: &Path, profile: &str, seed: u32, vocabulary: &str) -> String {
    let o = tocsin(&[
        "simulate",
        "write",
        "--profile",
        profile,
        "--seed",
        &seed.to_string(),
        "--vocabulary",
        vocabulary,
        "--out",
        dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    text
}

/// A held-out vocabulary of `bench/vocabularies`, by file name.
pub fn heldout(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/vocabularies")
        .join(name)
        .to_string_lossy()
        .to_string()
}

/// Replays `dir`'s stream with its topology (and `extra` arguments); the summary.
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

/// What `replay --truth` says of a grouping.
#[derive(Debug)]
pub struct Score {
    pub b3_f1: f64,
    pub refire_kept: f64,
    pub incidents: u64,
    pub true_incidents: u64,
}

/// The number after `word` in `line`, trimmed of punctuation.
fn after(line: &str, word: &str) -> f64 {
    let rest = &line[line
        .find(word)
        .unwrap_or_else(|| panic!("no {word:?} in {line}"))
        + word.len()..];
    let n = rest.split_whitespace().next().unwrap();
    n.trim_end_matches([',', ';']).parse().unwrap()
}

/// Parses the score lines: `scored against …: N alerts in T true incidents`, then
/// `  tocsin: B-cubed precision P, recall R, F1 F; re-fires kept K; I incidents` and the
/// same for the baseline (`by name and service, 5 minutes:`).
fn parse_score(text: &str, who: &str) -> Score {
    let head = text
        .lines()
        .find(|l| l.starts_with("scored against "))
        .unwrap_or_else(|| panic!("no score in {text}"));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(who))
        .unwrap_or_else(|| panic!("no {who:?} line in {text}"));
    let incidents = line.rsplit("; ").next().unwrap();
    Score {
        b3_f1: after(line, "F1 "),
        refire_kept: after(line, "re-fires kept "),
        incidents: incidents
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap(),
        true_incidents: after(head, " alerts in ") as u64,
    }
}

/// A replay scored against its stream's truth.
pub struct Scored {
    /// The whole summary.
    pub text: String,
    pub tocsin: Score,
    /// Grouping by alert name and service within five minutes.
    pub baseline: Score,
}

/// Replays `dir`'s stream with its topology and scores it against its truth.
pub fn score(dir: &Path) -> Scored {
    let truth = dir.join("truth.jsonl").to_string_lossy().to_string();
    let text = replay(dir, &["--truth", &truth]);
    Scored {
        tocsin: parse_score(&text, "tocsin:"),
        baseline: parse_score(&text, "by name and service"),
        text,
    }
}
