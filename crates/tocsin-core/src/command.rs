//! Commands people give to incidents and silences. They are written to the event log like
//! events, so the one ordered writer applies them in log order and a replay decides the same.

use crate::config::maintenance::RawMaintenance;
use crate::incident::StateAction;
use crate::priority::Priority;
use crate::silence::SilenceSpec;
use crate::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IncidentAction {
    State(StateAction),
    Comment(String),
    /// `None` unassigns.
    Assign(Option<String>),
    /// `None` returns to the priority the matrix computes.
    SetPriority(Option<Priority>),
    /// Page the next escalation level now, without waiting for its delay.
    Escalate,
    /// Page someone else now: the incident is theirs (and triggered again if it was
    /// acknowledged); escalation goes on from where it was.
    Reassign(ReassignTo),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReassignTo {
    User(String),
    /// Whoever is on call in the schedule then.
    Schedule(String),
}

/// What became of one notification the dispatcher tried to send. Logged, so the engine
/// records it in order and the timeline says who was told, how, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReport {
    pub notification_id: i64,
    pub outcome: DeliveryOutcome,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeliveryOutcome {
    Sent,
    /// Failed, worth another try at `retry_at`.
    Retry {
        retry_at: Millis,
        error: String,
    },
    /// Failed for good (a wrong address, a refused request, out of tries).
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub incident_id: i64,
    pub action: IncidentAction,
    /// Who asked (the token or user name).
    pub actor: String,
    /// Why, in the actor's words; may be empty.
    pub reason: String,
    pub at: Millis,
}

/// A change to silences. Written to the event log like incident commands, so the engine
/// decides in log order (and a replay the same) whether an update happens in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SilenceAction {
    /// Creates a silence, or updates `id`: in place when Alertmanager's rule allows it,
    /// otherwise by expiring `id` and creating `new_id`. The id is chosen before the entry is
    /// logged, so replaying the log creates the same silence.
    Set {
        id: Option<String>,
        new_id: String,
        silence: SilenceSpec,
    },
    /// Ends a silence now (Alertmanager's delete).
    Expire { id: String },
    /// Ends a silence now, saying why (tocsin's own API). After `Expire`, so entries
    /// written before it keep their variant numbers.
    ExpireNoted { id: String, comment: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceCommand {
    pub action: SilenceAction,
    /// The API caller (token name, or `loopback`); the silence's own `createdBy` is the
    /// author a person typed.
    pub actor: String,
    pub at: Millis,
}

/// A change to a schedule's runtime overrides. Written to the event log, so overrides are
/// durable and audited like every other change people make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OverrideAction {
    /// `id` is chosen before the entry is logged, so a replay creates the same override.
    Create {
        id: i64,
        schedule: String,
        user: String,
        start: Millis,
        end: Millis,
        reason: String,
    },
    Delete {
        schedule: String,
        id: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideCommand {
    pub action: OverrideAction,
    /// The API caller (token name).
    pub actor: String,
    pub at: Millis,
}

/// A change to the recurring maintenance windows made at run time. Written to the event log,
/// so they are durable, audited, and replayed like silences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MaintenanceAction {
    /// The window's `name` is its id, chosen before the entry is logged so a replay makes
    /// the same window; `author` is who its occurrences say made them.
    Create {
        window: RawMaintenance,
        author: String,
    },
    /// Deletes a window; its occurrence open now, if any, is expired with it.
    Delete { id: String, comment: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceCommand {
    pub action: MaintenanceAction,
    /// The API caller (token name).
    pub actor: String,
    pub at: Millis,
}

/// A person moving alerts between incidents: merging one incident into another, or splitting
/// some alerts out into a new one. Written to the event log like incident commands, so a
/// restart or a replay moves the same alerts and numbers the new incident the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RegroupAction {
    /// Every alert of the command's incident moves into `into`; the incident resolves.
    Merge { into: i64 },
    /// These alerts (ids) leave the command's incident for one new incident.
    Split { alerts: Vec<i64> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegroupCommand {
    /// The incident the alerts leave.
    pub incident_id: i64,
    pub action: RegroupAction,
    /// Who asked (the token or user name).
    pub actor: String,
    /// Why, in the actor's words; may be empty.
    pub reason: String,
    pub at: Millis,
}
