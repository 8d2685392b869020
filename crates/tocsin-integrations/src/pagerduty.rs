//! PagerDuty's Events API v2 (`POST /v2/enqueue`), so anything that can page PagerDuty
//! pages through tocsin once its URL changes: monitoring tools, scripts, SDKs.
//!
//! PagerDuty's semantics are kept: the `dedup_key` is the alert's identity (one is made up
//! for a trigger without one, and returned so the sender can acknowledge or resolve);
//! `trigger` fires, `acknowledge` acknowledges the alert's incident, `resolve` resolves the
//! alert; the answer is PagerDuty's 202 body. The routing key is looked up by the server
//! before the body reaches this module ([`routing_key`]).

use crate::common::{fit, link, machine_label, push_line};
use crate::limits::*;
use crate::{one_or_many, Adapter, Inbound, IntakeContext, IntakeError, Reply};
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::parse_rfc3339;

pub const SOURCE: &str = "pagerduty";

/// PagerDuty's own bound on a dedup key.
const MAX_DEDUP_KEY: usize = 255;

#[derive(Debug, Deserialize)]
struct PdEvent {
    event_action: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<Payload>,
    #[serde(default)]
    links: Option<Vec<PdLink>>,
    #[serde(default)]
    images: Option<Vec<Image>>,
    /// The monitoring client's name and a link to it ("View in Datadog").
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    client_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct PdLink {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Image {
    src: String,
    #[serde(default)]
    href: Option<String>,
    #[serde(default)]
    alt: Option<String>,
}

pub struct PagerDuty;

impl Adapter for PagerDuty {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let first = req.body.iter().copied().find(|b| !b.is_ascii_whitespace());
        if first.is_some() && first != Some(b'{') {
            return Err(IntakeError(
                "the body must be one JSON object: an Events API v2 event".into(),
            ));
        }
        let (mut events, _) = one_or_many::<PdEvent>(req.body, 1)?;
        convert(events.remove(0), req.body, ctx).map(|e| vec![e])
    }

    /// PagerDuty's answer, which senders read the dedup key from.
    fn reply(&self, events: &[Event]) -> Reply {
        Reply {
            status: 202,
            body: Some(serde_json::json!({
                "status": "success",
                "message": "Event processed",
                "dedup_key": events.first().map(|e| e.dedup_key.as_str()).unwrap_or(""),
            })),
        }
    }
}

fn convert(e: PdEvent, body: &[u8], ctx: &IntakeContext) -> Result<Event, IntakeError> {
    let status = match e.event_action.as_str() {
        "trigger" => Status::Firing,
        "acknowledge" => Status::Acknowledged,
        "resolve" => Status::Resolved,
        other => {
            return Err(IntakeError(format!(
                "event_action: {other:?} is not trigger, acknowledge or resolve"
            )))
        }
    };
    let dedup_key = match e.dedup_key.filter(|k| !k.is_empty()) {
        Some(k) if k.len() > MAX_DEDUP_KEY => {
            return Err(IntakeError(format!(
                "dedup_key: {} bytes, at most {MAX_DEDUP_KEY} are allowed",
                k.len()
            )))
        }
        Some(k) => k,
        // Like PagerDuty, every trigger without a key is a new alert. The key is a hash of
        // the request and its time rather than random, so a replay decides the same.
        None if status == Status::Firing => {
            let request = BTreeMap::from([(
                ctx.now.to_string(),
                String::from_utf8_lossy(body).into_owned(),
            )]);
            label_fingerprint(SOURCE, &request)
        }
        None => {
            return Err(IntakeError(format!(
                "dedup_key: required to {}",
                e.event_action
            )))
        }
    };
    let Some(p) = e.payload else {
        if status == Status::Firing {
            return Err(IntakeError("payload: required to trigger".into()));
        }
        // Acknowledge and resolve need nothing but the key.
        return Ok(bare(status, dedup_key, ctx));
    };
    let severity = match p.severity.as_str() {
        "critical" => Severity::Critical,
        "error" => Severity::High,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        other => {
            return Err(IntakeError(format!(
                "payload.severity: {other:?} is not critical, error, warning or info"
            )))
        }
    };
    for (field, value) in [("summary", &p.summary), ("source", &p.source)] {
        if value.trim().is_empty() {
            return Err(IntakeError(format!("payload.{field}: must not be empty")));
        }
    }
    check_len("payload", "source", &p.source, MAX_SHORT)?;
    let occurred_at = match p.timestamp.as_deref() {
        None | Some("") => ctx.now,
        Some(t) => parse_rfc3339(t).map_err(|m| IntakeError(format!("payload.timestamp: {m}")))?,
    };
    let mut labels = BTreeMap::new();
    for (key, value) in [
        ("component", &p.component),
        ("group", &p.group),
        ("class", &p.class),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            labels.insert(key.to_string(), v.to_string());
        }
    }
    labels.insert("source".to_string(), p.source.clone());
    // PagerDuty's `source` is "the unique location of the affected system, preferably a
    // hostname or FQDN".
    machine_label(&mut labels, &p.source);
    check_labels("payload", &labels)?;
    let mut description = String::new();
    match &p.custom_details {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(text)) => description.push_str(text),
        Some(other) => push_line(
            &mut description,
            &serde_json::to_string_pretty(other).unwrap_or_default(),
        ),
    }
    if let Some(client) = e.client.as_deref().filter(|c| !c.is_empty()) {
        push_line(&mut description, &format!("client: {client}"));
    }
    check_len("payload", "custom_details", &description, MAX_DESCRIPTION)?;
    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key,
        status,
        severity,
        // The class ("cpu load", "ping failure") is the stable name of the condition when
        // the sender gives one; the summary often carries changing values.
        name: fit(
            p.class.clone().unwrap_or_else(|| p.summary.clone()),
            MAX_SHORT,
        ),
        summary: fit(p.summary, MAX_SUMMARY),
        description,
        service: None,
        labels,
        links: links(e.links, e.images, e.client, e.client_url)?,
        occurred_at,
        received_at: ctx.now,
        ends_at: None,
    })
}

/// An acknowledge or resolve that names only its alert.
fn bare(status: Status, dedup_key: String, ctx: &IntakeContext) -> Event {
    Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        summary: format!("dedup_key {dedup_key}"),
        dedup_key,
        status,
        severity: Severity::Warning,
        name: String::new(),
        description: String::new(),
        service: None,
        labels: BTreeMap::new(),
        links: Vec::new(),
        occurred_at: ctx.now,
        received_at: ctx.now,
        ends_at: None,
    }
}

/// `links`, then `images` (as links to the image, or where the image points), then the
/// client's link, at most [`MAX_LINKS`].
fn links(
    links: Option<Vec<PdLink>>,
    images: Option<Vec<Image>>,
    client: Option<String>,
    client_url: Option<String>,
) -> Result<Vec<tocsin_core::event::Link>, IntakeError> {
    let mut out = Vec::new();
    for (i, l) in links.unwrap_or_default().into_iter().enumerate() {
        let text = l
            .text
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Link".into());
        out.extend(link(
            &format!("links[{i}]"),
            "href",
            Some(&l.href),
            &fit(text, MAX_SHORT),
        )?);
    }
    for (i, img) in images.unwrap_or_default().into_iter().enumerate() {
        let text = img
            .alt
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Image".into());
        let (field, href) = match img.href.filter(|h| !h.is_empty()) {
            Some(href) => ("href", href),
            None => ("src", img.src),
        };
        out.extend(link(
            &format!("images[{i}]"),
            field,
            Some(&href),
            &fit(text, MAX_SHORT),
        )?);
    }
    let client = client
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "Client".into());
    out.extend(link(
        "",
        "client_url",
        client_url.as_deref(),
        &fit(client, MAX_SHORT),
    )?);
    if out.len() > MAX_LINKS {
        return Err(IntakeError(format!(
            "links: {} links and images, at most {MAX_LINKS} are allowed",
            out.len()
        )));
    }
    Ok(out)
}

/// The body's `routing_key`: PagerDuty's integration key, which tocsin looks up before it
/// reads anything else.
pub fn routing_key(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct KeyOnly {
        routing_key: Option<String>,
    }
    serde_json::from_slice::<KeyOnly>(body)
        .ok()?
        .routing_key
        .filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fuzz;
    use crate::testing::{context, NOW};
    use proptest::prelude::*;

    /// A trigger as PagerDuty documents it, with every optional field.
    const TRIGGER: &str = r#"{
      "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "timestamp": "2025-12-31T23:58:00.000+00:00",
        "severity": "critical",
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75}
      },
      "routing_key": "samplekeyhere0123456789",
      "dedup_key": "samplekeyhere",
      "images": [{"src": "https://chart.example.com/disk.png", "href": "https://example.com/", "alt": "Example text"}],
      "links": [{"href": "https://example.com/", "text": "Link text"}],
      "event_action": "trigger",
      "client": "Sample Monitoring Service",
      "client_url": "https://monitoring.example.com"
    }"#;

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        PagerDuty.parse(&Inbound::json(body.as_bytes()), &context(100))
    }

    #[test]
    fn trigger_with_every_field() {
        let e = &parse(TRIGGER).unwrap()[0];
        assert_eq!(e.source, "pagerduty");
        assert_eq!(e.dedup_key, "samplekeyhere");
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.name, "disk");
        assert_eq!(
            e.summary,
            "DISK at 99% on machine prod-datapipe03.example.com"
        );
        assert_eq!(e.occurred_at, NOW - 120_000);
        assert_eq!(e.labels["host"], "prod-datapipe03.example.com");
        assert_eq!(e.labels["component"], "mysql");
        assert_eq!(e.labels["group"], "prod-datapipe");
        assert!(
            e.description.contains("\"free space\": \"1%\""),
            "{}",
            e.description
        );
        assert!(e.description.ends_with("client: Sample Monitoring Service"));
        let texts: Vec<&str> = e.links.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Link text", "Example text", "Sample Monitoring Service"]
        );
        assert_eq!(
            PagerDuty.reply(&parse(TRIGGER).unwrap()),
            Reply {
                status: 202,
                body: Some(
                    serde_json::json!({"status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"})
                )
            }
        );
    }

    #[test]
    fn trigger_without_a_key_gets_one() {
        let body = r#"{"routing_key": "k", "event_action": "trigger",
            "payload": {"summary": "ping failed", "source": "10.0.3.4", "severity": "error"}}"#;
        let a = &parse(body).unwrap()[0];
        assert_eq!(a.dedup_key.len(), 32);
        assert_eq!(a.severity, Severity::High);
        assert_eq!(a.labels["host_ip"], "10.0.3.4");
        assert_eq!(a.name, "ping failed");
        let other = body.replace("ping failed", "ping failed again");
        assert_ne!(parse(&other).unwrap()[0].dedup_key, a.dedup_key);
    }

    #[test]
    fn acknowledge_and_resolve_need_only_the_key() {
        let ack = &parse(
            r#"{"routing_key": "k", "event_action": "acknowledge", "dedup_key": "samplekeyhere"}"#,
        )
        .unwrap()[0];
        assert_eq!(ack.status, Status::Acknowledged);
        assert_eq!(ack.dedup_key, "samplekeyhere");
        let resolve = &parse(&TRIGGER.replace("\"trigger\"", "\"resolve\"")).unwrap()[0];
        assert_eq!(resolve.status, Status::Resolved);
        assert_eq!(resolve.dedup_key, "samplekeyhere");
    }

    #[test]
    fn refusals_name_the_field() {
        for (body, expect) in [
            (
                r#"{"event_action": "resolve"}"#,
                "dedup_key: required to resolve",
            ),
            (r#"{"event_action": "trigger"}"#, "payload: required"),
            (
                r#"{"event_action": "snooze", "dedup_key": "a"}"#,
                "event_action",
            ),
            (
                r#"{"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "fatal"}}"#,
                "payload.severity",
            ),
            (
                r#"{"event_action": "trigger", "payload": {"summary": " ", "source": "h", "severity": "info"}}"#,
                "payload.summary",
            ),
            (
                r#"{"event_action": "trigger", "payload": {"summary": "s", "severity": "info"}}"#,
                "missing field `source`",
            ),
            (
                r#"{"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info", "timestamp": "now"}}"#,
                "payload.timestamp",
            ),
            (
                r#"{"event_action": "trigger", "links": [{"text": "x"}], "payload": {"summary": "s", "source": "h", "severity": "info"}}"#,
                "links[0]",
            ),
            ("[]", "one JSON object"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
        let long = format!(
            r#"{{"event_action": "acknowledge", "dedup_key": "{}"}}"#,
            "k".repeat(256)
        );
        assert!(parse(&long)
            .unwrap_err()
            .0
            .starts_with("dedup_key: 256 bytes"));
    }

    #[test]
    fn routing_key_is_read_alone() {
        assert_eq!(
            routing_key(TRIGGER.as_bytes()).as_deref(),
            Some("samplekeyhere0123456789")
        );
        assert_eq!(routing_key(br#"{"routing_key": ""}"#), None);
        assert_eq!(routing_key(b"nope"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz::parse_json(&PagerDuty, &body);
        }

        #[test]
        fn mutated_fixture_never_panics(at in 0..TRIGGER.len(), byte in any::<u8>()) {
            fuzz::parse_json(&PagerDuty, &fuzz::mutate(TRIGGER, at, byte));
        }
    }
}
