//! Grouping quality of correlation on `tocsin simulate` streams, scored by `replay --truth`:
//! on the `mixed` and `storm` profiles, seeds 1 to 5, a mean B-cubed F1 of at least 0.93
//! (measured 0.946 on 2026-12-07; the storm-control issue's bar was 0.88), re-fires kept in
//! their incident at least 99% of the time, and never more than 1.2 times the true number of
//! incidents; and nearly the same on streams in two vocabularies the correlation was not
//! tuned on (`bench/vocabularies`: other service names, Chinese alert names and texts,
//! English phrased as other tools, other mixes of tools).

mod common;

use common::scenarios::{generate, heldout, score, Score};

/// Generates, replays and scores every stream.
fn scores(
    profiles: &[&str],
    seeds: std::ops::RangeInclusive<u32>,
    vocabulary: &str,
) -> Vec<(String, Score)> {
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

fn check(scores: &[(String, Score)], min_mean_f1: f64, min_refire: f64) {
    let report: String = scores
        .iter()
        .map(|(name, s)| format!("{name}: {s:?}\n"))
        .collect();
    let mean = scores.iter().map(|(_, s)| s.b3_f1).sum::<f64>() / scores.len() as f64;
    eprintln!("{report}mean B3 F1 {mean:.3}");
    assert!(mean >= min_mean_f1, "mean B3 F1 {mean:.3}\n{report}");
    for (name, s) in scores {
        assert!(
            s.incidents as f64 <= 1.2 * s.true_incidents as f64,
            "{name}: {} incidents for {} true ones",
            s.incidents,
            s.true_incidents
        );
        assert!(s.refire_kept >= min_refire, "{name}: re-fires split: {s:?}");
    }
}

#[test]
fn correlation_groups_simulated_streams() {
    check(&scores(&["mixed", "storm"], 1..=5, "en"), 0.93, 0.99);
}

#[test]
fn and_streams_it_was_not_tuned_on() {
    // Measured 0.919 and 0.944 on 2026-12-07.
    for (vocabulary, min_mean_f1) in [("heldout-zh.json", 0.90), ("heldout-en.json", 0.93)] {
        check(
            &scores(&["mixed", "storm"], 1..=3, &heldout(vocabulary)),
            min_mean_f1,
            0.97,
        );
    }
}
