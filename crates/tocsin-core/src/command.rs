//! Commands people give to incidents. They are written to the event log like events, so the
//! one ordered writer applies them in log order and a replay decides the same.

use crate::incident::StateAction;
use crate::priority::Priority;
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
