//! A generic JSON webhook: any tool not listed, read through the field mapping in its
//! integration's config (`mapping:`, templates over each alert of the payload).

use crate::bounded::{too_many, CountAt};
use crate::limits::*;
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use tocsin_core::config::{MappedField, PayloadValues, RenderContext, WebhookMapping};
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::{parse_rfc3339, Millis};

pub struct Webhook;

pub const SOURCE: &str = "webhook";

impl Adapter for Webhook {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let mapping = ctx
            .config
            .integration(ctx.integration)
            .and_then(|i| i.mapping.as_ref())
            .ok_or_else(|| IntakeError("this webhook integration has no mapping".into()))?;
        // The alerts are counted in a first pass that keeps nothing: the payload is read
        // whole into a `Value`, which for a long array of tiny alerts is many times the
        // body's size.
        let over = Cell::new(false);
        let count = CountAt {
            steps: &mapping.items,
            max: ctx.max_events,
            over: &over,
        };
        let _ = count.deserialize(&mut serde_json::Deserializer::from_slice(req.body));
        if over.get() {
            let at = mapping.items.join(".");
            return Err(too_many(
                if at.is_empty() { "the body" } else { &at },
                ctx.max_events,
            ));
        }
        let payload: Value = serde_json::from_slice(req.body)
            .map_err(|e| IntakeError(format!("invalid JSON: {e}")))?;
        let (items, prefix) = items(mapping, &payload)?;
        if items.is_empty() {
            return Err(IntakeError(format!("{prefix}: no alerts in the payload")));
        }
        let shared = PayloadValues::default();
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = if prefix.is_empty() && items.len() == 1 && !payload.is_array() {
                    String::new()
                } else {
                    format!("{prefix}[{i}]")
                };
                convert(
                    &path,
                    mapping,
                    &RenderContext::new(item, &payload, &shared),
                    ctx,
                )
            })
            .collect()
    }
}

/// The alerts of a payload: the array at `items`, or the body itself (one alert, or an
/// array of them). Also the path to name in errors.
fn items<'p>(
    mapping: &WebhookMapping,
    payload: &'p Value,
) -> Result<(Vec<&'p Value>, String), IntakeError> {
    let mut at = payload;
    for (depth, step) in mapping.items.iter().enumerate() {
        at = at.get(step).ok_or_else(|| {
            IntakeError(format!(
                "{}: not found in the payload (mapping.items)",
                mapping.items[..=depth].join(".")
            ))
        })?;
    }
    let path = mapping.items.join(".");
    match at {
        Value::Array(list) => Ok((list.iter().collect(), path)),
        Value::Object(_) => Ok((vec![at], path)),
        _ if mapping.items.is_empty() => Err(IntakeError(
            "the body must be a JSON object or an array of objects".into(),
        )),
        _ => Err(IntakeError(format!("{path}: must be an array of alerts"))),
    }
}

fn convert(
    path: &str,
    m: &WebhookMapping,
    rc: &RenderContext<'_>,
    ctx: &IntakeContext<'_>,
) -> Result<Event, IntakeError> {
    let named = |field: &str, e: String| {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        IntakeError(format!("{at}{field}: {e}"))
    };
    let render = |field: MappedField, name: &str| -> Result<Option<String>, IntakeError> {
        m.render(field, rc)
            .transpose()
            .map(|v| v.filter(|s| !s.is_empty()))
            .map_err(|e| named(name, e))
    };
    let summary = render(MappedField::Summary, "summary")?.ok_or_else(|| {
        named(
            "summary",
            "the mapping's summary template rendered nothing for this alert".into(),
        )
    })?;
    check_len(path, "summary", &summary, MAX_SUMMARY)?;
    let description = render(MappedField::Description, "description")?.unwrap_or_default();
    check_len(path, "description", &description, MAX_DESCRIPTION)?;
    let mut labels = BTreeMap::new();
    for name in &m.label_names {
        let value = m.render_label(name, rc).map_err(|e| named("labels", e))?;
        if !value.is_empty() {
            labels.insert(name.clone(), value);
        }
    }
    if let Some(host) = render(MappedField::Host, "host")? {
        labels.insert("host".into(), host);
    }
    check_labels(path, &labels)?;
    let status = match render(MappedField::Status, "status")? {
        Some(s) => m.status_of(&s),
        None => Status::Firing,
    };
    let severity = match render(MappedField::Severity, "severity")? {
        Some(s) => m.severity_of(&s).ok_or_else(|| {
            named(
                "severity",
                format!("{s:?} is not a known severity; add it to mapping.severity_map"),
            )
        })?,
        None => Severity::Warning,
    };
    let name = render(MappedField::Name, "name")?.unwrap_or_else(|| summary.clone());
    check_len(path, "name", &name, MAX_SHORT)?;
    let dedup_key = match render(MappedField::DedupKey, "dedup_key")? {
        Some(k) => {
            check_len(path, "dedup_key", &k, MAX_SHORT)?;
            k
        }
        // Without a key, the name and the labels are the identity: two conditions on one
        // host (same labels) stay two alerts.
        None => label_fingerprint(&format!("{SOURCE}\u{1f}{name}"), &labels),
    };
    let service = render(MappedField::Service, "service")?;
    if let Some(s) = &service {
        check_len(path, "service", s, MAX_SHORT)?;
    }
    let occurred_at = match render(MappedField::OccurredAt, "occurred_at")? {
        Some(t) => parse_time(&t).map_err(|e| named("occurred_at", e))?,
        None => ctx.now,
    };
    let links = match render(MappedField::Link, "link")? {
        Some(href) => {
            check_len(path, "link", &href, MAX_HREF)?;
            vec![Link {
                href,
                text: String::new(),
            }]
        }
        None => Vec::new(),
    };
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
        links,
        occurred_at,
        received_at: ctx.now,
        ends_at: None,
    })
}

/// RFC 3339, or a Unix time in seconds or milliseconds (told apart by size).
fn parse_time(text: &str) -> Result<Millis, String> {
    if let Ok(n) = text.parse::<i64>() {
        // 10^11 seconds is the year 5138; anything larger is milliseconds.
        return Ok(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() {
            return Ok((f * 1000.0) as Millis);
        }
    }
    parse_rfc3339(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::config::{load_str, Config};

    fn config() -> Config {
        load_str(
            r#"
integrations:
  - name: uptime
    kind: webhook
    key: 0123456789abcdef0
    mapping:
      items: data.alerts
      summary: "{{ title }}"
      dedup_key: "{{ id }}"
      name: "{{ check }}"
      description: "{{ message }} ({{ payload.data.region }})"
      severity: "{{ level }}"
      severity_map: {sev1: critical, sev2: high}
      status: "{{ state }}"
      acknowledged_values: [acked]
      host: "{{ target.host }}"
      service: "{{ app }}"
      occurred_at: "{{ ts }}"
      labels: {env: "{{ env }}", region: "{{ payload.data.region }}"}
      link: "https://uptime.example/checks/{{ id }}"
"#,
        )
        .unwrap()
    }

    fn parse(config: &Config, body: &str) -> Result<Vec<Event>, IntakeError> {
        let ctx = IntakeContext {
            integration: "uptime",
            config,
            ..crate::testing::context(10)
        };
        Webhook.parse(&Inbound::json(body.as_bytes()), &ctx)
    }

    const BODY: &str = r#"{"data": {"region": "华北", "alerts": [
        {"id": "c-1", "title": "官网 down", "check": "http", "level": "SEV1", "state": "down",
         "target": {"host": "web-01"}, "app": "site", "ts": 1767225600, "env": "prod",
         "message": "timeout"},
        {"id": "c-2", "title": "api slow", "level": "warning", "state": "RESOLVED"},
        {"id": "c-3", "title": "db", "level": "sev2", "state": "acked", "ts": "2026-01-01T00:00:01Z"}
    ]}}"#;

    #[test]
    fn every_field_is_read_through_its_template() {
        let c = config();
        let events = parse(&c, BODY).unwrap();
        assert_eq!(events.len(), 3);
        let e = &events[0];
        assert_eq!(e.source, "webhook");
        assert_eq!(e.integration, "uptime");
        assert_eq!(e.dedup_key, "c-1");
        assert_eq!(e.name, "http");
        assert_eq!(e.summary, "官网 down");
        assert_eq!(e.description, "timeout (华北)");
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.service.as_deref(), Some("site"));
        assert_eq!(e.labels["host"], "web-01");
        assert_eq!(e.labels["env"], "prod");
        assert_eq!(e.labels["region"], "华北");
        assert_eq!(e.occurred_at, 1_767_225_600_000);
        assert_eq!(e.links[0].href, "https://uptime.example/checks/c-1");
        // Missing fields render empty and are left out, not stored as "".
        assert!(!events[1].labels.contains_key("env"));
        assert_eq!(events[1].status, Status::Resolved);
        assert_eq!(events[1].severity, Severity::Warning);
        assert_eq!(events[1].service, None);
        assert_eq!(events[2].status, Status::Acknowledged);
        assert_eq!(events[2].severity, Severity::High);
        assert_eq!(events[2].occurred_at, 1_767_225_601_000);
    }

    #[test]
    fn alerts_over_the_limit_are_refused_before_the_payload_is_read() {
        let c = config();
        // One alert too many, then text that is not JSON: had the payload been read before
        // the alerts were counted, the answer would be "invalid JSON".
        let alerts = [r#"{"title": "t"}"#; 11].join(",");
        let body = format!(r#"{{"data": {{"alerts": [{alerts}, not json"#);
        let e = parse(&c, &body).unwrap_err();
        assert_eq!(
            e.0,
            "data.alerts: more than 10 items in one request; at most 10 are allowed \
             (intake.max_events_per_request)"
        );
        let alerts = [r#"{"title": "t"}"#; 10].join(",");
        let body = format!(r#"{{"data": {{"alerts": [{alerts}]}}}}"#);
        assert_eq!(parse(&c, &body).unwrap().len(), 10);
    }

    #[test]
    fn errors_name_the_alert_and_field() {
        let c = config();
        let e = parse(
            &c,
            r#"{"data": {"alerts": [{"id": "x", "title": "t", "level": "purple"}]}}"#,
        )
        .unwrap_err();
        assert!(
            e.0.starts_with("data.alerts[0].severity: \"purple\""),
            "{e}"
        );
        let e = parse(&c, r#"{"data": {"alerts": [{"id": "x"}]}}"#).unwrap_err();
        assert!(e.0.contains("data.alerts[0].summary"), "{e}");
        let e = parse(&c, r#"{"data": {}}"#).unwrap_err();
        assert!(e.0.starts_with("data.alerts: not found"), "{e}");
        let e = parse(&c, r#"{"data": {"alerts": []}}"#).unwrap_err();
        assert!(e.0.contains("no alerts"), "{e}");
        let e = parse(
            &c,
            r#"{"data": {"alerts": [{"title": "t", "ts": "yesterday"}]}}"#,
        )
        .unwrap_err();
        assert!(e.0.starts_with("data.alerts[0].occurred_at"), "{e}");
        assert!(parse(&c, "{not json")
            .unwrap_err()
            .0
            .starts_with("invalid JSON"));
    }

    #[test]
    fn without_items_the_body_is_one_alert_or_many() {
        let c = load_str(
            r#"
integrations:
  - {name: uptime, kind: webhook, key: 0123456789abcdef0, mapping: {summary: "{{ msg }}"}}
"#,
        )
        .unwrap();
        let one = parse(&c, r#"{"msg": "a"}"#).unwrap();
        assert_eq!(one.len(), 1);
        let two = parse(&c, r#"[{"msg": "a"}, {"msg": "b"}]"#).unwrap();
        assert_ne!(two[0].dedup_key, two[1].dedup_key);
        assert_eq!(one[0].dedup_key, two[0].dedup_key);
        let e = parse(&c, r#"{"other": 1}"#).unwrap_err();
        assert!(e.0.starts_with("summary: "), "{e}");
    }

    #[test]
    fn templates_spell_values_like_json_and_escape_nothing() {
        let c = load_str(
            r#"
integrations:
  - name: uptime
    kind: webhook
    key: 0123456789abcdef0
    mapping:
      summary: "{{ title }} ok={{ ok }}"
      description: "{{ gone }}|{{ missing.deeper }}|{{ ok }}"
      labels: {html: "{{ title }}", path: "{{ ok }}"}
"#,
        )
        .unwrap();
        let e = &parse(&c, r#"{"title": "a<b & c", "ok": true, "gone": null}"#).unwrap()[0];
        assert_eq!(e.summary, "a<b & c ok=true");
        assert_eq!(e.description, "||true");
        assert_eq!(e.labels["html"], "a<b & c");
        assert_eq!(
            e.labels["path"], "true",
            "a plain path reads like a template"
        );
    }

    #[test]
    fn without_a_key_the_name_is_part_of_the_identity() {
        let c = load_str(
            r#"
integrations:
  - name: uptime
    kind: webhook
    key: 0123456789abcdef0
    mapping: {summary: "{{ title }}", name: "{{ check }}", host: "{{ host }}"}
"#,
        )
        .unwrap();
        let two = parse(
            &c,
            r#"[{"title": "cpu", "check": "cpu", "host": "h1"}, {"title": "disk", "check": "disk", "host": "h1"}]"#,
        )
        .unwrap();
        assert_ne!(two[0].dedup_key, two[1].dedup_key);
        let again = parse(&c, r#"{"title": "cpu 99%", "check": "cpu", "host": "h1"}"#).unwrap();
        assert_eq!(
            again[0].dedup_key, two[0].dedup_key,
            "a changing summary keeps the alert"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let c = config();
            let ctx = IntakeContext { integration: "uptime", config: &c, ..crate::testing::context(10) };
            let _ = Webhook.parse(&Inbound::json(&body), &ctx);
        }

        #[test]
        fn mutated_payloads_never_panic(cut in 0usize..BODY.len(), byte in proptest::num::u8::ANY) {
            let c = config();
            let mut body = BODY.as_bytes().to_vec();
            body[cut] = byte;
            let ctx = IntakeContext { integration: "uptime", config: &c, ..crate::testing::context(10) };
            let _ = Webhook.parse(&Inbound::json(&body), &ctx);
        }
    }
}
