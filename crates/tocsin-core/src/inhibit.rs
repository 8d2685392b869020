//! Inhibition rules with Alertmanager's semantics: while an alert matching a rule's source
//! matchers fires, alerts matching its target matchers whose `equal` labels have the same
//! values are muted.
//!
//! Everything here is pure. [`InhibitState`] keeps the firing source alerts of each rule
//! (only their `equal` label values) and answers which of them inhibit a given alert; the
//! engine feeds it in log order, so a replay of the log decides the same. Alert ids are
//! generic so tests can use small numbers.

use crate::silence::{compile, matches_all, CompiledMatcher, Matcher};
use std::collections::BTreeMap;

/// One rule, its matchers compiled once when the config loads.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    pub source_matchers: Vec<Matcher>,
    pub target_matchers: Vec<Matcher>,
    /// Label names whose values must be the same on source and target.
    pub equal: Vec<String>,
    source: Vec<CompiledMatcher>,
    target: Vec<CompiledMatcher>,
}

/// Rules are equal when they are written the same; the compiled forms follow from that.
impl PartialEq for InhibitRule {
    fn eq(&self, other: &Self) -> bool {
        self.source_matchers == other.source_matchers
            && self.target_matchers == other.target_matchers
            && self.equal == other.equal
    }
}

impl InhibitRule {
    pub fn new(
        source_matchers: Vec<Matcher>,
        target_matchers: Vec<Matcher>,
        equal: Vec<String>,
    ) -> Result<InhibitRule, String> {
        Ok(InhibitRule {
            source: compile(&source_matchers)?,
            target: compile(&target_matchers)?,
            source_matchers,
            target_matchers,
            equal,
        })
    }

    pub fn is_source(&self, labels: &BTreeMap<String, String>) -> bool {
        matches_all(&self.source, labels)
    }

    pub fn is_target(&self, labels: &BTreeMap<String, String>) -> bool {
        matches_all(&self.target, labels)
    }

    /// The values of the `equal` labels; an absent label is the empty string, so a missing
    /// label equals a missing label, as in Alertmanager.
    fn equal_values(&self, labels: &BTreeMap<String, String>) -> Vec<String> {
        self.equal
            .iter()
            .map(|n| labels.get(n).cloned().unwrap_or_default())
            .collect()
    }
}

/// What a rule remembers of one firing source alert.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    equal: Vec<String>,
    /// It matches the rule's target matchers too (see [`InhibitState::inhibitors`]).
    also_target: bool,
}

/// The rules and, per rule, the firing alerts that match its source matchers.
#[derive(Debug, Clone)]
pub struct InhibitState<I> {
    rules: Vec<InhibitRule>,
    sources: Vec<BTreeMap<I, Source>>,
}

impl<I: Ord + Copy> Default for InhibitState<I> {
    fn default() -> Self {
        InhibitState::new(Vec::new())
    }
}

impl<I: Ord + Copy> InhibitState<I> {
    pub fn new(rules: Vec<InhibitRule>) -> InhibitState<I> {
        let sources = vec![BTreeMap::new(); rules.len()];
        InhibitState { rules, sources }
    }

    pub fn rules(&self) -> &[InhibitRule] {
        &self.rules
    }

    /// Whether any alert is a source now.
    pub fn has_sources(&self) -> bool {
        self.sources.iter().any(|s| !s.is_empty())
    }

    /// The alert fires with these labels: it becomes (or stays) a source of every rule whose
    /// source matchers match and stops being one of the others. Tells whether anything
    /// changed, i.e. whether other alerts may now be inhibited differently.
    pub fn observe(&mut self, id: I, labels: &BTreeMap<String, String>) -> bool {
        let mut changed = false;
        for (rule, sources) in self.rules.iter().zip(&mut self.sources) {
            if rule.is_source(labels) {
                let entry = Source {
                    equal: rule.equal_values(labels),
                    also_target: rule.is_target(labels),
                };
                changed |= sources.insert(id, entry.clone()).as_ref() != Some(&entry);
            } else {
                changed |= sources.remove(&id).is_some();
            }
        }
        changed
    }

    /// The alert stopped firing; tells whether it was a source.
    pub fn remove(&mut self, id: I) -> bool {
        let mut changed = false;
        for sources in &mut self.sources {
            changed |= sources.remove(&id).is_some();
        }
        changed
    }

    /// The firing source alerts that inhibit alert `id` with these labels, sorted, each
    /// once. Alertmanager's rules: the target matchers must match it and some source of the
    /// rule have the same `equal` values; an alert never inhibits itself; and when the
    /// alert matches the rule's source matchers too, sources that also match its target
    /// matchers do not count, so two such alerts do not mute each other.
    pub fn inhibitors(&self, id: I, labels: &BTreeMap<String, String>) -> Vec<I> {
        let mut out = Vec::new();
        for (rule, sources) in self.rules.iter().zip(&self.sources) {
            if sources.is_empty() || !rule.is_target(labels) {
                continue;
            }
            let two_sided = rule.is_source(labels);
            let equal = rule.equal_values(labels);
            for (&source, s) in sources {
                if source != id && s.equal == equal && !(two_sided && s.also_target) {
                    out.push(source);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::silence::parse_matcher;
    use proptest::prelude::*;

    fn rule(source: &[&str], target: &[&str], equal: &[&str]) -> InhibitRule {
        let parse = |ms: &[&str]| ms.iter().map(|m| parse_matcher(m).unwrap()).collect();
        InhibitRule::new(
            parse(source),
            parse(target),
            equal.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn node_down() -> InhibitRule {
        rule(
            &["alertname=NodeDown"],
            &["severity=~warning|info"],
            &["host"],
        )
    }

    #[test]
    fn a_source_inhibits_targets_with_equal_labels_only() {
        let mut s = InhibitState::new(vec![node_down()]);
        let down = labels(&[("alertname", "NodeDown"), ("host", "web-01")]);
        assert!(s.observe(1, &down));
        assert!(!s.observe(1, &down), "firing again changes nothing");
        let warn = |host| {
            labels(&[
                ("alertname", "DiskFull"),
                ("severity", "warning"),
                ("host", host),
            ])
        };
        assert_eq!(s.inhibitors(2, &warn("web-01")), vec![1]);
        assert!(s.inhibitors(3, &warn("web-02")).is_empty());
        let critical = labels(&[("severity", "critical"), ("host", "web-01")]);
        assert!(s.inhibitors(4, &critical).is_empty());
        assert!(s.remove(1));
        assert!(s.inhibitors(2, &warn("web-01")).is_empty());
        assert!(!s.has_sources());
    }

    #[test]
    fn a_missing_label_equals_a_missing_label() {
        let mut s = InhibitState::new(vec![node_down()]);
        s.observe(1, &labels(&[("alertname", "NodeDown")]));
        assert_eq!(s.inhibitors(2, &labels(&[("severity", "info")])), vec![1]);
        assert_eq!(
            s.inhibitors(2, &labels(&[("severity", "info"), ("host", "")])),
            vec![1]
        );
        assert!(s
            .inhibitors(2, &labels(&[("severity", "info"), ("host", "h")]))
            .is_empty());
    }

    #[test]
    fn an_alert_never_inhibits_itself_nor_a_two_sided_twin() {
        // Every warning is both source and target: two of them must not mute each other.
        let mut s = InhibitState::new(vec![rule(
            &["severity=warning"],
            &["severity=warning"],
            &[],
        )]);
        let w = labels(&[("severity", "warning")]);
        s.observe(1, &w);
        s.observe(2, &w);
        assert!(s.inhibitors(1, &w).is_empty());
        assert!(s.inhibitors(2, &w).is_empty());
        // A source that is not a target itself still mutes a two-sided alert.
        let mut s = InhibitState::new(vec![rule(&["tier=~a|b"], &["tier=b"], &[])]);
        s.observe(1, &labels(&[("tier", "a")]));
        s.observe(2, &labels(&[("tier", "b")]));
        assert_eq!(s.inhibitors(2, &labels(&[("tier", "b")])), vec![1]);
    }

    #[test]
    fn a_source_whose_labels_change_stops_inhibiting() {
        let mut s = InhibitState::new(vec![node_down()]);
        s.observe(1, &labels(&[("alertname", "NodeDown"), ("host", "a")]));
        assert!(s.observe(1, &labels(&[("alertname", "NodeDown"), ("host", "b")])));
        let t = labels(&[("severity", "info"), ("host", "a")]);
        assert!(s.inhibitors(2, &t).is_empty());
        assert!(s.observe(1, &labels(&[("alertname", "Other")])));
        assert!(!s.has_sources());
    }

    #[test]
    fn several_rules_and_sources_are_listed_once_in_order() {
        let mut s = InhibitState::new(vec![
            node_down(),
            rule(&["alertname=NodeDown"], &["severity=info"], &[]),
        ]);
        let down = |h| labels(&[("alertname", "NodeDown"), ("host", h)]);
        s.observe(9, &down("a"));
        s.observe(3, &down("b"));
        let t = labels(&[("severity", "info"), ("host", "a")]);
        assert_eq!(s.inhibitors(5, &t), vec![3, 9]);
    }

    fn arb_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map(
            prop_oneof![Just("alertname"), Just("host"), Just("severity")].prop_map(String::from),
            prop_oneof![Just("NodeDown"), Just("a"), Just("warning"), Just("")]
                .prop_map(String::from),
            0..3,
        )
    }

    fn rules() -> Vec<InhibitRule> {
        vec![
            node_down(),
            rule(&["host=a"], &["host=~a|"], &["severity"]),
            rule(&["severity=warning"], &["severity=warning"], &[]),
        ]
    }

    /// The definition, written out plainly over every (rule, source) pair.
    fn brute(
        alerts: &[(u8, BTreeMap<String, String>)],
        id: u8,
        l: &BTreeMap<String, String>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        for r in rules() {
            for (sid, sl) in alerts {
                let eq = r.equal.iter().all(|n| {
                    sl.get(n).map(String::as_str).unwrap_or("")
                        == l.get(n).map(String::as_str).unwrap_or("")
                });
                let twin = r.is_source(l) && r.is_target(sl);
                if *sid != id && r.is_source(sl) && r.is_target(l) && eq && !twin {
                    out.push(*sid);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    proptest! {
        #[test]
        fn matches_the_definition_in_any_order(
            alerts in proptest::collection::btree_map(0u8..8, arb_labels(), 0..8),
            target in arb_labels(),
            id in 0u8..10,
        ) {
            let list: Vec<(u8, BTreeMap<String, String>)> = alerts.into_iter().collect();
            let mut forward = InhibitState::new(rules());
            for (i, l) in &list {
                forward.observe(*i, l);
            }
            let mut backward = InhibitState::new(rules());
            for (i, l) in list.iter().rev() {
                backward.observe(*i, l);
            }
            let want = brute(&list, id, &target);
            prop_assert_eq!(forward.inhibitors(id, &target), want.clone());
            prop_assert_eq!(backward.inhibitors(id, &target), want);
            for (i, l) in &list {
                prop_assert!(!forward.inhibitors(*i, l).contains(i));
                forward.remove(*i);
            }
            prop_assert!(!forward.has_sources());
        }
    }
}
