//! The Prometheus Alertmanager API v2 alert list (`POST /api/v2/alerts`), so Prometheus can
//! send to tocsin directly.
//!
//! Semantics follow Alertmanager: the identity of an alert is its label set; a zero
//! `0001-01-01T00:00:00Z` time means unset; an `endsAt` in the past resolves the alert; an
//! alert without `endsAt` resolves by itself unless it is sent again within
//! `resolve_timeout`.

use crate::limits::*;
use crate::{convert_all, one_or_many, Adapter, Inbound, IntakeContext, IntakeError};
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::{parse_rfc3339, Millis};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert {
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

    fn parse(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
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

/// Reads an optional Alertmanager time; the Go zero time means unset.
fn time(path: &str, field: &str, value: &Option<String>) -> Result<Option<Millis>, IntakeError> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => {
            let ms =
                parse_rfc3339(text).map_err(|m| IntakeError(format!("{path}.{field}: {m}")))?;
            // Anything in year 1 is Go's zero time.
            Ok((ms > -62_135_596_800_000 + 366 * 86_400_000).then_some(ms))
        }
    }
}

/// Prometheus rules name severities freely; map the common spellings.
pub fn severity_of(label: Option<&str>) -> Severity {
    match label.map(str::to_ascii_lowercase).as_deref() {
        Some("critical" | "crit" | "page" | "p1" | "emergency" | "fatal" | "disaster") => {
            Severity::Critical
        }
        Some("high" | "error" | "major" | "p2") => Severity::High,
        Some("info" | "informational" | "none" | "low" | "p4" | "p5" | "notice") => Severity::Info,
        _ => Severity::Warning,
    }
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `description` annotation, followed by the annotations tocsin has no field for, one
/// `name: value` line each, so nothing a rule author wrote is lost.
fn description(annotations: &BTreeMap<String, String>) -> String {
    let mut text = annotations.get("description").cloned().unwrap_or_default();
    for (k, v) in annotations {
        if !matches!(k.as_str(), "summary" | "description" | "runbook_url") {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("{k}: {v}"));
        }
    }
    text
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
    check_labels(path, &a.labels)?;
    for (k, v) in &a.annotations {
        if v.len() > MAX_DESCRIPTION {
            check_len(&format!("{path}.annotations"), k, v, MAX_DESCRIPTION)?;
        }
    }
    let starts_at = time(path, "startsAt", &a.starts_at)?;
    let ends_at = time(path, "endsAt", &a.ends_at)?;
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e < s {
            return Err(IntakeError(format!("{path}: endsAt is before startsAt")));
        }
    }
    let resolved = ends_at.is_some_and(|e| e <= ctx.now);
    let mut links = Vec::new();
    if let Some(url) = a.generator_url.filter(|u| !u.is_empty()) {
        check_len(path, "generatorURL", &url, MAX_HREF)?;
        links.push(Link {
            href: url,
            text: "Source".into(),
        });
    }
    if let Some(url) = a.annotations.get("runbook_url").filter(|u| !u.is_empty()) {
        check_len(path, "annotations.runbook_url", url, MAX_HREF)?;
        links.push(Link {
            href: url.clone(),
            text: "Runbook".into(),
        });
    }
    let name = a.labels.get("alertname").cloned().unwrap_or_default();
    let mut summary = a
        .annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
        .cloned()
        .unwrap_or_else(|| name.clone());
    if summary.len() > MAX_SUMMARY {
        let mut cut = MAX_SUMMARY;
        while !summary.is_char_boundary(cut) {
            cut -= 1;
        }
        summary.truncate(cut);
    }
    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key: label_fingerprint("", &a.labels),
        status: if resolved {
            Status::Resolved
        } else {
            Status::Firing
        },
        severity: severity_of(a.labels.get("severity").map(String::as_str)),
        name,
        summary,
        description: description(&a.annotations),
        service: a.labels.get("service").cloned(),
        occurred_at: if resolved {
            ends_at.unwrap_or(ctx.now)
        } else {
            starts_at.unwrap_or(ctx.now)
        },
        received_at: ctx.now,
        ends_at: if resolved {
            None
        } else {
            Some(ends_at.unwrap_or(ctx.now + ctx.resolve_timeout))
        },
        labels: a.labels,
        links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (r#"[{"labels": {"a": 1}}]"#, "[0].labels.a"),
            (
                r#"[{"labels": {"a": "1"}, "startsAt": "2026-01-02T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"}]"#,
                "before startsAt",
            ),
            (r#"[{"labels": {"a": "1"}, "startsAt": "now"}]"#, "startsAt"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
    }

    #[test]
    fn severities_map() {
        assert_eq!(severity_of(Some("Critical")), Severity::Critical);
        assert_eq!(severity_of(Some("error")), Severity::High);
        assert_eq!(severity_of(Some("info")), Severity::Info);
        assert_eq!(severity_of(None), Severity::Warning);
    }
}
