//! What one batch must write. Changes are collected first and written once at the end, so an
//! alert that repeats a hundred times in a batch costs one row write, not a hundred.

use crate::index::Index;
use std::collections::{HashMap, HashSet};
use tocsin_core::event::Event;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, Muting, SilenceRecord, StoreResult};

struct AlertWrite<'b> {
    key: u64,
    /// The catalog service and host it maps to, and the event that last touched it; `None`
    /// when it changed by itself (timed out), which writes only its state.
    content: Option<(&'b str, Option<String>, &'b Event)>,
    resolved_at: Option<Millis>,
    /// When a resolve event for it arrived.
    seen: Option<Millis>,
}

pub struct TimelineEntry {
    pub incident_id: i64,
    pub at: Millis,
    pub actor: String,
    pub kind: &'static str,
    pub message: String,
}

#[derive(Default)]
pub struct Pending<'b> {
    alerts: HashMap<i64, AlertWrite<'b>>,
    incidents: HashSet<i64>,
    history: Vec<(i64, u32, i64, &'static str, Millis)>,
    timeline: Vec<TimelineEntry>,
    heartbeats: Vec<(&'b str, Millis)>,
    /// Discovered services whose alerts this batch saw: first and last time.
    discovered: HashMap<&'b str, (Millis, Millis)>,
    /// Silences created or changed, by id: the last version is written.
    silences: HashMap<String, SilenceRecord>,
    /// Alerts (id -> key) whose flapping history or mark changed.
    flaps: HashMap<i64, u64>,
    /// Set when an incident changed state, so the per-state counts are recomputed.
    pub states_changed: bool,
    /// What paging must do after this batch's events and commands, in order.
    pub paging: Vec<PagingCue>,
}

/// An incident change that starts, stops or moves its escalation. Collected while events
/// are applied and acted on at the end of the batch, where the store can be read (who is on
/// call, runtime overrides) and the outbox written.
#[derive(Debug, Clone, PartialEq)]
pub enum PagingCue {
    Triggered {
        incident: i64,
        at: Millis,
    },
    Acknowledged {
        incident: i64,
        at: Millis,
        by: Change,
    },
    /// Resolved, closed or merged away; `resolved` says who resolved an open incident (its
    /// follow-ups say so), `None` when nobody is told (merged, or closed once resolved).
    Ended {
        incident: i64,
        at: Millis,
        resolved: Option<Change>,
    },
    /// Its worst severity rose: an incident held back for support hours may page now.
    Raised {
        incident: i64,
        at: Millis,
    },
    Reopened {
        incident: i64,
        at: Millis,
    },
    /// An alert fires again in an open incident in which none fired: an escalation step
    /// held meanwhile (see `escalation_held`) goes on.
    Refired {
        incident: i64,
        at: Millis,
    },
    Escalate {
        incident: i64,
        at: Millis,
        actor: String,
    },
    Reassign {
        incident: i64,
        at: Millis,
        actor: String,
        to: tocsin_core::command::ReassignTo,
    },
}

/// Who acknowledged or resolved an incident and what they wrote, for its follow-up messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `None`: tocsin did, because its alerts resolved.
    pub actor: Option<String>,
    pub comment: String,
}

impl<'b> Pending<'b> {
    pub fn alert_from_event(
        &mut self,
        id: i64,
        key: u64,
        service: &'b str,
        host: Option<String>,
        event: &'b Event,
    ) {
        self.alerts.insert(
            id,
            AlertWrite {
                key,
                content: Some((service, host, event)),
                resolved_at: None,
                seen: None,
            },
        );
    }

    /// An alert resolved (by an event or a time-out, `seen` tells): only its state is
    /// written, so the content of the firing event stays what people see.
    pub fn alert_resolved(&mut self, id: i64, key: u64, at: Millis, seen: Option<Millis>) {
        match self.alerts.get_mut(&id) {
            // Touched by an event earlier in this batch: its content is still the latest.
            Some(w) if w.content.is_some() => {
                w.resolved_at = Some(at);
                w.seen = seen.or(w.seen);
            }
            _ => {
                self.alerts.insert(
                    id,
                    AlertWrite {
                        key,
                        content: None,
                        resolved_at: Some(at),
                        seen,
                    },
                );
            }
        }
    }

    /// A silence or inhibition muted the alert or let it go: its state is written (with what
    /// mutes it), unless the batch writes the alert anyway.
    pub fn alert_state(&mut self, id: i64, key: u64) {
        self.alerts.entry(id).or_insert(AlertWrite {
            key,
            content: None,
            resolved_at: None,
            seen: None,
        });
    }

    /// The alert's flapping history or mark changed: written from the index at flush.
    pub fn flap(&mut self, id: i64, key: u64) {
        self.flaps.insert(id, key);
    }

    pub fn silence(&mut self, record: SilenceRecord) {
        self.silences.insert(record.id.clone(), record);
    }

    pub fn incident(&mut self, id: i64) {
        self.incidents.insert(id);
    }

    pub fn history(
        &mut self,
        alert_id: i64,
        episode: u32,
        incident_id: i64,
        kind: &'static str,
        at: Millis,
    ) {
        self.history
            .push((alert_id, episode, incident_id, kind, at));
    }

    pub fn timeline(&mut self, entry: TimelineEntry) {
        self.incidents.insert(entry.incident_id);
        self.timeline.push(entry);
    }

    /// An alert of a discovered service was seen.
    pub fn discovered(&mut self, id: &'b str, at: Millis) {
        let seen = self.discovered.entry(id).or_insert((at, at));
        *seen = (seen.0.min(at), seen.1.max(at));
    }

    pub fn heartbeat(&mut self, name: &'b str, at: Millis) {
        self.heartbeats.push((name, at));
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
            && self.incidents.is_empty()
            && self.history.is_empty()
            && self.heartbeats.is_empty()
            && self.discovered.is_empty()
            && self.silences.is_empty()
            && self.flaps.is_empty()
    }

    /// Writes everything, reading the latest state of each row from the index and
    /// numbering history entries from `index.next_history_seq`.
    pub fn flush(self, index: &mut Index, w: &dyn EngineTx) -> StoreResult<()> {
        for (_, write) in self.alerts {
            let Some(state) = index.alerts.get(&write.key) else {
                continue;
            };
            let silenced_by = index
                .silenced
                .get(&write.key)
                .map(|ids| serde_json::to_string(ids).unwrap_or_default());
            let inhibited_by = index
                .inhibited
                .get(&write.key)
                .map(|ids| serde_json::to_string(ids).unwrap_or_default());
            let muting = Muting {
                silenced_by: silenced_by.as_deref(),
                inhibited_by: inhibited_by.as_deref(),
            };
            match write.content {
                Some((service, host, event)) => {
                    w.upsert_alert(state, service, host.as_deref(), event, muting)?;
                    if write.resolved_at.is_some() {
                        w.update_alert_state(state, write.resolved_at, write.seen, muting)?;
                    }
                }
                None => w.update_alert_state(state, write.resolved_at, write.seen, muting)?,
            }
        }
        // After the alerts' rows, which these update.
        for (id, key) in self.flaps {
            w.alert_flaps(
                id,
                index.flaps.changes_of(key),
                index.flaps.is_flapping(key),
            )?;
        }
        for (_, silence) in self.silences {
            w.upsert_silence(&silence)?;
        }
        for id in self.incidents {
            if let Some(incident) = index.incidents.get(&id) {
                w.upsert_incident(incident)?;
            }
        }
        for (alert_id, episode, incident_id, kind, at) in self.history {
            w.alert_history(
                alert_id,
                index.next_history_seq,
                episode,
                incident_id,
                kind,
                at,
            )?;
            index.next_history_seq += 1;
        }
        for (name, at) in self.heartbeats {
            w.heartbeat(name, at)?;
        }
        for (id, (first, last)) in self.discovered {
            w.discovered_seen(id, first, last)?;
        }
        for t in self.timeline {
            w.timeline(t.incident_id, t.at, &t.actor, t.kind, &t.message)?;
        }
        Ok(())
    }
}
