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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub id: String,
    pub name: Option<String>,
    pub team: Option<String>,
    pub impact: Option<Level>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncidents {
    pub group_by: Option<Vec<String>>,
    pub auto_resolve: Option<bool>,
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
}
