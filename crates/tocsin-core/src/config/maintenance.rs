//! Recurring maintenance windows: matchers over alerts and a weekly window in a zone
//! (`every Sunday 01:00-03:00 Asia/Shanghai, service=db`). While a window is open, the alerts
//! it matches are muted exactly as a silence mutes them.

use super::load::ConfigError;
use super::people::{restriction, zone, RawRestriction};
use super::validate::check_id;
use crate::schedule::Restriction;
use crate::silence::{compile, parse_matcher, Matcher};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    pub name: String,
    pub matchers: Vec<String>,
    pub time_zone: String,
    pub days: Option<Vec<String>>,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub comment: String,
}

/// A recurring window (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    pub name: String,
    pub matchers: Vec<Matcher>,
    pub time_zone: String,
    pub tz: jiff::tz::TimeZone,
    pub window: Restriction,
    pub comment: String,
}

pub(super) fn windows(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawMaintenance)>,
) -> Vec<MaintenanceWindow> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (i, w) in raw {
        let path = format!("maintenance_windows[{i}]");
        check_id(errors, &format!("{path}.name"), &w.name);
        if !names.insert(w.name.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate maintenance window {:?}", w.name),
            ));
        }
        if w.matchers.is_empty() {
            errors.push(ConfigError::new(
                format!("{path}.matchers"),
                "a window needs at least one matcher; one without would mute every alert",
            ));
        }
        let mut matchers = Vec::new();
        for (k, text) in w.matchers.iter().enumerate() {
            match parse_matcher(text).and_then(|m| compile(std::slice::from_ref(&m)).map(|_| m)) {
                Ok(m) => matchers.push(m),
                Err(e) => errors.push(ConfigError::new(format!("{path}.matchers[{k}]"), e)),
            }
        }
        let tz = zone(errors, &format!("{path}.time_zone"), &w.time_zone);
        let raw_window = RawRestriction {
            days: w.days,
            from: w.from,
            to: w.to,
        };
        let Some(window) = restriction(errors, &path, raw_window) else {
            continue;
        };
        out.push(MaintenanceWindow {
            name: w.name,
            matchers,
            time_zone: w.time_zone,
            tz,
            window,
            comment: w.comment,
        });
    }
    out
}

impl MaintenanceWindow {
    /// The occurrence open at `t`, or the next one (within a fortnight): `(start, end)`.
    pub fn occurrence(
        &self,
        t: crate::time::Millis,
    ) -> Option<(crate::time::Millis, crate::time::Millis)> {
        const DAY: i64 = 24 * 3_600_000;
        // From two days back, so an occurrence that began before `t` is seen whole.
        crate::schedule::restriction::windows(
            std::slice::from_ref(&self.window),
            &self.tz,
            t - 2 * DAY,
            t + 14 * DAY,
        )
        .into_iter()
        .find(|&(_, end)| end > t)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::time::parse_rfc3339;

    #[test]
    fn a_weekly_window_and_its_errors() {
        let c = load_str(
            r#"
maintenance_windows:
  - name: db-patching
    matchers: ["service=db", "severity=~warning|info"]
    time_zone: Asia/Shanghai
    days: [sun]
    from: "01:00"
    to: "03:00"
    comment: weekly patching
"#,
        )
        .unwrap();
        let w = &c.maintenance_windows[0];
        // Sunday 2026-03-01 01:00-03:00 in Shanghai is Saturday 17:00-19:00 UTC.
        let t = parse_rfc3339("2026-02-28T00:00:00Z").unwrap();
        let (s, e) = w.occurrence(t).unwrap();
        assert_eq!(s, parse_rfc3339("2026-02-28T17:00:00Z").unwrap());
        assert_eq!(e, parse_rfc3339("2026-02-28T19:00:00Z").unwrap());
        assert_eq!(w.occurrence(s + 1), Some((s, e)), "open now: this one");
        let errors = load_str(
            r#"
maintenance_windows:
  - {name: a, matchers: [], time_zone: Mars/Base, from: "25:00", to: "03:00"}
  - {name: a, matchers: ["service=~("], time_zone: UTC, from: "01:00", to: "02:00"}
"#,
        )
        .unwrap_err();
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let all = all.join("\n");
        for needle in [
            "maintenance_windows[0].matchers: a window needs at least one matcher",
            "maintenance_windows[0].time_zone: unknown time zone",
            "maintenance_windows[0].from: \"25:00\"",
            "maintenance_windows[1].name: duplicate maintenance window",
            "maintenance_windows[1].matchers[0]",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }
}
