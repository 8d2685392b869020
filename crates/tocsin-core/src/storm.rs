//! Storms: a rate of new alerts far above the normal one, per service and over all services.
//! While a storm lasts, the incidents it touches are summarised instead of paged one by one
//! (see docs/storms.md); nothing is dropped.
//!
//! The detector is fed the time and service of every newly firing alert (a first fire or a
//! re-fire, never a resend of a firing alert) and learns what is normal as it goes: an
//! exponentially weighted average of new alerts per `window`, which a storm does not teach.
//! A storm starts when the last `window` holds at least `min_alerts` new alerts and `factor`
//! times the normal count; it ends once the count has stayed under half of that for `calm`.
//! Plain data over the given times only, so the engine, `tocsin replay` and a restart that
//! re-applies the log decide alike; each scope costs a fixed few hundred bytes, and services
//! that have gone quiet are forgotten.

use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The `storms:` config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StormPolicy {
    /// How many times the normal rate a storm is.
    pub factor: f64,
    /// The fewest new alerts in one `window` that can be a storm, whatever the normal rate.
    pub min_alerts: u32,
    /// The span over which the current rate is counted (and the normal rate learned).
    pub window: Millis,
    /// How often, at most, a storm's summary is sent again with what is new.
    pub summary_interval: Millis,
    /// How long the rate must stay under the exit threshold for the storm to end.
    pub calm: Millis,
}

pub const DEFAULT_FACTOR: f64 = 10.0;
/// A busy minute of ordinary faults (`tocsin simulate`'s `mixed` profile, seeds 1-5, peaks
/// at 23 to 37 new alerts a minute over all services) stays under this; a core switch
/// taking hundreds of hosts down does not.
pub const DEFAULT_MIN_ALERTS: u32 = 50;
pub const DEFAULT_WINDOW: Millis = 60_000;
pub const DEFAULT_SUMMARY_INTERVAL: Millis = 5 * 60_000;
pub const DEFAULT_CALM: Millis = 5 * 60_000;

/// The window is counted in this many slots, sliding by one slot at a time.
pub const SLOTS: usize = 12;
/// The normal rate forgets half of what it learned over this many windows (an hour at 1m).
const HALF_LIFE_WINDOWS: f64 = 60.0;
/// The normal rate is never taken as less than this many alerts a window, so a quiet service
/// is not in a storm on its first few alerts.
pub const BASELINE_FLOOR: f64 = 1.0;
/// A service whose normal rate has decayed below this, with nothing in its window, is
/// forgotten; it would start again from the floor anyway.
const FORGET_BELOW: f64 = 0.01;
/// Under a global storm, a service with this many new alerts in one window is part of it;
/// a lone new alert on another service is not, and pages as usual.
pub const GLOBAL_MEMBER_ALERTS: u32 = 2;

impl Default for StormPolicy {
    fn default() -> Self {
        StormPolicy {
            factor: DEFAULT_FACTOR,
            min_alerts: DEFAULT_MIN_ALERTS,
            window: DEFAULT_WINDOW,
            summary_interval: DEFAULT_SUMMARY_INTERVAL,
            calm: DEFAULT_CALM,
        }
    }
}

impl StormPolicy {
    fn slot_len(&self) -> Millis {
        (self.window / SLOTS as Millis).max(1)
    }

    /// New alerts in one window that make a storm against this normal count.
    pub fn threshold(&self, baseline: f64) -> f64 {
        f64::from(self.min_alerts).max(self.factor * baseline.max(BASELINE_FLOOR))
    }

    /// A count per window as a count per minute, as people read it.
    pub fn per_minute(&self, count: f64) -> f64 {
        count * 60_000.0 / self.window.max(1) as f64
    }
}

/// What a storm covers: one service, or all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    Global,
    Service(String),
}

impl Scope {
    /// `global` or `service`, as stored and shown.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Service(_) => "service",
        }
    }

    /// The service, for a service storm.
    pub fn service(&self) -> Option<&str> {
        match self {
            Scope::Global => None,
            Scope::Service(s) => Some(s),
        }
    }

    /// `order-api`, or `all services`, for messages.
    pub fn describe(&self) -> &str {
        self.service().unwrap_or("all services")
    }
}

/// A storm began or ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Started {
        scope: Scope,
        at: Millis,
        /// New alerts in the window when it started, and the normal count it was held against.
        count: u32,
        baseline: f64,
    },
    Ended {
        scope: Scope,
        at: Millis,
        /// The most new alerts seen in one window during the storm.
        peak: u32,
    },
}

/// A storm in progress on one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Active {
    pub started_at: Millis,
    pub peak: u32,
    /// The normal count when it started; the exit threshold is half of what it took to start.
    pub baseline: f64,
    /// Since when the count has been under the exit threshold.
    pub below_since: Option<Millis>,
    /// For a global storm: the services in it.
    pub members: BTreeSet<String>,
}

/// The rate of new alerts of one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// New alerts per slot; `slots[head % SLOTS]` is the newest.
    slots: [u32; SLOTS],
    /// The newest slot's number (its start over the slot length).
    head: i64,
    /// The normal count of new alerts per window.
    pub baseline: f64,
    /// The window being counted for the baseline, its count, and whether a storm touched it
    /// (a storm's windows are not normal, so they are not learned).
    bucket: i64,
    bucket_count: u32,
    tainted: bool,
    pub storm: Option<Active>,
}

impl Rate {
    fn new(policy: &StormPolicy, at: Millis) -> Rate {
        Rate {
            slots: [0; SLOTS],
            head: at.div_euclid(policy.slot_len()),
            baseline: 0.0,
            bucket: at.div_euclid(policy.window.max(1)),
            bucket_count: 0,
            tainted: false,
            storm: None,
        }
    }

    /// New alerts within the window.
    pub fn count(&self) -> u32 {
        self.slots.iter().sum()
    }

    /// Brings the rate to `now`: old slots drop out, finished windows are learned, and a
    /// storm whose count stayed low for `calm` ends (at that moment, not at `now`).
    fn advance(&mut self, policy: &StormPolicy, now: Millis) -> Option<Millis> {
        self.learn(policy, now);
        let slot_len = policy.slot_len();
        let target = now.div_euclid(slot_len);
        while self.head < target {
            self.head += 1;
            self.slots[self.head.rem_euclid(SLOTS as i64) as usize] = 0;
            let count = self.count();
            if let Some(s) = &mut self.storm {
                if s.below_since.is_none() && f64::from(count) < exit_threshold(policy, s) {
                    s.below_since = Some(self.head * slot_len);
                }
            }
            if count == 0 {
                // Nothing left to drop out: the slots in between are empty too.
                self.head = target;
            }
        }
        let end = self.storm.as_ref()?.below_since? + policy.calm;
        (end <= now).then(|| {
            self.storm = None;
            end
        })
    }

    fn learn(&mut self, policy: &StormPolicy, now: Millis) {
        let bucket = now.div_euclid(policy.window.max(1));
        if bucket <= self.bucket {
            return;
        }
        let keep = 0.5f64.powf(1.0 / HALF_LIFE_WINDOWS);
        if !self.tainted {
            self.baseline = keep * self.baseline + (1.0 - keep) * f64::from(self.bucket_count);
        }
        // The windows in between had no new alert at all.
        let empty = (bucket - self.bucket - 1).min(i32::MAX as i64) as i32;
        self.baseline *= keep.powi(empty);
        self.bucket = bucket;
        self.bucket_count = 0;
        self.tainted = self.storm.is_some();
    }

    /// Counts a new alert at `at` (already advanced to); tells whether a storm starts.
    fn add(&mut self, policy: &StormPolicy, at: Millis) -> Option<u32> {
        self.slots[self.head.rem_euclid(SLOTS as i64) as usize] += 1;
        self.bucket_count += 1;
        let count = self.count();
        match &mut self.storm {
            Some(s) => {
                s.peak = s.peak.max(count);
                if f64::from(count) >= exit_threshold(policy, s) {
                    s.below_since = None;
                }
                None
            }
            None if f64::from(count) >= policy.threshold(self.baseline) => {
                self.tainted = true;
                self.storm = Some(Active {
                    started_at: at,
                    peak: count,
                    baseline: self.baseline.max(BASELINE_FLOOR),
                    below_since: None,
                    members: BTreeSet::new(),
                });
                Some(count)
            }
            None => None,
        }
    }

    /// When this rate may next change its storm by itself.
    fn next_due(&self, policy: &StormPolicy) -> Option<Millis> {
        let s = self.storm.as_ref()?;
        Some(match s.below_since {
            Some(since) => since + policy.calm,
            None => (self.head + 1) * policy.slot_len(),
        })
    }

    fn idle(&self) -> bool {
        self.storm.is_none() && self.count() == 0 && self.baseline < FORGET_BELOW
    }
}

fn exit_threshold(policy: &StormPolicy, s: &Active) -> f64 {
    policy.threshold(s.baseline) / 2.0
}

/// The rates of every service that alerted lately and of all services together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub global: Option<Rate>,
    pub services: HashMap<String, Rate>,
    /// The latest time seen: log order is the truth, an earlier stamp counts as this.
    pub last: Millis,
}

impl Detector {
    /// A newly firing alert of `service` at `at`; returns the storms that ended before it
    /// and the ones it starts.
    pub fn observe(&mut self, policy: &StormPolicy, at: Millis, service: &str) -> Vec<Change> {
        let mut changes = self.tick(policy, at);
        let at = self.last;
        let rate = self
            .services
            .entry(service.to_string())
            .or_insert_with(|| Rate::new(policy, at));
        rate.advance(policy, at);
        let own = rate.add(policy, at);
        let own_count = rate.count();
        if let Some(count) = own {
            changes.push(Change::Started {
                scope: Scope::Service(service.to_string()),
                at,
                count,
                baseline: rate.storm.as_ref().map_or(0.0, |s| s.baseline),
            });
        }
        let global = self.global.get_or_insert_with(|| Rate::new(policy, at));
        global.advance(policy, at);
        if let Some(count) = global.add(policy, at) {
            let s = global.storm.as_mut().expect("just started");
            // Every service alerting in the window that started it is part of it.
            s.members = self
                .services
                .iter()
                .filter(|(_, r)| r.count() > 0)
                .map(|(id, _)| id.clone())
                .collect();
            changes.push(Change::Started {
                scope: Scope::Global,
                at,
                count,
                baseline: s.baseline,
            });
        } else if let Some(s) = &mut global.storm {
            if own_count >= GLOBAL_MEMBER_ALERTS && !s.members.contains(service) {
                s.members.insert(service.to_string());
            }
        }
        changes
    }

    /// Brings every storm to `now`; returns those that ended by then. Once a window, the
    /// services that went quiet are forgotten.
    pub fn tick(&mut self, policy: &StormPolicy, now: Millis) -> Vec<Change> {
        let now = now.max(self.last);
        let rolled =
            now.div_euclid(policy.window.max(1)) > self.last.div_euclid(policy.window.max(1));
        self.last = now;
        let mut changes = Vec::new();
        let mut ended = |scope: Scope, rate: &mut Rate| {
            let peak = rate.storm.as_ref().map(|s| s.peak);
            if let (Some(at), Some(peak)) = (rate.advance(policy, now), peak) {
                changes.push(Change::Ended { scope, at, peak });
            }
        };
        if let Some(g) = &mut self.global {
            ended(Scope::Global, g);
        }
        for (id, rate) in &mut self.services {
            if rate.storm.is_some() || rolled {
                ended(Scope::Service(id.clone()), rate);
            }
        }
        if rolled {
            self.services.retain(|_, r| !r.idle());
        }
        // Deterministic order whatever the map's.
        changes.sort_by_key(change_key);
        changes
    }

    /// The storms covering a service now: its own, and a global one it is part of.
    pub fn covering(&self, service: &str) -> Vec<Scope> {
        let mut out = Vec::new();
        if self
            .services
            .get(service)
            .is_some_and(|r| r.storm.is_some())
        {
            out.push(Scope::Service(service.to_string()));
        }
        let global = self.global.as_ref().and_then(|g| g.storm.as_ref());
        if global.is_some_and(|s| s.members.contains(service)) {
            out.push(Scope::Global);
        }
        out
    }

    /// The storm in progress on a scope.
    pub fn active(&self, scope: &Scope) -> Option<&Active> {
        match scope {
            Scope::Global => self.global.as_ref()?.storm.as_ref(),
            Scope::Service(s) => self.services.get(s)?.storm.as_ref(),
        }
    }

    /// New alerts in the window of a scope.
    pub fn count(&self, scope: &Scope) -> u32 {
        match scope {
            Scope::Global => self.global.as_ref().map_or(0, Rate::count),
            Scope::Service(s) => self.services.get(s).map_or(0, Rate::count),
        }
    }

    /// When a storm may end by itself next, for the engine's wake-ups.
    pub fn next_due(&self, policy: &StormPolicy) -> Option<Millis> {
        self.global
            .iter()
            .chain(self.services.values())
            .filter_map(|r| r.next_due(policy))
            .min()
    }
}

fn change_key(c: &Change) -> (Millis, Scope) {
    match c {
        Change::Started { scope, at, .. } | Change::Ended { scope, at, .. } => (*at, scope.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEC: Millis = 1000;
    const MIN: Millis = 60 * SEC;

    fn starts(changes: &[Change]) -> Vec<Scope> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Started { scope, .. } => Some(scope.clone()),
                _ => None,
            })
            .collect()
    }

    /// `n` new alerts of `service` spread evenly over `span` from `from`.
    fn burst(
        d: &mut Detector,
        p: &StormPolicy,
        service: &str,
        from: Millis,
        span: Millis,
        n: i64,
    ) -> Vec<Change> {
        (0..n)
            .flat_map(|i| d.observe(p, from + span * i / n.max(1), service))
            .collect()
    }

    #[test]
    fn a_quiet_service_does_not_storm_on_a_few_alerts() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        assert!(burst(&mut d, &p, "web", 0, 10 * SEC, 3).is_empty());
        assert!(burst(&mut d, &p, "web", MIN, 50 * SEC, 49).is_empty());
        assert_eq!(d.count(&Scope::Service("web".into())), 49);
    }

    #[test]
    fn hundreds_in_a_minute_storm_on_the_service_and_globally() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        let changes = burst(&mut d, &p, "order-api", 0, 40 * SEC, 300);
        assert_eq!(
            starts(&changes),
            [Scope::Service("order-api".into()), Scope::Global]
        );
        let Change::Started { at, count, .. } = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(*count, 50);
        assert!(*at < 8 * SEC, "{at}");
        assert_eq!(
            d.covering("order-api"),
            [Scope::Service("order-api".into()), Scope::Global]
        );
        assert!(d.covering("billing").is_empty());
        assert_eq!(d.active(&Scope::Global).unwrap().peak, 300);
    }

    #[test]
    fn the_storm_ends_after_a_calm_spell_at_that_moment() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        burst(&mut d, &p, "db", 0, 30 * SEC, 200);
        assert!(d.tick(&p, 3 * MIN).is_empty(), "calm has not lasted 5m yet");
        let due = d.next_due(&p).unwrap();
        // Under 25 (half the 50 it took) once the burst has slid out of the window.
        assert!((60 * SEC..=91 * SEC).contains(&(due - p.calm)), "{due}");
        let ended = d.tick(&p, 20 * MIN);
        assert_eq!(
            ended,
            [
                Change::Ended {
                    scope: Scope::Global,
                    at: due,
                    peak: 200
                },
                Change::Ended {
                    scope: Scope::Service("db".into()),
                    at: due,
                    peak: 200
                }
            ]
        );
        assert!(d.covering("db").is_empty());
        assert_eq!(d.next_due(&p), None);
    }

    #[test]
    fn a_steady_trickle_keeps_it_going_and_the_storm_is_not_learned() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        burst(&mut d, &p, "db", 0, 30 * SEC, 200);
        // 30 a minute is above the exit threshold (25) for ten minutes.
        burst(&mut d, &p, "db", 30 * SEC, 10 * MIN, 300);
        assert!(d.active(&Scope::Service("db".into())).is_some());
        let baseline = d.services["db"].baseline;
        assert!(baseline < 0.5, "storm minutes were learned: {baseline}");
    }

    #[test]
    fn a_busy_service_learns_its_normal_and_needs_factor_times_it() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        // 20 new alerts a minute for ten hours: that is normal for it.
        let changes = burst(&mut d, &p, "batch", 0, 600 * MIN, 12_000);
        assert!(starts(&changes).is_empty(), "{changes:?}");
        let b = d.services["batch"].baseline;
        assert!((19.0..=20.5).contains(&b), "{b}");
        // 60 in a minute is more than min_alerts but not ten times normal.
        assert!(burst(&mut d, &p, "batch", 600 * MIN, 50 * SEC, 60).is_empty());
        assert!(p.threshold(b) > 190.0);
    }

    #[test]
    fn under_a_global_storm_a_lone_alert_elsewhere_is_not_in_it() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        for i in 0..60 {
            d.observe(&p, i * 500, &format!("svc-{}", i % 30));
        }
        assert!(d.active(&Scope::Global).is_some());
        assert_eq!(d.covering("svc-3"), [Scope::Global]);
        d.observe(&p, 40 * SEC, "billing");
        assert!(d.covering("billing").is_empty());
        d.observe(&p, 41 * SEC, "billing");
        assert_eq!(d.covering("billing"), [Scope::Global]);
    }

    #[test]
    fn quiet_services_are_forgotten() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        burst(&mut d, &p, "web", 0, MIN, 5);
        d.tick(&p, 2 * MIN);
        assert!(d.services.contains_key("web"));
        d.tick(&p, 24 * 60 * MIN);
        assert!(d.services.is_empty());
    }

    #[test]
    fn out_of_order_times_count_at_the_latest() {
        let p = StormPolicy::default();
        let mut d = Detector::default();
        d.observe(&p, 10 * MIN, "web");
        d.observe(&p, 5 * MIN, "web");
        assert_eq!(d.count(&Scope::Service("web".into())), 2);
        assert_eq!(d.last, 10 * MIN);
    }

    proptest! {
        /// Whatever the stream, the sliding count is the number of new alerts within one
        /// window (to a slot), a storm is only ever on when some window held min_alerts, and
        /// ticking in between changes nothing that is decided.
        #[test]
        fn counts_match_and_ticks_do_not_change_decisions(
            gaps in proptest::collection::vec(0i64..20 * SEC, 1..400),
            services in proptest::collection::vec(0usize..4, 400),
        ) {
            let p = StormPolicy { min_alerts: 12, ..StormPolicy::default() };
            let slot = p.window / SLOTS as Millis;
            let (mut a, mut b) = (Detector::default(), Detector::default());
            let (mut t, mut times) = (0, Vec::new());
            let (mut ca, mut cb) = (Vec::new(), Vec::new());
            for (gap, s) in gaps.iter().zip(&services) {
                cb.extend(b.tick(&p, t + gap / 2));
                t += gap;
                times.push(t);
                let service = format!("s{s}");
                ca.extend(a.observe(&p, t, &service));
                cb.extend(b.observe(&p, t, &service));
                let within = |span: Millis| times.iter().filter(|&&x| x > t - span).count() as u32;
                let c = a.count(&Scope::Global);
                prop_assert!(within(p.window - slot) <= c && c <= within(p.window));
                if a.active(&Scope::Global).is_some() {
                    prop_assert!(a.active(&Scope::Global).unwrap().peak >= 12);
                }
            }
            ca.extend(a.tick(&p, t + 60 * MIN));
            cb.extend(b.tick(&p, t + 60 * MIN));
            prop_assert_eq!(ca, cb);
        }
    }
}
