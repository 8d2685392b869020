//! Applying events and time-outs: the alert lifecycle and which incident each alert joins.
//! An alert that an active silence matches, or that a firing source alert inhibits, fires
//! without an incident (`incident_id` 0) until that ends; see `silences.rs`, `inhibit.rs`.

use crate::correlation::Choice;
use crate::index::Index;
use crate::pending::{Change, PagingCue, Pending, TimelineEntry};
use tocsin_core::alert::{decide, AlertChange};
use tocsin_core::config::{Config, Service};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::fingerprint::alert_key;
use tocsin_core::incident::{transition, IncidentState, StateAction};
use tocsin_core::silence::alert_labels;
use tocsin_core::time::Millis;
use tocsin_store::engine::{AlertState, IncidentRecord};

/// The `source` of heartbeat events (`tocsin-integrations`' heartbeat adapter).
pub const HEARTBEAT: &str = "heartbeat";

/// The engine actor in timeline entries it writes itself.
pub const ENGINE: &str = "tocsin";

/// Who did it, in the timeline, when a source tool reports a person's action.
fn source_actor(e: &Event) -> String {
    if e.integration.is_empty() {
        e.source.clone()
    } else {
        format!("{} ({})", e.integration, e.source)
    }
}

/// What applying one event did, for counters.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Changed,
    Ignored,
}

impl Index {
    pub fn apply_event<'b>(
        &mut self,
        config: &'b Config,
        e: &'b Event,
        p: &mut Pending<'b>,
    ) -> Applied {
        let placement = config.place(e);
        let at = e.received_at;
        // A service the event names that the catalog lacks, if the cap lets it be one.
        let discovered = tocsin_core::discovered::named(e).filter(|name| {
            placement.discovered
                && self
                    .discovered
                    .admit(name, config.intake.max_discovered_services, at)
        });
        let own;
        let (service, service_id): (&Service, &'b str) = match discovered {
            Some(name) => {
                p.discovered(name, at);
                own = config.discovered_service(name);
                (&own, name)
            }
            None => (placement.service, &placement.service.id),
        };
        let key = alert_key(&e.source, &e.dedup_key);
        let current = self.alerts.get(&key).copied();
        let pinged = e.source == HEARTBEAT && self.heartbeat_ping(e, p);
        let firing = e.status == Status::Firing;
        let muted = if firing {
            self.muted_by(e, &service.id, placement.host.as_deref())
        } else {
            Vec::new()
        };
        // The labels inhibition rules see, only when there are rules.
        let labels = (firing && self.inhibition_on()).then(|| {
            let host = placement.host.as_deref();
            alert_labels(&e.labels, &e.name, &service.id, e.severity.as_str(), host)
        });
        let inhibited = match &labels {
            Some(l) => self.inhibitors(current.map_or(self.next_alert_id, |a| a.id), l),
            None => Vec::new(),
        };
        let quiet = !muted.is_empty() || !inhibited.is_empty();
        match decide(current.map(|a| a.status), e.status) {
            AlertChange::Ignored if pinged => return Applied::Changed,
            AlertChange::Ignored => return Applied::Ignored,
            AlertChange::Acknowledged => {
                let a = current.expect("acknowledged alerts exist");
                self.acknowledge_from_source(a.incident_id, e, p);
                p.history(a.id, a.episode, a.incident_id, "acknowledged", at);
                return Applied::Changed;
            }
            AlertChange::Noted => {
                let a = current.expect("noted alerts exist");
                if a.incident_id == 0 {
                    return Applied::Ignored;
                }
                p.timeline(TimelineEntry {
                    incident_id: a.incident_id,
                    at,
                    actor: source_actor(e),
                    kind: "note",
                    message: e.summary.clone(),
                });
                return Applied::Changed;
            }
            AlertChange::Opened => {
                let id = self.next_alert_id;
                self.next_alert_id += 1;
                let incident_id = if quiet {
                    0
                } else {
                    self.attach(config, service, e, None, p)
                };
                self.alerts.insert(
                    key,
                    AlertState {
                        id,
                        incident_id,
                        ends_at: 0,
                        occurrences: 1,
                        episode: 1,
                        status: Status::Firing,
                        severity: e.severity,
                    },
                );
                self.alerts_firing += 1;
                p.history(id, 1, incident_id, "fired", at);
                self.storm_alert(config, &service.id, incident_id, at, p);
                self.flap_change(config, key, Some(&e.name), at, p);
                if !muted.is_empty() {
                    p.history(id, 1, 0, "silenced", at);
                }
                if !inhibited.is_empty() {
                    p.history(id, 1, 0, "inhibited", at);
                }
                self.set_silenced(key, muted);
                self.set_inhibited(key, inhibited);
            }
            AlertChange::Repeated => {
                let mut a = current.expect("repeated alerts exist");
                a.occurrences = a.occurrences.saturating_add(1);
                a.severity = e.severity;
                let open = self
                    .incidents
                    .get(&a.incident_id)
                    .is_some_and(|i| i.state.is_open());
                if quiet && !open {
                    // Muted, and not (or no longer) in an open incident: stay out of one.
                    if a.incident_id != 0 {
                        self.leave_incident(config, a.incident_id, at, p);
                        a.incident_id = 0;
                    }
                } else if a.incident_id == 0 {
                    // Was muted, but nothing mutes it any more (its labels changed, or its
                    // inhibiting source resolved earlier in this log entry).
                    a.incident_id = self.attach(config, service, e, None, p);
                    let kind = if self.inhibited.contains_key(&key) {
                        "uninhibited"
                    } else {
                        "unsilenced"
                    };
                    p.history(a.id, a.episode, a.incident_id, kind, at);
                } else if open {
                    self.touch_incident(config, a.incident_id, e.severity, at, p);
                } else {
                    // Its incident was resolved by hand while the condition persists: the
                    // alert starts over in an open incident, as a pager would expect.
                    let old = a.incident_id;
                    self.leave_incident(config, old, at, p);
                    a.incident_id = self.attach(config, service, e, Some(old), p);
                    p.history(a.id, a.episode, a.incident_id, "reattached", at);
                }
                self.set_silenced(key, muted);
                self.set_inhibited(key, inhibited);
                self.alerts.insert(key, a);
            }
            AlertChange::Refired => {
                let mut a = current.expect("refired alerts exist");
                a.occurrences = a.occurrences.saturating_add(1);
                a.episode += 1;
                a.status = Status::Firing;
                a.severity = e.severity;
                a.incident_id = if quiet {
                    0
                } else if let Some(home) = self.moved_home(key, a.incident_id) {
                    // A person put it there: it fires again where they put it.
                    self.rejoin_moved(config, service, e, home, p)
                } else {
                    self.attach(config, service, e, Some(a.incident_id), p)
                };
                self.alerts_firing += 1;
                p.history(a.id, a.episode, a.incident_id, "fired", at);
                self.storm_alert(config, &service.id, a.incident_id, at, p);
                if !muted.is_empty() {
                    p.history(a.id, a.episode, 0, "silenced", at);
                }
                if !inhibited.is_empty() {
                    p.history(a.id, a.episode, 0, "inhibited", at);
                }
                self.set_silenced(key, muted);
                self.set_inhibited(key, inhibited);
                self.alerts.insert(key, a);
                self.flap_change(config, key, Some(&e.name), at, p);
            }
            AlertChange::Resolved => {
                let mut a = current.expect("resolved alerts exist");
                a.occurrences = a.occurrences.saturating_add(1);
                a.status = Status::Resolved;
                self.alerts_firing -= 1;
                p.history(a.id, a.episode, a.incident_id, "resolved", at);
                self.correlator.resolved(key, at);
                // Counted first: the change that makes it flap keeps its incident open.
                self.flap_change(config, key, Some(&e.name), at, p);
                if a.incident_id != 0 {
                    self.leave_incident(config, a.incident_id, at, p);
                }
                self.silenced.remove(&key);
                self.drop_from_inhibition(key, a.id);
                a.ends_at = 0;
                self.set_expiry(key, current.expect("resolved alerts exist").ends_at, 0);
                p.alert_resolved(a.id, key, e.occurred_at, Some(e.received_at));
                p.incident(a.incident_id);
                self.alerts.insert(key, a);
                return Applied::Changed;
            }
        }
        // Every alert that is firing now carries the time it ends by itself, if any.
        let a = self.alerts.get_mut(&key).expect("the alert exists now");
        let (old, new) = (
            a.ends_at,
            if a.status == Status::Firing {
                e.ends_at.unwrap_or(0)
            } else {
                0
            },
        );
        a.ends_at = new;
        let (id, incident_id) = (a.id, a.incident_id);
        self.set_expiry(key, old, new);
        if let Some(l) = &labels {
            self.observe_source(id, l);
        }
        p.alert_from_event(id, key, service_id, placement.host, e);
        p.incident(incident_id);
        Applied::Changed
    }

    /// Resolves the alerts whose end time has passed.
    pub fn expire(&mut self, config: &Config, now: Millis, p: &mut Pending<'_>) -> usize {
        let mut count = 0;
        while let Some(&(ends_at, key)) = self.expiries.first() {
            if ends_at > now {
                break;
            }
            self.expiries.pop_first();
            let Some(a) = self.alerts.get_mut(&key) else {
                continue;
            };
            if a.status != Status::Firing || a.ends_at != ends_at {
                continue;
            }
            a.status = Status::Resolved;
            a.ends_at = 0;
            let (id, episode, incident_id) = (a.id, a.episode, a.incident_id);
            self.alerts_firing -= 1;
            p.history(id, episode, incident_id, "expired", ends_at);
            self.correlator.resolved(key, ends_at);
            p.alert_resolved(id, key, ends_at, None);
            self.silenced.remove(&key);
            self.drop_from_inhibition(key, id);
            self.flap_change(config, key, None, ends_at, p);
            if incident_id != 0 {
                self.leave_incident(config, incident_id, ends_at, p);
            }
            count += 1;
        }
        count
    }

    /// A person acknowledged the alert in its source tool: its incident is acknowledged too,
    /// if nobody has yet. If someone has, what they wrote there (Nagios' ack comment) still
    /// goes into the timeline as a comment, rather than being lost.
    fn acknowledge_from_source(&mut self, incident_id: i64, e: &Event, p: &mut Pending<'_>) {
        let Some(i) = self.incidents.get_mut(&incident_id) else {
            return;
        };
        let Ok(to) = transition(i.state, StateAction::Acknowledge) else {
            p.timeline(TimelineEntry {
                incident_id,
                at: e.received_at,
                actor: source_actor(e),
                kind: "comment",
                message: format!("acknowledged again in {}: {}", e.source, e.summary),
            });
            return;
        };
        i.state = to;
        i.acknowledged_at = Some(e.received_at);
        i.updated_at = i.updated_at.max(e.received_at);
        p.states_changed = true;
        p.paging.push(PagingCue::Acknowledged {
            incident: incident_id,
            at: e.received_at,
            by: Change {
                actor: Some(source_actor(e)),
                comment: e.summary.clone(),
            },
        });
        p.timeline(TimelineEntry {
            incident_id,
            at: e.received_at,
            actor: source_actor(e),
            kind: "acknowledged",
            message: format!("acknowledged in {}: {}", e.source, e.summary),
        });
    }

    /// The open incident of the event's group, or a new one. `previous` is the incident the
    /// alert belonged to before (for the alert count: rejoining it is not a new alert).
    pub(crate) fn attach(
        &mut self,
        config: &Config,
        service: &Service,
        e: &Event,
        previous: Option<i64>,
        p: &mut Pending<'_>,
    ) -> i64 {
        let at = e.received_at;
        let key = crate::group_timing::group_key_of(config, service, e);
        // The catalog host, for correlation (placing again: only new firings come here). A
        // discovered service says as much about its alerts as a catalog one: its name.
        let (host, service_known) = if config.correlation.enabled {
            let placed = config.place(e);
            let known =
                (placed.discovered || !placed.fallback) && !config.is_catch_all(&service.id);
            (placed.host, known)
        } else {
            (None, false)
        };
        let words = config
            .correlation
            .enabled
            .then(|| crate::correlation::Words::of(e, host.as_deref()));
        let joined = if let Some(words) = &words {
            let place = (host.as_deref(), service_known);
            match self.correlate(config, service, e, place, words, &key, previous) {
                Choice::Join(id, why) => {
                    if let Some(why) = why {
                        p.timeline(TimelineEntry {
                            incident_id: id,
                            at,
                            actor: ENGINE.into(),
                            kind: "correlated",
                            message: format!("alert {} from {} joined: {why}", e.name, e.source),
                        });
                    }
                    Some(id)
                }
                Choice::Reopen(id, why) => {
                    self.reopen_for(
                        id,
                        format!("reopened: alert {} fired again; {why}", e.name),
                        at,
                        p,
                    );
                    Some(id)
                }
                Choice::New => None,
            }
        } else {
            self.open_groups
                .get(&key)
                .copied()
                .filter(|id| self.incidents.get(id).is_some_and(|i| i.state.is_open()))
        };
        let id = match joined {
            Some(id) => id,
            None => {
                let title = if e.summary.is_empty() {
                    &e.name
                } else {
                    &e.summary
                };
                let (id, priority) =
                    self.open_incident(config, service, title, e.severity, key, at);
                p.states_changed = true;
                p.paging.push(PagingCue::Triggered { incident: id, at });
                p.timeline(TimelineEntry {
                    incident_id: id,
                    at,
                    actor: ENGINE.into(),
                    kind: "triggered",
                    message: format!(
                        "opened by alert {} from {} ({}), priority {priority}",
                        e.name, e.source, e.severity
                    ),
                });
                id
            }
        };
        let incident = self
            .incidents
            .get_mut(&id)
            .expect("attached incidents exist");
        if previous != Some(id) {
            incident.alert_count += 1;
        }
        if joined.is_some() && incident.firing_count == 0 {
            // Fires again after all had resolved: an escalation held meanwhile goes on.
            p.paging.push(PagingCue::Refired { incident: id, at });
        }
        incident.firing_count += 1;
        self.touch_incident(config, id, e.severity, at, p);
        if let Some(words) = &words {
            self.note_new_firing(config, service, e, host.as_deref(), words, id);
        }
        id
    }

    /// A new triggered incident (the next id) of `service`, in its own `group_key`, as the
    /// group's open incident; returns its id and matrix priority. The caller pages it and
    /// writes why it opened.
    pub(crate) fn open_incident(
        &mut self,
        config: &Config,
        service: &Service,
        title: &str,
        severity: Severity,
        group_key: String,
        at: Millis,
    ) -> (i64, tocsin_core::priority::Priority) {
        let id = self.next_incident_id;
        self.next_incident_id += 1;
        let priority = config.priority.for_alert(service.impact, severity);
        self.open_groups.insert(group_key.clone(), id);
        self.incidents.insert(
            id,
            IncidentRecord {
                id,
                title: title.to_owned(),
                service: service.id.clone(),
                team: service.team.clone(),
                state: IncidentState::Triggered,
                priority,
                priority_manual: false,
                impact: service.impact,
                severity,
                group_key,
                assignee: None,
                alert_count: 0,
                firing_count: 0,
                created_at: at,
                updated_at: at,
                acknowledged_at: None,
                resolved_at: None,
                closed_at: None,
                last_alert_at: at,
            },
        );
        (id, priority)
    }

    /// A firing alert of this incident was seen: raise its severity and matrix priority if
    /// the alert is worse than anything before.
    pub(crate) fn touch_incident(
        &mut self,
        config: &Config,
        id: i64,
        severity: Severity,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        let Some(i) = self.incidents.get_mut(&id) else {
            return;
        };
        i.last_alert_at = at;
        i.updated_at = at;
        if severity > i.severity {
            i.severity = severity;
            p.paging.push(PagingCue::Raised { incident: id, at });
            let computed = config.priority.for_alert(i.impact, severity);
            if !i.priority_manual && computed < i.priority {
                i.priority = computed;
                p.timeline(TimelineEntry {
                    incident_id: id,
                    at,
                    actor: ENGINE.into(),
                    kind: "priority",
                    message: format!("priority raised to {computed}: an alert is now {severity}"),
                });
            }
        }
        p.incident(id);
    }

    /// A firing alert left this incident (resolved, timed out or moved on). The incident
    /// resolves by itself when none is left firing, if the config says so.
    fn leave_incident(&mut self, config: &Config, id: i64, at: Millis, p: &mut Pending<'_>) {
        let Some(i) = self.incidents.get_mut(&id) else {
            return;
        };
        i.firing_count = (i.firing_count - 1).max(0);
        i.updated_at = at;
        p.incident(id);
        self.settle_incident(config, id, at, p);
    }

    /// Why an open incident pages nobody now, if it does not: none of its alerts fires, and
    /// it stays open only because a resolved alert of it flaps, or because incidents do not
    /// resolve by themselves (`auto_resolve: false`). Its escalation holds until one fires
    /// again.
    pub(crate) fn escalation_held(&self, config: &Config, id: i64) -> Option<&'static str> {
        let i = self.incidents.get(&id)?;
        // An incident that never had an alert (none joined yet) is not "all resolved".
        if !i.state.is_open() || i.firing_count > 0 || i.alert_count == 0 {
            return None;
        }
        if self.flaps.holds(id, &self.alerts) {
            Some("a flapping one keeps it open")
        } else if !config.incidents.auto_resolve {
            Some("auto_resolve is off: it stays open until someone resolves it")
        } else {
            None
        }
    }

    /// Resolves the incident if none of its alerts fires and none flaps (a flapping alert
    /// would only fire again: its incident waits for it to calm down), when the config says
    /// incidents resolve by themselves.
    pub(crate) fn settle_incident(
        &mut self,
        config: &Config,
        id: i64,
        at: Millis,
        p: &mut Pending<'_>,
    ) {
        let Some(i) = self.incidents.get_mut(&id) else {
            return;
        };
        if i.firing_count == 0
            && config.incidents.auto_resolve
            && i.state.is_open()
            && !self.flaps.holds(id, &self.alerts)
        {
            i.state = IncidentState::Resolved;
            i.resolved_at = Some(at);
            let key = i.group_key.clone();
            if self.open_groups.get(&key) == Some(&id) {
                self.open_groups.remove(&key);
            }
            p.states_changed = true;
            p.paging.push(PagingCue::Ended {
                incident: id,
                at,
                resolved: Some(Change {
                    actor: None,
                    comment: String::new(),
                }),
            });
            p.timeline(TimelineEntry {
                incident_id: id,
                at,
                actor: ENGINE.into(),
                kind: "resolved",
                message: "all alerts resolved".into(),
            });
        }
    }
}
