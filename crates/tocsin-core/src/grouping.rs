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
            other => match other.strip_prefix("labels.") {
                Some(key) if !key.is_empty() => Ok(GroupField::Label(key.to_string())),
                _ => Err(format!(
                    "unknown group_by field {other:?}; use service, name, source, severity or labels.KEY"
                )),
            },
        }
    }
}

/// The grouping key of an event whose mapped service is `service`. Fields are joined with a
/// separator that cannot occur in them, so distinct tuples give distinct keys.
pub fn group_key(fields: &[GroupField], event: &Event, service: &str) -> String {
    let mut key = String::new();
    for field in fields {
        let value = match field {
            GroupField::Service => service,
            GroupField::Name => event.name.as_str(),
            GroupField::Source => event.source.as_str(),
            GroupField::Severity => event.severity.as_str(),
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
            group_key(&f, &event("Down", "a"), "web"),
            group_key(&f, &event("Down", "b"), "web")
        );
        assert_ne!(
            group_key(&f, &event("Down", "a"), "web"),
            group_key(&f, &event("Down", "a"), "db")
        );
        let by_host = [GroupField::Label("host".into())];
        assert_ne!(
            group_key(&by_host, &event("Down", "a"), "web"),
            group_key(&by_host, &event("Down", "b"), "web")
        );
    }
}
