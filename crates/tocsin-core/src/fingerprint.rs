//! Identities: the fingerprint of a label set and the key of an alert.
//!
//! xxh3-128 is used because it is fast on the intake hot path and 128 bits make an accidental
//! collision between two real alerts practically impossible.

use std::collections::BTreeMap;
use xxhash_rust::xxh3::Xxh3;

/// Fingerprint of a label set (plus an optional namespace such as the source), as 32 hex
/// digits. Labels are hashed in key order, so the order a sender used does not matter.
pub fn label_fingerprint(namespace: &str, labels: &BTreeMap<String, String>) -> String {
    let mut h = Xxh3::new();
    h.update(namespace.as_bytes());
    h.update(&[0xff]);
    for (k, v) in labels {
        h.update(k.as_bytes());
        h.update(&[0]);
        h.update(v.as_bytes());
        h.update(&[0]);
    }
    hex128(h.digest128())
}

/// `format!("{:032x}", n)`, written straight into a 32-byte buffer: this runs for every alert
/// on the intake path, where the formatting machinery (padding written a character at a
/// time into a growing string) cost more than the hash. The text is a stored identity, so it
/// must stay byte for byte what `{:032x}` gives.
fn hex128(n: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0; 32];
    for (i, byte) in n.to_be_bytes().into_iter().enumerate() {
        hex[2 * i] = DIGITS[usize::from(byte >> 4)];
        hex[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
    std::str::from_utf8(&hex)
        .expect("hex digits are ASCII")
        .to_owned()
}

/// The in-memory key of an alert: its source and dedup key, hashed to 64 bits. There is one
/// key per alert in memory (and one per pending expiry), so its size is memory per alert;
/// 64 bits is what Alertmanager's own fingerprints use, and two of a million alerts share a
/// key with odds of about one in thirty million.
pub fn alert_key(source: &str, dedup_key: &str) -> u64 {
    let mut h = Xxh3::new();
    h.update(source.as_bytes());
    h.update(&[0]);
    h.update(dedup_key.as_bytes());
    h.digest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespace_and_values_matter() {
        let a = labels(&[("alertname", "Down"), ("instance", "h1")]);
        let b = labels(&[("alertname", "Down"), ("instance", "h2")]);
        assert_ne!(label_fingerprint("x", &a), label_fingerprint("x", &b));
        assert_ne!(label_fingerprint("x", &a), label_fingerprint("y", &a));
        assert_eq!(label_fingerprint("x", &a).len(), 32);
    }

    #[test]
    fn separators_prevent_ambiguity() {
        let a = labels(&[("ab", "c")]);
        let b = labels(&[("a", "bc")]);
        assert_ne!(label_fingerprint("", &a), label_fingerprint("", &b));
        assert_ne!(alert_key("a", "bc"), alert_key("ab", "c"));
    }

    #[test]
    fn known_fingerprint_is_unchanged() {
        // A stored identity (what `POST /api/v2/alerts` gave this label set at dad8524, with
        // `{:032x}`): the value must never change.
        let a = labels(&[("alertname", "Down"), ("instance", "h1")]);
        assert_eq!(
            label_fingerprint("", &a),
            "4a44deb8a2c381bce658fc2bc6377f10"
        );
    }

    proptest! {
        #[test]
        fn hex_is_what_format_gives(n: u128, shift in 0u32..128) {
            prop_assert_eq!(hex128(n), format!("{n:032x}"));
            prop_assert_eq!(hex128(n >> shift), format!("{:032x}", n >> shift));
        }

        #[test]
        fn insertion_order_does_not_matter(pairs in proptest::collection::vec(("[a-z]{1,8}", "\\PC{0,12}"), 0..12)) {
            let forward: BTreeMap<_, _> = pairs.iter().cloned().collect();
            let backward: BTreeMap<_, _> = pairs.iter().rev().cloned().collect();
            // BTreeMap keeps the last value per key; compare equal maps only.
            if forward == backward {
                prop_assert_eq!(label_fingerprint("s", &forward), label_fingerprint("s", &backward));
            }
        }
    }
}
