//! JSON arrays counted while they are parsed, so a request over the per-request item limit
//! (`intake.max_events_per_request`) is refused at its first item too many, before the rest
//! is read into memory. Parsing a whole array first and counting after let 5 MiB of 250,000
//! tiny alerts take 120 MB of memory only to be refused.

use crate::limits::MAX_LABELS;
use crate::IntakeError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The refusal of a request with more than `max` items; the serde error that stopped the
/// parse says less (and where), so the parser notes the overflow and this is what the
/// sender reads.
pub(crate) fn too_many(what: &str, max: usize) -> IntakeError {
    IntakeError(format!(
        "{what}: more than {max} items in one request; at most {max} are allowed \
         (intake.max_events_per_request)"
    ))
}

/// Deserializes a JSON array into a `Vec<T>` of at most `max` items, failing at item
/// `max + 1` with `over` set.
pub(crate) struct Capped<'a, T> {
    max: usize,
    over: &'a Cell<bool>,
    item: PhantomData<fn() -> T>,
}

impl<'a, T> Capped<'a, T> {
    pub(crate) fn new(max: usize, over: &'a Cell<bool>) -> Self {
        Capped {
            max,
            over,
            item: PhantomData,
        }
    }
}

// Derived `Clone`/`Copy` would ask the same of `T`, which a seed never holds.
impl<T> Clone for Capped<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Capped<'_, T> {}

impl<'de, T: de::Deserialize<'de>> DeserializeSeed<'de> for Capped<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: de::Deserialize<'de>> Visitor<'de> for Capped<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.len() == self.max {
                self.over.set(true);
                return Err(de::Error::custom(format_args!(
                    "more than {} items",
                    self.max
                )));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// Deserializes a label set, failing at its first label over [`MAX_LABELS`]: like an array
/// of alerts, a body that is one huge label set is refused before it is all in memory.
/// For `#[serde(deserialize_with)]`.
pub(crate) fn labels<'de, D: de::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct Labels;
    impl<'de> Visitor<'de> for Labels {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of strings")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut labels = BTreeMap::new();
            while let Some((name, value)) = map.next_entry::<String, String>()? {
                labels.insert(name, value);
                // Counted after the insert: a repeated name is one label.
                if labels.len() > MAX_LABELS {
                    return Err(de::Error::custom(format_args!(
                        "more than {MAX_LABELS} labels, at most {MAX_LABELS} are allowed"
                    )));
                }
            }
            Ok(labels)
        }
    }
    d.deserialize_map(Labels)
}

/// Counts the items of the array at a path of object keys without keeping anything (an
/// object there counts as one), failing past `max` with `over` set. For payloads read
/// whole as a `serde_json::Value` (the generic webhook), where the array is only found
/// after the parse; anything else wrong is left for that parse to name.
pub(crate) struct CountAt<'a> {
    pub steps: &'a [String],
    pub max: usize,
    pub over: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for CountAt<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountAt<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match self.steps.split_first() {
                Some((step, rest)) if *step == key => map.next_value_seed(CountAt {
                    steps: rest,
                    ..self
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
            // Keys do not index arrays, so only the array at the end of the path counts.
            if self.steps.is_empty() && count > self.max {
                self.over.set(true);
                return Err(de::Error::custom(format_args!(
                    "more than {} items",
                    self.max
                )));
            }
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl Clone for CountAt<'_> {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for CountAt<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(body: &str, max: usize) -> (Result<Vec<u32>, serde_json::Error>, bool) {
        let over = Cell::new(false);
        let mut de = serde_json::Deserializer::from_str(body);
        (Capped::new(max, &over).deserialize(&mut de), over.get())
    }

    #[test]
    fn capped_arrays_stop_at_the_first_item_too_many() {
        assert_eq!(capped("[1, 2, 3]", 3).0.unwrap(), vec![1, 2, 3]);
        let (result, over) = capped("[1, 2, 3, 4, this is never read", 3);
        assert!(over);
        assert!(result.unwrap_err().to_string().contains("more than 3"));
        let (result, over) = capped("[1, \"x\"]", 3);
        assert!(!over && result.is_err());
    }

    /// Every adapter that reads an array of alerts counts it while parsing: one item too
    /// many followed by text that is not JSON is refused for the count, not the syntax.
    #[test]
    fn every_array_of_alerts_is_refused_at_its_first_item_too_many() {
        use crate::{adapter_for, Inbound};
        use tocsin_core::integration::IntegrationKind as K;
        let ctx = crate::testing::context(3);
        let native = r#"{"summary": "a"}"#;
        let am = r#"{"labels": {"alertname": "a"}}"#;
        let hook = r#"{"status": "firing", "labels": {"alertname": "a"}}"#;
        let n9e = r#"{"hash": "h", "rule_name": "a", "severity": 1}"#;
        let ce = r#"{"specversion": "1.0", "id": "1", "source": "s", "type": "t"}"#;
        let cases = [
            (K::Tocsin, "[", native, "", "the array"),
            (K::Alertmanager, "[", am, "", "the array"),
            (K::Nightingale, "[", n9e, "", "the array"),
            (
                K::AlertmanagerWebhook,
                r#"{"alerts": ["#,
                hook,
                "",
                "alerts",
            ),
            (K::Grafana, r#"{"alerts": ["#, hook, "", "alerts"),
            (
                K::Cloudevents,
                "[",
                ce,
                "application/cloudevents-batch+json",
                "the batch",
            ),
        ];
        for (kind, open, item, content_type, what) in cases {
            let headers = [("content-type", content_type)];
            let close = if open == "[" { "]" } else { "]}" };
            let ok = format!("{open}{}{close}", [item; 3].join(","));
            let req = Inbound {
                headers: &headers,
                ..Inbound::json(ok.as_bytes())
            };
            let events = adapter_for(kind).parse(&req, &ctx);
            assert_eq!(events.map(|e| e.len()), Ok(3), "{kind:?}: {ok}");
            let body = format!("{open}{}, not json", [item; 4].join(","));
            let req = Inbound {
                headers: &headers,
                ..Inbound::json(body.as_bytes())
            };
            let err = adapter_for(kind).parse(&req, &ctx).unwrap_err();
            assert_eq!(err, too_many(what, 3), "{kind:?}");
            assert!(err.0.contains("intake.max_events_per_request"));
        }
    }

    #[test]
    fn label_sets_stop_at_the_first_label_too_many() {
        use crate::{Adapter, Inbound};
        let ctx = crate::testing::context(3);
        let names = |n: usize| {
            (0..n)
                .map(|i| format!("\"l{i}\": \"v\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        // One label too many, then text that is not JSON: refused for the count.
        for (adapter, open) in [
            (
                &crate::native::Native as &dyn Adapter,
                r#"[{"summary": "a", "labels": {"#,
            ),
            (&crate::alertmanager_v2::AlertmanagerV2, r#"[{"labels": {"#),
            (
                &crate::alertmanager_webhook::AlertmanagerWebhook,
                r#"{"alerts": [{"status": "firing", "labels": {"#,
            ),
        ] {
            let body = format!("{open}{}, not json", names(MAX_LABELS + 1));
            let err = adapter
                .parse(&Inbound::json(body.as_bytes()), &ctx)
                .unwrap_err();
            assert!(
                err.0
                    .contains("labels: more than 128 labels, at most 128 are allowed"),
                "{}: {err}",
                adapter.name()
            );
        }
        let body = format!(r#"{{"summary": "a", "labels": {{{}}}}}"#, names(MAX_LABELS));
        let events = crate::native::Native.parse(&Inbound::json(body.as_bytes()), &ctx);
        assert_eq!(events.unwrap()[0].labels.len(), MAX_LABELS);
    }

    fn count_at(body: &str, steps: &[&str], max: usize) -> bool {
        let steps: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
        let over = Cell::new(false);
        let mut de = serde_json::Deserializer::from_str(body);
        let seed = CountAt {
            steps: &steps,
            max,
            over: &over,
        };
        let _ = seed.deserialize(&mut de);
        over.get()
    }

    #[test]
    fn count_at_counts_only_the_array_at_the_path() {
        assert!(count_at("[{}, {}, {}]", &[], 2));
        assert!(!count_at("[{}, {}]", &[], 2));
        assert!(count_at(r#"{"a": {"b": [1, 2, 3]}}"#, &["a", "b"], 2));
        assert!(!count_at(
            r#"{"a": {"c": [1, 2, 3]}, "b": [1, 2, 3]}"#,
            &["a", "b"],
            2
        ));
        assert!(!count_at(r#"{"a": [[1, 2, 3]]}"#, &["a"], 2));
        assert!(!count_at(r#"{"a": 5}"#, &["a", "b"], 2));
    }
}
