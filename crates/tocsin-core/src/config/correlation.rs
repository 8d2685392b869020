//! The `correlation:` section: topology correlation, on by default, with its time limits
//! (`{window: 10m, quiet: 5m, uplink: 90s, same_service: 2m, dependency: 4m, recurrence:
//! 30m}`); `{enabled: false}` turns it off. Every error carries its path.

use super::flapping::span;
use super::load::ConfigError;
use crate::correlation::CorrelationSettings;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    pub enabled: Option<bool>,
    pub window: Option<String>,
    pub quiet: Option<String>,
    pub uplink: Option<String>,
    pub same_service: Option<String>,
    pub dependency: Option<String>,
    pub recurrence: Option<String>,
}

pub(super) fn settings(errors: &mut Vec<ConfigError>, raw: RawCorrelation) -> CorrelationSettings {
    let d = CorrelationSettings::default();
    let mut one = |name: &str, text: Option<String>, default| {
        span(errors, &format!("correlation.{name}"), text, default)
    };
    CorrelationSettings {
        enabled: raw.enabled.unwrap_or(d.enabled),
        window: one("window", raw.window, d.window),
        quiet: one("quiet", raw.quiet, d.quiet),
        uplink: one("uplink", raw.uplink, d.uplink),
        same_service: one("same_service", raw.same_service, d.same_service),
        dependency: one("dependency", raw.dependency, d.dependency),
        recurrence: one("recurrence", raw.recurrence, d.recurrence),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::correlation::CorrelationSettings;

    #[test]
    fn on_by_default_and_settable() {
        let c = load_str("").unwrap();
        assert_eq!(c.correlation, CorrelationSettings::default());
        let c = load_str("correlation: {enabled: false, window: 20m, dependency: 1m}").unwrap();
        assert!(!c.correlation.enabled);
        assert_eq!(c.correlation.window, 1_200_000);
        assert_eq!(c.correlation.dependency, 60_000);
    }

    #[test]
    fn every_bad_value_is_reported_with_its_path() {
        let all = |text: &str| {
            let errors = load_str(text).unwrap_err();
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let errors = all("correlation: {window: soon, colour: red}");
        assert!(errors.contains("colour"), "{errors}");
        let errors = all("correlation: {window: soon, uplink: 0s}");
        assert!(errors.contains("correlation.window"), "{errors}");
        assert!(errors.contains("correlation.uplink"), "{errors}");
    }
}
