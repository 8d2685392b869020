//! Grouping quality of correlation, scored by `stormsim.py score`: on the `mixed` and
//! `storm` profiles, seeds 1 to 5, a mean B-cubed F1 of at least 0.91 (measured 0.920; the
//! storm-control issue's bar was 0.88), re-fires kept in their incident at least 99% of the
//! time, and never more than 1.2 times the true number of incidents; and nearly the same
//! on streams from two vocabularies the correlation was not tuned on (other service names,
//! Chinese alert names and texts, English phrased as other tools, other mixes of tools).

mod common;

use common::scenarios::{generate, replay, score, Score};
use std::path::Path;

/// Replays and scores every stream; `None` when stormsim is not here.
fn scores(
    profiles: &[&str],
    seeds: std::ops::RangeInclusive<u32>,
    catalog: Option<&Path>,
) -> Option<Vec<(String, Score)>> {
    let mut out = Vec::new();
    for profile in profiles {
        for seed in seeds.clone() {
            let dir = tempfile::tempdir().unwrap();
            if !generate(dir.path(), profile, seed, catalog) {
                return None;
            }
            replay(dir.path(), &[]);
            out.push((format!("{profile} seed {seed}"), score(dir.path())));
        }
    }
    Some(out)
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
fn correlation_groups_the_shared_scenarios() {
    let Some(scores) = scores(&["mixed", "storm"], 1..=5, None) else {
        return;
    };
    check(&scores, 0.91, 0.99);
}

#[test]
fn and_streams_it_was_not_tuned_on() {
    // Measured 0.885 and 0.949.
    for (catalog, min_mean_f1) in [("heldout-zh.json", 0.87), ("heldout-en.json", 0.93)] {
        let catalog = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../bench/catalogs")
            .join(catalog);
        let Some(scores) = scores(&["mixed", "storm"], 1..=3, Some(&catalog)) else {
            return;
        };
        check(&scores, min_mean_f1, 0.97);
    }
}
