//! `tocsin replay` finds the storms of a `tocsin simulate` `storm` stream (core switches
//! taking hundreds of hosts down within a minute) and none among the ordinary faults of a `mixed`
//! one, with the default `storms:` config.

mod common;

use common::scenarios::{generate, replay};

/// The replay's summary line, and the number before "storms detected" in it.
fn storms_detected(dir: &std::path::Path) -> (String, u64) {
    let text = replay(dir, &[]);
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
    generate(storm.path(), "storm", 1, "en");
    let (text, n) = storms_detected(storm.path());
    assert!(n > 0, "{text}");
    for seed in [1, 2] {
        let mixed = tempfile::tempdir().unwrap();
        generate(mixed.path(), "mixed", seed, "en");
        let (text, n) = storms_detected(mixed.path());
        assert_eq!(n, 0, "mixed seed {seed}: {text}");
    }
}
