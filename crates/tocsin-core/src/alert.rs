//! Alert lifecycle: what an incoming event does to the alert it belongs to.

use crate::event::Status;

/// The outcome of one event for its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    /// First event ever for this identity, firing: a new alert, episode 1.
    Opened,
    /// Firing again while firing: counted, nothing else changes state.
    Repeated,
    /// Resolved while firing: the episode ends.
    Resolved,
    /// Firing after it had resolved: a new episode of the same alert.
    Refired,
    /// Acknowledged in the source tool while firing: its incident is acknowledged.
    Acknowledged,
    /// A note about a known alert: a line in its incident's timeline, no state changes.
    Noted,
    /// A resolve or acknowledgement for an alert that is not firing, or a note about an
    /// unknown one: recorded in the event log, no state changes.
    Ignored,
}

/// Decides what an event with `incoming` status does to an alert currently in `current`
/// (`None` if the identity has never been seen).
pub fn decide(current: Option<Status>, incoming: Status) -> AlertChange {
    match (current, incoming) {
        (None, Status::Firing) => AlertChange::Opened,
        (Some(Status::Firing), Status::Firing) => AlertChange::Repeated,
        (Some(Status::Firing), Status::Resolved) => AlertChange::Resolved,
        (Some(Status::Resolved), Status::Firing) => AlertChange::Refired,
        (Some(Status::Firing), Status::Acknowledged) => AlertChange::Acknowledged,
        (Some(_), Status::Note) => AlertChange::Noted,
        (None | Some(Status::Resolved), Status::Resolved | Status::Acknowledged)
        | (None, Status::Note) => AlertChange::Ignored,
        // An alert's own state is only ever firing or resolved.
        (Some(Status::Acknowledged | Status::Note), _) => AlertChange::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        assert_eq!(decide(None, Status::Firing), AlertChange::Opened);
        assert_eq!(decide(None, Status::Resolved), AlertChange::Ignored);
        assert_eq!(
            decide(Some(Status::Firing), Status::Firing),
            AlertChange::Repeated
        );
        assert_eq!(
            decide(Some(Status::Firing), Status::Resolved),
            AlertChange::Resolved
        );
        assert_eq!(
            decide(Some(Status::Resolved), Status::Firing),
            AlertChange::Refired
        );
        assert_eq!(
            decide(Some(Status::Resolved), Status::Resolved),
            AlertChange::Ignored
        );
    }

    #[test]
    fn acknowledgements_and_notes() {
        assert_eq!(
            decide(Some(Status::Firing), Status::Acknowledged),
            AlertChange::Acknowledged
        );
        assert_eq!(
            decide(Some(Status::Resolved), Status::Acknowledged),
            AlertChange::Ignored
        );
        assert_eq!(decide(None, Status::Acknowledged), AlertChange::Ignored);
        assert_eq!(
            decide(Some(Status::Firing), Status::Note),
            AlertChange::Noted
        );
        assert_eq!(
            decide(Some(Status::Resolved), Status::Note),
            AlertChange::Noted
        );
        assert_eq!(decide(None, Status::Note), AlertChange::Ignored);
    }
}
