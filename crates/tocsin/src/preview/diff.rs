//! Which incidents changed between two replays of one stream: the firing events are the
//! same in both, so an incident of the current replay and one of the new replay are tied
//! when they share an event, and each set of incidents tied together (a connected
//! component) is one change: several became one (merged), one became several (split), or
//! a mix. Incident ids of the two replays are unrelated; only shared events tie them.

use std::collections::{HashMap, HashSet};

/// One event's place in each replay: its alert (ids of the current replay) and the
/// incident it ended in under the current config and under the new one.
#[derive(Clone, Copy)]
pub struct Placed {
    pub alert: i64,
    pub current: Option<i64>,
    pub new: Option<i64>,
}

/// Incidents of the two replays tied together by the events they share.
pub struct Group {
    /// Positions in the stream of the events in these incidents.
    pub events: Vec<usize>,
    /// Incident ids of the current replay, ascending.
    pub current: Vec<i64>,
    /// Incident ids of the new replay, ascending.
    pub new: Vec<i64>,
    /// Distinct alerts among the events.
    pub alerts: usize,
    /// Whether some event is in an incident in one replay and in none in the other (a
    /// silence or inhibition that only one config has).
    pub partial: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Kind {
    /// Several incidents became one.
    Merged,
    /// One incident became several.
    Split,
    /// Several incidents became several others.
    Regrouped,
    /// Alerts in no incident now are in some.
    Added,
    /// Alerts in incidents now are in none.
    Dropped,
    /// One incident is still one, with alerts in or out of it.
    Changed,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Merged => "merged",
            Kind::Split => "split",
            Kind::Regrouped => "regrouped",
            Kind::Added => "added",
            Kind::Dropped => "dropped",
            Kind::Changed => "changed",
        }
    }
}

impl Group {
    pub fn kind(&self) -> Kind {
        match (self.current.len(), self.new.len()) {
            (0, _) => Kind::Added,
            (_, 0) => Kind::Dropped,
            (1, 1) => Kind::Changed,
            (_, 1) => Kind::Merged,
            (1, _) => Kind::Split,
            _ => Kind::Regrouped,
        }
    }

    /// How many incidents came or went: what "most impactful" sorts by first.
    fn impact(&self) -> usize {
        self.current.len().abs_diff(self.new.len())
    }
}

/// The groups of incidents that differ between the two replays, most impactful first (most
/// incidents gained or lost, then most alerts, then the earliest).
pub fn changed(placed: &[Placed]) -> Vec<Group> {
    // Union-find over the incidents of both replays: (false, id) current, (true, id) new.
    let mut index: HashMap<(bool, i64), usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut node = |key: (bool, i64), parent: &mut Vec<usize>| {
        *index.entry(key).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        })
    };
    fn root(parent: &mut [usize], mut n: usize) -> usize {
        while parent[n] != n {
            parent[n] = parent[parent[n]];
            n = parent[n];
        }
        n
    }
    // Each event's component, by one of its nodes.
    let mut event_node: Vec<Option<usize>> = Vec::with_capacity(placed.len());
    for p in placed {
        let c = p.current.map(|i| node((false, i), &mut parent));
        let n = p.new.map(|i| node((true, i), &mut parent));
        if let (Some(c), Some(n)) = (c, n) {
            let (rc, rn) = (root(&mut parent, c), root(&mut parent, n));
            parent[rc] = rn;
        }
        event_node.push(c.or(n));
    }
    let mut groups: HashMap<usize, Group> = HashMap::new();
    let mut alerts: HashMap<usize, HashSet<i64>> = HashMap::new();
    for (at, (p, n)) in placed.iter().zip(&event_node).enumerate() {
        let Some(n) = n else { continue };
        let r = root(&mut parent, *n);
        let g = groups.entry(r).or_insert_with(|| Group {
            events: Vec::new(),
            current: Vec::new(),
            new: Vec::new(),
            alerts: 0,
            partial: false,
        });
        g.events.push(at);
        g.current.extend(p.current);
        g.new.extend(p.new);
        g.partial |= p.current.is_none() || p.new.is_none();
        alerts.entry(r).or_default().insert(p.alert);
    }
    let mut changed: Vec<Group> = groups
        .into_iter()
        .map(|(r, mut g)| {
            for ids in [&mut g.current, &mut g.new] {
                ids.sort_unstable();
                ids.dedup();
            }
            g.alerts = alerts[&r].len();
            g
        })
        .filter(|g| g.current.len() != 1 || g.new.len() != 1 || g.partial)
        .collect();
    changed.sort_by_key(|g| {
        (
            std::cmp::Reverse(g.impact()),
            std::cmp::Reverse(g.alerts),
            g.events[0],
        )
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(rows: &[(i64, Option<i64>, Option<i64>)]) -> Vec<Placed> {
        rows.iter()
            .map(|&(alert, current, new)| Placed {
                alert,
                current,
                new,
            })
            .collect()
    }

    #[test]
    fn unchanged_incidents_are_no_change_whatever_their_ids() {
        let p = placed(&[
            (1, Some(1), Some(7)),
            (2, Some(1), Some(7)),
            (3, Some(2), Some(8)),
        ]);
        assert!(changed(&p).is_empty());
    }

    #[test]
    fn merges_and_splits_are_found_and_the_biggest_comes_first() {
        let p = placed(&[
            // Incidents 1 and 2 became 10.
            (1, Some(1), Some(10)),
            (2, Some(2), Some(10)),
            // Incident 3 became 11, 12 and 13; alert 3 fired twice.
            (3, Some(3), Some(11)),
            (3, Some(3), Some(11)),
            (4, Some(3), Some(12)),
            (5, Some(3), Some(13)),
            // Untouched.
            (6, Some(4), Some(14)),
        ]);
        let groups = changed(&p);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].kind(), Kind::Split);
        assert_eq!((groups[0].current.clone(), groups[0].alerts), (vec![3], 3));
        assert_eq!(groups[0].new, [11, 12, 13]);
        assert_eq!(groups[0].events, [2, 3, 4, 5]);
        assert_eq!(groups[1].kind(), Kind::Merged);
        assert_eq!(
            (groups[1].current.clone(), groups[1].new.clone()),
            (vec![1, 2], vec![10])
        );
    }

    #[test]
    fn alerts_leaving_or_joining_incidents_are_changes_too() {
        let p = placed(&[
            (1, Some(1), Some(10)),
            (2, Some(1), None),
            (3, None, Some(11)),
            (4, Some(2), None),
            (5, None, None),
        ]);
        let kinds: Vec<Kind> = changed(&p).iter().map(Group::kind).collect();
        assert_eq!(kinds, [Kind::Added, Kind::Dropped, Kind::Changed]);
    }
}
