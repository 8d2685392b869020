//! Incident states and the transitions people (and the engine) may make.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentState {
    Triggered,
    Acknowledged,
    Resolved,
    Closed,
}

impl IncidentState {
    pub const ALL: [IncidentState; 4] = [
        IncidentState::Triggered,
        IncidentState::Acknowledged,
        IncidentState::Resolved,
        IncidentState::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Triggered => "triggered",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
            IncidentState::Closed => "closed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        IncidentState::ALL.into_iter().find(|s| s.as_str() == text)
    }
    /// Open incidents take new alerts; resolved and closed ones do not.
    pub fn is_open(self) -> bool {
        matches!(self, IncidentState::Triggered | IncidentState::Acknowledged)
    }
}

/// A change of state somebody asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateAction {
    Acknowledge,
    Resolve,
    Close,
    Reopen,
}

impl StateAction {
    pub fn verb(self) -> &'static str {
        match self {
            StateAction::Acknowledge => "acknowledge",
            StateAction::Resolve => "resolve",
            StateAction::Close => "close",
            StateAction::Reopen => "reopen",
        }
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionError {
    pub from: IncidentState,
    pub action: StateAction,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot {} an incident that is {}",
            self.action.verb(),
            self.from.as_str()
        )
    }
}

/// triggered -> acknowledged -> resolved -> closed; resolve straight from triggered; reopen
/// from resolved back to triggered. Closed is final.
pub fn transition(
    from: IncidentState,
    action: StateAction,
) -> Result<IncidentState, TransitionError> {
    use IncidentState::*;
    use StateAction::*;
    match (from, action) {
        (Triggered, Acknowledge) => Ok(Acknowledged),
        (Triggered | Acknowledged, Resolve) => Ok(Resolved),
        (Resolved, Close) => Ok(Closed),
        (Resolved, Reopen) => Ok(Triggered),
        _ => Err(TransitionError { from, action }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentState::*;
    use StateAction::*;

    #[test]
    fn allowed_paths() {
        assert_eq!(transition(Triggered, Acknowledge), Ok(Acknowledged));
        assert_eq!(transition(Acknowledged, Resolve), Ok(Resolved));
        assert_eq!(transition(Triggered, Resolve), Ok(Resolved));
        assert_eq!(transition(Resolved, Close), Ok(Closed));
        assert_eq!(transition(Resolved, Reopen), Ok(Triggered));
    }

    #[test]
    fn refused_paths_say_why() {
        for (from, action) in [
            (Acknowledged, Acknowledge),
            (Resolved, Acknowledge),
            (Closed, Reopen),
            (Closed, Resolve),
            (Triggered, Close),
            (Triggered, Reopen),
        ] {
            let err = transition(from, action).unwrap_err();
            assert!(err.to_string().starts_with("cannot "), "{err}");
        }
    }
}
