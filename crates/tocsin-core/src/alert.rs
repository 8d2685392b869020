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
    /// A resolve for an alert that is not firing (unknown or already resolved): recorded in
    /// the event log, no state changes.
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
        (None | Some(Status::Resolved), Status::Resolved) => AlertChange::Ignored,
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
}
