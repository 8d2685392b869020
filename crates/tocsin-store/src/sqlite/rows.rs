//! What the API shows: alerts, incidents and timeline entries as JSON-ready rows.

use serde::Serialize;
use std::collections::BTreeMap;
use tocsin_core::event::Link;
use tocsin_core::time::{to_rfc3339, Millis};

/// Times are shown as RFC 3339 in UTC.
fn time(ms: Millis) -> String {
    to_rfc3339(ms)
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub source: String,
    /// The configured integration it came through; empty for the API.
    pub integration: String,
    pub dedup_key: String,
    pub name: String,
    pub service: String,
    /// The machine, under the catalog's name for it.
    pub host: Option<String>,
    pub status: String,
    pub severity: String,
    pub summary: String,
    pub description: String,
    pub labels: BTreeMap<String, String>,
    pub links: Vec<Link>,
    pub episode: u32,
    pub occurrences: u32,
    pub first_seen: String,
    pub last_seen: String,
    pub started_at: String,
    pub resolved_at: Option<String>,
    pub ends_at: Option<String>,
    /// `None` while a silence or an inhibition rule has kept the alert from opening or joining an incident.
    pub incident_id: Option<i64>,
    /// The silences that mute it now; empty when none.
    pub silenced_by: Vec<String>,
    /// The firing source alerts (ids) whose inhibition rules mute it now; empty when none.
    pub inhibited_by: Vec<i64>,
    /// It changes state too often: its resolves do not close its incident.
    pub flapping: bool,
}

pub(crate) const ALERT_COLUMNS: &str = "id, source, dedup_key, name, service, status, severity, summary, description, labels, links, episode, occurrences, first_seen, last_seen, started_at, resolved_at, ends_at, incident_id, integration, host, silenced_by, inhibited_by, flapping";

impl AlertRow {
    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let labels: String = r.get(9)?;
        let links: String = r.get(10)?;
        Ok(AlertRow {
            id: r.get(0)?,
            source: r.get(1)?,
            integration: r.get(19)?,
            dedup_key: r.get(2)?,
            name: r.get(3)?,
            service: r.get(4)?,
            host: r.get(20)?,
            status: r.get(5)?,
            severity: r.get(6)?,
            summary: r.get(7)?,
            description: r.get(8)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            links: serde_json::from_str(&links).unwrap_or_default(),
            episode: r.get(11)?,
            occurrences: r.get(12)?,
            first_seen: time(r.get(13)?),
            last_seen: time(r.get(14)?),
            started_at: time(r.get(15)?),
            resolved_at: r.get::<_, Option<i64>>(16)?.map(time),
            ends_at: r.get::<_, Option<i64>>(17)?.map(time),
            incident_id: Some(r.get::<_, i64>(18)?).filter(|id| *id != 0),
            silenced_by: r
                .get::<_, Option<String>>(21)?
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
            inhibited_by: r
                .get::<_, Option<String>>(22)?
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
            flapping: r.get(23)?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: i64,
    pub title: String,
    pub service: String,
    pub team: String,
    pub state: String,
    pub priority: String,
    /// `matrix` (impact x urgency) or `manual` (set by a person).
    pub priority_source: String,
    pub impact: String,
    pub urgency: String,
    pub severity: String,
    pub assignee: Option<String>,
    pub alert_count: i64,
    pub firing_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub acknowledged_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub last_alert_at: String,
    /// Whether a storm touched it (see docs/storms.md).
    pub storm: bool,
}

pub(crate) const INCIDENT_COLUMNS: &str = "id, title, service, team, state, priority, priority_manual, impact, severity, assignee, alert_count, firing_count, created_at, updated_at, acknowledged_at, resolved_at, closed_at, last_alert_at, EXISTS (SELECT 1 FROM storm_incidents s WHERE s.incident_id = incidents.id)";

impl IncidentRow {
    /// `urgency_of` maps the stored worst severity to urgency with the current matrix.
    pub(crate) fn from_row(
        r: &rusqlite::Row<'_>,
        urgency_of: &dyn Fn(&str) -> String,
    ) -> rusqlite::Result<Self> {
        let priority: u8 = r.get(5)?;
        let manual: bool = r.get(6)?;
        let severity: String = r.get(8)?;
        Ok(IncidentRow {
            id: r.get(0)?,
            title: r.get(1)?,
            service: r.get(2)?,
            team: r.get(3)?,
            state: r.get(4)?,
            priority: format!("P{priority}"),
            priority_source: if manual { "manual" } else { "matrix" }.into(),
            impact: r.get(7)?,
            urgency: urgency_of(&severity),
            severity,
            assignee: r.get(9)?,
            alert_count: r.get(10)?,
            firing_count: r.get(11)?,
            created_at: time(r.get(12)?),
            updated_at: time(r.get(13)?),
            acknowledged_at: r.get::<_, Option<i64>>(14)?.map(time),
            resolved_at: r.get::<_, Option<i64>>(15)?.map(time),
            closed_at: r.get::<_, Option<i64>>(16)?.map(time),
            last_alert_at: time(r.get(17)?),
            storm: r.get(18)?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: IncidentRow,
    pub alerts: Vec<AlertRow>,
    pub timeline: Vec<TimelineRow>,
    /// Who was (or will be) notified, how, when, why, and what became of it.
    pub notifications: Vec<super::paging::NotificationRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertHistoryRow {
    pub at: String,
    pub kind: String,
    pub episode: u32,
    pub incident_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertRow,
    pub history: Vec<AlertHistoryRow>,
}

/// One page of a list, with the cursor for the next.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
