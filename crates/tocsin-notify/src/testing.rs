//! Fixtures of the unit tests: readers in both languages, one incident and bundles.

use crate::http::HttpResponse;
use crate::message::{IncidentCard, Message, MessageKind, Recipient};
use tocsin_core::config::Language;

pub fn en_reader() -> Recipient {
    Recipient {
        user_id: "alice".into(),
        name: "Alice".into(),
        language: Language::En,
        address: "alice@example.com".into(),
    }
}

pub fn zh_reader() -> Recipient {
    Recipient {
        user_id: "wangwei".into(),
        name: "王伟".into(),
        language: Language::Zh,
        address: "13800000000".into(),
    }
}

pub fn card(id: &str, title: &str, priority: &str, service: &str) -> IncidentCard {
    IncidentCard {
        id: id.into(),
        title: title.into(),
        priority: priority.into(),
        state: "triggered".into(),
        service: service.into(),
        team: "dba".into(),
        service_name: service.into(),
        team_name: "dba".into(),
        hosts: vec![],
        host_count: 0,
        severity: "critical".into(),
        urgency: "high".into(),
        alert_count: 3,
        created_at: "2024-05-01 03:12 CST".into(),
        summary: String::new(),
        links: vec![],
        ack_url: Some(format!("https://t.example/ack/{id}?sig=a")),
        resolve_url: Some(format!("https://t.example/resolve/{id}?sig=b")),
        console_url: Some(format!("https://t.example/incidents/{id}")),
        new_alerts: vec![],
        follow_up: None,
    }
}

/// A P1 whose title has a character every markup must escape.
pub fn one_incident() -> Message {
    let mut c = card("INC-42", "MySQL primary down <3", "P1", "order-db");
    c.summary = "Replication stopped; writes fail.".into();
    c.links = vec![("Runbook".into(), "https://wiki.example/mysql".into())];
    Message {
        kind: MessageKind::New,
        incidents: vec![c],
        handoff: None,
        storm: None,
    }
}

/// `n` new P2 incidents of one service.
pub fn bundle(n: usize) -> Message {
    Message {
        kind: MessageKind::New,
        incidents: (1..=n)
            .map(|i| {
                card(
                    &format!("INC-{i}"),
                    &format!("Disk full on db-{i}"),
                    "P2",
                    "order-api",
                )
            })
            .collect(),
        handoff: None,
        storm: None,
    }
}

pub fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        body: body.as_bytes().to_vec(),
    }
}
