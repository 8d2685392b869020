//! tocsin's own event format: `POST /api/v1/events`, one object or an array.

use crate::limits::*;
use crate::{convert_all, one_or_many, Adapter, Inbound, IntakeContext, IntakeError};
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Link, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;
use tocsin_core::time::parse_rfc3339;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeEvent {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    summary: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default, deserialize_with = "crate::bounded::labels")]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    links: Vec<NativeLink>,
    #[serde(default)]
    occurred_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeLink {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

pub struct Native;

pub const SOURCE: &str = "api";

impl Adapter for Native {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let body = req.body;
        let (raw, single): (Vec<NativeEvent>, bool) = one_or_many(body, ctx.max_events)?;
        convert_all(raw, single, |path, item| convert(path, item, ctx))
    }
}

fn convert(path: &str, e: NativeEvent, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    let source = e.source.unwrap_or_else(|| SOURCE.to_string());
    if source.is_empty() {
        return Err(IntakeError(format!("{path}.source: must not be empty")));
    }
    check_len(path, "source", &source, MAX_SHORT)?;
    if e.summary.trim().is_empty() {
        return Err(IntakeError(format!("{path}.summary: must not be empty")));
    }
    check_len(path, "summary", &e.summary, MAX_SUMMARY)?;
    let description = e.description.unwrap_or_default();
    check_len(path, "description", &description, MAX_DESCRIPTION)?;
    if let Some(s) = &e.service {
        check_len(path, "service", s, MAX_SHORT)?;
    }
    check_labels(path, &e.labels)?;
    if e.links.len() > MAX_LINKS {
        return Err(IntakeError(format!(
            "{path}.links: at most {MAX_LINKS} links are allowed"
        )));
    }
    let mut links = Vec::with_capacity(e.links.len());
    for (j, l) in e.links.into_iter().enumerate() {
        check_len(&format!("{path}.links[{j}]"), "href", &l.href, MAX_HREF)?;
        let text = l.text.unwrap_or_default();
        check_len(&format!("{path}.links[{j}]"), "text", &text, MAX_SHORT)?;
        links.push(Link { href: l.href, text });
    }
    let dedup_key = match e.dedup_key {
        Some(k) if k.is_empty() => {
            return Err(IntakeError(format!(
                "{path}.dedup_key: must not be empty when given"
            )))
        }
        Some(k) => {
            check_len(path, "dedup_key", &k, MAX_SHORT)?;
            k
        }
        // Without labels the summary is what tells two conditions apart.
        None if e.labels.is_empty() => {
            let mut by_summary = BTreeMap::new();
            by_summary.insert(String::new(), e.summary.clone());
            label_fingerprint(&source, &by_summary)
        }
        None => label_fingerprint(&source, &e.labels),
    };
    let status = match e.status.as_deref() {
        None => Status::Firing,
        Some(s) => Status::parse(s).ok_or_else(|| {
            IntakeError(format!(
                "{path}.status: {s:?} is not firing, resolved, acknowledged or note"
            ))
        })?,
    };
    let severity = match e.severity.as_deref() {
        None => Severity::Warning,
        Some(s) => Severity::parse(s).ok_or_else(|| {
            IntakeError(format!(
                "{path}.severity: {s:?} is not critical, high, warning or info"
            ))
        })?,
    };
    let occurred_at = match &e.occurred_at {
        Some(t) => parse_rfc3339(t).map_err(|m| IntakeError(format!("{path}.occurred_at: {m}")))?,
        None => ctx.now,
    };
    let name = e
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| e.summary.clone());
    Ok(Event {
        source,
        integration: ctx.integration.to_string(),
        dedup_key,
        status,
        severity,
        name,
        summary: e.summary,
        description,
        service: e.service,
        labels: e.labels,
        links,
        occurred_at,
        received_at: ctx.now,
        ends_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static CTX: std::sync::LazyLock<IntakeContext<'static>> =
        std::sync::LazyLock::new(|| IntakeContext {
            now: 1_700_000_000_000,
            ..crate::testing::context(3)
        });

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        Native.parse(&crate::Inbound::json(body.as_bytes()), &CTX)
    }

    #[test]
    fn one_object_with_defaults() {
        let e = &parse(r#"{"summary": "磁盘将满 disk almost full", "labels": {"host": "db1"}}"#)
            .unwrap()[0];
        assert_eq!(e.source, "api");
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Warning);
        assert_eq!(e.name, "磁盘将满 disk almost full");
        assert_eq!(e.occurred_at, CTX.now);
        assert_eq!(e.dedup_key.len(), 32);
    }

    #[test]
    fn dedup_key_defaults_to_source_and_labels() {
        let a = &parse(r#"{"summary": "a", "labels": {"host": "db1"}}"#).unwrap()[0];
        let b = &parse(r#"{"summary": "b", "labels": {"host": "db1"}}"#).unwrap()[0];
        let c = &parse(r#"{"summary": "a", "source": "x", "labels": {"host": "db1"}}"#).unwrap()[0];
        assert_eq!(a.dedup_key, b.dedup_key);
        assert_ne!(a.dedup_key, c.dedup_key);
        let explicit = &parse(r#"{"summary": "a", "dedup_key": "k1"}"#).unwrap()[0];
        assert_eq!(explicit.dedup_key, "k1");
    }

    #[test]
    fn arrays_and_their_errors_name_the_item() {
        assert_eq!(
            parse(r#"[{"summary": "a"}, {"summary": "b", "status": "resolved"}]"#)
                .unwrap()
                .len(),
            2
        );
        let err =
            parse(r#"[{"summary": "a"}, {"summary": "b", "severity": "fatal"}]"#).unwrap_err();
        assert!(err.0.starts_with("[1].severity:"), "{err}");
        let err = parse(r#"{"summary": "a", "severity": 1}"#).unwrap_err();
        assert!(err.0.starts_with("severity:"), "{err}");
        let err = parse(r#"[{"summary": "a", "serverity": "high"}]"#).unwrap_err();
        assert!(err.0.contains("unknown field `serverity`"), "{err}");
        let err = parse(r#"{"summary": "a", "labels": {"n": 5}}"#).unwrap_err();
        assert!(err.0.starts_with("labels.n:"), "{err}");
    }

    #[test]
    fn bad_bodies_are_refused() {
        for (body, expect) in [
            ("", "empty"),
            ("[]", "empty"),
            ("42", "object or an array"),
            (r#"{"summary": "a""#, "invalid JSON"),
            (r#"{"summary": "a"} x"#, "invalid JSON"),
            (r#"{"summary": " "}"#, "summary: must not be empty"),
            (r#"{"description": "no summary"}"#, "summary"),
            (
                r#"{"summary": "a", "occurred_at": "yesterday"}"#,
                "occurred_at",
            ),
            (
                r#"[{"summary":"a"},{"summary":"a"},{"summary":"a"},{"summary":"a"}]"#,
                "at most 3",
            ),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
        let long = format!(r#"{{"summary": "{}"}}"#, "x".repeat(MAX_SUMMARY + 1));
        assert!(parse(&long).unwrap_err().0.contains("at most"));
        assert!(Native
            .parse(&crate::Inbound::json(b"{\"summary\": \"\xff\xfe\"}"), &CTX)
            .is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    static CTX: std::sync::LazyLock<IntakeContext<'static>> =
        std::sync::LazyLock::new(|| IntakeContext {
            now: 1_700_000_000_000,
            ..crate::testing::context(100)
        });

    proptest! {
        /// Whatever a client sends, intake answers with events or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Native.parse(&crate::Inbound::json(&body), &CTX);
            let _ = crate::alertmanager_v2::AlertmanagerV2.parse(&crate::Inbound::json(&body), &CTX);
        }

        /// Any summary and labels in any script round-trip into the event unchanged.
        #[test]
        fn text_in_any_language_is_kept(
            summary in "\\PC{1,40}",
            labels in proptest::collection::btree_map("[a-z_]{1,10}", "\\PC{0,20}", 0..6),
        ) {
            prop_assume!(!summary.trim().is_empty());
            let body = serde_json::json!({"summary": summary, "labels": labels}).to_string();
            let events = Native.parse(&crate::Inbound::json(body.as_bytes()), &CTX).unwrap();
            prop_assert_eq!(&events[0].summary, &summary);
            prop_assert_eq!(&events[0].labels, &labels);
        }
    }
}
