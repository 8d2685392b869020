//! Services seen in alerts but not in the catalog.
//!
//! An alert's `service` names the service its sender means. When the catalog does not have
//! it, sending it to the default service would put every team's alerts into one service,
//! where grouping and same-service correlation merge unrelated faults. So it gets a
//! discovered service of that name. A discovered service takes the default service's
//! settings (team, impact, escalation policy, support hours, correlation threshold): that is
//! who its alerts paged before it existed, so discovering it changes how alerts group, never
//! who is woken. [`promotion_yaml`] writes the config entry that makes it a catalog service.
//!
//! A client chooses these names, so they are checked ([`valid_name`]) and their number is
//! capped (`intake.max_discovered_services`; the engine keeps the count).

use crate::config::{is_valid_id, Config, Service};
use crate::event::Event;
use serde_yaml_ng::{Mapping, Value};
use std::borrow::Cow;

/// How many discovered services are kept when the config does not say.
pub const DEFAULT_MAX_DISCOVERED: usize = 10_000;

/// The name trimmed, if it can name a service: what the config takes as a service id (1 to
/// 64 bytes of letters, digits, '-', '_' and '.'), so that it can be promoted as it is, and
/// nothing a client sends can break a log line, a console page or the YAML.
pub fn valid_name(name: &str) -> Option<&str> {
    let name = name.trim();
    is_valid_id(name).then_some(name)
}

/// The service an event names, trimmed: its `service` field, else its `service` label.
pub fn named(e: &Event) -> Option<&str> {
    e.service
        .as_deref()
        .or_else(|| e.labels.get("service").map(String::as_str))
        .and_then(valid_name)
}

impl Config {
    /// The discovered service `id`: the default service's settings under its own name, with
    /// no labels, hosts or dependencies (nothing is known of it but its name).
    pub fn discovered_service(&self, id: &str) -> Service {
        let d = self.service_for(None);
        Service {
            id: id.to_owned(),
            name: id.to_owned(),
            team: d.team.clone(),
            impact: d.impact,
            labels: Default::default(),
            escalation_policy: d.escalation_policy.clone(),
            support_hours: d.support_hours.clone(),
            depends_on: Vec::new(),
            indirect_depends_on: Vec::new(),
            correlation_threshold: d.correlation_threshold,
        }
    }

    /// The service an incident or alert records by id: the catalog's, else the discovered
    /// service of that id (also what a service removed from the catalog becomes: its alerts
    /// would be discovered under that name now).
    pub fn service_or_discovered(&self, id: &str) -> Cow<'_, Service> {
        match self.service(id) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.discovered_service(id)),
        }
    }
}

/// The `services:` entries that make these discovered services catalog services, as they
/// behave now (the default service's team, impact and policy): YAML to paste into the
/// config and edit. Names are quoted where YAML needs it.
pub fn promotion_yaml(config: &Config, ids: &[&str]) -> String {
    let d = config.service_for(None);
    let entries: Vec<Value> = ids
        .iter()
        .map(|id| {
            let mut m = Mapping::new();
            m.insert("id".into(), (*id).into());
            m.insert("team".into(), d.team.as_str().into());
            m.insert("impact".into(), d.impact.as_str().into());
            if let Some(p) = &d.escalation_policy {
                m.insert("escalation_policy".into(), p.as_str().into());
            }
            Value::Mapping(m)
        })
        .collect();
    let mut root = Mapping::new();
    root.insert("services".into(), Value::Sequence(entries));
    serde_yaml_ng::to_string(&Value::Mapping(root)).expect("a mapping of strings serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(valid_name("  web-a "), Some("web-a"));
        assert_eq!(valid_name("订单服务"), Some("订单服务"));
        assert_eq!(valid_name("   "), None);
        assert_eq!(valid_name("a\nb"), None);
        assert_eq!(valid_name("a\u{7}"), None);
        assert_eq!(valid_name("order service"), None);
        assert_eq!(valid_name("db: b #1"), None);
        assert!(valid_name(&"x".repeat(64)).is_some());
        assert_eq!(valid_name(&"x".repeat(65)), None);
    }

    #[test]
    fn takes_the_default_services_settings() {
        let c = load_str(
            "teams: [{id: ops}]\nservices:\n  - {id: other, team: ops, impact: high}\n  \
             - {id: catchall, team: ops, impact: low, correlation: {threshold: 0.9}}\n\
             default_service: catchall\n",
        )
        .unwrap();
        let s = c.discovered_service("web-a");
        assert_eq!((s.id.as_str(), s.name.as_str()), ("web-a", "web-a"));
        assert_eq!((s.team.as_str(), s.impact), ("ops", c.services[1].impact));
        assert_eq!(s.correlation_threshold, c.services[1].correlation_threshold);
        assert!(s.correlation_threshold.is_some());
        assert!(s.labels.is_empty() && s.depends_on.is_empty());
    }

    #[test]
    fn promotion_yaml_loads_as_config() {
        let c = Config::builtin();
        let yaml = promotion_yaml(&c, &["web-a", "订单.v2"]);
        assert!(yaml.contains("- id: web-a\n"), "{yaml}");
        // Pasted into a config it is what the alerts get now, under their own ids.
        let promoted = load_str(&yaml).unwrap();
        let ids: Vec<&str> = promoted.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["web-a", "订单.v2"]);
        assert_eq!(promoted.services[0].team, c.service_for(None).team);
    }
}
