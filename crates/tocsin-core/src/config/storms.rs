//! The `storms:` section: `{factor: 10, min_alerts: 50, window: 1m, summary_interval: 5m,
//! calm: 5m}`, on by default; `{enabled: false}` turns storm mode off. Every error carries
//! its path.

use super::load::ConfigError;
use crate::storm::StormPolicy;
use crate::time::{parse_duration, Millis};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorms {
    pub enabled: Option<bool>,
    pub factor: Option<f64>,
    pub min_alerts: Option<u32>,
    pub window: Option<String>,
    pub summary_interval: Option<String>,
    pub calm: Option<String>,
}

/// The window is counted in 12 slots: shorter than this, a slot would be under a second.
const MIN_WINDOW: Millis = 12_000;
/// A summary more often than this would be the flood storm mode is there to stop.
const MIN_SUMMARY_INTERVAL: Millis = 60_000;

/// The policy, or `None` when storm mode is turned off.
pub(super) fn policy(errors: &mut Vec<ConfigError>, raw: RawStorms) -> Option<StormPolicy> {
    let default = StormPolicy::default();
    let factor = match raw.factor {
        Some(f) if !(f > 1.0 && f.is_finite()) => {
            errors.push(ConfigError::new(
                "storms.factor",
                "must be a number above 1 (times the normal rate)",
            ));
            default.factor
        }
        Some(f) => f,
        None => default.factor,
    };
    let min_alerts = match raw.min_alerts {
        Some(n) if n < 2 => {
            errors.push(ConfigError::new("storms.min_alerts", "must be at least 2"));
            default.min_alerts
        }
        Some(n) => n,
        None => default.min_alerts,
    };
    let span = |errors: &mut Vec<ConfigError>, key: &str, text: Option<String>, min, default| {
        let path = format!("storms.{key}");
        let Some(text) = text else {
            return default;
        };
        match parse_duration(&text) {
            Ok(ms) if ms >= min => ms,
            Ok(_) => {
                errors.push(ConfigError::new(
                    path,
                    format!("must be at least {}", crate::flapping::describe(min)),
                ));
                default
            }
            Err(e) => {
                errors.push(ConfigError::new(path, e));
                default
            }
        }
    };
    let policy = StormPolicy {
        factor,
        min_alerts,
        window: span(errors, "window", raw.window, MIN_WINDOW, default.window),
        summary_interval: span(
            errors,
            "summary_interval",
            raw.summary_interval,
            MIN_SUMMARY_INTERVAL,
            default.summary_interval,
        ),
        calm: span(errors, "calm", raw.calm, MIN_WINDOW, default.calm),
    };
    raw.enabled.unwrap_or(true).then_some(policy)
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::storm::StormPolicy;

    #[test]
    fn on_by_default_with_the_documented_values() {
        let c = load_str("").unwrap();
        assert_eq!(c.storms, Some(StormPolicy::default()));
        let c = load_str(
            "storms: {factor: 5, min_alerts: 20, window: 30s, summary_interval: 10m, calm: 2m}",
        )
        .unwrap();
        assert_eq!(
            c.storms,
            Some(StormPolicy {
                factor: 5.0,
                min_alerts: 20,
                window: 30_000,
                summary_interval: 600_000,
                calm: 120_000,
            })
        );
        assert_eq!(load_str("storms: {enabled: false}").unwrap().storms, None);
    }

    #[test]
    fn every_error_has_its_path() {
        let errors = load_str(
            "storms: {factor: 0.5, min_alerts: 1, window: 1s, summary_interval: often, calm: 5s}",
        )
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "storms.factor",
                "storms.min_alerts",
                "storms.window",
                "storms.summary_interval",
                "storms.calm"
            ]
        );
        assert!(errors[2].message.contains("12s"), "{}", errors[2].message);
        let errors = load_str("storms: {factr: 3}").unwrap_err();
        assert!(errors[0].path.starts_with("storms"), "{}", errors[0].path);
        assert!(errors[0].message.contains("factr"), "{}", errors[0].message);
    }
}
