//! The `flapping:` section: `{transitions: 4, window: 30m, quiet: 30m}`, on by default;
//! `{enabled: false}` turns it off. Every error carries its path.

use super::load::ConfigError;
use crate::flapping::FlapPolicy;
use crate::time::{parse_duration, Millis};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlapping {
    pub enabled: Option<bool>,
    pub transitions: Option<u32>,
    pub window: Option<String>,
    pub quiet: Option<String>,
}

/// Shorter than this, a window or quiet spell would count the jitter of one delivery.
const MIN_SPAN: Millis = 1000;

/// The policy, or `None` when flapping is turned off.
pub(super) fn policy(errors: &mut Vec<ConfigError>, raw: RawFlapping) -> Option<FlapPolicy> {
    let default = FlapPolicy::default();
    let transitions = match raw.transitions {
        Some(n) if n < 2 => {
            errors.push(ConfigError::new(
                "flapping.transitions",
                "must be at least 2 (one change is not flapping)",
            ));
            default.transitions
        }
        Some(n) => n,
        None => default.transitions,
    };
    let policy = FlapPolicy {
        transitions,
        window: span(errors, "flapping.window", raw.window, default.window),
        quiet: span(errors, "flapping.quiet", raw.quiet, default.quiet),
    };
    raw.enabled.unwrap_or(true).then_some(policy)
}

pub(super) fn span(
    errors: &mut Vec<ConfigError>,
    path: &str,
    text: Option<String>,
    default: Millis,
) -> Millis {
    let Some(text) = text else {
        return default;
    };
    match parse_duration(&text) {
        Ok(ms) if ms >= MIN_SPAN => ms,
        Ok(_) => {
            errors.push(ConfigError::new(path, "must be at least 1s"));
            default
        }
        Err(e) => {
            errors.push(ConfigError::new(path, e));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::flapping::FlapPolicy;

    #[test]
    fn on_by_default_with_the_documented_values() {
        let c = load_str("").unwrap();
        assert_eq!(c.flapping, Some(FlapPolicy::default()));
        let c = load_str("flapping: {transitions: 6, window: 1h, quiet: 10m}").unwrap();
        assert_eq!(
            c.flapping,
            Some(FlapPolicy {
                transitions: 6,
                window: 3_600_000,
                quiet: 600_000
            })
        );
        assert_eq!(
            load_str("flapping: {enabled: false}").unwrap().flapping,
            None
        );
    }

    #[test]
    fn every_error_has_its_path() {
        let errors = load_str("flapping: {transitions: 1, window: soon, quiet: 0s}").unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["flapping.transitions", "flapping.window", "flapping.quiet"]
        );
        let errors = load_str("flapping: {windw: 1m}").unwrap_err();
        assert!(errors[0].path.starts_with("flapping"), "{}", errors[0].path);
        assert!(errors[0].message.contains("windw"), "{}", errors[0].message);
    }
}
