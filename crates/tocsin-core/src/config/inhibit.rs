//! The `inhibit_rules:` section, in Alertmanager's shape: matcher strings as Alertmanager
//! writes them (`alertname=NodeDown`, `severity=~"warning|info"`), and the labels that must
//! be equal. Every error carries its path.

use super::load::ConfigError;
use crate::inhibit::InhibitRule;
use crate::silence::{parse_matcher, valid_label_name, Matcher};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInhibitRule {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    #[serde(default)]
    pub equal: Vec<String>,
}

pub(super) fn matchers(
    errors: &mut Vec<ConfigError>,
    path: &str,
    texts: &[String],
) -> Vec<Matcher> {
    if texts.is_empty() {
        // Alertmanager would let an empty list match every alert; that is never meant.
        errors.push(ConfigError::new(path, "at least one matcher required"));
    }
    let mut out = Vec::new();
    for (j, text) in texts.iter().enumerate() {
        match parse_matcher(text) {
            Ok(m) => out.push(m),
            Err(e) => errors.push(ConfigError::new(format!("{path}[{j}]"), e)),
        }
    }
    out
}

pub(super) fn rules(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawInhibitRule)>,
) -> Vec<InhibitRule> {
    let mut out = Vec::new();
    for (i, r) in raw {
        let path = format!("inhibit_rules[{i}]");
        let before = errors.len();
        let source = matchers(
            errors,
            &format!("{path}.source_matchers"),
            &r.source_matchers,
        );
        let target = matchers(
            errors,
            &format!("{path}.target_matchers"),
            &r.target_matchers,
        );
        for (j, name) in r.equal.iter().enumerate() {
            if !valid_label_name(name) {
                errors.push(ConfigError::new(
                    format!("{path}.equal[{j}]"),
                    format!("invalid label name {name:?}"),
                ));
            }
        }
        if errors.len() > before {
            continue;
        }
        match InhibitRule::new(source, target, r.equal) {
            Ok(rule) => out.push(rule),
            Err(e) => errors.push(ConfigError::new(path, e)),
        }
    }
    out
}
