//! The `correlation:` section: the score an alert needs to join a correlated incident,
//! learning on or off, and the time limits (`{threshold: 0.5, learning: true, window: 8m,
//! quiet: 5m, uplink: 90s, same_service: 90s, dependency: 2m, burst: 200s, recurrence: 30m,
//! cofire: 2m}`), and a service's own `correlation: {enabled, threshold}`.
//! `enabled: auto`, the default, turns it on when the catalog has a topology to correlate
//! on (a host with an uplink, a service that depends on another) and leaves plain
//! `group_by` grouping alone otherwise; `true` or `false` decide outright. Every error
//! carries its path.

use super::flapping::span;
use super::load::ConfigError;
use crate::correlation::CorrelationSettings;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    /// `true`, `false` or `auto`.
    pub enabled: Option<serde_yaml_ng::Value>,
    pub threshold: Option<f64>,
    pub learning: Option<bool>,
    pub window: Option<String>,
    pub quiet: Option<String>,
    pub uplink: Option<String>,
    pub same_service: Option<String>,
    pub dependency: Option<String>,
    pub burst: Option<String>,
    pub recurrence: Option<String>,
    pub cofire: Option<String>,
}

/// A service's own `correlation:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServiceCorrelation {
    pub enabled: Option<bool>,
    pub threshold: Option<f64>,
}

/// Scores range from about -0.3 (a loner with nothing in common) to about 1.4 (everything
/// agrees); a threshold outside this would make correlation all or nothing, which
/// `enabled` says more plainly.
const THRESHOLDS: std::ops::RangeInclusive<f64> = 0.05..=1.5;

fn threshold(errors: &mut Vec<ConfigError>, path: &str, t: Option<f64>) -> Option<f32> {
    let t = t?;
    if !THRESHOLDS.contains(&t) {
        errors.push(ConfigError::new(
            path,
            format!(
                "must be between {} and {} (got {t})",
                THRESHOLDS.start(),
                THRESHOLDS.end()
            ),
        ));
        return None;
    }
    Some(t as f32)
}

/// A service's threshold: its own, none (the global one), or infinite when it turned
/// correlation off.
pub(super) fn service_threshold(
    errors: &mut Vec<ConfigError>,
    path: &str,
    raw: Option<RawServiceCorrelation>,
) -> Option<f32> {
    let raw = raw?;
    let t = threshold(errors, &format!("{path}.threshold"), raw.threshold);
    if raw.enabled == Some(false) {
        return Some(f32::INFINITY);
    }
    t
}

/// The settings; `has_topology` decides `auto`.
pub(super) fn settings(
    errors: &mut Vec<ConfigError>,
    raw: RawCorrelation,
    has_topology: bool,
) -> CorrelationSettings {
    let d = CorrelationSettings::default();
    let enabled = match &raw.enabled {
        None => has_topology,
        Some(serde_yaml_ng::Value::Bool(b)) => *b,
        Some(serde_yaml_ng::Value::String(s)) if s == "auto" => has_topology,
        Some(_) => {
            errors.push(ConfigError::new(
                "correlation.enabled",
                "must be true, false or auto",
            ));
            has_topology
        }
    };
    let threshold =
        threshold(errors, "correlation.threshold", raw.threshold).unwrap_or(d.threshold);
    let mut one = |name: &str, text: Option<String>, default| {
        span(errors, &format!("correlation.{name}"), text, default)
    };
    CorrelationSettings {
        enabled,
        threshold,
        learning: raw.learning.unwrap_or(d.learning),
        window: one("window", raw.window, d.window),
        quiet: one("quiet", raw.quiet, d.quiet),
        uplink: one("uplink", raw.uplink, d.uplink),
        same_service: one("same_service", raw.same_service, d.same_service),
        dependency: one("dependency", raw.dependency, d.dependency),
        burst: one("burst", raw.burst, d.burst),
        recurrence: one("recurrence", raw.recurrence, d.recurrence),
        cofire: one("cofire", raw.cofire, d.cofire),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::correlation::CorrelationSettings;

    #[test]
    fn on_when_there_is_a_topology_and_settable() {
        let c = load_str("").unwrap();
        assert!(!c.correlation.enabled, "nothing to correlate on");
        let topo = "services: [{id: db}, {id: api, depends_on: [db]}]\n";
        let c = load_str(topo).unwrap();
        assert_eq!(c.correlation, CorrelationSettings::default());
        let uplinks = "services: [{id: s, hosts: [sw, {name: h, uplink: sw}]}]\n";
        assert!(load_str(uplinks).unwrap().correlation.enabled);
        let c = load_str(&format!("{topo}correlation: {{enabled: auto}}")).unwrap();
        assert!(c.correlation.enabled);
        let c = load_str("correlation: {enabled: true}").unwrap();
        assert!(c.correlation.enabled);
        let c = load_str(&format!(
            "{topo}correlation: {{enabled: false, window: 20m, dependency: 1m}}"
        ))
        .unwrap();
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
        let errors = all("correlation: {enabled: sometimes, window: soon, uplink: 0s}");
        assert!(
            errors.contains("correlation.enabled: must be true, false or auto"),
            "{errors}"
        );
        assert!(errors.contains("correlation.window"), "{errors}");
        assert!(errors.contains("correlation.uplink"), "{errors}");
    }
}
