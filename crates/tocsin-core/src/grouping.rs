//! Which open incident an alert joins: the fields named by `incidents.group_by`.

use crate::event::Event;
use std::fmt::Write;

/// One field an alert can be grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupField {
    Service,
    Name,
    Source,
    Severity,
    /// The catalog host (one machine under every tool's name for it).
    Host,
    Label(String),
}

impl GroupField {
    /// `service`, `name` (or `alertname`), `source`, `severity`, or `labels.KEY`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "service" => Ok(GroupField::Service),
            "name" | "alertname" => Ok(GroupField::Name),
            "source" => Ok(GroupField::Source),
            "severity" => Ok(GroupField::Severity),
            "host" => Ok(GroupField::Host),
            other => match other.strip_prefix("labels.") {
                Some(key) if !key.is_empty() => Ok(GroupField::Label(key.to_string())),
                _ => Err(format!(
                    "unknown group_by field {other:?}; use service, name, source, severity, host or labels.KEY"
                )),
            },
        }
    }
}

/// The grouping key of an event whose mapped service is `service` and catalog host `host`.
/// Fields are joined with their lengths, so distinct tuples give distinct keys.
pub fn group_key(
    fields: &[GroupField],
    event: &Event,
    service: &str,
    host: Option<&str>,
) -> String {
    let mut key = String::new();
    for field in fields {
        let value = match field {
            GroupField::Service => service,
            GroupField::Name => event.name.as_str(),
            GroupField::Source => event.source.as_str(),
            GroupField::Severity => event.severity.as_str(),
            GroupField::Host => host.unwrap_or(""),
            GroupField::Label(k) => event.labels.get(k).map(String::as_str).unwrap_or(""),
        };
        let _ = write!(key, "{}:{}\u{1f}", value.len(), value);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Severity, Status};

    fn event(name: &str, host: &str) -> Event {
        Event {
            source: "api".into(),
            integration: String::new(),
            dedup_key: format!("{name}{host}"),
            status: Status::Firing,
            severity: Severity::High,
            name: name.into(),
            summary: String::new(),
            description: String::new(),
            service: None,
            labels: [("host".to_string(), host.to_string())].into(),
            links: vec![],
            occurred_at: 0,
            received_at: 0,
            ends_at: None,
        }
    }

    #[test]
    fn parses_fields() {
        assert_eq!(GroupField::parse("alertname"), Ok(GroupField::Name));
        assert_eq!(
            GroupField::parse("labels.host"),
            Ok(GroupField::Label("host".into()))
        );
        assert!(GroupField::parse("labels.").is_err());
        assert!(GroupField::parse("colour").is_err());
    }

    #[test]
    fn same_service_and_name_group_together() {
        let f = [GroupField::Service, GroupField::Name];
        assert_eq!(
            group_key(&f, &event("Down", "a"), "web", None),
            group_key(&f, &event("Down", "b"), "web", None)
        );
        assert_ne!(
            group_key(&f, &event("Down", "a"), "web", None),
            group_key(&f, &event("Down", "a"), "db", None)
        );
        let by_host = [GroupField::Label("host".into())];
        assert_ne!(
            group_key(&by_host, &event("Down", "a"), "web", None),
            group_key(&by_host, &event("Down", "b"), "web", None)
        );
        // The catalog host groups one machine's alerts whatever each tool calls it.
        let catalog = [GroupField::Host];
        assert_eq!(GroupField::parse("host"), Ok(GroupField::Host));
        assert_eq!(
            group_key(
                &catalog,
                &event("Down", "10.0.3.4:9100"),
                "web",
                Some("web-01")
            ),
            group_key(&catalog, &event("CPU", "web-01"), "web", Some("web-01"))
        );
    }
}
