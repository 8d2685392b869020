//! The validated configuration and the built-in default.
//!
//! A config is parsed from YAML section by section and item by item ([`load`]), then checked
//! as a whole ([`validate`]), so that `tocsin check` reports every error at once with its path.

mod catalog;
mod correlation;
mod dependencies;
pub use dependencies::indirect_dependencies;
mod flapping;
mod inhibit;
mod integrations;
mod load;
pub mod maintenance;
mod paging;
mod people;
mod topology;

pub use topology::{merge_topology, NETWORK_SERVICE};
mod raw;
mod routes;
mod storms;
mod validate;
mod webhook;

pub use webhook::{MappedField, PayloadValues, RenderContext, WebhookMapping};

pub use load::{load_str, ConfigError};
pub use maintenance::MaintenanceWindow;
pub use paging::env_references;
pub use validate::is_valid_id;

use crate::auth::Role;
use crate::grouping::GroupField;
use crate::integration::{IntegrationKind, RateLimit};
use crate::priority::{Level, PriorityMatrix};
use crate::time::Millis;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Users, for targets that page a team (all members, or round robin).
    pub members: Vec<String>,
    /// The policy of its services that name none.
    pub escalation_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub team: String,
    pub impact: Level,
    /// What the CMDB says about it (tier, datacenter ...); shown by `GET /api/v1/services`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Who is paged for its incidents (else its team's policy).
    pub escalation_policy: Option<String>,
    /// Outside these, incidents that are not high urgency do not page.
    pub support_hours: Option<crate::paging::SupportHours>,
    /// The services this one needs: when one of them is down, this one's alerts are likely
    /// a consequence.
    pub depends_on: Vec<String>,
    /// The services it depends on through others (two or three hops away), nearest first:
    /// worked out from `depends_on` when the config is built.
    pub indirect_depends_on: Vec<String>,
    /// The score its alerts need to join a correlated incident, when not the global
    /// `correlation.threshold`; infinite when correlation is off for it.
    pub correlation_threshold: Option<f32>,
}

/// The language a person reads tocsin's messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    En,
    Zh,
}

impl Language {
    pub fn parse(text: &str) -> Option<Language> {
        match text.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" | "english" => Some(Language::En),
            "zh" | "zh-cn" | "zh-hans" | "chinese" => Some(Language::Zh),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

/// One way to reach a person (`email` to `alice@example.com`).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub kind: String,
    pub to: String,
    /// The channel that reaches it; else the one channel of its type.
    pub channel: Option<String>,
    /// Which follow-ups it gets, instead of its channel's.
    pub follow_ups: Option<crate::paging::FollowUps>,
}

/// A person who can be on call.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    /// IANA name; their night hours and messages are in this zone.
    pub time_zone: String,
    pub tz: jiff::tz::TimeZone,
    pub language: Language,
    pub contacts: Vec<Contact>,
    pub notification_rules: Vec<crate::paging::NotificationRule>,
    pub quiet_hours: Option<crate::paging::QuietHours>,
    /// How they sign in to the web console, when they may.
    pub console: Option<ConsoleLogin>,
}

/// A console sign-in declared in config: the role and an argon2 hash of the password
/// (`tocsin user hash-password` prints one), never the password itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleLogin {
    pub role: Role,
    pub password_hash: String,
}

/// A machine in the catalog, with every name and address tools know it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub service: String,
    pub ips: Vec<String>,
    pub aliases: Vec<String>,
    /// The host (a switch, usually) this one reaches the network through: when it goes
    /// down, this one's alerts are likely its consequence.
    pub uplink: Option<String>,
}

/// A field of an event that a service rule looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum EventField {
    Source,
    Integration,
    Name,
    Severity,
    Summary,
    Host,
    Label(String),
}

/// Alerts whose fields are all equal to `equal` and match every `regex` go to `service`.
#[derive(Debug, Clone)]
pub struct ServiceRule {
    pub service: String,
    pub equal: Vec<(EventField, String)>,
    pub regex: Vec<(EventField, std::sync::Arc<regex::Regex>)>,
}

impl PartialEq for ServiceRule {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service
            && self.equal == other.equal
            && self.regex.len() == other.regex.len()
            && self
                .regex
                .iter()
                .zip(&other.regex)
                .all(|(a, b)| a.0 == b.0 && a.1.as_str() == b.1.as_str())
    }
}

/// An inbound integration: a tool that sends with its own key.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub name: String,
    pub kind: IntegrationKind,
    /// Lower-case hex SHA-256 of the key; the key itself is never kept.
    pub key_sha256: String,
    /// Where its alerts go when nothing else places them.
    pub service: Option<String>,
    pub rate_limit: RateLimit,
    /// Heartbeats: the longest gap between two pings.
    pub interval: Option<Millis>,
    /// Generic webhooks: how the payload becomes events.
    pub mapping: Option<WebhookMapping>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentPolicy {
    /// The fields whose equal values put alerts into the same open incident.
    pub group_by: Vec<GroupField>,
    /// Resolve an incident by itself once all its alerts have resolved.
    pub auto_resolve: bool,
    /// When people hear about incidents no route matches.
    pub timing: crate::routing::GroupTiming,
    /// Alertmanager-style routes, in order: the first that matches an alert applies.
    pub routes: Vec<crate::routing::GroupRoute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntakeLimits {
    pub max_body_bytes: usize,
    pub max_events_per_request: usize,
    /// Accept events from 127.0.0.1/::1 without a token (the built-in default config only,
    /// unless a config file turns it on).
    pub loopback_without_token: bool,
    /// How long applied event-log segments are kept after their last write, for
    /// `tocsin export` (a history to replay); 0 deletes them once applied.
    pub log_retention: Millis,
    /// ... and at most this many bytes of them, the oldest deleted first.
    pub log_max_bytes: u64,
    /// How many services seen in alerts but not in the catalog are kept as discovered
    /// services (see `discovered.rs`); 0 sends such alerts to the default service.
    pub max_discovered_services: usize,
}

/// An API token declared in config: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    pub name: String,
    pub role: Role,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub teams: Vec<Team>,
    pub services: Vec<Service>,
    /// Where alerts go that name no service (or a discovered one beyond the cap); a
    /// discovered service takes its settings.
    pub default_service: String,
    pub incidents: IncidentPolicy,
    pub priority: PriorityMatrix,
    /// Alertmanager's `resolve_timeout`: an API v2 alert without `endsAt` that is not sent
    /// again within this time resolves.
    pub resolve_timeout: Millis,
    pub intake: IntakeLimits,
    pub tokens: Vec<TokenSpec>,
    pub hosts: Vec<Host>,
    pub service_rules: Vec<ServiceRule>,
    pub integrations: Vec<Integration>,
    pub users: Vec<User>,
    pub schedules: Vec<crate::schedule::Schedule>,
    pub escalation_policies: Vec<crate::paging::EscalationPolicy>,
    pub channels: Vec<crate::paging::ChannelSpec>,
    /// Alertmanager-style inhibition rules, in the order written.
    pub inhibit_rules: Vec<crate::inhibit::InhibitRule>,
    /// How newly firing alerts find the incident of their fault through the catalog.
    pub correlation: crate::correlation::CorrelationSettings,
    /// When an alert counts as flapping; `None` when turned off.
    pub flapping: Option<crate::flapping::FlapPolicy>,
    /// When a rate of new alerts is a storm; `None` when storm mode is turned off.
    pub storms: Option<crate::storm::StormPolicy>,
    /// Recurring windows that mute the alerts they match.
    pub maintenance_windows: Vec<MaintenanceWindow>,
    service_index: HashMap<String, usize>,
    /// Every host name, IP and alias, lower-cased, to its index in `hosts`.
    host_index: HashMap<String, usize>,
    integration_by_key: HashMap<String, usize>,
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
pub const DEFAULT_MAX_EVENTS_PER_REQUEST: usize = 10_000;
/// A week of history to replay, within a bounded disk (16 segments of 64 MiB).
pub const DEFAULT_LOG_RETENTION: Millis = 7 * 24 * 3_600_000;
pub const DEFAULT_LOG_MAX_BYTES: u64 = 1 << 30;
pub const DEFAULT_RESOLVE_TIMEOUT: Millis = 5 * 60 * 1000;

impl Config {
    /// The config `tocsin serve` runs with when no `--config` is given: one default team and
    /// service that every alert maps to, intake from loopback without a token.
    pub fn builtin() -> Config {
        load_str("intake: {loopback_without_token: true}\n").expect("the built-in config is valid")
    }

    /// The catalog service an alert belongs to, given the service name it carries.
    pub fn service_for(&self, requested: Option<&str>) -> &Service {
        let index = requested
            .and_then(|name| self.service_index.get(name))
            .or_else(|| self.service_index.get(&self.default_service))
            .copied()
            .unwrap_or(0);
        &self.services[index]
    }

    /// Whether a service is the catch-all: the default service with no hosts of its own,
    /// where alerts land when nothing places them (so it says nothing about them).
    pub fn is_catch_all(&self, service_id: &str) -> bool {
        service_id == self.default_service && !self.hosts.iter().any(|h| h.service == service_id)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.service_index.get(id).map(|&i| &self.services[i])
    }

    /// The catalog host known by this name, IP or alias (any case).
    pub fn host(&self, name_or_address: &str) -> Option<&Host> {
        self.host_index
            .get(&host_key(name_or_address))
            .map(|&i| &self.hosts[i])
    }

    /// The uplinks of a catalog host, nearest first (its switch, that switch's parent ...),
    /// by their catalog names.
    pub fn uplinks(&self, host: &str) -> Vec<String> {
        let mut chain: Vec<String> = Vec::new();
        let mut at = self.host(host);
        while let Some(up) = at
            .and_then(|h| h.uplink.as_deref())
            .and_then(|u| self.host(u))
        {
            // Validation refuses circles; the bound keeps a hand-built config honest too.
            if chain.len() >= self.hosts.len() {
                break;
            }
            chain.push(up.name.clone());
            at = Some(up);
        }
        chain
    }

    /// The integration whose key has this SHA-256.
    pub fn integration_by_key_sha256(&self, sha256: &str) -> Option<&Integration> {
        self.integration_by_key
            .get(sha256)
            .map(|&i| &self.integrations[i])
    }

    pub fn escalation_policy(&self, id: &str) -> Option<&crate::paging::EscalationPolicy> {
        self.escalation_policies.iter().find(|p| p.id == id)
    }

    /// The policy that pages for a service: its own, else its team's.
    pub fn policy_for(&self, service: &Service) -> Option<&crate::paging::EscalationPolicy> {
        service
            .escalation_policy
            .as_deref()
            .or_else(|| {
                self.teams
                    .iter()
                    .find(|t| t.id == service.team)
                    .and_then(|t| t.escalation_policy.as_deref())
            })
            .and_then(|id| self.escalation_policy(id))
    }

    /// The channel that reaches a contact: the one it names, else the first of its type.
    pub fn channel_for(&self, contact: &Contact) -> Option<&crate::paging::ChannelSpec> {
        match &contact.channel {
            Some(id) => self.channels.iter().find(|c| &c.id == id),
            None => self
                .channels
                .iter()
                .find(|c| c.settings.contact_type() == contact.kind),
        }
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn schedule(&self, id: &str) -> Option<&crate::schedule::Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }

    pub fn integration(&self, name: &str) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.name == name)
    }
}

/// How a host name or address is looked up: names in lower case, IP addresses in their
/// canonical form (`0:0::1` and `::1` are one address).
fn host_key(name_or_address: &str) -> String {
    match name_or_address.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => name_or_address.to_lowercase(),
    }
}

#[cfg(test)]
mod tests;
