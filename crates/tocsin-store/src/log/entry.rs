//! What one log entry holds, and its binary encoding (postcard: compact and fast; the log is
//! internal, so a self-describing format would only cost bytes and time).

use serde::{Deserialize, Serialize};
use tocsin_core::command::{
    Command, DeliveryReport, MaintenanceCommand, OverrideCommand, RegroupCommand, SilenceCommand,
};
use tocsin_core::event::Event;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogEntry {
    /// The events of one accepted request.
    Events(Vec<Event>),
    /// A person's action on an incident.
    Command(Command),
    /// A silence created, updated or expired. Last, so entries written before silences
    /// existed keep their variant numbers and stay readable.
    Silence(SilenceCommand),
    /// A schedule override created or deleted. After the others, for the same reason.
    Override(OverrideCommand),
    /// The dispatcher's report on a notification. After the others, for the same reason.
    Delivery(DeliveryReport),
    /// A recurring maintenance window made or deleted at run time. After the others, for
    /// the same reason.
    Maintenance(MaintenanceCommand),
    /// Alerts moved between incidents by a person (merge, split). After the others, for the
    /// same reason.
    Regroup(RegroupCommand),
}

pub fn encode_entry(entry: &LogEntry) -> Vec<u8> {
    postcard::to_stdvec(entry).expect("log entries always encode")
}

pub fn decode_entry(bytes: &[u8]) -> Result<LogEntry, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}
