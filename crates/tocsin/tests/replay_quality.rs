//! Grouping quality of correlation on `tocsin simulate` streams, scored by `replay --truth`
//! against each stream's ground truth, beside grouping by alert name and service within five
//! minutes (Alertmanager's way). `bash bench/quality.sh` prints the same figures.
//!
//! Measured on 2026-12-08 (after discovered services landed), `mixed` and `storm`, seeds 1
//! to 5, English vocabulary: mean B-cubed F1 0.946 (per stream 0.914 to 0.979; the
//! storm-control issue's bar was 0.88), the baseline's 0.384; re-fires kept 1.000 in every
//! stream; incidents at most 1.00 times the true number. On the held-out vocabularies of
//! `bench/vocabularies` (other service names, Chinese alert names and texts, English phrased
//! as other tools, other mixes of tools), seeds 1 to 3: 0.919 (zh) and 0.945 (en), the
//! baseline's 0.320 and 0.342; re-fires kept 1.000; incidents at most 1.01 times the truth.

mod common;

use common::scenarios::{generate, heldout, score, Scored};

/// Generates, replays and scores every stream.
fn scores(
    profiles: &[&str],
    seeds: std::ops::RangeInclusive<u32>,
    vocabulary: &str,
) -> Vec<(String, Scored)> {
    let mut out = Vec::new();
    for profile in profiles {
        for seed in seeds.clone() {
            let dir = tempfile::tempdir().unwrap();
            generate(dir.path(), profile, seed, vocabulary);
            out.push((format!("{profile} seed {seed}"), score(dir.path())));
        }
    }
    out
}

/// A mean F1 of at least `min_mean_f1` and at least 0.4 above the baseline's; in every
/// stream re-fires kept at least 99% of the time and at most 1.1 times the true number of
/// incidents.
fn check(scores: &[(String, Scored)], min_mean_f1: f64) {
    let report: String = scores
        .iter()
        .map(|(name, s)| format!("{name}: {:?} baseline {:?}\n", s.tocsin, s.baseline))
        .collect();
    let n = scores.len() as f64;
    let mean = scores.iter().map(|(_, s)| s.tocsin.b3_f1).sum::<f64>() / n;
    let baseline = scores.iter().map(|(_, s)| s.baseline.b3_f1).sum::<f64>() / n;
    eprintln!("{report}mean B3 F1 {mean:.3}, baseline {baseline:.3}");
    assert!(mean >= min_mean_f1, "mean B3 F1 {mean:.3}\n{report}");
    assert!(
        mean - baseline >= 0.4,
        "mean B3 F1 {mean:.3}, baseline {baseline:.3}\n{report}"
    );
    for (name, s) in scores {
        let s = &s.tocsin;
        assert!(
            s.incidents as f64 <= 1.1 * s.true_incidents as f64,
            "{name}: {} incidents for {} true ones",
            s.incidents,
            s.true_incidents
        );
        assert!(s.refire_kept >= 0.99, "{name}: re-fires split: {s:?}");
    }
}

#[test]
fn correlation_groups_simulated_streams() {
    check(&scores(&["mixed", "storm"], 1..=5, "en"), 0.93);
}

#[test]
fn and_streams_it_was_not_tuned_on() {
    for (vocabulary, min_mean_f1) in [("heldout-zh.json", 0.90), ("heldout-en.json", 0.93)] {
        check(
            &scores(&["mixed", "storm"], 1..=3, &heldout(vocabulary)),
            min_mean_f1,
        );
    }
}
