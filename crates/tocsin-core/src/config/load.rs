//! Parsing YAML into the raw shape, one section and one list item at a time, so that one bad
//! item does not hide the errors of the others.

use super::raw::RawConfig;
use super::{validate, Config};
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;
use std::fmt;

/// One problem in a config, with the path to where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

const SECTIONS: &[&str] = &[
    "teams",
    "services",
    "default_service",
    "incidents",
    "priority",
    "alertmanager",
    "intake",
    "tokens",
    "service_rules",
    "integrations",
    "users",
    "schedules",
    "escalation_policies",
    "channels",
    "inhibit_rules",
    "correlation",
    "flapping",
    "storms",
    "maintenance_windows",
];

/// Parses and validates a YAML config, returning every error found.
pub fn load_str(text: &str) -> Result<Config, Vec<ConfigError>> {
    let root: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| vec![ConfigError::new("", format!("not valid YAML: {e}"))])?;
    let map = match root {
        Value::Mapping(map) => map,
        Value::Null => Default::default(),
        _ => return Err(vec![ConfigError::new("", "the config must be a mapping")]),
    };
    let mut errors = Vec::new();
    let mut raw = RawConfig::default();
    for (key, value) in map {
        let Some(key) = key.as_str().map(str::to_owned) else {
            errors.push(ConfigError::new("", "top-level keys must be strings"));
            continue;
        };
        let e = &mut errors;
        match key.as_str() {
            "teams" => raw.teams = list(e, &key, value),
            "services" => raw.services = list(e, &key, value),
            "tokens" => raw.tokens = list(e, &key, value),
            "service_rules" => raw.service_rules = list(e, &key, value),
            "integrations" => raw.integrations = list(e, &key, value),
            "users" => raw.users = list(e, &key, value),
            "schedules" => raw.schedules = list(e, &key, value),
            "escalation_policies" => raw.escalation_policies = list(e, &key, value),
            "channels" => raw.channels = list(e, &key, value),
            "inhibit_rules" => raw.inhibit_rules = list(e, &key, value),
            "default_service" => raw.default_service = one(e, &key, value),
            "incidents" => raw.incidents = one(e, &key, value).unwrap_or_default(),
            "priority" => raw.priority = one(e, &key, value).unwrap_or_default(),
            "alertmanager" => raw.alertmanager = one(e, &key, value).unwrap_or_default(),
            "intake" => raw.intake = one(e, &key, value).unwrap_or_default(),
            "correlation" => raw.correlation = one(e, &key, value).unwrap_or_default(),
            "flapping" => raw.flapping = one(e, &key, value).unwrap_or_default(),
            "storms" => raw.storms = one(e, &key, value).unwrap_or_default(),
            "maintenance_windows" => raw.maintenance_windows = list(e, &key, value),
            other => errors.push(ConfigError::new(
                other,
                format!("unknown section; expected one of {}", SECTIONS.join(", ")),
            )),
        }
    }
    let config = validate::validate(raw, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

fn one<T: DeserializeOwned>(errors: &mut Vec<ConfigError>, path: &str, value: Value) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(err) => {
            let inner = err.path().to_string();
            let full = if inner == "." {
                path.to_string()
            } else {
                format!("{path}.{inner}")
            };
            errors.push(ConfigError::new(full, err.into_inner().to_string()));
            None
        }
    }
}

/// Each item is parsed on its own and kept with its index, so later checks can name it.
pub(super) fn list<T: DeserializeOwned>(
    errors: &mut Vec<ConfigError>,
    path: &str,
    value: Value,
) -> Vec<(usize, T)> {
    match value {
        Value::Sequence(items) => items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| one(errors, &format!("{path}[{i}]"), item).map(|v| (i, v)))
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            errors.push(ConfigError::new(path, "must be a list"));
            Vec::new()
        }
    }
}
