//! The grouping part of `incidents:`: `group_by`, the default `group_wait`,
//! `group_interval` and `repeat_interval`, and the ordered `routes` that override them for
//! the alerts they match. Each route is parsed on its own, so every error is reported with
//! its path (`incidents.routes[1].matchers[0]: ...`).

use super::inhibit::matchers;
use super::load::{list, ConfigError};
use crate::grouping::GroupField;
use crate::routing::{GroupRoute, GroupTiming};
use crate::time::{parse_duration, Millis};
use serde::Deserialize;

/// The timing keys, as written under `incidents:` and in each route (by hand rather than
/// with `serde(flatten)`, which cannot deny unknown fields).
#[derive(Debug, Default)]
pub struct RawTiming {
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub repeat_interval: Option<RawRepeat>,
}

/// `repeat_interval`: a duration, or `0` / `off` (YAML may read those as a number or a
/// boolean) to turn repeats off.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRepeat {
    Text(String),
    Number(u64),
    Flag(bool),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub matchers: Vec<String>,
    pub group_by: Option<Vec<String>>,
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub repeat_interval: Option<RawRepeat>,
}

/// Shorter than this, "one update per interval" would be one per alert again.
const MIN_GROUP_INTERVAL: Millis = 1_000;
/// Shorter than this, a repeat would land in the same minute as the page it repeats.
const MIN_REPEAT_INTERVAL: Millis = 60_000;

/// The fields of a `group_by` list at `path`.
pub(super) fn group_fields(
    errors: &mut Vec<ConfigError>,
    path: &str,
    texts: &[String],
) -> Vec<GroupField> {
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        match GroupField::parse(text) {
            Ok(f) => out.push(f),
            Err(e) => errors.push(ConfigError::new(format!("{path}[{i}]"), e)),
        }
    }
    out
}

/// The timing at `path`, what it leaves out taken from `base`.
pub(super) fn timing(
    errors: &mut Vec<ConfigError>,
    path: &str,
    raw: &RawTiming,
    base: GroupTiming,
) -> GroupTiming {
    let repeat_interval = match &raw.repeat_interval {
        None => base.repeat_interval,
        Some(RawRepeat::Number(0) | RawRepeat::Flag(false)) => None,
        Some(RawRepeat::Text(t)) if matches!(t.trim(), "0" | "off" | "0s") => None,
        Some(RawRepeat::Text(t)) => duration(
            errors,
            path,
            "repeat_interval",
            Some(t),
            MIN_REPEAT_INTERVAL,
        )
        .map(Some)
        .unwrap_or(base.repeat_interval),
        Some(_) => {
            errors.push(ConfigError::new(
                format!("{path}.repeat_interval"),
                "write a duration like 4h, or off",
            ));
            base.repeat_interval
        }
    };
    GroupTiming {
        group_wait: duration(errors, path, "group_wait", raw.group_wait.as_deref(), 0)
            .unwrap_or(base.group_wait),
        group_interval: duration(
            errors,
            path,
            "group_interval",
            raw.group_interval.as_deref(),
            MIN_GROUP_INTERVAL,
        )
        .unwrap_or(base.group_interval),
        repeat_interval,
    }
}

/// The duration at `path.key`, if given and valid (else the error is recorded).
fn duration(
    errors: &mut Vec<ConfigError>,
    path: &str,
    key: &str,
    text: Option<&str>,
    min: Millis,
) -> Option<Millis> {
    let at = format!("{path}.{key}");
    match parse_duration(text?) {
        Ok(ms) if ms < min => {
            errors.push(ConfigError::new(
                at,
                format!("must be at least {}s", min / 1000),
            ));
            None
        }
        Ok(ms) => Some(ms),
        Err(e) => {
            errors.push(ConfigError::new(at, e));
            None
        }
    }
}

/// The routes under `incidents.routes`, each filled in from the defaults.
pub(super) fn routes(
    errors: &mut Vec<ConfigError>,
    raw: Option<serde_yaml_ng::Value>,
    group_by: &[GroupField],
    defaults: GroupTiming,
) -> Vec<GroupRoute> {
    let Some(value) = raw else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, r) in list::<RawRoute>(errors, "incidents.routes", value) {
        let path = format!("incidents.routes[{i}]");
        let before = errors.len();
        let found = matchers(errors, &format!("{path}.matchers"), &r.matchers);
        let fields = match &r.group_by {
            Some(texts) => group_fields(errors, &format!("{path}.group_by"), texts),
            None => group_by.to_vec(),
        };
        let raw_timing = RawTiming {
            group_wait: r.group_wait,
            group_interval: r.group_interval,
            repeat_interval: r.repeat_interval,
        };
        let timing = timing(errors, &path, &raw_timing, defaults);
        if errors.len() > before {
            continue;
        }
        match GroupRoute::new(found, fields, timing) {
            Ok(route) => out.push(route),
            Err(e) => errors.push(ConfigError::new(format!("{path}.matchers"), e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    fn paths(yaml: &str) -> Vec<String> {
        let mut p: Vec<String> = load_str(yaml)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        p.sort();
        p
    }

    #[test]
    fn every_error_has_its_path() {
        let errors = paths(
            r#"
incidents:
  group_wait: soon
  group_interval: 0s
  routes:
    - matchers: ['service="payments"']
      group_by: [colour]
      repeat_interval: 10s
    - matchers: []
    - matchers: ['service=~"("']
      group_wait: -1s
    - {matchers: ['a="b"'], group_wiat: 1m}
"#,
        );
        let only: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap())
            .collect();
        assert_eq!(
            only,
            [
                "incidents.group_interval",
                "incidents.group_wait",
                "incidents.routes[0].group_by[0]",
                "incidents.routes[0].repeat_interval",
                "incidents.routes[1].matchers",
                "incidents.routes[2].group_wait",
                "incidents.routes[2].matchers[0]",
                "incidents.routes[3].group_wiat",
            ],
            "{errors:#?}"
        );
        assert!(errors[7].contains("group_wiat"), "{}", errors[7]);
        assert!(errors[3].contains("at least 60s"), "{}", errors[3]);
    }

    #[test]
    fn repeats_turn_off_with_zero_or_off() {
        for off in ["0", "off", "0s"] {
            let c = load_str(&format!("incidents: {{repeat_interval: {off}}}")).unwrap();
            assert_eq!(c.incidents.timing.repeat_interval, None, "{off}");
        }
        let c = load_str("incidents: {repeat_interval: 1h, group_wait: 30s}").unwrap();
        assert_eq!(c.incidents.timing.repeat_interval, Some(3_600_000));
        assert_eq!(c.incidents.timing.group_wait, 30_000);
    }
}
