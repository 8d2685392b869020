//! CloudEvents 1.0 over HTTP, in structured mode (`application/cloudevents+json`, or a batch
//! `application/cloudevents-batch+json`) and binary mode (attributes in `ce-*` headers, the
//! body is the data).
//!
//! CloudEvents is an envelope, so the alert is read from it by convention: `data` may carry
//! tocsin's own event fields (`summary`, `severity`, `status`, `dedup_key`, `labels`,
//! `service`, `description`), and the envelope fills in the rest: the identity is `source`
//! plus `subject` (or `type`), the time is `time`, and a `type` ending in `.resolved`
//! resolves.

use crate::bounded::{too_many, Capped};
use crate::limits::*;
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use serde::de::DeserializeSeed;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::parse_rfc3339;

pub struct CloudEvents;

pub const SOURCE: &str = "cloudevents";

impl Adapter for CloudEvents {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let content_type = req.content_type();
        if content_type == "application/cloudevents-batch+json" {
            let over = Cell::new(false);
            let mut de = serde_json::Deserializer::from_slice(req.body);
            let batch = Capped::<Value>::new(ctx.max_events, &over)
                .deserialize(&mut de)
                .and_then(|batch| de.end().map(|()| batch));
            if over.get() {
                return Err(too_many("the batch", ctx.max_events));
            }
            let batch = batch.map_err(|e| IntakeError(format!("invalid batch: {e}")))?;
            if batch.is_empty() {
                return Err(IntakeError("the batch is empty".into()));
            }
            return batch
                .into_iter()
                .enumerate()
                .map(|(i, v)| structured(&format!("[{i}]."), v, ctx))
                .collect();
        }
        if req.header("ce-specversion").is_some() {
            return binary(req, ctx).map(|e| vec![e]);
        }
        let value: Value = serde_json::from_slice(req.body).map_err(|e| {
            IntakeError(format!(
                "invalid JSON: {e} (binary mode needs the ce-specversion header)"
            ))
        })?;
        structured("", value, ctx).map(|e| vec![e])
    }
}

/// The context attributes tocsin reads.
struct Attributes {
    id: String,
    source: String,
    kind: String,
    subject: Option<String>,
    time: Option<String>,
}

fn structured(path: &str, value: Value, ctx: &IntakeContext<'_>) -> Result<Event, IntakeError> {
    let Value::Object(mut map) = value else {
        return Err(IntakeError(format!(
            "{path}: a CloudEvent must be a JSON object"
        )));
    };
    let mut text = |name: &str| -> Result<Option<String>, IntakeError> {
        match map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(IntakeError(format!("{path}{name}: must be a string"))),
        }
    };
    let spec = text("specversion")?;
    let attrs = Attributes {
        id: text("id")?.unwrap_or_default(),
        source: text("source")?.unwrap_or_default(),
        kind: text("type")?.unwrap_or_default(),
        subject: text("subject")?,
        time: text("time")?,
    };
    check_attributes(path, spec.as_deref(), &attrs)?;
    let data = match map.remove("data") {
        Some(Value::Object(d)) => d,
        Some(Value::Null) | None => Map::new(),
        Some(Value::String(s)) => Map::from_iter([("summary".to_string(), Value::String(s))]),
        Some(_) => {
            return Err(IntakeError(format!(
                "{path}data: must be an object or a string"
            )))
        }
    };
    convert(path, attrs, data, ctx)
}

fn binary(req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Event, IntakeError> {
    let header = |name: &str| req.header(name).map(str::to_owned);
    let attrs = Attributes {
        id: header("ce-id").unwrap_or_default(),
        source: header("ce-source").unwrap_or_default(),
        kind: header("ce-type").unwrap_or_default(),
        subject: header("ce-subject"),
        time: header("ce-time"),
    };
    check_attributes("", req.header("ce-specversion"), &attrs)?;
    let data = if req.body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else if req.content_type().ends_with("json") || req.content_type().is_empty() {
        match serde_json::from_slice(req.body) {
            Ok(Value::Object(d)) => d,
            Ok(_) => return Err(IntakeError("data: must be a JSON object".into())),
            Err(e) => return Err(IntakeError(format!("data: invalid JSON: {e}"))),
        }
    } else {
        let text = std::str::from_utf8(req.body)
            .map_err(|_| IntakeError("data: text data must be UTF-8".into()))?;
        Map::from_iter([("summary".to_string(), Value::String(text.trim().into()))])
    };
    convert("", attrs, data, ctx)
}

fn check_attributes(path: &str, spec: Option<&str>, a: &Attributes) -> Result<(), IntakeError> {
    match spec {
        Some("1.0") => {}
        Some(other) => {
            return Err(IntakeError(format!(
                "{path}specversion: {other:?} is not supported; use 1.0"
            )))
        }
        None => return Err(IntakeError(format!("{path}specversion: required (1.0)"))),
    }
    for (name, value) in [("id", &a.id), ("source", &a.source), ("type", &a.kind)] {
        if value.is_empty() {
            return Err(IntakeError(format!("{path}{name}: required")));
        }
        check_len(path.trim_end_matches('.'), name, value, MAX_SHORT)?;
    }
    Ok(())
}

fn convert(
    path: &str,
    a: Attributes,
    mut data: Map<String, Value>,
    ctx: &IntakeContext<'_>,
) -> Result<Event, IntakeError> {
    let mut field = |name: &str| -> Result<Option<String>, IntakeError> {
        match data.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(IntakeError(format!("{path}data.{name}: must be a string"))),
        }
    };
    let summary = match field("summary")?.or(field("title")?).or(field("message")?) {
        Some(s) => s,
        None => match &a.subject {
            Some(subject) => format!("{}: {subject}", a.kind),
            None => a.kind.clone(),
        },
    };
    let description = field("description")?.unwrap_or_default();
    let status = match field("status")? {
        Some(s) => Status::parse(&s).ok_or_else(|| {
            IntakeError(format!(
                "{path}data.status: {s:?} is not firing, resolved, acknowledged or note"
            ))
        })?,
        None if a.kind.ends_with(".resolved") || a.kind.ends_with(".recovered") => Status::Resolved,
        None => Status::Firing,
    };
    let severity = match field("severity")? {
        Some(s) => Severity::parse(&s.to_lowercase())
            .or(match s.to_lowercase().as_str() {
                "error" => Some(Severity::High),
                "warn" => Some(Severity::Warning),
                _ => None,
            })
            .ok_or_else(|| {
                IntakeError(format!(
                    "{path}data.severity: {s:?} is not critical, high, warning or info"
                ))
            })?,
        None => Severity::Warning,
    };
    let service = field("service")?;
    if let Some(s) = &service {
        check_len(path.trim_end_matches('.'), "service", s, MAX_SHORT)?;
    }
    let explicit_key = field("dedup_key")?;
    let mut labels: BTreeMap<String, String> = match data.remove("labels") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => serde_json::from_value(v)
            .map_err(|_| IntakeError(format!("{path}data.labels: must be an object of strings")))?,
    };
    labels.insert("ce_source".into(), a.source.clone());
    labels.insert("ce_type".into(), a.kind.clone());
    if let Some(subject) = &a.subject {
        labels.insert("ce_subject".into(), subject.clone());
    }
    check_labels(path.trim_end_matches('.'), &labels)?;
    check_len(path.trim_end_matches('.'), "summary", &summary, MAX_SUMMARY)?;
    check_len(
        path.trim_end_matches('.'),
        "description",
        &description,
        MAX_DESCRIPTION,
    )?;
    // One alert per thing the events are about: the producer plus the subject, or the
    // event type when there is no subject (the CloudEvent `id` is per event, not per alert).
    let dedup_key = explicit_key.unwrap_or_else(|| {
        let what = a.subject.clone().unwrap_or_else(|| {
            a.kind
                .trim_end_matches(".resolved")
                .trim_end_matches(".recovered")
                .to_string()
        });
        label_fingerprint(&a.source, &BTreeMap::from([(String::new(), what)]))
    });
    let occurred_at = match &a.time {
        Some(t) => parse_rfc3339(t).map_err(|e| IntakeError(format!("{path}time: {e}")))?,
        None => ctx.now,
    };
    let name = a
        .kind
        .trim_end_matches(".resolved")
        .trim_end_matches(".recovered")
        .to_string();
    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key,
        status,
        severity,
        name,
        summary,
        description,
        service,
        labels,
        links: Vec::new(),
        occurred_at,
        received_at: ctx.now,
        ends_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> IntakeContext<'static> {
        IntakeContext {
            integration: "events",
            ..crate::testing::context(10)
        }
    }

    const STRUCTURED: &str = r#"{"specversion": "1.0", "id": "e-1", "source": "//ci/pipeline",
        "type": "com.example.build.failed", "subject": "main", "time": "2026-01-01T00:00:05Z",
        "datacontenttype": "application/json",
        "data": {"summary": "构建失败 build failed", "severity": "high", "labels": {"repo": "api"}}}"#;

    #[test]
    fn structured_mode() {
        let e = &CloudEvents
            .parse(&Inbound::json(STRUCTURED.as_bytes()), &ctx())
            .unwrap()[0];
        assert_eq!(e.source, "cloudevents");
        assert_eq!(e.integration, "events");
        assert_eq!(e.summary, "构建失败 build failed");
        assert_eq!(e.severity, Severity::High);
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.name, "com.example.build.failed");
        assert_eq!(e.labels["repo"], "api");
        assert_eq!(e.labels["ce_subject"], "main");
        assert_eq!(e.occurred_at, crate::testing::NOW + 5000);
        // Another event about the same subject is the same alert.
        let again = STRUCTURED.replace("e-1", "e-2");
        let e2 = &CloudEvents
            .parse(&Inbound::json(again.as_bytes()), &ctx())
            .unwrap()[0];
        assert_eq!(e.dedup_key, e2.dedup_key);
    }

    #[test]
    fn binary_mode_and_resolution_by_type() {
        let headers = [
            ("ce-specversion", "1.0"),
            ("ce-id", "e-9"),
            ("ce-source", "//monitor/disk"),
            ("ce-type", "disk.full.resolved"),
            ("ce-subject", "db-01"),
            ("content-type", "application/json"),
        ];
        let req = Inbound {
            headers: &headers,
            ..Inbound::json(br#"{"labels": {"host": "db-01"}}"#)
        };
        let e = &CloudEvents.parse(&req, &ctx()).unwrap()[0];
        assert_eq!(e.status, Status::Resolved);
        assert_eq!(e.name, "disk.full");
        assert_eq!(e.summary, "disk.full.resolved: db-01");
        assert_eq!(e.labels["host"], "db-01");
        let firing_headers = [
            ("ce-specversion", "1.0"),
            ("ce-id", "e-8"),
            ("ce-source", "//monitor/disk"),
            ("ce-type", "disk.full"),
            ("ce-subject", "db-01"),
            ("content-type", "text/plain"),
        ];
        let firing = Inbound {
            headers: &firing_headers,
            ..Inbound::json("磁盘满了".as_bytes())
        };
        let f = &CloudEvents.parse(&firing, &ctx()).unwrap()[0];
        assert_eq!(f.summary, "磁盘满了");
        assert_eq!(
            f.dedup_key, e.dedup_key,
            "firing and resolved are one alert"
        );
    }

    #[test]
    fn batches_and_errors() {
        let headers = [("content-type", "application/cloudevents-batch+json")];
        let body = format!(
            "[{STRUCTURED}, {}]",
            STRUCTURED.replace("\"main\"", "\"dev\"")
        );
        let req = Inbound {
            headers: &headers,
            ..Inbound::json(body.as_bytes())
        };
        let events = CloudEvents.parse(&req, &ctx()).unwrap();
        assert_eq!(events.len(), 2);
        assert_ne!(events[0].dedup_key, events[1].dedup_key);

        let no_id = STRUCTURED.replace("\"id\": \"e-1\",", "");
        let e = CloudEvents
            .parse(&Inbound::json(no_id.as_bytes()), &ctx())
            .unwrap_err();
        assert_eq!(e.0, "id: required");
        let v03 = STRUCTURED.replace("\"1.0\"", "\"0.3\"");
        let e = CloudEvents
            .parse(&Inbound::json(v03.as_bytes()), &ctx())
            .unwrap_err();
        assert!(e.0.starts_with("specversion: \"0.3\""), "{e}");
        let bad = STRUCTURED.replace("\"high\"", "\"purple\"");
        let e = CloudEvents
            .parse(&Inbound::json(bad.as_bytes()), &ctx())
            .unwrap_err();
        assert!(e.0.starts_with("data.severity"), "{e}");
        let req = Inbound {
            headers: &headers,
            ..Inbound::json(b"[{\"specversion\": \"1.0\"}]")
        };
        let e = CloudEvents.parse(&req, &ctx()).unwrap_err();
        assert!(e.0.starts_with("[0].id: required"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = CloudEvents.parse(&Inbound::json(&body), &ctx());
        }

        #[test]
        fn mutated_events_never_panic(cut in 0usize..STRUCTURED.len(), byte in proptest::num::u8::ANY) {
            let mut body = STRUCTURED.as_bytes().to_vec();
            body[cut] = byte;
            let _ = CloudEvents.parse(&Inbound::json(&body), &ctx());
        }
    }
}
