//! Grouping routes: Alertmanager's route tree, flattened into an ordered list under
//! `incidents.routes`. The first route whose matchers all match an alert decides how it is
//! grouped (`group_by`) and when its incident's people hear of it (`group_wait`,
//! `group_interval`, `repeat_interval`); an alert no route matches uses the defaults under
//! `incidents:`.
//!
//! A route's alerts never share an incident with another route's, as in Alertmanager, where
//! each route has its own aggregation groups: the group key of a routed alert starts with
//! the route's own prefix. That prefix is made from the route's matchers, not its position,
//! so reordering routes on a reload keeps open incidents where they are, and the timing of
//! an incident is found again from its stored group key (after a restart too).

use crate::config::IncidentPolicy;
use crate::event::Event;
use crate::grouping::{group_key, GroupField};
use crate::silence::{compile, matches_all, CompiledMatcher, Matcher};
use crate::time::Millis;
use std::collections::BTreeMap;

/// When people hear about an incident of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupTiming {
    /// How long a new incident collects alerts before its first page (0: at once).
    pub group_wait: Millis,
    /// At most one update about alerts that joined, per this interval.
    pub group_interval: Millis,
    /// Re-notify while triggered and firing, this often; `None` when off.
    pub repeat_interval: Option<Millis>,
}

pub const DEFAULT_GROUP_INTERVAL: Millis = 5 * 60_000;
pub const DEFAULT_REPEAT_INTERVAL: Millis = 4 * 3_600_000;

impl Default for GroupTiming {
    fn default() -> Self {
        GroupTiming {
            group_wait: 0,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: Some(DEFAULT_REPEAT_INTERVAL),
        }
    }
}

/// One route, its matchers compiled once when the config loads.
#[derive(Debug, Clone)]
pub struct GroupRoute {
    pub matchers: Vec<Matcher>,
    pub group_by: Vec<GroupField>,
    pub timing: GroupTiming,
    compiled: Vec<CompiledMatcher>,
    prefix: String,
}

/// Routes are equal when they are written the same; the compiled forms follow from that.
impl PartialEq for GroupRoute {
    fn eq(&self, other: &Self) -> bool {
        self.matchers == other.matchers
            && self.group_by == other.group_by
            && self.timing == other.timing
    }
}

impl GroupRoute {
    pub fn new(
        matchers: Vec<Matcher>,
        group_by: Vec<GroupField>,
        timing: GroupTiming,
    ) -> Result<GroupRoute, String> {
        // U+001E cannot start a default key (those start with a length digit, or are empty).
        let written: Vec<String> = matchers
            .iter()
            .map(|m| format!("{}{}{:?}", m.name, m.operator(), m.value))
            .collect();
        Ok(GroupRoute {
            compiled: compile(&matchers)?,
            prefix: format!("\u{1e}{}\u{1e}", written.join(",")),
            matchers,
            group_by,
            timing,
        })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        matches_all(&self.compiled, labels)
    }
}

/// How one alert is grouped: by its route, or by the defaults.
#[derive(Debug, Clone, Copy)]
pub struct Grouping<'a> {
    pub route: Option<&'a GroupRoute>,
    pub group_by: &'a [GroupField],
}

impl Grouping<'_> {
    /// The key of the open incident the alert joins (see [`group_key`]).
    pub fn key(&self, event: &Event, service: &str, host: Option<&str>) -> String {
        let key = group_key(self.group_by, event, service, host);
        match self.route {
            Some(r) => format!("{}{key}", r.prefix),
            None => key,
        }
    }
}

impl IncidentPolicy {
    /// The first route whose matchers match the alert's labels (as `alert_labels` makes
    /// them), else the defaults.
    pub fn grouping(&self, labels: &BTreeMap<String, String>) -> Grouping<'_> {
        match self.routes.iter().find(|r| r.matches(labels)) {
            Some(r) => Grouping {
                route: Some(r),
                group_by: &r.group_by,
            },
            None => Grouping {
                route: None,
                group_by: &self.group_by,
            },
        }
    }

    /// Whether grouping an alert needs its catalog host: a field or a matcher may read it.
    pub fn needs_host(&self) -> bool {
        !self.routes.is_empty() || self.group_by.contains(&GroupField::Host)
    }

    /// The timing of an incident opened under this group key: its route's, if the route is
    /// still configured, else the defaults.
    pub fn timing_of(&self, group_key: &str) -> GroupTiming {
        self.routes
            .iter()
            .find(|r| group_key.starts_with(&r.prefix))
            .map_or(self.timing, |r| r.timing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use crate::event::{Severity, Status};
    use crate::silence::alert_labels;

    const ROUTES: &str = r#"
incidents:
  group_by: [service, name]
  group_interval: 10m
  routes:
    - matchers: ['service="payments"', 'severity=~"critical|high"']
      group_by: [service]
      group_wait: 30s
    - matchers: ['service="payments"']
      repeat_interval: off
services: [{id: payments}, {id: web}]
"#;

    fn event(name: &str, severity: Severity) -> Event {
        Event {
            source: "api".into(),
            integration: String::new(),
            dedup_key: name.into(),
            status: Status::Firing,
            severity,
            name: name.into(),
            summary: String::new(),
            description: String::new(),
            service: None,
            labels: Default::default(),
            links: vec![],
            occurred_at: 0,
            received_at: 0,
            ends_at: None,
        }
    }

    /// The route index chosen for an alert of `service`, and its group key.
    fn route(policy: &IncidentPolicy, e: &Event, service: &str) -> (Option<usize>, String) {
        let labels = alert_labels(&e.labels, &e.name, service, e.severity.as_str(), None);
        let g = policy.grouping(&labels);
        let index = g
            .route
            .map(|r| policy.routes.iter().position(|x| x == r).unwrap());
        (index, g.key(e, service, None))
    }

    #[test]
    fn the_first_matching_route_wins_else_the_defaults() {
        let c = load_str(ROUTES).unwrap();
        let p = &c.incidents;
        let crit = event("Down", Severity::Critical);
        let warn = event("Slow", Severity::Warning);
        assert_eq!(route(p, &crit, "payments").0, Some(0));
        assert_eq!(
            route(p, &warn, "payments").0,
            Some(1),
            "severity fails route 0"
        );
        assert_eq!(route(p, &crit, "web").0, None, "no route: the defaults");
        // Route 0 groups by service only: two alert names share its incident.
        assert_eq!(
            route(p, &crit, "payments").1,
            route(p, &event("Other", Severity::High), "payments").1
        );
        // Same fields, different routes: never the same incident.
        let (_, a) = route(p, &crit, "payments");
        let (_, b) = route(p, &event("Down", Severity::Info), "payments");
        assert_ne!(a, b);
        // The defaults keep the keys incidents were opened with before routes existed.
        assert_eq!(
            route(p, &crit, "web").1,
            group_key(&p.group_by, &crit, "web", None)
        );
    }

    #[test]
    fn timing_comes_from_the_route_of_the_key_with_defaults_filled_in() {
        let c = load_str(ROUTES).unwrap();
        let p = &c.incidents;
        let (_, first) = route(p, &event("Down", Severity::Critical), "payments");
        let (_, second) = route(p, &event("Slow", Severity::Warning), "payments");
        let (_, none) = route(p, &event("Down", Severity::Critical), "web");
        let defaults = GroupTiming {
            group_wait: 0,
            group_interval: 600_000,
            repeat_interval: Some(DEFAULT_REPEAT_INTERVAL),
        };
        assert_eq!(p.timing, defaults, "incidents: sets the defaults");
        assert_eq!(
            p.timing_of(&first),
            GroupTiming {
                group_wait: 30_000,
                ..defaults
            },
            "a route inherits what it does not set"
        );
        assert_eq!(p.timing_of(&second).repeat_interval, None);
        assert_eq!(p.timing_of(&none), defaults);
        // Routes put in another order find the same timing from the same key.
        let reordered = r#"
incidents:
  routes:
    - matchers: ['service="payments"']
    - matchers: ['service="payments"', 'severity=~"critical|high"']
      group_wait: 30s
"#;
        let c2 = load_str(reordered).unwrap();
        assert_eq!(c2.incidents.timing_of(&first).group_wait, 30_000);
    }

    #[test]
    fn built_in_timing_pages_at_once() {
        let c = load_str("").unwrap();
        assert_eq!(c.incidents.timing, GroupTiming::default());
        assert!(c.incidents.routes.is_empty());
        assert!(!c.incidents.needs_host());
    }
}
