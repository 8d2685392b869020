//! The footprints of the incidents open to correlation, with the indexes that let a new
//! alert score only the incidents that can reach its threshold.
//!
//! An incident scores its topology points (uplink, same service, dependency), plus its
//! co-fire points, plus the alert kind's alone points (zero or negative, the same for every
//! incident), plus at most `TEXT` for words and `TIME` for recency. An incident that holds
//! none of the alert's uplinks (as hosts), its service or its dependencies has no link, so
//! it reaches the threshold only with co-fire points of at least
//! `threshold - alone - TEXT - TIME`, that is, with a kind that co-fires with the alert's at
//! a rate of at least `COFIRE_PRIOR + (threshold - alone - TEXT - TIME) / COFIRE`. The
//! candidates are the incidents holding one of those uplinks, services or kinds (found in
//! the indexes); every other incident provably scores below the threshold, so the choice is
//! the full scan's. The linked ones are scored first, and the bar for the unlinked ones is
//! then the best score so far where that is above the threshold (usually out of any rate's
//! reach, so none are gathered). When the threshold is so low that no rate is needed,
//! every incident is scored.

use super::cofire::Cofire;
use super::{
    alone, alone_points, link, outranks, score_lite, strongest, through, weight,
    CorrelationSettings, Footprint, Lite, Placed, Rank, Scored,
};
use crate::time::Millis;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Bounds are compared with this much to spare, so rounding in the sums of `f32` points
/// can never rule out an incident that reaches the threshold.
const MARGIN: f32 = 1e-4;

/// The footprints of the incidents open to correlation, by incident id, and which
/// incidents hold each host, service and kind.
#[derive(Debug, Clone, Default)]
pub struct Footprints {
    map: HashMap<i64, Footprint>,
    /// Host -> the incidents it alerted in, with when it last did (at least).
    by_host: HashMap<String, Vec<(i64, Millis)>>,
    /// Service -> the incidents it alerted in, with when it last did (at least).
    by_service: HashMap<String, Vec<(i64, Millis)>>,
    /// Kind -> the incidents that hold it.
    by_kind: HashMap<u64, Vec<i64>>,
    /// The latest `last` of them all: no incident's time part is more than this one's.
    latest: Millis,
}

/// The time part's share (of `TIME`) for an incident that gained its last alert at `last`:
/// as `score` works it out (more than 1 for a `last` after `now`).
fn fresh(now: Millis, last: Millis, s: &CorrelationSettings) -> f32 {
    let ago = now.saturating_sub(last);
    1.0 - (ago as f32 / s.quiet.max(1) as f32).min(1.0)
}

fn unlist<Q, T>(index: &mut HashMap<Q, Vec<T>>, key: &Q, id: i64, of: fn(&T) -> i64)
where
    Q: std::hash::Hash + Eq,
{
    if let Some(list) = index.get_mut(key) {
        if let Some(i) = list.iter().position(|x| of(x) == id) {
            list.swap_remove(i);
        }
        if list.is_empty() {
            index.remove(key);
        }
    }
}

/// Notes in an index that `name` alerted in incident `id` at `at`.
fn note(index: &mut HashMap<String, Vec<(i64, Millis)>>, name: &str, id: i64, at: Millis) {
    match index.get_mut(name) {
        Some(list) => match list.iter_mut().find(|e| e.0 == id) {
            Some(e) => e.1 = e.1.max(at),
            None => list.push((id, at)),
        },
        None => {
            index.insert(name.to_owned(), vec![(id, at)]);
        }
    }
}

/// What [`Footprints::prepare`] works out once per alert.
struct Prepared {
    companions: Option<Companions>,
    alone_rate: Option<f32>,
    alone_pts: f32,
    /// The most time part any incident has.
    time_max: f32,
}

impl Prepared {
    /// The co-fire points an incident without a topology link needs to score `bar`.
    fn need(&self, bar: f32) -> f32 {
        bar - self.alone_pts - weight::TEXT - self.time_max
    }
}

/// The kinds an alert's kind fires together with above `COFIRE_PRIOR` (what can give
/// co-fire points), sorted by kind, looked up once per alert.
struct Companions {
    list: Vec<(u64, f32)>,
    /// Which low bytes the companions' kinds have: most kinds an incident holds are not
    /// companions, and a bit test rules them out without a search (kinds are hashes, so
    /// the low bytes spread).
    bits: [u64; 4],
}

impl Companions {
    fn new(list: Vec<(u64, f32)>) -> Companions {
        let mut bits = [0u64; 4];
        for &(k, _) in &list {
            bits[(k as u8 >> 6) as usize] |= 1 << (k & 63);
        }
        Companions { list, bits }
    }

    fn get(&self, kind: u64) -> Option<f32> {
        if self.bits[(kind as u8 >> 6) as usize] & (1 << (kind & 63)) == 0 {
            return None;
        }
        self.list
            .binary_search_by_key(&kind, |c| c.0)
            .ok()
            .map(|i| self.list[i].1)
    }

    /// The strongest companion among `through`, else among the footprint's kinds: the
    /// same as [`super::score`] finds with a rate look-up per kind.
    fn best(&self, f: &Footprint, through: Option<&[u64]>) -> Option<(f32, u64)> {
        match through {
            Some(list) => list
                .iter()
                .filter_map(|&k| self.get(k).map(|r| (r, k)))
                .max_by(strongest),
            None if self.list.len() <= f.kinds.len() => self
                .list
                .iter()
                .filter(|(k, _)| f.kinds.contains_key(k))
                .map(|&(k, r)| (r, k))
                .max_by(strongest),
            None => f
                .kinds
                .keys()
                .filter_map(|&k| self.get(k).map(|r| (r, k)))
                .max_by(strongest),
        }
    }
}

impl Footprints {
    pub fn get(&self, id: i64) -> Option<&Footprint> {
        self.map.get(&id)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (i64, &Footprint)> {
        self.map.iter().map(|(id, f)| (*id, f))
    }

    /// Notes that an alert fired into incident `id` (opened at `opened`) at `at`.
    pub fn record(&mut self, id: i64, opened: Millis, a: &Placed<'_>, at: Millis) {
        let f = self.map.entry(id).or_insert_with(|| Footprint::new(opened));
        note(&mut self.by_service, a.service, id, at);
        if let Some(h) = a.host {
            note(&mut self.by_host, h, id, at);
        }
        if a.kind != 0 && !f.kinds.contains_key(&a.kind) {
            self.by_kind.entry(a.kind).or_default().push(id);
        }
        let gone = f.record_evicting(a, at);
        self.latest = self.latest.max(f.last);
        if let Some(gone) = gone {
            unlist(&mut self.by_kind, &gone, id, |&x| x);
        }
    }

    /// Keeps the footprints `keep` says to keep.
    pub fn retain(&mut self, mut keep: impl FnMut(i64, &Footprint) -> bool) {
        let gone: Vec<i64> = self
            .map
            .iter()
            .filter(|(id, f)| !keep(**id, f))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some(f) = self.map.remove(&id) {
                for h in f.hosts.keys() {
                    unlist(&mut self.by_host, h, id, |e| e.0);
                }
                for sv in f.services.keys() {
                    unlist(&mut self.by_service, sv, id, |e| e.0);
                }
                for k in f.kinds.keys() {
                    unlist(&mut self.by_kind, k, id, |&x| x);
                }
            }
        }
        self.latest = self.map.values().map(|f| f.last).max().unwrap_or(0);
    }

    /// What one alert needs to know before it scores incidents: its companion kinds, its
    /// alone part and the most time part an incident has.
    fn prepare(
        &self,
        a: &Placed<'_>,
        now: Millis,
        s: &CorrelationSettings,
        learned: Option<&Cofire>,
    ) -> Prepared {
        let learned = learned.filter(|_| a.kind != 0);
        let companions =
            learned.map(|c| Companions::new(c.companions(a.kind, weight::COFIRE_PRIOR)));
        let alone_rate = learned.and_then(|c| alone(c, a.kind));
        let alone_pts = alone_rate.map_or(0.0, alone_points);
        // No incident's time part is more than that of the one that gained an alert last.
        let time_max = weight::TIME * fresh(now, self.latest, s).max(0.0);
        Prepared {
            companions,
            alone_rate,
            alone_pts,
            time_max,
        }
    }

    /// The incidents an alert's uplinks, service or dependencies can link to, sorted.
    fn linked(&self, a: &Placed<'_>, now: Millis, s: &CorrelationSettings) -> Vec<i64> {
        let mut ids: Vec<i64> = Vec::new();
        // A topology link needs the uplink, service or dependency to have alerted in the
        // incident recently (as `link` checks): older entries link nothing.
        let mut linked = |list: Option<&Vec<(i64, Millis)>>, within: Millis| {
            let recent = list
                .into_iter()
                .flatten()
                .filter(|e| now.saturating_sub(e.1) <= within);
            ids.extend(recent.map(|e| e.0));
        };
        for u in a.uplinks {
            linked(self.by_host.get(u.as_str()), s.uplink);
        }
        if a.service_known {
            linked(self.by_service.get(a.service), s.same_service);
        }
        for d in a.depends_on.iter().chain(a.indirect) {
            linked(self.by_service.get(d.as_str()), s.dependency);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The incidents besides `linked` (sorted) that a companion kind can take to `need`
    /// co-fire points without a topology link, sorted.
    fn unlinked(&self, p: &Prepared, need: f32, linked: &[i64]) -> Vec<i64> {
        let Some(c) = &p.companions else {
            return Vec::new();
        };
        // The rate a kind must co-fire at to give that many points.
        let floor = weight::COFIRE_PRIOR + (need - MARGIN) / weight::COFIRE;
        let lists: Vec<&Vec<i64>> = (c.list.iter())
            .filter(|c| c.1 >= floor)
            .filter_map(|(k, _)| self.by_kind.get(k))
            .collect();
        if lists.is_empty() {
            return Vec::new();
        }
        // The companions' incidents overlap a lot (an incident holding one of them mostly
        // holds the others): a set drops the repeats and the linked ones in one look-up
        // each, where sorting them all cost more.
        let most = linked.len() + lists.iter().map(|l| l.len()).sum::<usize>();
        let mut seen: HashSet<i64> = HashSet::with_capacity_and_hasher(most, Default::default());
        seen.extend(linked.iter().copied());
        let mut rest: Vec<i64> = Vec::new();
        for list in lists {
            rest.extend(list.iter().filter(|&&id| seen.insert(id)));
        }
        rest.sort_unstable();
        rest
    }

    /// The incidents [`Footprints::choose`] may score for this alert (before the open
    /// filter, the upper bounds and the best linked score raising the bar for the others),
    /// `None` for all of them: for measuring.
    pub fn candidates(
        &self,
        a: &Placed<'_>,
        now: Millis,
        s: &CorrelationSettings,
        learned: Option<&Cofire>,
    ) -> Option<Vec<i64>> {
        let p = self.prepare(a, now, s, learned);
        let need = p.need(a.threshold);
        if need <= MARGIN {
            return None;
        }
        let mut ids = self.linked(a, now, s);
        let mut rest = self.unlinked(&p, need, &ids);
        ids.append(&mut rest);
        Some(ids)
    }

    /// The incident a newly firing alert joins, and why: what [`super::choose`] decides
    /// over every footprint whose incident is `open`, scoring only the incidents that can
    /// reach the alert's threshold.
    ///
    /// The incidents a topology link can reach are scored first; the others can score
    /// only their co-fire, alone, words and time parts, so only those holding a kind that
    /// co-fires enough to reach the best score so far (or the threshold) are scored after
    /// them (every other one provably scores below it). When the bound needs no co-fire
    /// at all, every incident is scored.
    pub fn choose(
        &self,
        a: &Placed<'_>,
        now: Millis,
        s: &CorrelationSettings,
        learned: Option<&Cofire>,
        open: impl Fn(i64) -> bool,
    ) -> Option<(i64, Scored)> {
        let learned = learned.filter(|_| a.kind != 0);
        let p = self.prepare(a, now, s, learned);
        let mut best = Best {
            a,
            now,
            s,
            p: &p,
            top: None,
        };
        let consider = |best: &mut Best<'_, '_>, id: i64, f: &Footprint, may_link: bool| {
            if f.is_open_to(now, s) && open(id) {
                best.consider(id, f, may_link);
            }
        };
        if p.need(a.threshold) <= MARGIN {
            for (&id, f) in &self.map {
                consider(&mut best, id, f, true);
            }
        } else {
            let linked = self.linked(a, now, s);
            for &id in &linked {
                if let Some(f) = self.map.get(&id) {
                    consider(&mut best, id, f, true);
                }
            }
            // An unlinked incident must beat the best linked one (or reach the threshold).
            // `linked` holds every incident a link reaches: the index keeps the latest time
            // each name alerted in each incident, no earlier than the footprint's.
            for id in self.unlinked(&p, p.need(best.floor()), &linked) {
                if let Some(f) = self.map.get(&id) {
                    consider(&mut best, id, f, false);
                }
            }
        }
        best.top
            .map(|((_, _, neg_id), lite)| (-neg_id, lite.scored(a, learned)))
    }
}

/// The best incident so far while [`Footprints::choose`] scores the candidates.
struct Best<'a, 'p> {
    a: &'p Placed<'a>,
    now: Millis,
    s: &'p CorrelationSettings,
    p: &'p Prepared,
    /// Its rank (score, last alert, minus its id) and score.
    top: Option<(Rank, Lite<'a>)>,
}

impl<'a> Best<'a, '_> {
    /// The score an incident must reach to be chosen now (ties aside).
    fn floor(&self) -> f32 {
        self.top
            .as_ref()
            .map_or(self.a.threshold, |b| b.0 .0.max(self.a.threshold))
    }

    /// Scores incident `id` (its footprint `f`, open to correlation), if it can beat the
    /// best so far; `may_link` is false when no topology link can reach it.
    fn consider(&mut self, id: i64, f: &Footprint, may_link: bool) {
        let (a, now, s) = (self.a, self.now, self.s);
        let linked = if may_link { link(f, a, now, s) } else { None };
        let cofire = (self.p.companions.as_ref()).map(|c| c.best(f, through(f, linked.as_ref())));
        let cofire_pts = cofire
            .flatten()
            .map_or(0.0, |(r, _)| weight::COFIRE * (r - weight::COFIRE_PRIOR));
        // The most it can score: its link, its co-fire and alone parts, texts as alike
        // as their sizes allow, and the time part; the words are compared only when
        // that can beat the best so far.
        let (small, big) = if a.tokens.len() <= f.tokens.len() {
            (a.tokens.len(), f.tokens.len())
        } else {
            (f.tokens.len(), a.tokens.len())
        };
        let alike = if big == 0 {
            0.0
        } else {
            small as f32 / big as f32
        };
        let most = linked.as_ref().map_or(0.0, |l| l.points())
            + cofire_pts
            + self.p.alone_pts
            + weight::TEXT * alike
            + weight::TIME * fresh(now, f.last, s).max(0.0);
        if most < self.floor() - MARGIN {
            return;
        }
        let learn = cofire.map(|best| (best, self.p.alone_rate));
        let lite = score_lite(f, a, now, s, linked, learn);
        if lite.score < a.threshold {
            return;
        }
        let rank = (lite.score, f.last, -id);
        let better = self.top.as_ref().is_none_or(|(b, _)| outranks(&rank, b));
        if better {
            self.top = Some((rank, lite));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cofire::Firing;
    use super::super::{choose, CorrelationSettings, Placed};
    use super::*;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn ms(&mut self, n: Millis) -> Millis {
            (self.next() % n as u64) as Millis
        }
    }

    const SERVICES: [&str; 6] = ["api", "db", "web", "cache", "queue", "default"];

    fn names(prefix: &str, n: u64) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// The indexed choice is the full scan's, part for part, over random footprints,
    /// learned rates, thresholds and open incidents; also after incidents are pruned and
    /// kinds evicted from big footprints.
    #[test]
    fn the_candidates_choose_what_the_full_scan_chooses() {
        let s = CorrelationSettings::default();
        let hosts = names("h", 40);
        let switches = names("sw", 6);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Choices compared, joins, joins by learning and words alone (no topology link).
        let mut compared = (0, 0, 0);
        for round in 0..40 {
            // Learned rates: firings of 30 kinds on linked things, and some feedback.
            let mut c = Cofire::default();
            let mut t: Millis = 0;
            for _ in 0..(200 + rng.below(1500)) {
                let kind = 1 + rng.below(30);
                let svc = SERVICES[rng.below(6) as usize];
                let host = &hosts[rng.below(40) as usize];
                let ups = [switches[rng.below(6) as usize].clone()];
                let deps = [SERVICES[rng.below(6) as usize].to_string()];
                c.observe(
                    &Firing {
                        kind,
                        name: "k",
                        service: svc,
                        host: Some(host),
                        uplinks: &ups,
                        depends_on: &deps,
                        at: t,
                    },
                    s.cofire,
                );
                t += rng.ms(60_000);
            }
            for _ in 0..rng.below(6) {
                let (x, y) = (1 + rng.below(30), 1 + rng.below(30));
                if rng.below(2) == 0 {
                    c.merged(&[x], &[y]);
                } else {
                    c.split(&[x], &[y]);
                }
            }
            // Open incidents, some big enough to forget kinds.
            let now: Millis = 10_000_000;
            let mut fps = Footprints::default();
            for id in 1..=(5 + rng.below(60) as i64) {
                let opened = now - rng.ms(s.window + 60_000);
                let big = rng.below(8) == 0;
                for _ in 0..(1 + rng.below(if big { 120 } else { 8 })) {
                    let toks: Vec<u32> = {
                        let mut v: Vec<u32> =
                            (0..rng.below(6)).map(|_| rng.below(20) as u32).collect();
                        v.sort_unstable();
                        v.dedup();
                        v
                    };
                    let host = if rng.below(3) == 0 {
                        &switches[rng.below(6) as usize]
                    } else {
                        &hosts[rng.below(40) as usize]
                    };
                    let a = Placed {
                        kind: if big {
                            1 + rng.below(200)
                        } else {
                            rng.below(31)
                        },
                        tokens: &toks,
                        ..Placed::bare(SERVICES[rng.below(6) as usize], Some(host))
                    };
                    let at = (opened + rng.ms(s.window)).min(now);
                    fps.record(id, opened, &a, at);
                }
            }
            if round % 3 == 0 {
                let cut = now - rng.ms(s.quiet);
                fps.retain(|_, f| f.last >= cut);
            }
            let closed = rng.below(7) as i64;
            let open = |id: i64| closed == 0 || id % 7 != closed;
            for _ in 0..200 {
                let ups: Vec<String> = (0..rng.below(3))
                    .map(|_| switches[rng.below(6) as usize].clone())
                    .collect();
                let deps: Vec<String> = (0..rng.below(3))
                    .map(|_| SERVICES[rng.below(6) as usize].to_string())
                    .collect();
                let indirect: Vec<String> = (0..rng.below(3))
                    .map(|_| SERVICES[rng.below(6) as usize].to_string())
                    .collect();
                let toks: Vec<u32> = {
                    let mut v: Vec<u32> = (0..rng.below(6)).map(|_| rng.below(20) as u32).collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let threshold =
                    [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.5, 0.6, 0.8][rng.below(10) as usize];
                let a = Placed {
                    service: SERVICES[rng.below(6) as usize],
                    service_known: rng.below(5) != 0,
                    host: Some(&hosts[rng.below(40) as usize]),
                    uplinks: &ups,
                    depends_on: &deps,
                    indirect: &indirect,
                    kind: rng.below(31),
                    tokens: &toks,
                    threshold,
                };
                let at = now - rng.ms(30_000) + rng.ms(200_000);
                for learned in [Some(&c), None] {
                    let full = choose(fps.iter().filter(|(id, _)| open(*id)), &a, at, &s, learned);
                    let fast = fps.choose(&a, at, &s, learned, open);
                    assert_eq!(fast, full, "round {round}: {a:?}");
                    compared.0 += 1;
                    compared.1 += full.is_some() as usize;
                    compared.2 += full.as_ref().is_some_and(|(_, sc)| {
                        !matches!(sc.parts[0].0, super::super::Part::Topology(_))
                    }) as usize;
                }
            }
        }
        println!("compared, joined, joined without a topology link: {compared:?}");
        // Both kinds of outcome were tried.
        assert!(
            compared.1 > compared.0 / 10 && compared.1 < compared.0 * 9 / 10 && compared.2 > 50,
            "{compared:?}"
        );
    }

    #[test]
    fn pruned_and_forgotten_leave_the_indexes() {
        let mut fps = Footprints::default();
        for k in 1..=70u64 {
            let a = Placed {
                kind: k,
                ..Placed::bare("api", Some("h1"))
            };
            fps.record(1, 0, &a, k as Millis);
        }
        // Six kinds forgotten to keep 64.
        assert_eq!(fps.by_kind.len(), 64);
        assert!(!fps.by_kind.contains_key(&1));
        fps.record(2, 0, &Placed::bare("db", Some("h2")), 0);
        fps.retain(|id, _| id == 2);
        assert!(fps.by_kind.is_empty());
        assert_eq!(fps.by_host.keys().collect::<Vec<_>>(), ["h2"]);
        assert_eq!(fps.by_service.keys().collect::<Vec<_>>(), ["db"]);
    }
}
