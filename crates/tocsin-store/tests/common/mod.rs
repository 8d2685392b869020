//! What the log tests of both backends share.

use tocsin_core::command::{Command, IncidentAction};
use tocsin_store::log::LogEntry;

/// A small log entry that says which one it is, with text outside ASCII.
pub fn entry(n: u32) -> LogEntry {
    LogEntry::Command(Command {
        incident_id: n as i64,
        action: IncidentAction::Comment(format!("note {n} 备注")),
        actor: "test".into(),
        reason: String::new(),
        at: 1,
    })
}
