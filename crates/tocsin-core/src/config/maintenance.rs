//! Recurring maintenance windows: matchers over alerts and a weekly window in a zone
//! (`every Sunday 01:00-03:00 Asia/Shanghai, service=db`). While a window is open, the alerts
//! it matches are muted exactly as a silence mutes them. Windows come from the config or are
//! made at run time (`POST /api/v1/silences` with a `recurrence`); both are checked here.

use super::load::ConfigError;
use super::people::{restriction, zone, RawRestriction};
use super::validate::check_id;
use crate::schedule::Restriction;
use crate::silence::{parse_matcher, validate_matchers, Matcher};
use crate::time::{parse_rfc3339, Millis};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A window as written: an item of `maintenance_windows:` in the config, or one made at run
/// time through the API (then `name` is its id). Runtime windows are logged and stored in
/// this form and parsed by the same [`window`] as the config's, so both mean the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// RFC 3339: no occurrence reaches past it.
    #[serde(default)]
    pub until: Option<String>,
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
    pub until: Option<Millis>,
}

pub(super) fn windows(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawMaintenance)>,
) -> Vec<MaintenanceWindow> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (i, w) in raw {
        let path = format!("maintenance_windows[{i}]");
        if !names.insert(w.name.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate maintenance window {:?}", w.name),
            ));
        }
        out.extend(window(errors, &path, w));
    }
    out
}

/// Checks one window, pushing every error with its place under `path`.
pub fn window(
    errors: &mut Vec<ConfigError>,
    path: &str,
    w: RawMaintenance,
) -> Option<MaintenanceWindow> {
    let before = errors.len();
    check_id(errors, &format!("{path}.name"), &w.name);
    let mut matchers = Vec::new();
    for (k, text) in w.matchers.iter().enumerate() {
        match parse_matcher(text) {
            Ok(m) => matchers.push(m),
            Err(e) => errors.push(ConfigError::new(format!("{path}.matchers[{k}]"), e)),
        }
    }
    if w.matchers.is_empty() {
        errors.push(ConfigError::new(
            format!("{path}.matchers"),
            "a window needs at least one matcher; one without would mute every alert",
        ));
    } else if matchers.len() == w.matchers.len() {
        if let Err(e) = validate_matchers(&matchers) {
            let e = e.trim_start_matches("silence invalid: ");
            errors.push(ConfigError::new(
                format!("{path}.matchers"),
                format!("{e}: the window would mute every alert"),
            ));
        }
    }
    let tz = zone(errors, &format!("{path}.time_zone"), &w.time_zone);
    let until = w.until.as_deref().and_then(|text| {
        parse_rfc3339(text)
            .map_err(|e| errors.push(ConfigError::new(format!("{path}.until"), e)))
            .ok()
    });
    let raw_window = RawRestriction {
        days: w.days,
        from: w.from,
        to: w.to,
    };
    let window = restriction(errors, path, raw_window)?;
    (errors.len() == before).then_some(MaintenanceWindow {
        name: w.name,
        matchers,
        time_zone: w.time_zone,
        tz,
        window,
        comment: w.comment,
        until,
    })
}

/// The id of a window's occurrence that starts at `start`: the silence it becomes.
pub fn occurrence_id(window: &str, start: Millis) -> String {
    format!("maintenance-{window}-{start}")
}

/// The window a silence is an occurrence of, read back from its id.
pub fn window_of(silence_id: &str) -> Option<&str> {
    let (window, start) = silence_id.strip_prefix("maintenance-")?.rsplit_once('-')?;
    start.parse::<Millis>().ok().map(|_| window)
}

impl MaintenanceWindow {
    /// The occurrence open at `t`, or the next one (within a fortnight): `(start, end)`.
    /// With `until`, none starts at or after it and the last is cut short there.
    pub fn occurrence(&self, t: Millis) -> Option<(Millis, Millis)> {
        const DAY: i64 = 24 * 3_600_000;
        let horizon = self.until.map_or(t + 14 * DAY, |u| u.min(t + 14 * DAY));
        // From two days back, so an occurrence that began before `t` is seen whole.
        crate::schedule::restriction::windows(
            std::slice::from_ref(&self.window),
            &self.tz,
            t - 2 * DAY,
            horizon,
        )
        .into_iter()
        .find(|&(_, end)| end > t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn raw(days: &[&str], from: &str, to: &str, zone: &str) -> RawMaintenance {
        RawMaintenance {
            name: "w".into(),
            matchers: vec!["service=db".into()],
            time_zone: zone.into(),
            days: Some(days.iter().map(|d| d.to_string()).collect()),
            from: from.into(),
            to: to.into(),
            comment: String::new(),
            until: None,
        }
    }

    fn parse(r: RawMaintenance) -> Result<MaintenanceWindow, String> {
        let mut errors = Vec::new();
        window(&mut errors, "recurrence", r).ok_or_else(|| {
            let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            all.join("; ")
        })
    }

    #[test]
    fn wall_clock_windows_keep_their_hours_across_dst() {
        // Berlin moves to summer time on Sunday 2026-03-29: 01:00-03:00 local is 00:00-02:00
        // UTC the Sunday before and 23:00-01:00 UTC the Saturday/Sunday after.
        let w = parse(raw(&["sun"], "01:00", "03:00", "Europe/Berlin")).unwrap();
        let before = w.occurrence(parse_rfc3339("2026-03-21T12:00:00Z").unwrap());
        assert_eq!(
            before,
            Some((
                parse_rfc3339("2026-03-22T00:00:00Z").unwrap(),
                parse_rfc3339("2026-03-22T02:00:00Z").unwrap()
            ))
        );
        // The night of the change: 01:00 CET is 00:00 UTC, 03:00 CEST is 01:00 UTC.
        let change = w.occurrence(parse_rfc3339("2026-03-28T12:00:00Z").unwrap());
        assert_eq!(
            change,
            Some((
                parse_rfc3339("2026-03-29T00:00:00Z").unwrap(),
                parse_rfc3339("2026-03-29T01:00:00Z").unwrap()
            ))
        );
        let after = w.occurrence(parse_rfc3339("2026-04-01T12:00:00Z").unwrap());
        assert_eq!(
            after,
            Some((
                parse_rfc3339("2026-04-04T23:00:00Z").unwrap(),
                parse_rfc3339("2026-04-05T01:00:00Z").unwrap()
            ))
        );
    }

    #[test]
    fn until_cuts_the_last_occurrence_and_stops_the_rest() {
        let mut r = raw(
            &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "22:00",
            "02:00",
            "UTC",
        );
        r.until = Some("2026-03-03T23:00:00Z".into());
        let w = parse(r).unwrap();
        let t = |s: &str| parse_rfc3339(s).unwrap();
        assert_eq!(
            w.occurrence(t("2026-03-02T12:00:00Z")),
            Some((t("2026-03-02T22:00:00Z"), t("2026-03-03T02:00:00Z")))
        );
        assert_eq!(
            w.occurrence(t("2026-03-03T12:00:00Z")),
            Some((t("2026-03-03T22:00:00Z"), t("2026-03-03T23:00:00Z"))),
            "cut at until"
        );
        assert_eq!(w.occurrence(t("2026-03-03T23:00:00Z")), None);
    }

    #[test]
    fn a_runtime_window_is_checked_like_a_config_one() {
        let mut r = raw(&["sun", "funday"], "01:00", "3pm", "Mars/Base");
        r.matchers = vec!["host=~\".*\"".into()];
        r.until = Some("tomorrow".into());
        let err = parse(r).unwrap_err();
        for needle in [
            "recurrence.days[1]: \"funday\" is not a day",
            "recurrence.to: \"3pm\" is not a time of day",
            "recurrence.time_zone: unknown time zone",
            "recurrence.until: not an RFC 3339 time",
            "recurrence.matchers: at least one matcher must not match the empty string",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }
        assert_eq!(occurrence_id("db-x", 5), "maintenance-db-x-5");
        assert_eq!(window_of(&occurrence_id("db-x", 5)), Some("db-x"));
        assert_eq!(window_of("maintenance-db"), None);
        assert_eq!(window_of("9450abee-0c00-47a4-9dd8-b1c84d7cc462"), None);
    }

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
