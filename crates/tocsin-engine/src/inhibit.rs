//! Inhibition in the engine: the firing source alerts of each `inhibit_rules` entry, and what
//! they do to the alerts they inhibit.
//!
//! An inhibited firing alert is muted like a silenced one: stored and visible, with
//! `inhibited_by` (the ids of the source alerts that inhibit it, sorted), but it does not
//! open or join an incident, so it pages nobody. An alert that already pages when its
//! source starts firing is marked and keeps its incident (the page has gone out). When the
//! last inhibiting source resolves (or stops matching) and the alert still fires, it is
//! attached then.
//!
//! An event is decided against the sources known when it is applied. Whatever a change of
//! sources does to alerts already firing is settled after the log entry that changed them
//! (and after expiries), reading those alerts' labels from the store, so a replay of the log
//! decides the same. The sources are rebuilt from the store's firing alerts at start and when
//! the configured rules change.

use crate::apply::ENGINE;
use crate::index::Index;
use crate::pending::{Pending, TimelineEntry};
use std::collections::BTreeMap;
use tocsin_core::config::Config;
use tocsin_core::event::Status;
use tocsin_core::fingerprint::alert_key;
use tocsin_core::inhibit::InhibitState;
use tocsin_core::silence::alert_labels;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, StoreResult};

#[derive(Default)]
pub struct Inhibition {
    /// The rules and their firing sources, by alert id.
    state: InhibitState<i64>,
    /// Whether `state` was built from the store (at start, for the rules it holds).
    built: bool,
    /// The sources changed since the last settle.
    dirty: bool,
}

impl Index {
    /// Whether any inhibition rule is configured: otherwise events skip all of this.
    pub fn inhibition_on(&self) -> bool {
        !self.inhibit.state.rules().is_empty()
    }

    /// The source alerts that inhibit alert `id` firing with these labels.
    pub fn inhibitors(&self, id: i64, labels: &BTreeMap<String, String>) -> Vec<i64> {
        if !self.inhibit.state.has_sources() {
            return Vec::new();
        }
        self.inhibit.state.inhibitors(id, labels)
    }

    /// Records which sources inhibit an alert now (none clears it).
    pub fn set_inhibited(&mut self, key: u64, ids: Vec<i64>) {
        if ids.is_empty() {
            self.inhibited.remove(&key);
        } else {
            self.inhibited.insert(key, ids);
        }
    }

    /// Alert `id` fires with these labels: it is a source of the rules it matches.
    pub fn observe_source(&mut self, id: i64, labels: &BTreeMap<String, String>) {
        self.inhibit.dirty |= self.inhibit.state.observe(id, labels);
    }

    /// Alert `key` (id `id`) stopped firing: it inhibits nothing and nothing inhibits it.
    pub fn drop_from_inhibition(&mut self, key: u64, id: i64) {
        self.inhibited.remove(&key);
        self.inhibit.dirty |= self.inhibit.state.remove(id);
    }

    /// Whether [`Self::settle_inhibition`] has work: at start, after the rules changed, or
    /// after the sources did.
    pub fn inhibition_due(&self, config: &Config) -> bool {
        !self.inhibit.built
            || self.inhibit.dirty
            || self.inhibit.state.rules() != config.inhibit_rules
    }

    /// Re-decides the inhibition of every firing alert against the sources (rebuilt first
    /// from the store when the rules are new). `conn` must see everything applied so far.
    pub fn settle_inhibition(
        &mut self,
        config: &Config,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let rebuild = !self.inhibit.built || self.inhibit.state.rules() != config.inhibit_rules;
        self.inhibit.built = true;
        self.inhibit.dirty = false;
        if rebuild {
            self.inhibit.state = InhibitState::new(config.inhibit_rules.clone());
            if config.inhibit_rules.is_empty() && self.inhibited.is_empty() {
                return Ok(());
            }
        }
        let firing = conn.firing_alerts()?;
        let labelled: Vec<_> = firing
            .iter()
            .map(|a| {
                let labels = alert_labels(
                    &a.labels,
                    &a.name,
                    &a.service,
                    a.severity.as_str(),
                    a.host.as_deref(),
                );
                (a, labels)
            })
            .collect();
        if rebuild {
            for (a, labels) in &labelled {
                self.inhibit.state.observe(a.id, labels);
            }
        }
        for (a, labels) in &labelled {
            let key = alert_key(&a.source, &a.dedup_key);
            let Some(mut state) = self.alerts.get(&key).copied() else {
                continue;
            };
            if state.status != Status::Firing {
                continue;
            }
            let now = self.inhibitors(a.id, labels);
            let before = self.inhibited.get(&key).cloned().unwrap_or_default();
            if now == before {
                continue;
            }
            p.alert_state(state.id, key);
            self.set_inhibited(key, now.clone());
            if !now.is_empty() {
                if before.is_empty() {
                    p.history(state.id, state.episode, state.incident_id, "inhibited", at);
                    if state.incident_id != 0 {
                        p.timeline(TimelineEntry {
                            incident_id: state.incident_id,
                            at,
                            actor: ENGINE.into(),
                            kind: "inhibited",
                            message: format!(
                                "alert {} ({}) is inhibited by source alert {}; it stays in this incident",
                                a.name,
                                a.dedup_key,
                                ids(&now)
                            ),
                        });
                    }
                }
                continue;
            }
            let gone = ids(&before);
            if state.incident_id != 0 {
                p.timeline(TimelineEntry {
                    incident_id: state.incident_id,
                    at,
                    actor: ENGINE.into(),
                    kind: "uninhibited",
                    message: format!(
                        "uninhibited: source alert {gone} resolved; alert {} ({}) is no longer inhibited",
                        a.name, a.dedup_key
                    ),
                });
                continue;
            }
            // Still silenced: the silence's end attaches it.
            if self.silenced.contains_key(&key) {
                continue;
            }
            state.incident_id = self.attach_released(config, a, at, p);
            self.alerts.insert(key, state);
            p.history(
                state.id,
                state.episode,
                state.incident_id,
                "uninhibited",
                at,
            );
            p.timeline(TimelineEntry {
                incident_id: state.incident_id,
                at,
                actor: ENGINE.into(),
                kind: "uninhibited",
                message: format!(
                    "uninhibited: source alert {gone} resolved; alert {} ({}) still fires, so it is attached now",
                    a.name, a.dedup_key
                ),
            });
        }
        Ok(())
    }
}

/// Alert ids as people read them: `3`, `3, 7`.
fn ids(list: &[i64]) -> String {
    let text: Vec<String> = list.iter().map(i64::to_string).collect();
    text.join(", ")
}
