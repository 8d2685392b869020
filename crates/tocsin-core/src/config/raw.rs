//! The YAML shape of the config, as written by people. Every struct denies unknown fields so a
//! typo is an error with its path, not a silently ignored setting.

use crate::auth::Role;
use crate::priority::Level;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    pub escalation_policy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub id: String,
    pub name: Option<String>,
    pub team: Option<String>,
    pub impact: Option<Level>,
    #[serde(default)]
    pub hosts: Vec<RawHost>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub escalation_policy: Option<String>,
    pub support_hours: Option<super::paging::RawSupportHours>,
    /// The services this one needs (a CMDB's dependencies).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Correlation for this service's alerts: `{enabled: false}` or `{threshold: 0.6}`.
    pub correlation: Option<super::correlation::RawServiceCorrelation>,
}

/// A host in the catalog: just its name, or its name with the addresses and other names
/// tools know it by.
#[derive(Debug)]
pub enum RawHost {
    Name(String),
    Full(RawHostFull),
}

/// By hand rather than `untagged`, so a mistake in the long form says which field is wrong
/// (`unknown field `ip``) instead of "did not match any variant".
impl<'de> Deserialize<'de> for RawHost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawHost;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a host name, or {name, ips, aliases, uplink}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawHost, E> {
                Ok(RawHost::Name(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawHost, A::Error> {
                RawHostFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawHost::Full)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHostFull {
    pub name: String,
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The host (a switch, usually) this one reaches the network through.
    pub uplink: Option<String>,
}

/// Puts alerts whose fields match onto a service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServiceRule {
    pub service: String,
    #[serde(default, rename = "match")]
    pub equal: BTreeMap<String, String>,
    #[serde(default)]
    pub match_re: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntegration {
    pub name: String,
    pub kind: String,
    pub key: Option<String>,
    pub key_sha256: Option<String>,
    pub service: Option<String>,
    pub rate_limit: Option<RawRateLimit>,
    /// Heartbeats: how often a ping must arrive.
    pub interval: Option<String>,
    /// Generic webhooks: how the payload's fields become an event.
    pub mapping: Option<super::webhook::RawMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub per_second: f64,
    pub burst: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncidents {
    pub group_by: Option<Vec<String>>,
    pub auto_resolve: Option<bool>,
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub repeat_interval: Option<super::routes::RawRepeat>,
    /// Parsed route by route (see `routes.rs`), so one bad route hides no other's errors.
    pub routes: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriority {
    pub default_impact: Option<Level>,
    /// severity -> urgency
    #[serde(default)]
    pub urgency: BTreeMap<String, Level>,
    /// impact -> urgency -> "P1".."P5"
    #[serde(default)]
    pub matrix: BTreeMap<Level, BTreeMap<Level, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlertmanager {
    pub resolve_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntake {
    pub max_body_bytes: Option<usize>,
    pub max_events_per_request: Option<usize>,
    pub loopback_without_token: Option<bool>,
    pub log_retention: Option<String>,
    pub log_max_bytes: Option<u64>,
    pub max_discovered_services: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    pub name: String,
    pub role: Role,
    pub sha256: String,
}

/// The whole file; each section is `None` when absent or when it failed to parse (its errors
/// are already recorded).
#[derive(Debug, Default)]
pub struct RawConfig {
    pub teams: Vec<(usize, RawTeam)>,
    pub services: Vec<(usize, RawService)>,
    pub default_service: Option<String>,
    pub incidents: RawIncidents,
    pub priority: RawPriority,
    pub alertmanager: RawAlertmanager,
    pub intake: RawIntake,
    pub tokens: Vec<(usize, RawToken)>,
    pub service_rules: Vec<(usize, RawServiceRule)>,
    pub integrations: Vec<(usize, RawIntegration)>,
    pub users: Vec<(usize, super::people::RawUser)>,
    pub schedules: Vec<(usize, super::people::RawSchedule)>,
    pub escalation_policies: Vec<(usize, super::paging::RawPolicy)>,
    pub channels: Vec<(usize, super::paging::RawChannel)>,
    pub inhibit_rules: Vec<(usize, super::inhibit::RawInhibitRule)>,
    pub correlation: super::correlation::RawCorrelation,
    pub flapping: super::flapping::RawFlapping,
    pub storms: super::storms::RawStorms,
    pub maintenance_windows: Vec<(usize, super::maintenance::RawMaintenance)>,
}
