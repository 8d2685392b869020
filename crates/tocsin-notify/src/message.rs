//! What is said to whom: one or several incidents, already rendered into words and links the
//! reader can use (times in the reader's zone, links to acknowledge and resolve). The
//! dispatcher builds these from the store; the channels only format and deliver them.

use serde::Serialize;
use tocsin_core::config::Language;

/// Why the person hears about these incidents now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Newly opened incidents, paged for the first time.
    New,
    /// The incidents reached this person through an escalation level.
    Escalated,
    /// Still unacknowledged: a repeat of an earlier page.
    Reminder,
    /// Acknowledged but not resolved for too long.
    StillOpen,
    /// Alerts joined incidents the reader was already paged about (at most one such message
    /// per `group_interval`); each card's `new_alerts` names them. Never sent as a call.
    Update,
    /// Someone acknowledged them.
    Acknowledged,
    /// They are resolved: nothing to do any more.
    Resolved,
    /// A schedule hand-off: the reader's shift starts soon (no incidents).
    Handoff,
    /// A storm's summary (or an update of it): many incidents at once, told as one.
    Storm,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::New => "new",
            MessageKind::Escalated => "escalated",
            MessageKind::Reminder => "reminder",
            MessageKind::StillOpen => "still_open",
            MessageKind::Update => "update",
            MessageKind::Acknowledged => "acknowledged",
            MessageKind::Resolved => "resolved",
            MessageKind::Handoff => "handoff",
            MessageKind::Storm => "storm",
        }
    }
    /// Whether the reader is asked to act (the ack and resolve links matter).
    pub fn wants_action(self) -> bool {
        !matches!(
            self,
            MessageKind::Acknowledged | MessageKind::Resolved | MessageKind::Handoff
        )
    }
}

/// One incident as the reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentCard {
    pub id: String,
    pub title: String,
    /// `P1` .. `P5`.
    pub priority: String,
    /// `triggered`, `acknowledged`, `resolved`, `closed`.
    pub state: String,
    /// The ids, as the API and the config name them.
    pub service: String,
    pub team: String,
    /// Their names from the catalog, which the templates show (the id when none is configured).
    pub service_name: String,
    pub team_name: String,
    /// Where the fault is: the distinct hosts of its alerts (the catalog's names, else the
    /// alert's `host`, Prometheus `instance` without its port ...), in the order the alerts
    /// came, at most [`IncidentCard::HOSTS_KEPT`].
    pub hosts: Vec<String>,
    /// How many distinct hosts there are in all; `hosts` may list fewer.
    pub host_count: u32,
    /// The worst severity among its alerts (`critical`, `high`, `warning`, `info`).
    pub severity: String,
    /// `high`, `medium`, `low`.
    pub urgency: String,
    pub alert_count: u32,
    /// When it opened, already written in the reader's zone (`2024-05-01 03:12 CST`).
    pub created_at: String,
    /// A line or two about what is wrong; may be empty.
    pub summary: String,
    /// Runbooks, dashboards: `(text, href)`.
    pub links: Vec<(String, String)>,
    /// One-click links for this reader (signed by the server), when the server has a public URL.
    pub ack_url: Option<String>,
    pub resolve_url: Option<String>,
    pub console_url: Option<String>,
    /// For an update: the names of the alerts that joined since the reader was last told.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_alerts: Vec<String>,
    /// For a follow-up (`acknowledged`, `resolved`): who did it, when, and what they wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
}

/// Who acknowledged or resolved an incident the reader was paged about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    /// The person (by name) or tool that did it; `None` when its alerts resolved it.
    pub by: Option<String>,
    /// When, already written in the reader's zone.
    pub at: String,
    /// What they wrote (an acknowledgement's comment); may be empty.
    pub comment: String,
    /// How long the incident had been open then, in seconds.
    pub open_for_s: u64,
}

impl IncidentCard {
    /// Enough hosts for any message and the webhook, bounded when a storm spans hundreds.
    pub const HOSTS_KEPT: usize = 20;
}

/// Who receives it, over which address of the channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipient {
    pub user_id: String,
    pub name: String,
    #[serde(serialize_with = "language_code")]
    pub language: Language,
    /// The contact's `to`: an email address, a phone number, a chat id, a robot's @-handle.
    pub address: String,
}

fn language_code<S: serde::Serializer>(l: &Language, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.as_str())
}

/// One notification: a single incident, or several bundled so a storm is one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub kind: MessageKind,
    /// More than one when bundled; empty only for a hand-off.
    pub incidents: Vec<IncidentCard>,
    /// The shift a hand-off reminder is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
    /// The storm a storm summary is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<StormNote>,
}

/// A storm as its summary tells it (see docs/storms.md). Receivers that can edit a message
/// in place replace the one with the same `id` (`summary` counts 1, 2, 3 ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormNote {
    pub id: i64,
    /// The service it is in, or `all services`.
    pub scope: String,
    pub summary: i64,
    pub alerts: i64,
    pub incidents: i64,
    pub services: i64,
    pub hosts: i64,
    /// New alerts a minute at its worst, and normally.
    pub peak_rate: f64,
    pub normal_rate: f64,
    /// The most frequent alert names, with how many alerts have each.
    pub top_alerts: Vec<(String, i64)>,
}

/// A shift that starts soon, its times already written in the reader's zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handoff {
    pub schedule: String,
    pub start: String,
    pub end: String,
}

impl Message {
    /// The service the incidents share, if they all share one (for "7 new incidents in X").
    pub fn common_service(&self) -> Option<&str> {
        let first = self.incidents.first()?.service.as_str();
        self.incidents
            .iter()
            .all(|i| i.service == first)
            .then_some(first)
    }
}
