//! What correlation learns from the stream: which kinds of alert fire together.
//!
//! Every new firing looks at what fired shortly before on the things linked to it in the
//! catalog (its own host and service, the switches it hangs off, the services it depends
//! on) and counts each kind it finds there as "fired together" with its own kind. Over
//! time a symptom of real faults (`HighErrorRate`, which comes with `HighLatency` and
//! `UpstreamConnectFailures`) gathers high rates, and a loner (`Disk /var almost full`,
//! `certificate expires in 20 days`) stays low even when it happens to fire on a service
//! that is in trouble: the rate is what keeps it out of that incident.
//!
//! The counts come from the stream itself, not from tocsin's own grouping, so a wrong
//! decision does not teach itself. People's merges and splits add to them (a merge says
//! the kinds belong together, a split that they do not).
//!
//! Memory is bounded: past [`MAX_KINDS`] kinds or [`MAX_PAIRS`] pairs every count is halved
//! and what falls below one is forgotten, so old habits fade and the maps stay small.

use crate::time::Millis;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use xxhash_rust::xxh3::xxh3_64;

pub const MAX_KINDS: usize = 20_000;
pub const MAX_PAIRS: usize = 200_000;
/// Below this many firings of a kind its rates say nothing yet.
pub const MIN_SUPPORT: f32 = 4.0;
/// How much one merge or split by a person counts, in firings: a correction is worth
/// more than one coincidence, and a few of them outweigh a habit.
pub const FEEDBACK_WEIGHT: f32 = 3.0;
/// A kind that fired fewer times than this, or a pair counted fewer, is forgotten when the
/// counts are halved (and deleted from the store).
pub const FORGET_BELOW: f32 = 1.0;
/// What is remembered of recent firings per host and per service.
const RECENT_PER_KEY: usize = 64;

/// One kind: how often it fired, how many of those firings had a companion (another
/// alert fired on something linked, shortly before or after), and its normalised name for
/// explanations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindStats {
    pub name: String,
    pub fired: f32,
    pub linked: f32,
}

/// One pair of kinds: how often they fired together, and how often people split them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairStats {
    pub together: f32,
    pub apart: f32,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    kind: u64,
    host: u64,
    at: Millis,
    /// Which firing it was (a running number), to count each one linked only once.
    n: u64,
}

/// A newly firing alert as the learner sees it.
#[derive(Debug, Clone, Copy)]
pub struct Firing<'a> {
    pub kind: u64,
    pub name: &'a str,
    pub service: &'a str,
    pub host: Option<&'a str>,
    pub uplinks: &'a [String],
    pub depends_on: &'a [String],
    pub at: Millis,
}

#[derive(Debug, Default)]
pub struct Cofire {
    kinds: HashMap<u64, KindStats>,
    /// Each pair's place in `slots`.
    pairs: HashMap<(u64, u64), u32>,
    /// The pairs' counts, by place: a kind's neighbour list points here, so its companions
    /// are read without a hash look-up per pair.
    slots: Vec<Slot>,
    by_service: HashMap<u64, Vec<Seen>>,
    by_host: HashMap<u64, Vec<Seen>>,
    dirty_kinds: HashSet<u64>,
    /// Pairs changed since `take_changes` (their slot's `dirty` is set, so a pair counted
    /// again is not hashed into this set again).
    dirty_pairs: HashSet<(u64, u64)>,
    /// Recent firings that have had no companion yet: number -> kind, when.
    alone: HashMap<u64, (u64, Millis)>,
    firings: u64,
    /// Each kind's pairs (their slots, kept with `pairs`), so the kinds an alert may
    /// co-fire with are found without walking every pair.
    neighbours: HashMap<u64, Vec<u32>>,
    /// `observe`'s list of the linked firings (kind, number), kept for its allocation.
    linked: Vec<(u64, u64)>,
    /// `observe`'s set of the kinds it counted, kept for its allocation.
    counted: HashSet<u64>,
}

/// One pair's counts where `Cofire::pairs` and the neighbour lists find them.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: (u64, u64),
    stats: PairStats,
    /// In `dirty_pairs`.
    dirty: bool,
}

impl Slot {
    /// The kind paired with `kind` here.
    fn other(&self, kind: u64) -> u64 {
        if self.key.0 == kind {
            self.key.1
        } else {
            self.key.0
        }
    }
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

/// [`Cofire::rate`] of a kind that fired `fired` times, in pair `p`.
fn rate_of(fired: f32, p: PairStats) -> Option<f32> {
    if fired < MIN_SUPPORT && p.together + p.apart < FEEDBACK_WEIGHT {
        return None;
    }
    let seen = fired.max(p.together) + p.apart;
    Some(if seen > 0.0 { p.together / seen } else { 0.0 })
}

/// Notes slot `i` (of pair `k`) in both kinds' neighbour lists.
fn link_neighbours(neighbours: &mut HashMap<u64, Vec<u32>>, k: (u64, u64), i: u32) {
    neighbours.entry(k.0).or_default().push(i);
    if k.0 != k.1 {
        neighbours.entry(k.1).or_default().push(i);
    }
}

fn id(name: &str) -> u64 {
    xxh3_64(name.as_bytes())
}

impl Cofire {
    /// Learns from a new firing: each kind that fired on something linked to it within
    /// `window` before counts once as fired together with it.
    pub fn observe(&mut self, f: &Firing<'_>, window: Millis) {
        let host = f.host.map(id).unwrap_or(0);
        let service = id(f.service);
        let mut linked = std::mem::take(&mut self.linked);
        linked.clear();
        let mut look = |seen: Option<&Vec<Seen>>| {
            for s in seen.into_iter().flatten() {
                let same_check = s.kind == f.kind && s.host == host;
                if f.at.saturating_sub(s.at) <= window && !same_check {
                    linked.push((s.kind, s.n));
                }
            }
        };
        look(self.by_service.get(&service));
        if f.host.is_some() {
            look(self.by_host.get(&host));
        }
        for u in f.uplinks {
            look(self.by_host.get(&id(u)));
        }
        for d in f.depends_on {
            look(self.by_service.get(&id(d)));
        }
        // The firings seen are no longer alone: this one is their companion.
        for &(_, n) in &linked {
            if let Some((kind, _)) = self.alone.remove(&n) {
                if let Some(k) = self.kinds.get_mut(&kind) {
                    k.linked += 1.0;
                    self.dirty_kinds.insert(kind);
                }
            }
        }
        let has_company = !linked.is_empty();
        // Each kind seen counts once (a set rather than sorting the list: most of it is
        // the same few kinds again, and the order the pairs are counted in changes nothing).
        let mut counted = std::mem::take(&mut self.counted);
        counted.clear();
        for &(a, _) in &linked {
            if counted.insert(a) {
                self.pair_mut(pair(a, f.kind)).together += 1.0;
            }
        }
        self.linked = linked;
        self.counted = counted;
        let stats = self.kinds.entry(f.kind).or_insert_with(|| KindStats {
            name: f.name.to_owned(),
            ..KindStats::default()
        });
        stats.fired += 1.0;
        self.firings += 1;
        if has_company {
            stats.linked += 1.0;
        } else {
            self.alone.insert(self.firings, (f.kind, f.at));
        }
        self.dirty_kinds.insert(f.kind);
        let seen = Seen {
            kind: f.kind,
            host,
            at: f.at,
            n: self.firings,
        };
        remember(self.by_service.entry(service).or_default(), seen);
        if f.host.is_some() {
            remember(self.by_host.entry(host).or_default(), seen);
        }
        self.bound();
    }

    /// How often `kind` fires alone: the share of its firings with no companion within the
    /// window before or after; `None` while it has fired too rarely to tell.
    pub fn alone_rate(&self, kind: u64) -> Option<f32> {
        let k = self.kinds.get(&kind)?;
        (k.fired >= MIN_SUPPORT).then(|| (1.0 - k.linked / k.fired).clamp(0.0, 1.0))
    }

    /// How often `kind` fired together with `other`: the share of its firings that had
    /// `other` close by, lowered by people's splits; `None` while `kind` has fired too
    /// rarely to tell and no person said anything about the pair.
    pub fn rate(&self, kind: u64, other: u64) -> Option<f32> {
        rate_of(
            self.kinds.get(&kind).map_or(0.0, |k| k.fired),
            self.stats(pair(kind, other)),
        )
    }

    /// A pair's counts (zero when it is not known).
    fn stats(&self, k: (u64, u64)) -> PairStats {
        self.pairs
            .get(&k)
            .map_or_else(PairStats::default, |&i| self.slots[i as usize].stats)
    }

    /// A pair's counts to change, marked changed; a new pair starts at zero in both kinds'
    /// neighbour lists.
    fn pair_mut(&mut self, k: (u64, u64)) -> &mut PairStats {
        let i = match self.pairs.get(&k) {
            Some(&i) => i as usize,
            None => self.add_pair(k, PairStats::default(), false),
        };
        let slot = &mut self.slots[i];
        if !slot.dirty {
            slot.dirty = true;
            self.dirty_pairs.insert(k);
        }
        &mut slot.stats
    }

    /// Adds pair `k`, not known yet, with `stats`; returns its slot.
    fn add_pair(&mut self, k: (u64, u64), stats: PairStats, dirty: bool) -> usize {
        let i = self.slots.len();
        self.slots.push(Slot {
            key: k,
            stats,
            dirty,
        });
        self.pairs.insert(k, i as u32);
        link_neighbours(&mut self.neighbours, k, i as u32);
        i
    }

    /// The kinds `kind` fires together with at a rate above `above` ([`Cofire::rate`]),
    /// with their rates, sorted by kind: a kind that is in no pair with it has rate 0 or
    /// none, so only its neighbours are looked at.
    pub fn companions(&self, kind: u64, above: f32) -> Vec<(u64, f32)> {
        let fired = self.kinds.get(&kind).map_or(0.0, |k| k.fired);
        let mut out: Vec<(u64, f32)> = self
            .neighbours
            .get(&kind)
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let slot = &self.slots[i as usize];
                let r = rate_of(fired, slot.stats).filter(|r| *r > above)?;
                Some((slot.other(kind), r))
            })
            .collect();
        out.sort_unstable_by_key(|c| c.0);
        out
    }

    /// The normalised name of a kind, for explanations.
    pub fn name(&self, kind: u64) -> Option<&str> {
        self.kinds.get(&kind).map(|k| k.name.as_str())
    }

    /// A person merged incidents: every kind of one belongs with every kind of the other.
    pub fn merged(&mut self, a: &[u64], b: &[u64]) {
        for &x in a {
            for &y in b {
                self.adjust(x, y, |p| p.together += FEEDBACK_WEIGHT);
            }
        }
    }

    /// A person split alerts of `kinds` out of an incident whose other alerts are of
    /// `rest`: they do not belong together.
    pub fn split(&mut self, kinds: &[u64], rest: &[u64]) {
        for &x in kinds {
            for &y in rest {
                if x != y {
                    self.adjust(x, y, |p| p.apart += FEEDBACK_WEIGHT);
                }
            }
        }
    }

    fn adjust(&mut self, a: u64, b: u64, f: impl FnOnce(&mut PairStats)) {
        f(self.pair_mut(pair(a, b)));
        self.bound();
    }

    /// Kinds and pairs changed since the last call, to be saved; the ones forgotten since
    /// come as zero counts, so the store forgets them too.
    #[allow(clippy::type_complexity)]
    pub fn take_changes(&mut self) -> (Vec<(u64, KindStats)>, Vec<((u64, u64), PairStats)>) {
        let kinds = self
            .dirty_kinds
            .drain()
            .map(|k| (k, self.kinds.get(&k).cloned().unwrap_or_default()))
            .collect();
        let pairs = self
            .dirty_pairs
            .drain()
            .map(|k| match self.pairs.get(&k) {
                Some(&i) => {
                    let slot = &mut self.slots[i as usize];
                    slot.dirty = false;
                    (k, slot.stats)
                }
                None => (k, PairStats::default()),
            })
            .collect();
        (kinds, pairs)
    }

    /// Restores saved counts (at start).
    pub fn load(&mut self, kinds: Vec<(u64, KindStats)>, pairs: Vec<((u64, u64), PairStats)>) {
        self.kinds.extend(kinds);
        for (k, p) in pairs {
            match self.pairs.get(&k) {
                Some(&i) => self.slots[i as usize].stats = p,
                None => {
                    self.add_pair(k, p, false);
                }
            }
        }
    }

    /// Forgets recent firings older than `window` (called now and then as time moves on).
    pub fn prune(&mut self, now: Millis, window: Millis) {
        self.alone
            .retain(|_, &mut (_, at)| now.saturating_sub(at) <= window);
        for map in [&mut self.by_service, &mut self.by_host] {
            map.retain(|_, list| {
                list.retain(|s| now.saturating_sub(s.at) <= window);
                !list.is_empty()
            });
        }
    }

    pub fn len(&self) -> (usize, usize) {
        (self.kinds.len(), self.pairs.len())
    }

    #[cfg(test)]
    fn bound_now(&mut self) {
        let kinds = std::mem::take(&mut self.kinds);
        let mut big: HashMap<u64, KindStats> = kinds.clone();
        for i in 0..=MAX_KINDS as u64 {
            big.entry(u64::MAX - i).or_insert(KindStats {
                fired: 1.0,
                ..KindStats::default()
            });
        }
        self.kinds = big;
        self.bound();
        self.kinds.retain(|k, _| kinds.contains_key(k));
    }

    /// Halves everything when the maps outgrow their bounds; what drops below one firing
    /// is forgotten (and saved as zero, so the store forgets it too).
    fn bound(&mut self) {
        if self.kinds.len() <= MAX_KINDS && self.pairs.len() <= MAX_PAIRS {
            return;
        }
        for (k, s) in self.kinds.iter_mut() {
            s.fired /= 2.0;
            s.linked /= 2.0;
            self.dirty_kinds.insert(*k);
        }
        self.kinds.retain(|_, s| s.fired >= FORGET_BELOW);
        // Every pair is halved and changed; the slots of those kept are laid out again.
        let slots = std::mem::take(&mut self.slots);
        self.pairs.clear();
        self.neighbours.clear();
        for mut slot in slots {
            slot.stats.together /= 2.0;
            slot.stats.apart /= 2.0;
            if !slot.dirty {
                self.dirty_pairs.insert(slot.key);
            }
            if slot.stats.together + slot.stats.apart >= FORGET_BELOW {
                self.add_pair(slot.key, slot.stats, true);
            }
        }
    }
}

/// Keeps the latest firing of each (kind, host) on one host or service, at most
/// [`RECENT_PER_KEY`] of them (the oldest goes).
fn remember(list: &mut Vec<Seen>, s: Seen) {
    if let Some(old) = list
        .iter_mut()
        .find(|o| o.kind == s.kind && o.host == s.host)
    {
        old.at = s.at;
        old.n = s.n;
        return;
    }
    if list.len() >= RECENT_PER_KEY {
        if let Some(oldest) = (0..list.len()).min_by_key(|&i| list[i].at) {
            list.swap_remove(oldest);
        }
    }
    list.push(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    fn fire(c: &mut Cofire, kind: u64, service: &str, host: &str, at: Millis) {
        c.observe(
            &Firing {
                kind,
                name: "k",
                service,
                host: Some(host),
                uplinks: &[],
                depends_on: &[],
                at,
            },
            2 * MIN,
        );
    }

    #[test]
    fn symptoms_of_one_fault_learn_high_rates_and_loners_low_ones() {
        let mut c = Cofire::default();
        let (errors, latency, disk) = (1, 2, 3);
        for i in 0..10 {
            let t = i * 60 * MIN;
            fire(&mut c, errors, "api", "api-1", t);
            fire(&mut c, latency, "api", "api-2", t + 30_000);
            // The loner fires on the same service, but long after.
            fire(&mut c, disk, "api", "api-3", t + 20 * MIN);
        }
        assert!(c.rate(latency, errors).unwrap() > 0.9);
        assert!(c.rate(errors, latency).unwrap() > 0.9);
        assert_eq!(c.rate(disk, errors), Some(0.0));
        // One coincidence barely moves it.
        fire(&mut c, errors, "api", "api-1", 700 * MIN);
        fire(&mut c, disk, "api", "api-3", 700 * MIN + 10_000);
        assert!(c.rate(disk, errors).unwrap() < 0.1);
        assert_eq!(c.rate(99, errors), None, "never seen");
    }

    #[test]
    fn unlinked_firings_are_not_together() {
        let mut c = Cofire::default();
        for i in 0..5 {
            fire(&mut c, 1, "api", "api-1", i * 60 * MIN);
            fire(&mut c, 2, "billing", "bill-1", i * 60 * MIN + 1000);
        }
        assert_eq!(c.rate(2, 1), Some(0.0));
    }

    #[test]
    fn feedback_moves_rates_and_is_saved() {
        let mut c = Cofire::default();
        c.merged(&[1], &[2]);
        assert_eq!(c.rate(1, 2), Some(1.0));
        c.split(&[1], &[2]);
        assert_eq!(c.rate(1, 2), Some(0.5));
        let (_, pairs) = c.take_changes();
        assert_eq!(
            pairs,
            vec![(
                (1, 2),
                PairStats {
                    together: 3.0,
                    apart: 3.0
                }
            )]
        );
        assert!(c.take_changes().1.is_empty());
    }

    /// The neighbour lists give the rates `rate` gives, through new pairs, feedback,
    /// halving and loading.
    #[test]
    fn companions_are_the_pairs_rates() {
        let check = |c: &Cofire| {
            for &kind in c.kinds.keys() {
                let mut want: Vec<(u64, f32)> = c
                    .pairs
                    .keys()
                    .filter(|k| k.0 == kind || k.1 == kind)
                    .map(|k| if k.0 == kind { k.1 } else { k.0 })
                    .filter_map(|o| c.rate(kind, o).filter(|r| *r > 0.1).map(|r| (o, r)))
                    .collect();
                want.sort_unstable_by_key(|w| w.0);
                assert_eq!(c.companions(kind, 0.1), want);
            }
        };
        let mut c = Cofire::default();
        for i in 0..3_000u64 {
            fire(
                &mut c,
                i % 97,
                ["a", "b", "c"][(i % 3) as usize],
                "h",
                (i * 7_000) as Millis,
            );
            if i % 50 == 0 {
                c.merged(&[i % 97], &[(i + 5) % 97]);
                c.split(&[i % 89], &[(i + 1) % 89]);
            }
        }
        check(&c);
        c.bound_now();
        check(&c);
        let (kinds, pairs) = c.take_changes();
        let mut d = Cofire::default();
        d.load(kinds, pairs);
        check(&d);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut c = Cofire::default();
        for i in 0..(MAX_KINDS as u64 + 500) {
            fire(&mut c, i, "svc", "h", i as Millis);
        }
        let (kinds, pairs) = c.len();
        assert!(kinds <= MAX_KINDS && pairs <= MAX_PAIRS);
        // The kinds forgotten come out as zero, for the store to delete.
        let (changed, _) = c.take_changes();
        assert!(changed
            .iter()
            .any(|(k, s)| s.fired == 0.0 && c.name(*k).is_none()));
        assert!(c.by_service.values().all(|v| v.len() <= RECENT_PER_KEY));
        c.prune(MAX_KINDS as Millis + 10 * MIN, 2 * MIN);
        assert!(c.by_service.is_empty() && c.by_host.is_empty());
    }
}
