//! Flapping in the engine: the recent state changes of the alerts that changed state lately,
//! which of them flap, and when each stops.
//!
//! An alert is a 48-byte entry in the index, so its change history does not live there: only
//! alerts with a change inside the window have one here, and it is dropped (at the engine's
//! time horizon, like expiries) once its last change leaves the window. A flapping alert's
//! resolves leave its incident open (see `leave_incident`), so its re-fires rejoin it and page
//! nobody, and while nothing in it fires its escalation holds (`escalation_held`); when it
//! has been quiet long enough it stops flapping, and its incident resolves then if nothing in
//! it fires.

use crate::apply::ENGINE;
use crate::index::Index;
use crate::pending::{Pending, TimelineEntry};
use std::collections::{BTreeSet, HashMap};
use tocsin_core::config::Config;
use tocsin_core::event::Status;
use tocsin_core::flapping::describe;
use tocsin_core::time::Millis;
use tocsin_store::engine::{AlertState, FlapRow};

#[derive(Default)]
pub struct Flaps {
    /// Alert key -> its recent changes (oldest first) and when to look at it again.
    changes: HashMap<u64, (Vec<Millis>, Millis)>,
    /// (when to look again, alert key): a flapping alert's calm time, else when its last
    /// change leaves the window.
    dues: BTreeSet<(Millis, u64)>,
    /// The flapping alerts -> their names, for the timeline. Few, so scanning them when an
    /// incident may resolve is cheap.
    flapping: HashMap<u64, String>,
}

impl Flaps {
    /// Takes back a stored history at start. It is looked at again at its last change, that
    /// is at the first time horizon, where the current config decides what it is due for.
    pub fn restore(&mut self, key: u64, row: FlapRow) {
        let Some(&last) = row.changes.last() else {
            return;
        };
        if row.flapping {
            self.flapping.insert(key, row.name);
        }
        self.dues.insert((last, key));
        self.changes.insert(key, (row.changes, last));
    }

    /// The next time a history needs a look.
    pub fn next_due(&self) -> Option<Millis> {
        self.dues.first().map(|&(at, _)| at)
    }

    pub fn is_flapping(&self, key: u64) -> bool {
        self.flapping.contains_key(&key)
    }

    /// The recent changes of an alert, if it has any kept.
    pub fn changes_of(&self, key: u64) -> Option<&[Millis]> {
        self.changes.get(&key).map(|(c, _)| c.as_slice())
    }

    /// Whether a flapping alert belongs to this incident (which then stays open).
    pub fn holds(&self, incident_id: i64, index_alerts: &HashMap<u64, AlertState>) -> bool {
        self.flapping.keys().any(|k| {
            index_alerts
                .get(k)
                .is_some_and(|a| a.incident_id == incident_id)
        })
    }

    fn schedule(&mut self, key: u64, due: Millis) {
        if let Some((_, old)) = self.changes.get_mut(&key) {
            self.dues.remove(&(*old, key));
            *old = due;
            self.dues.insert((due, key));
        }
    }
}

impl Index {
    /// The alert `key` changed state at `at` (opened, resolved, re-fired, expired); once it
    /// has changed often enough it is flapping. Call it with the alert in the index and
    /// before its incident may resolve.
    pub(crate) fn flap_change(
        &mut self,
        config: &Config,
        key: u64,
        name: Option<&str>,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        let Some(policy) = config.flapping else {
            return;
        };
        let Some(a) = self.alerts.get(&key).copied() else {
            return;
        };
        let entry = self.flaps.changes.entry(key).or_insert((Vec::new(), at));
        let flaps = policy.record(&mut entry.0, at);
        let last = *entry.0.last().expect("a change was just recorded");
        let count = entry.0.len();
        p.flap(a.id, key);
        if !flaps || self.flaps.is_flapping(key) {
            let due = if self.flaps.is_flapping(key) {
                policy.calm_at(last)
            } else {
                policy.stale_at(last)
            };
            self.flaps.schedule(key, due);
            return;
        }
        let name = name.map_or_else(|| format!("#{}", a.id), str::to_string);
        self.flaps.schedule(key, policy.calm_at(last));
        p.history(a.id, a.episode, a.incident_id, "flapping", at);
        if a.incident_id != 0 {
            p.timeline(TimelineEntry {
                incident_id: a.incident_id,
                at,
                actor: ENGINE.into(),
                kind: "flapping",
                message: format!(
                    "alert {name} is flapping: {count} changes in {}; its resolves no longer close the incident",
                    describe(policy.window)
                ),
            });
        }
        self.flaps.flapping.insert(key, name);
    }

    /// Forgets the histories that left the window and ends the flapping of alerts quiet for
    /// long enough, as of `now` (the engine's time horizon, so a replay decides alike).
    pub(crate) fn calm_flaps(&mut self, config: &Config, now: Millis, p: &mut Pending<'_>) {
        while let Some(&(due, key)) = self.flaps.dues.first() {
            if due > now {
                break;
            }
            self.flaps.dues.pop_first();
            let Some((changes, _)) = self.flaps.changes.get(&key) else {
                continue;
            };
            let last = changes.last().copied().unwrap_or(due);
            let flapping = self.flaps.is_flapping(key);
            // The config may have changed since this was scheduled: it decides now.
            let later = config.flapping.map(|policy| {
                if flapping {
                    policy.calm_at(last)
                } else {
                    policy.stale_at(last)
                }
            });
            if let Some(later) = later.filter(|&t| t > now) {
                self.flaps.dues.insert((later, key));
                self.flaps.changes.get_mut(&key).expect("present").1 = later;
                continue;
            }
            self.flaps.changes.remove(&key);
            let Some(a) = self.alerts.get(&key).copied() else {
                continue;
            };
            p.flap(a.id, key);
            if let Some(name) = self.flaps.flapping.remove(&key) {
                self.calm(config, a, &name, due, p);
            }
        }
    }

    /// The alert stopped flapping at `at`: said in its incident, which resolves now if the
    /// alert is resolved and nothing else in it fires.
    fn calm(
        &mut self,
        config: &Config,
        a: AlertState,
        name: &str,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        p.history(a.id, a.episode, a.incident_id, "stable", at);
        if a.incident_id == 0 {
            return;
        }
        let quiet = config.flapping.map_or(String::new(), |policy| {
            format!(": no change in {}", describe(policy.quiet))
        });
        p.timeline(TimelineEntry {
            incident_id: a.incident_id,
            at,
            actor: ENGINE.into(),
            kind: "stable",
            message: format!("alert {name} stopped flapping{quiet}"),
        });
        if a.status == Status::Resolved {
            self.settle_incident(config, a.incident_id, at, p);
        }
    }
}
