//! People moving alerts between incidents: merging an incident into another, and splitting
//! alerts out of one into a new incident. Both come through the event log
//! (`LogEntry::Regroup`), so a restart or a replay moves the same alerts and numbers the new
//! incident the same.
//!
//! A moved alert stays where the person put it: while that incident is open, the alert's
//! re-fires go back there rather than to its group's incident (`Index::moved_home`), and
//! topology correlation remembers it there.
//!
//! Correlation also learns from both (when `correlation.learning` is on): a merge says the
//! kinds of alert on either side fire together, a split that the kinds split out do not
//! belong with those that stayed.

use crate::commands::{with_reason, CommandError};
use crate::index::Index;
use crate::pending::{PagingCue, Pending, TimelineEntry};
use std::collections::BTreeMap;
use tocsin_core::command::{RegroupAction, RegroupCommand};
use tocsin_core::config::{Config, Service};
use tocsin_core::correlation::text;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::incident::IncidentState;
use tocsin_core::time::Millis;
use tocsin_store::engine::{AlertPlace, AlertState, EngineTx, StoreResult};

type Outcome = StoreResult<Result<(), CommandError>>;

fn conflict(message: String) -> Outcome {
    Ok(Err(CommandError::Conflict(message)))
}

/// What moving some alerts carried along.
struct Moved {
    ids: Vec<i64>,
    firing: i64,
    worst: Option<Severity>,
}

impl Index {
    /// Applies a merge or a split. It reads the moved alerts' rows, so the batch so far must
    /// be written to `tx` first.
    pub fn apply_regroup(
        &mut self,
        config: &Config,
        c: &RegroupCommand,
        tx: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> Outcome {
        match &c.action {
            RegroupAction::Merge { into } => self.merge(config, c, *into, tx, p),
            RegroupAction::Split { alerts } => self.split(config, c, alerts, tx, p),
        }
    }

    /// The incident a person moved this alert into, while it is open and still holds the
    /// alert; forgets the move otherwise.
    pub(crate) fn moved_home(&mut self, key: u64, current: i64) -> Option<i64> {
        let home = *self.moved.get(&key)?;
        let open = self.incidents.get(&home).is_some_and(|i| i.state.is_open());
        if home == current && open {
            Some(home)
        } else {
            self.moved.remove(&key);
            None
        }
    }

    /// A moved alert fired again into `home`, the open incident it was moved into.
    pub(crate) fn rejoin_moved(
        &mut self,
        config: &Config,
        service: &Service,
        e: &Event,
        home: i64,
        p: &mut Pending<'_>,
    ) -> i64 {
        if let Some(i) = self.incidents.get_mut(&home) {
            i.firing_count += 1;
        }
        self.touch_incident(config, home, e.severity, e.received_at, p);
        if config.correlation.enabled {
            let host = config.place(e).host;
            self.note_firing(service, e, host.as_deref(), home);
        }
        home
    }

    /// Every alert of `c.incident_id` moves into `into`, which must be open; the emptied
    /// incident resolves (its escalation stops) and both timelines say who, when and why.
    fn merge(
        &mut self,
        config: &Config,
        c: &RegroupCommand,
        into: i64,
        tx: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> Outcome {
        let (from, at) = (c.incident_id, c.at);
        let Some(source) = self.incidents.get(&from) else {
            return Ok(Err(CommandError::NotFound(from)));
        };
        let Some(target) = self.incidents.get(&into) else {
            return Ok(Err(CommandError::NotFound(into)));
        };
        if from == into {
            return conflict(format!("incident {from} cannot be merged into itself"));
        }
        if source.state == IncidentState::Closed {
            return conflict(format!(
                "incident {from} is closed; a closed incident stays as it is"
            ));
        }
        if !target.state.is_open() {
            return conflict(format!(
                "incident {into} is {}; merge into an open incident (reopen it first)",
                target.state.as_str()
            ));
        }
        let keys: Vec<u64> = self.alerts_of(from).into_iter().map(|(k, _)| k).collect();
        let moved = self.move_alerts(config, &keys, into, "merged", at, tx, p)?;
        if let Some((merged, there)) = self.lesson(config, &moved.ids, into, tx)? {
            self.correlator.learned.merged(&merged, &there);
        }
        let source = self.incidents.get_mut(&from).expect("checked above");
        source.alert_count = 0;
        source.firing_count = 0;
        source.updated_at = source.updated_at.max(at);
        if source.state.is_open() {
            // Its alerts live on in `into`: this incident is done, and nobody is paged for it.
            source.state = IncidentState::Resolved;
            source.resolved_at = Some(at);
            if self.open_groups.get(&source.group_key) == Some(&from) {
                self.open_groups.remove(&source.group_key);
            }
            p.states_changed = true;
            // Not resolved but merged: its alerts go on in `into`, so nobody is told.
            p.paging.push(PagingCue::Ended {
                incident: from,
                at,
                resolved: None,
            });
        }
        let (priority, manual, last_alert_at) = (
            source.priority,
            source.priority_manual,
            source.last_alert_at,
        );
        p.timeline(TimelineEntry {
            incident_id: from,
            at,
            actor: c.actor.clone(),
            kind: "merged",
            message: with_reason(format!("merged into #{into} by {}", c.actor), &c.reason),
        });
        p.timeline(TimelineEntry {
            incident_id: into,
            at,
            actor: c.actor.clone(),
            kind: "merged",
            message: with_reason(
                format!(
                    "#{from} merged in by {}: {} alert(s), {} firing",
                    c.actor,
                    moved.ids.len(),
                    moved.firing
                ),
                &c.reason,
            ),
        });
        let target = self.incidents.get_mut(&into).expect("checked above");
        target.alert_count += moved.ids.len() as i64;
        target.firing_count += moved.firing;
        let before = target.last_alert_at;
        if let Some(worst) = moved.worst {
            self.touch_incident(config, into, worst, at, p);
        }
        let target = self.incidents.get_mut(&into).expect("checked above");
        // A merge is not an alert firing: the latest alert is the later of the two.
        target.last_alert_at = before.max(last_alert_at);
        target.updated_at = target.updated_at.max(at);
        // The merged incident keeps the more urgent priority of the two.
        if priority < target.priority {
            target.priority = priority;
            target.priority_manual |= manual;
            p.timeline(TimelineEntry {
                incident_id: into,
                at,
                actor: c.actor.clone(),
                kind: "priority",
                message: format!("priority raised to {priority}: #{from} was {priority}"),
            });
        }
        p.incident(into);
        self.settle_incident(config, into, at, p);
        Ok(Ok(()))
    }

    /// These alerts (ids) of `c.incident_id`, which must be open, leave it for one new
    /// incident, opened and paged like any new incident. Some alert must stay behind.
    fn split(
        &mut self,
        config: &Config,
        c: &RegroupCommand,
        ids: &[i64],
        tx: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> Outcome {
        let (from, at) = (c.incident_id, c.at);
        let Some(source) = self.incidents.get(&from) else {
            return Ok(Err(CommandError::NotFound(from)));
        };
        if !source.state.is_open() {
            return conflict(format!(
                "incident {from} is {}; only an open incident is split (reopen it first)",
                source.state.as_str()
            ));
        }
        if ids.is_empty() {
            return conflict("name at least one alert to split out".into());
        }
        let of_incident: BTreeMap<i64, (u64, Severity)> = self
            .alerts_of(from)
            .into_iter()
            .map(|(key, a)| (a.id, (key, a.severity)))
            .collect();
        if let Some(id) = ids.iter().find(|id| !of_incident.contains_key(id)) {
            return conflict(format!("alert {id} is not in incident {from}"));
        }
        if ids.len() >= of_incident.len() {
            return conflict(format!(
                "that is every alert of incident {from}; split out some of them, or leave it as it is"
            ));
        }
        // The new incident is named after, and belongs to the service of, its worst alert
        // (the first named on a tie), as if that alert had opened it.
        let (_, &lead) = ids
            .iter()
            .enumerate()
            .max_by_key(|(n, id)| (of_incident[*id].1, std::cmp::Reverse(*n)))
            .expect("not empty");
        let lead_place = tx
            .alert_place(lead)?
            .expect("the index's alerts are stored");
        let service = &*config.service_or_discovered(&lead_place.service);
        let severity = of_incident[&lead].1;
        let id = self.next_incident_id;
        // Its own group: new alerts of the old group still join the old incident.
        let group_key = format!("{} (split #{id})", source.group_key);
        let title = if lead_place.summary.is_empty() {
            &lead_place.name
        } else {
            &lead_place.summary
        };
        let (id, priority) = self.open_incident(config, service, title, severity, group_key, at);
        let keys: Vec<u64> = ids.iter().map(|i| of_incident[i].0).collect();
        let moved = self.move_alerts(config, &keys, id, "split", at, tx, p)?;
        if let Some((out, stayed)) = self.lesson(config, &moved.ids, from, tx)? {
            self.correlator.learned.split(&out, &stayed);
        }
        let listed = moved
            .ids
            .iter()
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let created = self.incidents.get_mut(&id).expect("inserted above");
        created.alert_count = moved.ids.len() as i64;
        created.firing_count = moved.firing;
        let source = self.incidents.get_mut(&from).expect("checked above");
        source.alert_count -= moved.ids.len() as i64;
        source.firing_count = (source.firing_count - moved.firing).max(0);
        source.updated_at = source.updated_at.max(at);
        p.states_changed = true;
        p.paging.push(PagingCue::Triggered { incident: id, at });
        p.incident(from);
        p.incident(id);
        p.timeline(TimelineEntry {
            incident_id: from,
            at,
            actor: c.actor.clone(),
            kind: "split",
            message: with_reason(
                format!("alert(s) {listed} split out into #{id} by {}", c.actor),
                &c.reason,
            ),
        });
        p.timeline(TimelineEntry {
            incident_id: id,
            at,
            actor: c.actor.clone(),
            kind: "split",
            message: with_reason(
                format!(
                    "split from #{from} by {} with alert(s) {listed}, priority {priority}",
                    c.actor
                ),
                &c.reason,
            ),
        });
        // Either side may be left with nothing firing, and then resolves as it would have.
        self.settle_incident(config, from, at, p);
        self.settle_incident(config, id, at, p);
        Ok(Ok(()))
    }

    /// The alerts whose incident is `id`, by key.
    fn alerts_of(&self, id: i64) -> Vec<(u64, AlertState)> {
        self.alerts
            .iter()
            .filter(|(_, a)| a.incident_id == id)
            .map(|(k, a)| (*k, *a))
            .collect()
    }

    /// What a person's move teaches correlation, read once the alerts moved: the distinct
    /// kinds of the moved alerts (ids) and of the alerts of `other` that did not move (the
    /// incident they went into, or the one they left); `None` when it does not learn.
    fn lesson(
        &self,
        config: &Config,
        moved: &[i64],
        other: i64,
        tx: &dyn EngineTx,
    ) -> StoreResult<Option<(Vec<u64>, Vec<u64>)>> {
        let s = &config.correlation;
        if !(s.enabled && s.learning) {
            return Ok(None);
        }
        let rest: Vec<i64> = self
            .alerts_of(other)
            .into_iter()
            .map(|(_, a)| a.id)
            .filter(|id| moved.binary_search(id).is_err())
            .collect();
        Ok(Some((kinds(tx, moved)?, kinds(tx, &rest)?)))
    }

    /// Moves these alerts into incident `to` (whose counts the caller sets): their rows,
    /// their history (`kind`), the moves remembered, and correlation told where they are.
    #[allow(clippy::too_many_arguments)]
    fn move_alerts(
        &mut self,
        config: &Config,
        keys: &[u64],
        to: i64,
        kind: &'static str,
        at: Millis,
        tx: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<Moved> {
        let w = tx;
        let mut moved = Moved {
            ids: Vec::with_capacity(keys.len()),
            firing: 0,
            worst: None,
        };
        for key in keys {
            let a = self.alerts.get_mut(key).expect("keys come from the index");
            a.incident_id = to;
            w.move_alert(a.id, to)?;
            p.history(a.id, a.episode, to, kind, at);
            moved.ids.push(a.id);
            if a.status == Status::Firing {
                moved.firing += 1;
                moved.worst = moved.worst.max(Some(a.severity));
            }
            let id = a.id;
            self.moved.insert(*key, to);
            if config.correlation.enabled {
                if let Some(place) = tx.alert_place(id)? {
                    self.remember_in(config, &place, to, at);
                }
            }
        }
        moved.ids.sort_unstable();
        Ok(moved)
    }

    /// Tells topology correlation the alert is in `incident` now, as if it had fired there:
    /// its footprint covers the alert's place, and a recurrence of the alert finds it.
    fn remember_in(&mut self, config: &Config, place: &AlertPlace, incident: i64, at: Millis) {
        let service = &*config.service_or_discovered(&place.service);
        // Correlation reads the alert's source, name and time, nothing else.
        let e = Event {
            source: place.source.clone(),
            integration: String::new(),
            dedup_key: place.dedup_key.clone(),
            status: Status::Firing,
            severity: Severity::Info,
            name: place.name.clone(),
            summary: String::new(),
            description: String::new(),
            service: None,
            labels: Default::default(),
            links: Vec::new(),
            occurred_at: at,
            received_at: at,
            ends_at: None,
        };
        self.note_firing(service, &e, place.host.as_deref(), incident);
    }
}

/// The distinct kinds ([`text::kind`]) of these alerts, as correlation learned them when
/// they fired: by source, name and catalog host.
fn kinds(tx: &dyn EngineTx, ids: &[i64]) -> StoreResult<Vec<u64>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(p) = tx.alert_place(id)? {
            out.push(text::kind(&p.source, &p.name, p.host.as_deref()).0);
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
