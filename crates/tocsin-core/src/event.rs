//! The normalised event: what every inbound adapter turns a tool's payload into.
//!
//! This type is also the record written to the event log, so it stays plain data with no
//! serde attributes that a compact binary encoding could not honour.

use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What an event says about its alert: the condition is happening or over (the two states an
/// alert can be in), or a person acknowledged it in the source tool, or the tool only reports
/// something worth a line in the timeline (Nagios' downtime and flapping notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
    /// Acknowledged in the source tool: acknowledges the alert's incident; never an alert
    /// state.
    Acknowledged,
    /// Informational: recorded in the alert's incident timeline; never an alert state.
    Note,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
            Status::Acknowledged => "acknowledged",
            Status::Note => "note",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "firing" => Some(Status::Firing),
            "resolved" => Some(Status::Resolved),
            "acknowledged" => Some(Status::Acknowledged),
            "note" => Some(Status::Note),
            _ => None,
        }
    }
}

/// How bad the condition is, as the sender says. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Warning,
        Severity::Info,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link back to the source tool (a graph, a runbook, a dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    pub text: String,
}

/// One notification as a tool sent it, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Which tool produced it (`api`, `prometheus`, `zabbix`, ...): with `dedup_key`, the
    /// alert identity.
    pub source: String,
    /// The name of the configured integration it came through; empty for the API and the
    /// built-in endpoints. Decides the fallback service.
    pub integration: String,
    /// The alert identity within the source: equal keys are the same alert.
    pub dedup_key: String,
    pub status: Status,
    pub severity: Severity,
    /// A short, stable name of the condition (Prometheus' `alertname`); used for grouping.
    pub name: String,
    pub summary: String,
    pub description: String,
    /// The service the sender named, if any; mapped to a catalog service by the engine.
    pub service: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub links: Vec<Link>,
    /// When the condition started (firing) or ended (resolved), per the sender.
    pub occurred_at: Millis,
    /// When tocsin accepted it.
    pub received_at: Millis,
    /// The alert resolves by itself at this instant unless it is sent again (Alertmanager's
    /// `endsAt` / `resolve_timeout`).
    pub ends_at: Option<Millis>,
}
