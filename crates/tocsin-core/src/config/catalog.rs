//! The service catalog's checks: hosts (every name, IP and alias belongs to one host) and
//! the rules that place alerts on services.

use super::load::ConfigError;
use super::raw::{RawHost, RawServiceRule};
use super::{EventField, Host, ServiceRule};
use std::collections::HashMap;

/// Builds the host list and its index; a name, IP or alias claimed twice is an error.
pub(super) fn hosts(
    errors: &mut Vec<ConfigError>,
    declared: Vec<(String, usize, Vec<RawHost>)>,
) -> (Vec<Host>, HashMap<String, usize>) {
    let mut hosts = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (service, i, raw) in declared {
        for (j, h) in raw.into_iter().enumerate() {
            let path = format!("services[{i}].hosts[{j}]");
            let (name, ips, aliases, uplink) = match h {
                RawHost::Name(name) => (name, Vec::new(), Vec::new(), None),
                RawHost::Full(f) => (f.name, f.ips, f.aliases, f.uplink),
            };
            if name.trim().is_empty() {
                errors.push(ConfigError::new(&path, "a host needs a name"));
                continue;
            }
            for ip in &ips {
                if ip.parse::<std::net::IpAddr>().is_err() {
                    errors.push(ConfigError::new(
                        format!("{path}.ips"),
                        format!("{ip:?} is not an IP address"),
                    ));
                }
            }
            let at = hosts.len();
            for known_as in std::iter::once(&name).chain(&ips).chain(&aliases) {
                if let Some(&other) = index.get(&super::host_key(known_as)) {
                    if other != at {
                        let owner: &Host = &hosts[other];
                        errors.push(ConfigError::new(
                            &path,
                            format!(
                                "{known_as:?} already names host {:?} of service {:?}",
                                owner.name, owner.service
                            ),
                        ));
                    }
                    continue;
                }
                index.insert(super::host_key(known_as), at);
            }
            hosts.push(Host {
                name,
                service: service.clone(),
                ips,
                aliases,
                uplink,
            });
        }
    }
    check_uplinks(errors, &hosts, &index);
    (hosts, index)
}

/// Every uplink names a catalog host, and following uplinks never comes back to the start.
fn check_uplinks(errors: &mut Vec<ConfigError>, hosts: &[Host], index: &HashMap<String, usize>) {
    for (i, h) in hosts.iter().enumerate() {
        let Some(up) = &h.uplink else { continue };
        let path = format!("host {:?}.uplink", h.name);
        let Some(&next) = index.get(&super::host_key(up)) else {
            errors.push(ConfigError::new(path, format!("unknown host {up:?}")));
            continue;
        };
        let mut at = next;
        for _ in 0..=hosts.len() {
            if at == i {
                errors.push(ConfigError::new(path, "uplinks go round in a circle"));
                break;
            }
            match hosts[at]
                .uplink
                .as_ref()
                .and_then(|u| index.get(&super::host_key(u)))
            {
                Some(&n) => at = n,
                None => break,
            }
        }
    }
}

pub(super) fn rules(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawServiceRule)>,
    known_service: impl Fn(&str) -> bool,
) -> Vec<ServiceRule> {
    let mut rules = Vec::new();
    for (i, r) in raw {
        let path = format!("service_rules[{i}]");
        if !known_service(&r.service) {
            errors.push(ConfigError::new(
                format!("{path}.service"),
                format!("unknown service {:?}", r.service),
            ));
        }
        if r.equal.is_empty() && r.match_re.is_empty() {
            errors.push(ConfigError::new(
                &path,
                "a rule needs `match` or `match_re`; one without would take every alert",
            ));
        }
        let equal = r
            .equal
            .into_iter()
            .map(|(k, v)| (EventField::parse(&k), v))
            .collect();
        let mut regex = Vec::new();
        for (k, pattern) in r.match_re {
            // Anchored and bounded like silence matchers: the whole value must match.
            match crate::user_regex::anchored(&pattern) {
                Ok(re) => regex.push((EventField::parse(&k), re)),
                Err(e) => errors.push(ConfigError::new(
                    format!("{path}.match_re.{k}"),
                    e.to_string(),
                )),
            }
        }
        rules.push(ServiceRule {
            service: r.service,
            equal,
            regex,
        });
    }
    rules
}

impl EventField {
    /// `source`, `integration`, `name` (or `alertname`), `severity`, `summary` and `host` are
    /// the event's own fields; any other key is a label name (`labels.KEY` also works, for a
    /// label named like a field).
    pub fn parse(key: &str) -> EventField {
        match key {
            "source" => EventField::Source,
            "integration" => EventField::Integration,
            "name" | "alertname" => EventField::Name,
            "severity" => EventField::Severity,
            "summary" => EventField::Summary,
            "host" => EventField::Host,
            other => EventField::Label(other.strip_prefix("labels.").unwrap_or(other).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    #[test]
    fn uplinks_must_name_hosts_and_not_go_round() {
        let errors = load_str(
            "services: [{id: web, hosts: [{name: a, uplink: b}, {name: b, uplink: a}, {name: c, uplink: nowhere}]}]",
        )
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
        assert!(
            errors.contains("host \"a\".uplink: uplinks go round in a circle"),
            "{errors}"
        );
        assert!(
            errors.contains("host \"c\".uplink: unknown host \"nowhere\""),
            "{errors}"
        );
    }
}
