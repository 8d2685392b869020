//! Where an alert lands: its service and its canonical host, from the service catalog.
//!
//! Tools name machines differently (Prometheus `10.0.3.4:9100`, Zabbix `web-01`); the
//! catalog's hosts list every name and address, so both land on one host and its service.

use crate::config::{Config, EventField, Service, ServiceRule};
use crate::event::Event;

/// Labels that name the machine an event is about, most specific first. Adapters put the
/// tool's host name in `host` and its address in `host_ip`; the others are what tools and
/// people commonly use.
const HOST_LABELS: [&str; 7] = [
    "host", "hostname", "instance", "host_ip", "endpoint", "ip", "node",
];

/// The service and host an event belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement<'c> {
    /// The catalog service; for a discovered one, where the event goes if the engine's cap
    /// refuses it (its integration's service, or the default).
    pub service: &'c Service,
    /// The event names a service (`discovered::named`) that the catalog does not have and no
    /// rule or host places it: its alerts belong to a discovered service of that name,
    /// which takes the default service's settings (see `discovered.rs`).
    pub discovered: bool,
    /// The catalog's name for the machine, or the name the event gave when the catalog does
    /// not know it (without a port); `None` when the event names no machine.
    pub host: Option<String>,
    /// Nothing in the config placed the event: it fell through to the default service
    /// (or, with `discovered`, is in a service of its own).
    pub fallback: bool,
}

impl Config {
    /// Places an event. The service is, in order: the one the event names (`service` field
    /// or label) if the catalog has it; the first service rule that matches; the service of
    /// its host; the one it names as a discovered service (unless
    /// `intake.max_discovered_services` is 0); its integration's service; the default
    /// service. The config's own rules and hosts come before a name the sender chose, and
    /// that name before the integration's catch-all.
    pub fn place(&self, e: &Event) -> Placement<'_> {
        let (catalog_host, named_host) = self.find_host(e);
        let host = catalog_host
            .map(|h| h.name.clone())
            .or_else(|| named_host.map(str::to_owned));
        let named = crate::discovered::named(e);
        let service = e
            .service
            .as_deref()
            .and_then(|s| self.service(s))
            .or_else(|| e.labels.get("service").and_then(|s| self.service(s)))
            .or_else(|| named.and_then(|s| self.service(s)))
            .or_else(|| {
                self.service_rules
                    .iter()
                    .find(|r| r.matches(e, host.as_deref()))
                    .and_then(|r| self.service(&r.service))
            })
            .or_else(|| catalog_host.and_then(|h| self.service(&h.service)));
        // Only a name nothing in the config placed makes a discovered service.
        let discovered =
            service.is_none() && named.is_some() && self.intake.max_discovered_services > 0;
        let service = service.or_else(|| {
            self.integration(&e.integration)
                .and_then(|i| i.service.as_deref())
                .and_then(|s| self.service(s))
        });
        Placement {
            service: service.unwrap_or_else(|| self.service_for(None)),
            discovered,
            host,
            fallback: service.is_none(),
        }
    }

    /// The catalog host the event names, and the first machine name it carries at all.
    fn find_host<'e>(&self, e: &'e Event) -> (Option<&crate::config::Host>, Option<&'e str>) {
        let mut first = None;
        for label in HOST_LABELS {
            let Some(value) = e.labels.get(label) else {
                continue;
            };
            let name = without_port(value);
            if name.is_empty() {
                continue;
            }
            // Without a catalog of hosts there is nothing to look up (the lookup lower-cases,
            // which costs an allocation on every event the engine applies).
            if !self.hosts.is_empty() {
                if let Some(h) = self.host(name) {
                    return (Some(h), Some(name));
                }
            } else if first.is_none() {
                return (None, Some(name));
            }
            first.get_or_insert(name);
        }
        (None, first)
    }
}

impl ServiceRule {
    pub fn matches(&self, e: &Event, host: Option<&str>) -> bool {
        self.equal
            .iter()
            .all(|(f, want)| field(e, f, host) == Some(want.as_str()))
            && self
                .regex
                .iter()
                .all(|(f, re)| re.is_match(field(e, f, host).unwrap_or("")))
    }
}

fn field<'e>(e: &'e Event, f: &EventField, host: Option<&'e str>) -> Option<&'e str> {
    match f {
        EventField::Source => Some(&e.source),
        EventField::Integration => Some(&e.integration),
        EventField::Name => Some(&e.name),
        EventField::Severity => Some(e.severity.as_str()),
        EventField::Summary => Some(&e.summary),
        EventField::Host => host,
        EventField::Label(k) => e.labels.get(k).map(String::as_str),
    }
}

/// `10.0.3.4:9100` -> `10.0.3.4`, `[fe80::1]:9100` -> `fe80::1`; a bare IPv6 address or a
/// name stays as it is.
pub fn without_port(value: &str) -> &str {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match value.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use crate::event::{Severity, Status};

    fn event(integration: &str, labels: &[(&str, &str)]) -> Event {
        Event {
            source: "test".into(),
            integration: integration.into(),
            dedup_key: "k".into(),
            status: Status::Firing,
            severity: Severity::High,
            name: "DiskFull".into(),
            summary: "disk full".into(),
            description: String::new(),
            service: None,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            links: vec![],
            occurred_at: 0,
            received_at: 0,
            ends_at: None,
        }
    }

    const CATALOG: &str = r#"
services:
  - id: web
    hosts:
      - {name: web-01, ips: [10.0.3.4, "fe80::1"], aliases: [web01.example.com]}
      - web-02
  - id: db
  - id: net
  - id: fallback
service_rules:
  - {service: db, match: {job: mysql}}
  - {service: net, match_re: {alertname: "Switch.*"}}
integrations:
  - {name: zbx, kind: zabbix, key: 0123456789abcdef0, service: fallback}
"#;

    #[test]
    fn one_machine_under_every_name() {
        let c = load_str(CATALOG).unwrap();
        for labels in [
            &[("instance", "10.0.3.4:9100")][..],
            &[("host", "WEB-01")],
            &[("hostname", "web01.example.com")],
            &[("host", "unknown"), ("host_ip", "10.0.3.4")],
            &[("instance", "[fe80:0::1]:9100")],
        ] {
            let p = c.place(&event("", labels));
            assert_eq!(p.service.id, "web", "{labels:?}");
            assert_eq!(p.host.as_deref(), Some("web-01"), "{labels:?}");
        }
    }

    #[test]
    fn order_of_placement() {
        let c = load_str(CATALOG).unwrap();
        // A named service wins over the host's.
        let mut e = event("zbx", &[("host", "web-02"), ("service", "db")]);
        assert_eq!(c.place(&e).service.id, "db");
        // A rule wins over the host's service.
        e = event("zbx", &[("host", "web-02"), ("job", "mysql")]);
        assert_eq!(c.place(&e).service.id, "db");
        e = event("zbx", &[("alertname", "x")]);
        e.name = "SwitchDown".into();
        assert_eq!(c.place(&e).service.id, "net");
        // Then the host's service, then the integration's, then the default.
        assert_eq!(
            c.place(&event("zbx", &[("host", "web-02")])).service.id,
            "web"
        );
        let unknown = c.place(&event("zbx", &[("instance", "10.9.9.9:9100")]));
        assert_eq!(unknown.service.id, "fallback");
        assert_eq!(unknown.host.as_deref(), Some("10.9.9.9"));
        assert_eq!(c.place(&event("", &[])).service.id, "web");
        assert_eq!(c.place(&event("", &[])).host, None);
    }

    #[test]
    fn a_service_named_but_not_in_the_catalog_is_discovered() {
        let c = load_str(CATALOG).unwrap();
        let e = event("", &[("service", " web-a ")]);
        assert!(c.place(&e).discovered);
        assert_eq!(crate::discovered::named(&e), Some("web-a"));
        // The catalog's rules, hosts and services come first; a name padded with blanks is
        // still the catalog's.
        for labels in [
            &[("service", "web-a"), ("job", "mysql")][..],
            &[("service", "web-a"), ("host", "web-01")],
            &[("service", " db ")],
        ] {
            let p = c.place(&event("", labels));
            assert!(!p.discovered && !p.fallback, "{labels:?}");
        }
        assert_eq!(c.place(&event("", &[("service", " db ")])).service.id, "db");
        // Before the integration's catch-all, which is where it goes beyond the cap.
        let p = c.place(&event("zbx", &[("service", "web-a")]));
        assert!(p.discovered);
        assert_eq!(p.service.id, "fallback");
        // No name, or one that cannot be a service: the default service as before.
        for labels in [&[][..], &[("service", "  ")], &[("service", "a\u{0}b")]] {
            let p = c.place(&event("", labels));
            assert_eq!((p.discovered, p.fallback), (false, true), "{labels:?}");
        }
        // The event's own service field wins over its label.
        let mut e = event("", &[("service", "label-one")]);
        e.service = Some("field-one".into());
        assert_eq!(crate::discovered::named(&e), Some("field-one"));
        // Turned off: the default service.
        let off = load_str("intake: {max_discovered_services: 0}").unwrap();
        let p = off.place(&event("", &[("service", "web-a")]));
        assert_eq!((p.discovered, p.fallback), (false, true));
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(without_port("10.0.3.4:9100"), "10.0.3.4");
        assert_eq!(without_port("[fe80::1]:9100"), "fe80::1");
        assert_eq!(without_port("fe80::1"), "fe80::1");
        assert_eq!(without_port("web-01"), "web-01");
        assert_eq!(without_port("web-01:"), "web-01:");
    }

    #[test]
    fn catalog_errors_are_reported() {
        let errors = load_str(
            r#"
services:
  - {id: a, hosts: [{name: h1, ips: [nope]}, h2]}
  - {id: b, hosts: [H1]}
  - {id: c, hosts: [{name: h3, ip: 10.0.0.1}]}
service_rules:
  - {service: zz, match_re: {x: "("}}
  - {service: a}
integrations:
  - {name: i, kind: zabix, key: "short?#"}
  - {name: i, kind: heartbeat, key_sha256: "ab"}
"#,
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let all = text.join("\n");
        for needle in [
            "services[0].hosts[0].ips: \"nope\" is not an IP address",
            "services[1].hosts[0]: \"H1\" already names host \"h1\"",
            "services[2].hosts[0].ip: unknown field `ip`",
            "service_rules[0].service: unknown service \"zz\"",
            "service_rules[0].match_re.x: invalid regular expression",
            "service_rules[1]: a rule needs",
            "integrations[0].kind: unknown kind \"zabix\"",
            "integrations[0].key: must be at least 16 characters",
            "integrations[0].key: use only letters, digits",
            "integrations[1].name: duplicate integration \"i\"",
            "integrations[1].key_sha256: must be 64 hex digits",
            "integrations[1].interval: a heartbeat needs",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }
}
