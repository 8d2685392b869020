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
    encode_entry_with_capacity(entry, 0)
}

/// [`encode_entry`], into a buffer that starts at `capacity`: intake can guess how large
/// the entry will be, and a buffer grown from empty is copied a dozen times on the way to a
/// request of 100 alerts.
pub fn encode_entry_with_capacity(entry: &LogEntry, capacity: usize) -> Vec<u8> {
    postcard::to_io(entry, Vec::with_capacity(capacity)).expect("log entries always encode")
}

pub fn decode_entry(bytes: &[u8]) -> Result<LogEntry, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

/// Decodes a payload of a segment in `format` (see `segment.rs`). Formats 0 and 1 encode
/// entries alike; a format that changes the encoding adds its decoder here, and keeps the
/// older ones for the segments still kept.
pub fn decode_entry_of(format: u32, bytes: &[u8]) -> Result<LogEntry, String> {
    match format {
        0 | 1 => decode_entry(bytes),
        other => Err(format!(
            "event log format {other} is not one this binary reads"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::event::{Link, Severity, Status};

    #[test]
    fn a_sized_buffer_gives_the_same_bytes() {
        let event = Event {
            source: "prometheus".into(),
            integration: String::new(),
            dedup_key: "4a44deb8a2c381bce658fc2bc6377f10".into(),
            status: Status::Firing,
            severity: Severity::High,
            name: "Down".into(),
            summary: "db1 is down".into(),
            description: String::new(),
            service: Some("db".into()),
            labels: [("alertname".to_string(), "Down".to_string())].into(),
            links: vec![Link {
                href: "http://prom/graph".into(),
                text: "Source".into(),
            }],
            occurred_at: 1_767_225_600_000,
            received_at: 1_767_225_600_001,
            ends_at: Some(1_767_225_900_000),
        };
        let entry = LogEntry::Events(vec![event.clone(), event]);
        let plain = postcard::to_stdvec(&entry).unwrap();
        assert_eq!(encode_entry(&entry), plain);
        for capacity in [0, 1, plain.len(), 10 * plain.len()] {
            assert_eq!(encode_entry_with_capacity(&entry, capacity), plain);
        }
        assert_eq!(decode_entry(&plain), Ok(entry));
    }
}
