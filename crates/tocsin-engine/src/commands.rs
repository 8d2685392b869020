//! Applying people's actions on incidents.

use crate::index::Index;
use crate::pending::{Change, PagingCue, Pending, TimelineEntry};
use tocsin_core::command::{Command, IncidentAction, ReassignTo};
use tocsin_core::config::Config;
use tocsin_core::incident::{transition, IncidentState, StateAction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    NotFound(i64),
    /// The action does not fit the incident's state.
    Conflict(String),
    /// The store failed: the command was refused and is never applied (it is marked so in
    /// the log directory, see `tocsin_store::log::RefusedMarks`).
    Store(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::NotFound(id) => write!(f, "no incident {id}"),
            CommandError::Conflict(m) | CommandError::Store(m) => f.write_str(m),
        }
    }
}

/// Where the engine sends the outcome of a command, once it is committed.
pub type CommandReply = tokio::sync::oneshot::Sender<Result<(), CommandError>>;

/// A timeline message with the actor's reason after it, when they gave one.
pub(crate) fn with_reason(text: String, reason: &str) -> String {
    if reason.is_empty() {
        text
    } else {
        format!("{text}: {reason}")
    }
}

impl Index {
    pub fn apply_command(
        &mut self,
        config: &Config,
        c: &Command,
        p: &mut Pending<'_>,
    ) -> Result<(), CommandError> {
        let incident = self
            .incidents
            .get_mut(&c.incident_id)
            .ok_or(CommandError::NotFound(c.incident_id))?;
        let with_reason = |text: String| with_reason(text, &c.reason);
        let (kind, message) = match &c.action {
            IncidentAction::State(action) => {
                let to = transition(incident.state, *action)
                    .map_err(|e| CommandError::Conflict(e.to_string()))?;
                let was_open = incident.state.is_open();
                incident.state = to;
                match action {
                    StateAction::Acknowledge => incident.acknowledged_at = Some(c.at),
                    StateAction::Resolve => incident.resolved_at = Some(c.at),
                    StateAction::Close => incident.closed_at = Some(c.at),
                    StateAction::Reopen => {
                        incident.resolved_at = None;
                        incident.acknowledged_at = None;
                    }
                }
                let key = incident.group_key.clone();
                if to.is_open() {
                    // Take new alerts of its group again, unless another incident has.
                    self.open_groups.entry(key).or_insert(c.incident_id);
                } else if self.open_groups.get(&key) == Some(&c.incident_id) {
                    self.open_groups.remove(&key);
                }
                p.states_changed = true;
                let (incident_id, at) = (c.incident_id, c.at);
                let change = Change {
                    actor: Some(c.actor.clone()),
                    comment: c.reason.clone(),
                };
                p.paging.push(match to {
                    IncidentState::Triggered => PagingCue::Reopened {
                        incident: incident_id,
                        at,
                    },
                    IncidentState::Acknowledged => PagingCue::Acknowledged {
                        incident: incident_id,
                        at,
                        by: change,
                    },
                    // Closing a resolved incident tells nobody again.
                    IncidentState::Resolved | IncidentState::Closed => PagingCue::Ended {
                        incident: incident_id,
                        at,
                        resolved: was_open.then_some(change),
                    },
                });
                let kind = match to {
                    IncidentState::Triggered => "reopened",
                    IncidentState::Acknowledged => "acknowledged",
                    IncidentState::Resolved => "resolved",
                    IncidentState::Closed => "closed",
                };
                (kind, with_reason(format!("{} by {}", kind, c.actor)))
            }
            IncidentAction::Comment(text) => ("comment", text.clone()),
            IncidentAction::Assign(Some(who)) => {
                incident.assignee = Some(who.clone());
                ("assigned", with_reason(format!("assigned to {who}")))
            }
            IncidentAction::Assign(None) => {
                incident.assignee = None;
                ("assigned", with_reason("unassigned".into()))
            }
            IncidentAction::SetPriority(Some(priority)) => {
                let from = incident.priority;
                incident.priority = *priority;
                incident.priority_manual = true;
                (
                    "priority",
                    with_reason(format!("priority changed from {from} to {priority}")),
                )
            }
            IncidentAction::Escalate => {
                if !incident.state.is_open() {
                    return Err(CommandError::Conflict(format!(
                        "incident {} is {}; only an open incident escalates",
                        c.incident_id,
                        incident.state.as_str()
                    )));
                }
                let policy = config
                    .service(&incident.service)
                    .and_then(|s| config.policy_for(s));
                if policy.is_none() {
                    return Err(CommandError::Conflict(format!(
                        "service {} has no escalation policy",
                        incident.service
                    )));
                }
                p.paging.push(PagingCue::Escalate {
                    incident: c.incident_id,
                    at: c.at,
                    actor: c.actor.clone(),
                });
                (
                    "escalated",
                    with_reason(format!("escalated by {}", c.actor)),
                )
            }
            IncidentAction::Reassign(to) => {
                if !incident.state.is_open() {
                    return Err(CommandError::Conflict(format!(
                        "incident {} is {}; reopen it first",
                        c.incident_id,
                        incident.state.as_str()
                    )));
                }
                let whom = match to {
                    ReassignTo::User(u) => {
                        if config.user(u).is_none() {
                            return Err(CommandError::Conflict(format!("no user {u:?}")));
                        }
                        incident.assignee = Some(u.clone());
                        format!("user {u}")
                    }
                    ReassignTo::Schedule(s) => {
                        if config.schedule(s).is_none() {
                            return Err(CommandError::Conflict(format!("no schedule {s:?}")));
                        }
                        format!("schedule {s}")
                    }
                };
                // Someone new must answer: an acknowledged incident is triggered again.
                if incident.state == IncidentState::Acknowledged {
                    incident.state = IncidentState::Triggered;
                    incident.acknowledged_at = None;
                    p.states_changed = true;
                }
                p.paging.push(PagingCue::Reassign {
                    incident: c.incident_id,
                    at: c.at,
                    actor: c.actor.clone(),
                    to: to.clone(),
                });
                (
                    "reassigned",
                    with_reason(format!("reassigned to {whom} by {}", c.actor)),
                )
            }
            IncidentAction::SetPriority(None) => {
                incident.priority_manual = false;
                incident.priority = config
                    .priority
                    .for_alert(incident.impact, incident.severity);
                (
                    "priority",
                    with_reason(format!(
                        "priority back to the matrix: {}",
                        incident.priority
                    )),
                )
            }
        };
        incident.updated_at = incident.updated_at.max(c.at);
        p.timeline(TimelineEntry {
            incident_id: c.incident_id,
            at: c.at,
            actor: c.actor.clone(),
            kind,
            message,
        });
        Ok(())
    }
}
