//! Correlation in the engine: what it remembers of recent incidents (their footprints),
//! of recent alerts (which incident each fired into) and what it learned of which kinds
//! of alert fire together, and the choice `attach` makes with them before it opens a new
//! incident.
//!
//! The choice itself is `tocsin_core::correlation`; this keeps its inputs, prunes them as
//! log time moves on, and rebuilds them from the store at start so a restart in the middle
//! of a storm does not split it.

use crate::index::Index;
use crate::pending::{PagingCue, Pending, TimelineEntry};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use tocsin_core::config::{Config, Service};
use tocsin_core::correlation::cofire::{Cofire, Firing};
use tocsin_core::correlation::{text, CorrelationSettings, Footprints, Placed, Reason};
use tocsin_core::event::Event;
use tocsin_core::fingerprint::alert_key;
use tocsin_core::incident::IncidentState;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, IncidentRecord, StoreResult};

/// Pruning walks every footprint; once a minute of log time is plenty.
const PRUNE_EVERY: Millis = 60_000;

#[derive(Default)]
pub struct Correlator {
    /// The incidents open to correlation, indexed by host, service and kind so a new
    /// alert scores only those that can reach its threshold.
    footprints: Footprints,
    /// An alert's signature (source, host, name) -> the incident it last fired into, when.
    /// By signature rather than identity because some tools give every new problem a new
    /// id (Zabbix's event id) although it is the same check failing again.
    recent: FxHashMap<u64, (i64, Millis)>,
    /// An alert's identity -> its signature, to note when it resolves.
    signatures: FxHashMap<u64, u64>,
    /// Which kinds of alert fire together.
    pub learned: Cofire,
    pruned_at: Millis,
}

/// Where a newly firing alert goes when correlation is on.
pub(crate) enum Choice {
    /// Into this open incident (the same group, its previous incident, or a correlated
    /// one with the reason to write in its timeline).
    Join(i64, Option<String>),
    /// Back into this resolved incident, reopening it: the same alert fired again soon.
    Reopen(i64, String),
    New,
}

/// The signature of an alert: the same check on the same machine, whatever id the tool
/// gave this occurrence.
fn signature(source: &str, host: Option<&str>, name: &str) -> u64 {
    let mut what = String::with_capacity(name.len() + 32);
    what.push_str(host.unwrap_or(""));
    what.push('\u{1f}');
    what.push_str(name);
    alert_key(source, &what)
}

impl Correlator {
    /// Rebuilds the footprints and recent alerts from the store: the firings of the last
    /// `recurrence` (or `window`, if longer) before the latest history entry.
    pub fn load(
        conn: &dyn EngineTx,
        s: &CorrelationSettings,
        incidents: &HashMap<i64, IncidentRecord>,
    ) -> StoreResult<Correlator> {
        let mut c = Correlator::default();
        let last = conn.last_history_at()?;
        let since = last.saturating_sub(s.recurrence.max(s.window));
        conn.load_firings_since(since, &mut |row| {
            let opened = incidents
                .get(&row.incident_id)
                .map_or(row.at, |i| i.created_at);
            let (kind, _) = text::kind(&row.source, &row.name, row.host.as_deref());
            let placed = Placed {
                kind,
                ..Placed::bare(&row.service, row.host.as_deref())
            };
            c.footprints
                .record(row.incident_id, opened, &placed, row.at);
            let sig = signature(&row.source, row.host.as_deref(), &row.name);
            c.recent.insert(sig, (row.incident_id, row.at));
        })?;
        c.pruned_at = last;
        Ok(c)
    }

    /// Forgets incidents no longer open to correlation and alerts last seen longer than
    /// `recurrence` ago; an alert that is still firing counts as seen now, however long
    /// its episode lasts.
    fn prune(&mut self, now: Millis, s: &CorrelationSettings, firing: impl Fn(u64) -> bool) {
        if now.saturating_sub(self.pruned_at) < PRUNE_EVERY {
            return;
        }
        self.pruned_at = now;
        self.footprints.retain(|_, f| f.is_open_to(now, s));
        for (&alert, sig) in &self.signatures {
            if firing(alert) {
                if let Some(entry) = self.recent.get_mut(sig) {
                    entry.1 = entry.1.max(now);
                }
            }
        }
        self.recent
            .retain(|_, &mut (_, at)| now.saturating_sub(at) <= s.recurrence);
        let recent = &self.recent;
        self.signatures.retain(|_, sig| recent.contains_key(sig));
        self.learned.prune(now, s.cofire);
    }

    /// Notes that an alert resolved at `at`: a re-fire soon after goes back where it was,
    /// however long its episode lasted.
    pub fn resolved(&mut self, alert: u64, at: Millis) {
        if let Some(entry) = self
            .signatures
            .get(&alert)
            .and_then(|sig| self.recent.get_mut(sig))
        {
            entry.1 = entry.1.max(at);
        }
    }

    /// Notes that an alert fired into `incident` (opened at `opened`).
    fn record(&mut self, incident: i64, opened: Millis, a: &Placed<'_>, at: Millis) {
        self.footprints.record(incident, opened, a, at);
    }
}

/// What correlation reads in a newly firing alert's words, worked out once for the choice
/// and for what is remembered after it.
pub(crate) struct Words {
    kind: u64,
    kind_name: String,
    tokens: Vec<u32>,
}

impl Words {
    pub(crate) fn of(e: &Event, host: Option<&str>) -> Words {
        let (kind, kind_name) = text::kind(&e.source, &e.name, host);
        let tokens = text::tokens(&[&e.name, &e.summary, &e.description], host);
        Words {
            kind,
            kind_name,
            tokens,
        }
    }
}

impl Index {
    /// Where a newly firing alert goes (`place`: its catalog host, and whether something
    /// placed it on its service rather than the default catching it): for an alert the
    /// catalog did not place, its group's incident while that one is still gathering its
    /// fault's alerts; its previous incident while that one is still gathering; the
    /// best-scoring incident open to correlation; its previous incident while it flaps;
    /// the incident the same alert was in shortly before (reopened if it had resolved);
    /// else a new one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn correlate(
        &mut self,
        config: &Config,
        service: &Service,
        e: &Event,
        (host, service_known): (Option<&str>, bool),
        words: &Words,
        group_key: &str,
        previous: Option<i64>,
    ) -> Choice {
        let s = &config.correlation;
        let at = e.received_at;
        let alerts = &self.alerts;
        self.correlator.prune(at, s, |key| {
            alerts
                .get(&key)
                .is_some_and(|a| a.status == tocsin_core::event::Status::Firing)
        });
        let open =
            |index: &Index, id: i64| index.incidents.get(&id).is_some_and(|i| i.state.is_open());
        let gathering = |index: &Index, id: i64| {
            open(index, id)
                && index
                    .correlator
                    .footprints
                    .get(id)
                    .is_some_and(|f| f.is_open_to(at, s))
        };
        // The same alert seen again soon after it was last seen: back where it was, first
        // (before its group: two alerts of one group can be two problems) if it only just
        // resolved, as a flapping check does; else unless a better incident scores.
        let recurrence = self.recurrence(e, host, at, s);
        if let Some((id, ago)) = recurrence.filter(|&(_, ago)| ago <= s.quiet) {
            return self.recur(id, ago);
        }
        // The group (same service and name) decides only for an alert that nothing placed:
        // its service says nothing for a score to go on. A placed alert is scored, so a
        // loner that shares a name with a fault's alerts does not ride in on its group.
        if !service_known {
            if let Some(&id) = self.open_groups.get(group_key) {
                if gathering(self, id) {
                    return Choice::Join(id, None);
                }
            }
        }
        if let Some(prev) = previous.filter(|&prev| gathering(self, prev)) {
            return Choice::Join(prev, None);
        }
        let uplinks = host.map(|h| config.uplinks(h)).unwrap_or_default();
        let placed = Placed {
            service: &service.id,
            service_known,
            host,
            uplinks: &uplinks,
            depends_on: &service.depends_on,
            indirect: &service.indirect_depends_on,
            kind: words.kind,
            tokens: &words.tokens,
            threshold: service.correlation_threshold.unwrap_or(s.threshold),
        };
        let learned = Some(&self.correlator.learned).filter(|_| s.learning);
        let chosen = self
            .correlator
            .footprints
            .choose(&placed, at, s, learned, |id| open(self, id));
        if let Some((id, scored)) = chosen {
            return Choice::Join(id, Some(scored.explain(host)));
        }
        // A flapping alert goes back to its incident (paging nothing new) unless another
        // incident claimed it above: when it fires as part of a new fault, it belongs there.
        if let Some(prev) = previous {
            let key = alert_key(&e.source, &e.dedup_key);
            if open(self, prev) && self.flaps.is_flapping(key) {
                return Choice::Join(prev, None);
            }
        }
        if let Some((id, ago)) = recurrence {
            return self.recur(id, ago);
        }
        Choice::New
    }

    /// The incident the same alert (by signature) was in when last seen, and how long ago,
    /// if within `recurrence`. An alert that is still firing comes here when a person
    /// resolved its incident: that was a decision, not an end of the fault to undo, so it
    /// starts over.
    fn recurrence(
        &self,
        e: &Event,
        host: Option<&str>,
        at: Millis,
        s: &CorrelationSettings,
    ) -> Option<(i64, Millis)> {
        let still_firing = self
            .alerts
            .get(&alert_key(&e.source, &e.dedup_key))
            .is_some_and(|a| a.status == tocsin_core::event::Status::Firing);
        if still_firing {
            return None;
        }
        let &(id, last) = self
            .correlator
            .recent
            .get(&signature(&e.source, host, &e.name))?;
        let ago = at.saturating_sub(last);
        (ago <= s.recurrence && self.incidents.contains_key(&id)).then_some((id, ago))
    }

    fn recur(&self, id: i64, ago: Millis) -> Choice {
        let why = Reason::Recurrence { ago }.explain(None);
        if self.incidents.get(&id).is_some_and(|i| i.state.is_open()) {
            Choice::Join(id, Some(why))
        } else {
            Choice::Reopen(id, why)
        }
    }

    /// Remembers that a newly firing alert went into incident `id`, and learns from it.
    pub(crate) fn note_new_firing(
        &mut self,
        config: &Config,
        service: &Service,
        e: &Event,
        host: Option<&str>,
        words: &Words,
        id: i64,
    ) {
        self.remember(service, e, host, words, id);
        let s = &config.correlation;
        if s.learning {
            let uplinks = host.map(|h| config.uplinks(h)).unwrap_or_default();
            self.correlator.learned.observe(
                &Firing {
                    kind: words.kind,
                    name: &words.kind_name,
                    service: &service.id,
                    host,
                    uplinks: &uplinks,
                    depends_on: &service.depends_on,
                    at: e.received_at,
                },
                s.cofire,
            );
        }
    }

    /// Remembers that an alert is in incident `id` now (it fired again there, or a person
    /// moved it there), without learning from it: it is not a new firing.
    pub(crate) fn note_firing(
        &mut self,
        service: &Service,
        e: &Event,
        host: Option<&str>,
        id: i64,
    ) {
        let words = Words::of(e, host);
        self.remember(service, e, host, &words, id);
    }

    fn remember(
        &mut self,
        service: &Service,
        e: &Event,
        host: Option<&str>,
        words: &Words,
        id: i64,
    ) {
        let at = e.received_at;
        let opened = self.incidents.get(&id).map_or(at, |i| i.created_at);
        let placed = Placed {
            kind: words.kind,
            tokens: &words.tokens,
            ..Placed::bare(&service.id, host)
        };
        let c = &mut self.correlator;
        c.record(id, opened, &placed, at);
        let sig = signature(&e.source, host, &e.name);
        c.recent.insert(sig, (id, at));
        c.signatures.insert(alert_key(&e.source, &e.dedup_key), sig);
    }

    /// Reopens a resolved incident that an alert fired into again soon after.
    pub(crate) fn reopen_for(&mut self, id: i64, why: String, at: Millis, p: &mut Pending<'_>) {
        let Some(i) = self.incidents.get_mut(&id) else {
            return;
        };
        i.state = IncidentState::Triggered;
        i.resolved_at = None;
        i.acknowledged_at = None;
        i.updated_at = at;
        self.open_groups.entry(i.group_key.clone()).or_insert(id);
        p.states_changed = true;
        p.paging.push(PagingCue::Reopened { incident: id, at });
        p.timeline(TimelineEntry {
            incident_id: id,
            at,
            actor: crate::apply::ENGINE.into(),
            kind: "reopened",
            message: why,
        });
        p.incident(id);
    }
}
