//! The Prometheus Alertmanager API v2 alert list (`POST /api/v2/alerts`), so Prometheus can
//! send to tocsin directly.
//!
//! Semantics follow Alertmanager: the identity of an alert is its label set; a zero
//! `0001-01-01T00:00:00Z` time means unset; an `endsAt` in the past resolves the alert; an
//! alert without `endsAt` resolves by itself unless it is sent again within
//! `resolve_timeout`.

use crate::common::{end_not_before_start, go_time, link, LabeledAlert};
use crate::{convert_all, one_or_many, Adapter, Inbound, IntakeContext, IntakeError};
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Status};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert {
    #[serde(deserialize_with = "crate::bounded::labels")]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

pub struct AlertmanagerV2;

pub const SOURCE: &str = "prometheus";

impl Adapter for AlertmanagerV2 {
    fn name(&self) -> &'static str {
        SOURCE
    }

    /// Alertmanager answers 200 with an empty body.
    fn reply(&self, _events: &[Event]) -> crate::Reply {
        crate::Reply {
            status: 200,
            body: None,
        }
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let body = req.body;
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        if first != Some(b'[') {
            return Err(IntakeError(
                "the body must be a JSON array of alerts".into(),
            ));
        }
        let (raw, single): (Vec<PostableAlert>, bool) = one_or_many(body, ctx.max_events)?;
        convert_all(raw, single, |path, item| convert(path, item, ctx))
    }
}

pub use crate::common::severity_of;

/// Prometheus' label names, `[a-zA-Z_][a-zA-Z0-9_]*`. Checked byte by byte (every label of
/// every alert): a multi-byte character fails at its first byte as it would as a char.
fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn convert(path: &str, a: PostableAlert, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    if a.labels.is_empty() {
        return Err(IntakeError(format!(
            "{path}.labels: at least one label is required"
        )));
    }
    if let Some(bad) = a.labels.keys().find(|k| !valid_label_name(k)) {
        return Err(IntakeError(format!(
            "{path}.labels: invalid label name {bad:?}"
        )));
    }
    let starts_at = go_time(path, "startsAt", a.starts_at.as_deref())?;
    let (ends_at, adjusted) =
        end_not_before_start(starts_at, go_time(path, "endsAt", a.ends_at.as_deref())?);
    let resolved = ends_at.is_some_and(|e| e <= ctx.now);
    let links = link(path, "generatorURL", a.generator_url, "Source")?;
    LabeledAlert {
        labels: a.labels,
        annotations: a.annotations,
        status: if resolved {
            Status::Resolved
        } else {
            Status::Firing
        },
        occurred_at: if resolved {
            ends_at.unwrap_or(ctx.now)
        } else {
            starts_at.unwrap_or(ctx.now)
        },
        ends_at: if resolved {
            None
        } else {
            Some(ends_at.unwrap_or(ctx.now + ctx.resolve_timeout))
        },
        links: links.into_iter().collect(),
        adjusted,
    }
    .into_event(SOURCE, path, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_core::event::Severity;
    use tocsin_core::time::Millis;

    const NOW: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    static CTX: std::sync::LazyLock<IntakeContext<'static>> =
        std::sync::LazyLock::new(|| IntakeContext {
            now: NOW,
            ..crate::testing::context(100)
        });

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        AlertmanagerV2.parse(&crate::Inbound::json(body.as_bytes()), &CTX)
    }

    #[test]
    fn firing_alert_without_end_gets_resolve_timeout() {
        let e = &parse(
            r#"[{"labels": {"alertname": "HighLatency", "severity": "critical", "service": "api"},
            "annotations": {"summary": "p99 > 500ms"}, "generatorURL": "http://prom/graph",
            "startsAt": "2025-12-31T23:59:00Z", "endsAt": "0001-01-01T00:00:00Z"}]"#,
        )
        .unwrap()[0];
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.ends_at, Some(NOW + 300_000));
        assert_eq!(e.occurred_at, NOW - 60_000);
        assert_eq!(e.summary, "p99 > 500ms");
        assert_eq!(e.service.as_deref(), Some("api"));
        assert_eq!(e.links[0].href, "http://prom/graph");
        let e = &parse(r#"[{"labels": {"a": "1"}, "annotations": {"description": "d", "dashboard": "http://g", "value": "0.7"}}]"#).unwrap()[0];
        assert_eq!(e.description, "d\ndashboard: http://g\nvalue: 0.7");
    }

    #[test]
    fn end_in_the_past_resolves_and_identity_is_the_label_set() {
        let firing = &parse(r#"[{"labels": {"a": "1", "b": "2"}}]"#).unwrap()[0];
        let resolved =
            &parse(r#"[{"labels": {"b": "2", "a": "1"}, "endsAt": "2025-12-31T23:00:00Z"}]"#)
                .unwrap()[0];
        assert_eq!(resolved.status, Status::Resolved);
        assert_eq!(resolved.ends_at, None);
        assert_eq!(firing.dedup_key, resolved.dedup_key);
        let future =
            &parse(r#"[{"labels": {"a": "1"}, "endsAt": "2026-01-01T00:03:00Z"}]"#).unwrap()[0];
        assert_eq!(future.status, Status::Firing);
        assert_eq!(future.ends_at, Some(NOW + 180_000));
    }

    #[test]
    fn invalid_alerts_are_refused() {
        for (body, expect) in [
            (r#"{"labels": {"a": "1"}}"#, "array"),
            (r#"[{"labels": {}}]"#, "at least one label"),
            (r#"[{"annotations": {}}]"#, "missing field `labels`"),
            (r#"[{"labels": {"bad-name": "1"}}]"#, "invalid label name"),
            (r#"[{"labels": {"é": "1"}}]"#, "invalid label name"),
            (
                r#"[{"labels": {"_ok": "1", "1x": "1"}}]"#,
                "invalid label name \"1x\"",
            ),
            (r#"[{"labels": {"a": 1}}]"#, "[0].labels.a"),
            (r#"[{"labels": {"a": "1"}, "startsAt": "now"}]"#, "startsAt"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
    }
}
