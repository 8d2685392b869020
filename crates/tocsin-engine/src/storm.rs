//! Storms in the engine: the detector fed with every newly firing alert in log order, the
//! storms it finds recorded, the incidents they touch marked (with a timeline line), and
//! storm mode: an incident that opens inside a storm is not paged on its own; instead the
//! storm's summary goes to the first level of its incidents' policies, once, then again at
//! most every `summary_interval` while there is news (see docs/storms.md).
//!
//! Everything is decided at log times (a summary falls due like an escalation step), so a
//! replay and a restart decide as the live run did. The store keeps the storms, the touched
//! incidents and the learned rates; memory holds only the storms in progress.

use crate::apply::ENGINE;
use crate::index::Index;
use crate::pending::{Pending, TimelineEntry};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tocsin_core::config::Config;
use tocsin_core::storm::{Change, Detector, Rate, Scope, StormPolicy};
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, StoreResult, StormRow};

#[derive(Default)]
pub struct Storms {
    detector: Detector,
    /// The storms in progress, by scope, as they will be stored. A storm is stored (and gets
    /// its id) with its first alert: until then its id is 0 (see `mark_storm`).
    active: BTreeMap<Scope, StormRow>,
    /// (storm, incident) pairs of the storms in progress already marked -> whether the
    /// incident opened inside the storm, so that its own page is the storm's summary.
    touched: HashMap<(i64, i64), bool>,
    /// Summaries due, in order: (storm id, time, summary number).
    outgoing: Vec<(i64, Millis, i64)>,
    /// What the next write must store: rates by scope, storm rows, touched incidents.
    dirty_rates: BTreeSet<Scope>,
    dirty_storms: BTreeMap<i64, StormRow>,
    links: Vec<(i64, i64, bool)>,
    next_id: i64,
}

fn rate_key(scope: &Scope) -> String {
    match scope {
        Scope::Global => "global".into(),
        Scope::Service(s) => format!("service:{s}"),
    }
}

impl Storms {
    /// The storms in progress, what they touched, and the learned rates, from the store.
    pub fn load(conn: &dyn EngineTx) -> StoreResult<Storms> {
        let mut s = Storms {
            next_id: conn.max_storm_id()? + 1,
            ..Storms::default()
        };
        for (key, json) in conn.load_storm_rates()? {
            let Ok(rate) = serde_json::from_str::<Rate>(&json) else {
                continue;
            };
            match key.strip_prefix("service:") {
                Some(id) => {
                    s.detector.services.insert(id.to_string(), rate);
                }
                None => s.detector.global = Some(rate),
            }
        }
        for row in conn.active_storms()? {
            for (incident, held) in conn.storm_incidents(row.id)? {
                s.touched.insert((row.id, incident), held);
            }
            let scope = match &row.service {
                Some(id) if row.scope == "service" => Scope::Service(id.clone()),
                _ => Scope::Global,
            };
            s.active.insert(scope, row);
        }
        Ok(s)
    }

    /// When a storm may end or a summary fall due, for the engine's wake-ups.
    pub fn next_due(&self, config: &Config) -> Option<Millis> {
        let policy = config.storms?;
        // A storm with no incident yet has nothing to send: its summary waits for an alert,
        // not for the clock (else the engine would wake at once, again and again).
        let summary = self
            .active
            .values()
            .filter(|r| r.lead_incident.is_some())
            .filter_map(|r| r.next_summary_at)
            .min();
        self.detector
            .next_due(&policy)
            .into_iter()
            .chain(summary)
            .min()
    }

    pub fn active_count(&self) -> usize {
        self.active.values().filter(|r| r.id != 0).count()
    }

    /// Whether the batch has storm writes or summaries waiting.
    pub fn pending(&self) -> bool {
        !self.outgoing.is_empty()
            || !self.dirty_rates.is_empty()
            || !self.dirty_storms.is_empty()
            || !self.links.is_empty()
    }

    /// Applies what the detector decided: new storms kept until their first alert, ended
    /// ones closed.
    fn on_changes(&mut self, policy: &StormPolicy, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Started {
                    scope,
                    at,
                    count,
                    baseline,
                } => {
                    let row = unstored(policy, &scope, at, (count, baseline, count), at);
                    self.active.insert(scope, row);
                }
                Change::Ended { scope, at, peak } => {
                    let Some(mut row) = self.active.remove(&scope).filter(|r| r.id != 0) else {
                        // Never had an alert of its own: nothing to close.
                        continue;
                    };
                    row.ended_at = Some(at);
                    row.next_summary_at = None;
                    row.peak_rate = row.peak_rate.max(policy.per_minute(f64::from(peak)));
                    self.touched.retain(|(id, _), _| *id != row.id);
                    self.dirty_storms.insert(row.id, row);
                }
            }
        }
    }

    /// Summaries due by `now`: one when there is news since the last (the first always has),
    /// else the storm looks again an interval later.
    fn summaries_due(&mut self, policy: &StormPolicy, now: Millis) {
        for row in self.active.values_mut() {
            let Some(due) = row.next_summary_at.filter(|&t| t <= now) else {
                continue;
            };
            if row.lead_incident.is_none() {
                // Nothing to file it under yet (every alert so far was muted).
                continue;
            }
            if row.summaries == 0 || row.alerts > row.alerts_at_summary {
                row.summaries += 1;
                row.alerts_at_summary = row.alerts;
                self.outgoing.push((row.id, due, row.summaries));
            }
            row.next_summary_at = Some(due + policy.summary_interval);
            self.dirty_storms.insert(row.id, row.clone());
        }
    }

    fn rate_changed(&mut self, service: &str) {
        self.dirty_rates.insert(Scope::Service(service.to_string()));
        self.dirty_rates.insert(Scope::Global);
    }
}

impl Index {
    /// A newly firing alert (first fire or re-fire) of `service`, in incident `incident_id`
    /// (0 when muted), at `at`: counted, and marked with the storm it belongs to.
    pub(crate) fn storm_alert(
        &mut self,
        config: &Config,
        service: &str,
        incident_id: i64,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        let Some(policy) = config.storms else {
            return;
        };
        let changes = self.storms.detector.observe(&policy, at, service);
        self.storms.on_changes(&policy, changes);
        self.storms.rate_changed(service);
        let newborn = self
            .incidents
            .get(&incident_id)
            .is_some_and(|i| i.created_at == at && i.alert_count <= 1);
        // An alert belongs to one storm, the one already under way: two storms summarising
        // the same incidents would page the same people twice. A flood over many services
        // starts the global storm first (their sum reaches the threshold before any one of
        // them does), and its services' own storms that start later add nothing to it; a
        // burst on one service starts both at once (it is most of what all services have),
        // and then the service's own storm says more. The other storm is recorded only when
        // an alert of its own comes (see `mark_storm`).
        let detector = &self.storms.detector;
        let scope = detector.covering(service).into_iter().min_by_key(|scope| {
            let started = detector.active(scope).map_or(Millis::MAX, |a| a.started_at);
            (started, *scope == Scope::Global)
        });
        if let Some(scope) = scope {
            self.mark_storm(&policy, &scope, incident_id, newborn, at, p);
        }
        self.storms.summaries_due(&policy, at);
    }

    /// Counts a new alert of incident `incident_id` in the storm of `scope`; the first one of
    /// each incident marks it (timeline, link) and the first incident is the storm's lead.
    fn mark_storm(
        &mut self,
        policy: &StormPolicy,
        scope: &Scope,
        incident_id: i64,
        newborn: bool,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        let count = self.storms.detector.count(scope);
        let Some(active) = self.storms.detector.active(scope) else {
            return;
        };
        let peak = active.peak;
        let row = match self.storms.active.entry(scope.clone()) {
            Entry::Occupied(row) => row.into_mut(),
            // Started before a restart, with no alert of its own yet (so not stored).
            Entry::Vacant(slot) => slot.insert(unstored(
                policy,
                scope,
                active.started_at,
                (count, active.baseline, peak),
                at,
            )),
        };
        if row.id == 0 {
            // Its first alert: from now on it is a storm people see.
            row.id = self.storms.next_id;
            self.storms.next_id += 1;
        }
        row.alerts += 1;
        row.peak_rate = row.peak_rate.max(policy.per_minute(f64::from(peak)));
        let key = (row.id, incident_id);
        if incident_id != 0 && !self.storms.touched.contains_key(&key) {
            self.storms.touched.insert(key, newborn);
            row.incidents += 1;
            row.lead_incident.get_or_insert(incident_id);
            self.storms.links.push((row.id, incident_id, newborn));
            p.timeline(TimelineEntry {
                incident_id,
                at,
                actor: ENGINE.into(),
                kind: "storm",
                message: format!(
                    "storm in {}: {:.0} new alerts/min against a normal {:.0}/min",
                    scope.describe(),
                    policy.per_minute(f64::from(count)),
                    row.baseline_rate
                ),
            });
        }
        self.storms.dirty_storms.insert(row.id, row.clone());
    }

    /// Storms that ended and summaries that fell due by `now` (the engine's time horizon).
    pub(crate) fn storm_tick(&mut self, config: &Config, now: Millis) {
        let Some(policy) = config.storms else {
            // Turned off: what is in progress ends now.
            let ended: Vec<Change> = self
                .storms
                .active
                .keys()
                .map(|scope| Change::Ended {
                    scope: scope.clone(),
                    at: now,
                    peak: 0,
                })
                .collect();
            self.storms.on_changes(&StormPolicy::default(), ended);
            return;
        };
        let before: Vec<String> = self.storms.detector.services.keys().cloned().collect();
        let changes = self.storms.detector.tick(&policy, now);
        // Services forgotten by the tick lose their stored rate too.
        for id in before {
            if !self.storms.detector.services.contains_key(&id) {
                self.storms.dirty_rates.insert(Scope::Service(id));
            }
        }
        self.storms.on_changes(&policy, changes);
        self.storms.summaries_due(&policy, now);
    }

    /// Whether a storm in progress touched the incident: its summaries then stand for the
    /// incident's own updates.
    pub(crate) fn in_storm(&self, incident: i64) -> bool {
        self.storms.touched.keys().any(|&(_, i)| i == incident)
    }

    /// Whether an incident opened inside a storm in progress, so its own page is the
    /// storm's summary; says so in its timeline.
    pub(crate) fn held_by_storm(&mut self, incident: i64, at: Millis, p: &mut Pending<'_>) -> bool {
        let held = self
            .storms
            .touched
            .iter()
            .any(|(&(_, i), &h)| h && i == incident);
        if !held {
            return false;
        }
        p.timeline(TimelineEntry {
            incident_id: incident,
            at,
            actor: ENGINE.into(),
            kind: "paging",
            message: "not paged on its own: it opened during a storm, whose summary covers it"
                .into(),
        });
        true
    }

    /// Writes what storms changed and turns the summaries due into notifications; tells
    /// whether the outbox gained any. Call after paging, with the batch so far written.
    pub(crate) fn run_storms(
        &mut self,
        config: &Config,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let mut added = false;
        for (storm_id, at, number) in std::mem::take(&mut self.storms.outgoing) {
            added |= self.send_summary(config, storm_id, at, number, conn, p)?;
        }
        for (storm, incident, held) in std::mem::take(&mut self.storms.links) {
            conn.link_storm_incident(storm, incident, held)?;
        }
        for (_, row) in std::mem::take(&mut self.storms.dirty_storms) {
            conn.save_storm(&row)?;
        }
        for scope in std::mem::take(&mut self.storms.dirty_rates) {
            let rate = match &scope {
                Scope::Global => self.storms.detector.global.as_ref(),
                Scope::Service(id) => self.storms.detector.services.get(id),
            };
            let json = rate.and_then(|r| serde_json::to_string(r).ok());
            conn.save_storm_rate(&rate_key(&scope), json.as_deref())?;
        }
        Ok(added)
    }

    /// One summary of a storm: to whoever the first level of each of its incidents' policies
    /// pages, filed under its first incident.
    fn send_summary(
        &mut self,
        config: &Config,
        storm_id: i64,
        at: Millis,
        number: i64,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(row) = self
            .storms
            .active
            .values()
            .find(|r| r.id == storm_id)
            .cloned()
        else {
            return Ok(false);
        };
        let Some(lead) = row.lead_incident else {
            return Ok(false);
        };
        let mut incidents: Vec<i64> = self
            .storms
            .touched
            .keys()
            .filter(|(id, _)| *id == storm_id)
            .map(|&(_, i)| i)
            .collect();
        incidents.sort_unstable();
        let mut targets = Vec::new();
        let mut policies = BTreeSet::new();
        for i in incidents {
            let service = self.incidents.get(&i).map(|x| x.service.clone());
            let service = service.map(|s| config.service_or_discovered(&s));
            let policy = service.as_deref().and_then(|s| config.policy_for(s));
            if let Some(policy) = policy.filter(|pl| policies.insert(pl.id.clone())) {
                targets.extend(
                    policy
                        .levels
                        .first()
                        .map(|l| l.targets.clone())
                        .unwrap_or_default(),
                );
            }
        }
        let people = self.resolve_targets(config, &targets, at, conn)?;
        let why = if number == 1 {
            format!("storm {storm_id} summary")
        } else {
            format!("storm {storm_id} summary, update {}", number - 1)
        };
        let before = conn.last_notification_id()?;
        let added = self.notify_people(config, lead, &people, None, at, &why, "storm", conn, p)?;
        conn.mark_storm_summaries(lead, before, storm_id, number)?;
        let who: Vec<&str> = people.iter().map(|x| x.user.as_str()).collect();
        p.timeline(TimelineEntry {
            incident_id: lead,
            at,
            actor: ENGINE.into(),
            kind: "paging",
            message: format!(
                "{why} ({} alerts in {} incidents) to {}",
                row.alerts,
                row.incidents,
                if who.is_empty() {
                    "nobody (no one on call)".to_string()
                } else {
                    who.join(", ")
                }
            ),
        });
        Ok(added)
    }
}

/// A storm not stored yet (it gets its id with its first alert): started at `started`, with
/// `(count, baseline, peak)` alerts a window, its first summary due at `at`.
fn unstored(
    policy: &StormPolicy,
    scope: &Scope,
    started: Millis,
    (count, baseline, peak): (u32, f64, u32),
    at: Millis,
) -> StormRow {
    StormRow {
        id: 0,
        scope: scope.kind().into(),
        service: scope.service().map(str::to_string),
        started_at: started,
        ended_at: None,
        start_rate: policy.per_minute(f64::from(count)),
        baseline_rate: policy.per_minute(baseline),
        peak_rate: policy.per_minute(f64::from(peak)),
        alerts: 0,
        incidents: 0,
        lead_incident: None,
        summaries: 0,
        next_summary_at: Some(at),
        alerts_at_summary: 0,
    }
}
