//! Paging: who is notified of an incident, how, and when. Escalation policies say which
//! targets hear of it level after level until someone acknowledges; each person's
//! notification rules say over which contacts, by urgency and time of day in their zone.
//! Everything here is plain data and pure decisions; the engine keeps the state and the
//! notify crate does the sending.

mod escalation;
mod follow_up;
mod rules;
mod secret;

pub use escalation::{next_step, EscalationState, Step};
pub use follow_up::{acting_user, follow_up_to, FollowUpKind, FollowUps, Paged};
pub use rules::{plan_for_user, PlannedContact, RuleWhy};
pub use secret::Secret;

use crate::priority::Level;
use crate::schedule::Restriction;
use crate::time::Millis;
use std::collections::BTreeMap;

/// Ordered levels of targets; each level is paged, then after its delay the next, until
/// someone acknowledges; the whole list `repeat` more times.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationPolicy {
    pub id: String,
    pub name: String,
    pub levels: Vec<EscalationLevel>,
    /// How many more times the whole policy runs after the first pass.
    pub repeat: u32,
    /// Escalate an acknowledged incident that is still not resolved after this long.
    pub unresolved_after: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EscalationLevel {
    /// How long this level has before the next is paged.
    pub delay: Millis,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(String),
    /// Whoever is on call in the schedule at that moment.
    Schedule(String),
    /// Every member, or the next member in turn (round robin).
    Team {
        id: String,
        round_robin: bool,
    },
}

/// When a rule applies: the incident's urgency, and the time on the person's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCondition {
    /// Empty: any urgency.
    pub urgency: Vec<Level>,
    pub time: TimeOfDay,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TimeOfDay {
    Any,
    /// 08:00 to 22:00 on the person's clock.
    Day,
    /// 22:00 to 08:00 on the person's clock.
    Night,
    /// A window on the person's clock (wraps midnight when `to` is not after `from`).
    Window(Restriction),
}

/// One step of a rule: a contact (by its type or index in the user's list), after a delay;
/// a step after a delay is sent only if the incident is still unacknowledged by then.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStep {
    pub contact: usize,
    pub after: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRule {
    pub when: RuleCondition,
    pub steps: Vec<RuleStep>,
}

/// No notifications in this window on the person's clock, except for the urgencies listed.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietHours {
    pub window: Restriction,
    pub except: Vec<Level>,
}

/// When a service is staffed: outside these hours low- and medium-urgency incidents do
/// not page and wait for the next support window.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportHours {
    pub time_zone: String,
    pub tz: jiff::tz::TimeZone,
    pub window: Restriction,
}

impl SupportHours {
    /// Whether `t` is inside the support hours.
    pub fn contains(&self, t: Millis) -> bool {
        crate::schedule::restriction::contains(std::slice::from_ref(&self.window), &self.tz, t)
    }

    /// When the support hours next begin after `t` (within a fortnight; `None` if the
    /// window is never open).
    pub fn next_start(&self, t: Millis) -> Option<Millis> {
        const FORTNIGHT: Millis = 14 * 24 * 3_600_000;
        crate::schedule::restriction::windows(
            std::slice::from_ref(&self.window),
            &self.tz,
            t,
            t + FORTNIGHT,
        )
        .into_iter()
        .map(|(start, _)| start)
        .find(|&start| start > t)
    }
}

/// A configured way of sending: an SMTP server, a chat robot, an SMS provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSpec {
    pub id: String,
    pub settings: ChannelSettings,
    /// Messages a minute this channel may send (DingTalk and WeCom robots allow 20).
    pub per_minute: Option<u32>,
    /// This channel's own headline and text (minijinja over the message), instead of the
    /// built-in ones.
    pub template: Option<ChannelTemplate>,
    /// Which follow-ups (acknowledged, resolved) its contacts get, unless a contact says.
    pub follow_ups: FollowUps,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTemplate {
    pub title: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or in tests.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChannelSettings {
    Email {
        host: String,
        port: u16,
        tls: SmtpTls,
        username: Option<String>,
        password: Option<Secret>,
        from: String,
    },
    /// A generic webhook: the incident as JSON, signed with HMAC-SHA256 when a secret is set.
    Webhook {
        url: Secret,
        secret: Option<Secret>,
        /// Extra headers; values may be `${NAME}` from the environment (an API key).
        headers: BTreeMap<String, Secret>,
    },
    Slack {
        url: Secret,
    },
    /// Microsoft Teams through a Workflows webhook (an adaptive card).
    Teams {
        url: Secret,
    },
    Dingtalk {
        url: Secret,
        secret: Option<Secret>,
    },
    Wecom {
        url: Secret,
    },
    Feishu {
        url: Secret,
        secret: Option<Secret>,
    },
    Telegram {
        bot_token: Secret,
        api_url: String,
    },
    /// SMS or voice through a provider's HTTP API, described by a request template.
    Http {
        voice: bool,
        method: String,
        url: Secret,
        headers: BTreeMap<String, Secret>,
        /// A minijinja template of the body (`{{ to }}`, `{{ text }}`, ...).
        body: String,
        content_type: String,
    },
}

impl ChannelSettings {
    /// The contact type this channel delivers to.
    pub fn contact_type(&self) -> &'static str {
        match self {
            ChannelSettings::Email { .. } => "email",
            ChannelSettings::Webhook { .. } => "webhook",
            ChannelSettings::Slack { .. } => "slack",
            ChannelSettings::Teams { .. } => "teams",
            ChannelSettings::Dingtalk { .. } => "dingtalk",
            ChannelSettings::Wecom { .. } => "wecom",
            ChannelSettings::Feishu { .. } => "feishu",
            ChannelSettings::Telegram { .. } => "telegram",
            ChannelSettings::Http { voice: true, .. } => "voice",
            ChannelSettings::Http { voice: false, .. } => "sms",
        }
    }
}
