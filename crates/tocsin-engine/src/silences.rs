//! Silences in the engine: which are live, when each starts or ends, and what that does to
//! the alerts they match.
//!
//! A firing alert that an active silence matches is muted: stored and visible, but it does
//! not open or join an incident, so it pages nobody. When its last silence ends and it still
//! fires, it is attached then. A silence that starts while alerts already page marks them
//! silenced (and says so in their incidents) but closes nothing: the page has gone out.
//!
//! Silence times are decided like alert expiries: commands at their log time, starts and
//! ends when the engine's horizon passes them, so a replay of the log decides the same.

use crate::apply::ENGINE;
use crate::commands::CommandError;
use crate::index::Index;
use crate::pending::{Pending, TimelineEntry};
use std::collections::{BTreeSet, HashMap};
use tocsin_core::command::{SilenceAction, SilenceCommand};
use tocsin_core::config::Config;
use tocsin_core::event::{Event, Status};
use tocsin_core::fingerprint::alert_key;
use tocsin_core::silence::{
    alert_labels, can_update_in_place, compile, matches_all, state_at, CompiledMatcher,
    SilenceSpec, SilenceState,
};
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::engine::{AuditLine, EngineTx, FiringAlert, SilenceRecord, StoreResult};

struct LiveSilence {
    record: SilenceRecord,
    matchers: Vec<CompiledMatcher>,
}

/// The pending and active silences, and when each changes next.
#[derive(Default)]
pub struct SilenceIndex {
    live: HashMap<String, LiveSilence>,
    /// (when, id): a pending silence's start, an active one's end.
    due: BTreeSet<(Millis, String)>,
}

impl SilenceIndex {
    /// Adds a pending or active silence. One whose matchers no longer compile (a regex
    /// syntax a newer version refused) is left out rather than allowed to match everything.
    pub fn insert(&mut self, record: SilenceRecord) {
        let matchers = match compile(&record.spec.matchers) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(silence = %record.id, error = %e, "silence ignored: its matchers do not compile");
                return;
            }
        };
        let at = match record.engine_state {
            SilenceState::Pending => record.spec.starts_at,
            SilenceState::Active => record.spec.ends_at,
            SilenceState::Expired => return,
        };
        self.due.insert((at, record.id.clone()));
        self.live
            .insert(record.id.clone(), LiveSilence { record, matchers });
    }

    fn remove(&mut self, id: &str) -> Option<SilenceRecord> {
        let s = self.live.remove(id)?;
        let at = match s.record.engine_state {
            SilenceState::Pending => s.record.spec.starts_at,
            _ => s.record.spec.ends_at,
        };
        self.due.remove(&(at, id.to_string()));
        Some(s.record)
    }

    /// Whether a silence with this id is pending or active.
    pub fn contains(&self, id: &str) -> bool {
        self.live.contains_key(id)
    }

    /// The ids of the pending and active silences that `keep` selects, sorted.
    pub fn ids_where(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut ids: Vec<String> = self.live.keys().filter(|id| keep(id)).cloned().collect();
        ids.sort();
        ids
    }

    /// When the next silence starts or ends.
    pub fn next_due(&self) -> Option<Millis> {
        self.due.first().map(|(at, _)| *at)
    }

    /// The active silences that match these labels, by id.
    pub fn matching(&self, labels: &std::collections::BTreeMap<String, String>) -> Vec<String> {
        let mut ids: Vec<String> = self
            .live
            .values()
            .filter(|s| s.record.engine_state == SilenceState::Active)
            .filter(|s| matches_all(&s.matchers, labels))
            .map(|s| s.record.id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn any_active(&self) -> bool {
        self.live
            .values()
            .any(|s| s.record.engine_state == SilenceState::Active)
    }
}

/// The event an alert stored in SQLite would have sent, to open its incident when its last
/// silence (or inhibiting source) ends.
impl Index {
    /// A firing alert that its last silence or inhibition let go: it opens or joins an
    /// incident now, as if it fired at `at`.
    pub(crate) fn attach_released(
        &mut self,
        config: &Config,
        a: &FiringAlert,
        at: Millis,
        p: &mut Pending<'_>,
    ) -> i64 {
        let service = config.service_or_discovered(&a.service);
        let event = event_of(a, at);
        self.attach(config, &service, &event, None, p)
    }
}

fn event_of(a: &FiringAlert, at: Millis) -> Event {
    Event {
        source: a.source.clone(),
        integration: a.integration.clone(),
        dedup_key: a.dedup_key.clone(),
        status: Status::Firing,
        severity: a.severity,
        name: a.name.clone(),
        summary: a.summary.clone(),
        description: a.description.clone(),
        service: Some(a.service.clone()),
        labels: a.labels.clone(),
        links: Vec::new(),
        occurred_at: at,
        received_at: at,
        ends_at: None,
    }
}

impl Index {
    /// The active silences that mute an alert firing with this event, placed on `service`
    /// and `host`.
    pub fn muted_by(&self, e: &Event, service: &str, host: Option<&str>) -> Vec<String> {
        if !self.silences.any_active() {
            return Vec::new();
        }
        let labels = alert_labels(&e.labels, &e.name, service, e.severity.as_str(), host);
        self.silences.matching(&labels)
    }

    /// Records which silences mute an alert now (none clears it).
    pub fn set_silenced(&mut self, key: u64, ids: Vec<String>) {
        if ids.is_empty() {
            self.silenced.remove(&key);
        } else {
            self.silenced.insert(key, ids);
        }
    }

    /// Applies a silence command. `conn` sees everything applied before it (the runner
    /// writes the batch so far first): starting a silence reads firing alerts' labels.
    pub fn apply_silence(
        &mut self,
        config: &Config,
        c: &SilenceCommand,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<Result<(), CommandError>> {
        match &c.action {
            SilenceAction::Set {
                id,
                new_id,
                silence,
            } => {
                let mut replaced = None;
                if let Some(old) = id.as_deref() {
                    if let Some(live) = self.silences.live.get(old) {
                        if can_update_in_place(&live.record.spec, silence, c.at) {
                            self.update_in_place(old, silence, c, conn, p)?;
                            audit(conn, old, c.at, &c.actor, "update", silence.comment.clone())?;
                            return Ok(Ok(()));
                        }
                        replaced = Some(old);
                    }
                }
                let mut spec = silence.clone();
                // As Alertmanager: a silence never starts before it was made.
                spec.starts_at = spec.starts_at.max(c.at);
                let state = state_at(spec.starts_at, spec.ends_at, c.at);
                let record = SilenceRecord {
                    id: new_id.clone(),
                    spec,
                    updated_at: c.at,
                    actor: c.actor.clone(),
                    expired_by: None,
                    replaced_by: None,
                    engine_state: state,
                };
                p.silence(record.clone());
                self.silences.insert(record);
                audit(
                    conn,
                    new_id,
                    c.at,
                    &c.actor,
                    "create",
                    silence.comment.clone(),
                )?;
                if state == SilenceState::Active {
                    self.activate(new_id, c.at, conn, p)?;
                }
                // The old one ends after the new one has started, so an alert both match
                // stays muted throughout instead of paging in between.
                if let Some(old) = replaced {
                    self.end_silence(config, old, c.at, &c.actor, Some(new_id), conn, p)?;
                    let why = format!("replaced by {new_id}");
                    audit(conn, old, c.at, &c.actor, "expire", why)?;
                }
                Ok(Ok(()))
            }
            SilenceAction::Expire { id } => self.expire_now(config, id, "", c, conn, p),
            SilenceAction::ExpireNoted { id, comment } => {
                self.expire_now(config, id, comment, c, conn, p)
            }
        }
    }

    /// Ends a silence at the command's time. Expiring an expired silence changes nothing,
    /// as in Alertmanager.
    fn expire_now(
        &mut self,
        config: &Config,
        id: &str,
        comment: &str,
        c: &SilenceCommand,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<Result<(), CommandError>> {
        if self.silences.live.contains_key(id) {
            self.end_silence(config, id, c.at, &c.actor, None, conn, p)?;
            audit(conn, id, c.at, &c.actor, "expire", comment.to_string())?;
        }
        Ok(Ok(()))
    }

    /// Changes a live silence in place (same matchers; see `can_update_in_place`).
    fn update_in_place(
        &mut self,
        id: &str,
        silence: &SilenceSpec,
        c: &SilenceCommand,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let Some(mut record) = self.silences.remove(id) else {
            return Ok(());
        };
        let was = record.engine_state;
        // An active silence keeps its start to the millisecond.
        let starts_at = if was == SilenceState::Active {
            record.spec.starts_at
        } else {
            silence.starts_at
        };
        record.spec = silence.clone();
        record.spec.starts_at = starts_at;
        record.updated_at = c.at;
        record.actor = c.actor.clone();
        record.engine_state = state_at(record.spec.starts_at, record.spec.ends_at, c.at);
        let now = record.engine_state;
        p.silence(record.clone());
        self.silences.insert(record);
        if was == SilenceState::Pending && now == SilenceState::Active {
            self.activate(id, c.at, conn, p)?;
        }
        Ok(())
    }

    /// Starts and ends the silences due by `now`.
    pub fn silence_transitions(
        &mut self,
        config: &Config,
        now: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        while let Some((at, id)) = self.silences.due.first().cloned() {
            if at > now {
                break;
            }
            let state = self.silences.live.get(&id).map(|s| s.record.engine_state);
            match state {
                Some(SilenceState::Pending) => {
                    let mut record = self.silences.remove(&id).expect("live");
                    record.engine_state = SilenceState::Active;
                    p.silence(record.clone());
                    self.silences.insert(record);
                    self.activate(&id, at, conn, p)?;
                }
                Some(_) => self.end_silence(config, &id, at, "", None, conn, p)?,
                None => {
                    self.silences.due.pop_first();
                }
            }
        }
        Ok(())
    }

    /// A silence became active at `at`: every firing alert it matches is marked silenced.
    /// Alerts that already page stay in their incidents, with a line saying so.
    fn activate(
        &mut self,
        id: &str,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let Some(live) = self.silences.live.get(id) else {
            return Ok(());
        };
        let spec = &live.record.spec;
        let mut marked = Vec::new();
        for a in conn.firing_alerts()? {
            let labels = alert_labels(
                &a.labels,
                &a.name,
                &a.service,
                a.severity.as_str(),
                a.host.as_deref(),
            );
            if matches_all(&live.matchers, &labels) {
                marked.push(a);
            }
        }
        let line = format!(
            "silenced by {id} until {} ({}: {})",
            to_rfc3339(spec.ends_at),
            spec.created_by,
            spec.comment
        );
        for a in marked {
            let key = alert_key(&a.source, &a.dedup_key);
            let Some(state) = self.alerts.get(&key).copied() else {
                continue;
            };
            let ids = self.silenced.entry(key).or_default();
            if !ids.iter().any(|s| s == id) {
                ids.push(id.to_string());
                ids.sort();
            }
            p.alert_state(state.id, key);
            if state.incident_id != 0 {
                p.timeline(TimelineEntry {
                    incident_id: state.incident_id,
                    at,
                    actor: ENGINE.into(),
                    kind: "silenced",
                    message: format!("alert {} ({}) {line}", a.name, a.dedup_key),
                });
            }
        }
        Ok(())
    }

    /// A silence ends at `at` (its end time, or expired by `actor`, or replaced by
    /// `replaced_by`). Alerts it alone muted are let go; those still firing without an
    /// incident are attached now, which opens or joins one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn end_silence(
        &mut self,
        config: &Config,
        id: &str,
        at: Millis,
        actor: &str,
        replaced_by: Option<&str>,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let Some(mut record) = self.silences.remove(id) else {
            return Ok(());
        };
        if record.engine_state == SilenceState::Pending {
            record.spec.starts_at = at;
        }
        record.spec.ends_at = record.spec.ends_at.min(at);
        record.engine_state = SilenceState::Expired;
        if !actor.is_empty() {
            record.expired_by = Some(actor.to_string());
            record.updated_at = at;
        }
        record.replaced_by = replaced_by.map(str::to_string);
        p.silence(record);

        let mut freed: Vec<u64> = Vec::new();
        for (key, ids) in self.silenced.iter_mut() {
            if let Some(i) = ids.iter().position(|s| s == id) {
                ids.remove(i);
                if let Some(a) = self.alerts.get(key) {
                    p.alert_state(a.id, *key);
                }
                if ids.is_empty() {
                    freed.push(*key);
                }
            }
        }
        freed.sort_unstable();
        for key in freed {
            self.silenced.remove(&key);
            let Some(mut a) = self.alerts.get(&key).copied() else {
                continue;
            };
            if a.status != Status::Firing {
                continue;
            }
            let Some(stored) = conn.firing_alert(a.id)? else {
                continue;
            };
            if a.incident_id != 0 {
                p.timeline(TimelineEntry {
                    incident_id: a.incident_id,
                    at,
                    actor: ENGINE.into(),
                    kind: "unsilenced",
                    message: format!(
                        "alert {} ({}) is no longer silenced: silence {id} ended",
                        stored.name, stored.dedup_key
                    ),
                });
                continue;
            }
            // Still inhibited: its last source's end attaches it.
            if self.inhibited.contains_key(&key) {
                continue;
            }
            a.incident_id = self.attach_released(config, &stored, at, p);
            self.alerts.insert(key, a);
            p.history(a.id, a.episode, a.incident_id, "unsilenced", at);
            p.timeline(TimelineEntry {
                incident_id: a.incident_id,
                at,
                actor: ENGINE.into(),
                kind: "unsilenced",
                message: format!(
                    "alert {} ({}) was silenced by {id} until {}; it still fires, so it is attached now",
                    stored.name,
                    stored.dedup_key,
                    to_rfc3339(at)
                ),
            });
        }
        Ok(())
    }
}

/// Adds a line to the audit trail of silences and recurring windows (in the batch's
/// transaction, so it is in the store exactly when the change is).
pub(crate) fn audit(
    conn: &dyn EngineTx,
    target: &str,
    at: Millis,
    actor: &str,
    action: &'static str,
    comment: String,
) -> StoreResult<()> {
    let line = AuditLine {
        target: target.to_string(),
        at,
        actor: actor.to_string(),
        action,
        comment,
    };
    conn.silence_audit(&line)
}
