//! `tocsin replay --truth`: how close the replay's grouping came to a stream's ground truth
//! (the `truth.jsonl` that `tocsin simulate write` writes beside a stream).
//!
//! Grouping is judged over distinct alerts (an alert's re-sends count once), with B-cubed
//! precision and recall: each alert asks how much of the incident it landed in shares its
//! true incident (precision), and how much of its true incident landed with it (recall).
//! Unlike counting pairs, one big storm does not outweigh every small incident. Beside it:
//! how often a re-fire of an alert stayed in the incident of its first firing, the number
//! of incidents against the true number, and, for comparison, what grouping by alert name
//! and service within five minutes (Alertmanager's way) would have scored.

use serde::Deserialize;
use std::collections::HashMap;
use std::hash::Hash;
use tocsin_core::time::Millis;

/// A line of `truth.jsonl`: a firing event, its alert and its true incident.
#[derive(Deserialize)]
pub struct Truth {
    pub seq: u64,
    pub incident: String,
    pub alert: String,
    pub name: String,
    pub service: String,
}

#[derive(Debug, PartialEq)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Re-fires of an alert within one true incident that stayed in its first firing's
    /// incident, as a share (1 when there are none).
    pub refire_kept: f64,
    /// Distinct alerts scored.
    pub alerts: usize,
    pub incidents: usize,
    pub true_incidents: usize,
}

/// Scores `assigned` (a firing event's seq -> the incident its alert ended in; missing
/// when it ended in none) against `truth`. An alert in no incident counts as alone.
pub fn score<K: Eq + Hash + Clone>(truth: &[Truth], assigned: &HashMap<u64, K>) -> Score {
    // Each distinct (alert, true incident) once, judged by where its first firing ended.
    let mut first: HashMap<(&str, &str), u64> = HashMap::new();
    let (mut refires, mut kept) = (0usize, 0usize);
    for t in truth {
        match first.get(&(t.alert.as_str(), t.incident.as_str())) {
            Some(seq) => {
                refires += 1;
                let same = assigned.get(seq).zip(assigned.get(&t.seq));
                kept += usize::from(same.is_some_and(|(a, b)| a == b));
            }
            None => {
                first.insert((&t.alert, &t.incident), t.seq);
            }
        }
    }
    let items: Vec<(&str, Option<&K>, u64)> = first
        .iter()
        .map(|(&(_, incident), &seq)| (incident, assigned.get(&seq), seq))
        .collect();
    let (precision, recall) = bcubed(&items);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let incidents: std::collections::HashSet<&K> =
        truth.iter().filter_map(|t| assigned.get(&t.seq)).collect();
    let true_incidents: std::collections::HashSet<&str> =
        truth.iter().map(|t| t.incident.as_str()).collect();
    Score {
        precision,
        recall,
        f1,
        refire_kept: if refires == 0 {
            1.0
        } else {
            kept as f64 / refires as f64
        },
        alerts: items.len(),
        incidents: incidents.len(),
        true_incidents: true_incidents.len(),
    }
}

/// B-cubed precision and recall of `items` (true incident, assigned incident or none, a
/// tiebreak that keeps an unassigned item alone).
fn bcubed<K: Eq + Hash>(items: &[(&str, Option<&K>, u64)]) -> (f64, f64) {
    if items.is_empty() {
        return (1.0, 1.0);
    }
    let (mut cell, mut by_true, mut by_assigned) = (HashMap::new(), HashMap::new(), HashMap::new());
    for &(t, a, seq) in items {
        let c = a.ok_or(seq);
        *cell.entry((t, c)).or_insert(0usize) += 1;
        *by_true.entry(t).or_insert(0usize) += 1;
        *by_assigned.entry(c).or_insert(0usize) += 1;
    }
    let n = items.len() as f64;
    let (mut p, mut r) = (0.0, 0.0);
    for ((t, c), &k) in &cell {
        let k = k as f64;
        p += k * k / by_assigned[c] as f64;
        r += k * k / by_true[t] as f64;
    }
    (p / n, r / n)
}

/// Alertmanager's way, for comparison: alerts with the same name and service are one
/// group while they keep firing within `window` of the group's last one.
pub fn group_by_name_and_service(
    truth: &[Truth],
    at: &HashMap<u64, Millis>,
    window: Millis,
) -> HashMap<u64, usize> {
    let mut open: HashMap<(&str, &str), (usize, Millis)> = HashMap::new();
    let (mut out, mut groups) = (HashMap::new(), 0);
    for t in truth {
        let now = at.get(&t.seq).copied().unwrap_or(0);
        let group = match open.get_mut(&(t.name.as_str(), t.service.as_str())) {
            Some((g, last)) if now - *last <= window => {
                *last = now;
                *g
            }
            _ => {
                groups += 1;
                open.insert((&t.name, &t.service), (groups, now));
                groups
            }
        };
        out.insert(t.seq, group);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(rows: &[(u64, &str, &str)]) -> Vec<Truth> {
        rows.iter()
            .map(|&(seq, incident, alert)| Truth {
                seq,
                incident: incident.into(),
                alert: alert.into(),
                name: alert.into(),
                service: "svc".into(),
            })
            .collect()
    }

    #[test]
    fn bcubed_by_hand() {
        // True: X = {a, b, c}, Y = {d}. Assigned: {a, b} in 1, {c, d} in 2; the re-fire of
        // a (seq 5) went to 2.
        let t = truth(&[
            (1, "X", "a"),
            (2, "X", "b"),
            (3, "X", "c"),
            (4, "Y", "d"),
            (5, "X", "a"),
        ]);
        let assigned: HashMap<u64, i64> = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 2)].into();
        let s = score(&t, &assigned);
        // Precision: a, b 2/2 each; c, d 1/2 each -> 3/4. Recall: a, b 2/3 each; c 1/3;
        // d 1/1 -> (2/3 + 2/3 + 1/3 + 1)/4 = 2/3. F1 = 2 (3/4)(2/3) / (3/4 + 2/3) = 12/17.
        assert!((s.precision - 0.75).abs() < 1e-9, "{s:?}");
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-9, "{s:?}");
        assert!((s.f1 - 12.0 / 17.0).abs() < 1e-9, "{s:?}");
        assert_eq!(s.refire_kept, 0.0);
        assert_eq!((s.alerts, s.incidents, s.true_incidents), (4, 2, 2));
    }

    #[test]
    fn perfect_grouping_and_an_alert_in_no_incident() {
        let t = truth(&[(1, "X", "a"), (2, "X", "b"), (3, "Y", "c"), (4, "X", "a")]);
        let perfect: HashMap<u64, i64> = [(1, 7), (2, 7), (3, 8), (4, 7)].into();
        let s = score(&t, &perfect);
        assert_eq!(
            (s.precision, s.recall, s.f1, s.refire_kept),
            (1.0, 1.0, 1.0, 1.0)
        );
        // b in no incident: alone, so X's recall drops (a: 1/2, b: 1/2) and nothing is
        // wrongly joined; the re-fire of a still stayed.
        let missing: HashMap<u64, i64> = [(1, 7), (3, 8), (4, 7)].into();
        let s = score(&t, &missing);
        assert_eq!(s.precision, 1.0);
        assert!((s.recall - (0.5 + 0.5 + 1.0) / 3.0).abs() < 1e-9, "{s:?}");
        assert_eq!((s.refire_kept, s.incidents), (1.0, 2));
    }

    #[test]
    fn the_baseline_groups_by_name_and_service_while_they_keep_coming() {
        let t = truth(&[(1, "X", "a"), (2, "X", "a"), (3, "X", "b"), (4, "X", "a")]);
        let at: HashMap<u64, Millis> = [(1, 0), (2, 200_000), (3, 250_000), (4, 900_000)].into();
        let g = group_by_name_and_service(&t, &at, 300_000);
        assert_eq!(g[&1], g[&2], "within five minutes of the last");
        assert_ne!(g[&1], g[&3], "another name");
        assert_ne!(g[&2], g[&4], "more than five minutes later");
        assert_ne!(g[&3], g[&4]);
    }
}
