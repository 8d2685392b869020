//! An existing Alertmanager's webhook receiver (message version 4), so a team can keep its
//! Alertmanager (routing, inhibition, silences) and page through tocsin.
//!
//! Each alert of the message is one event with the same identity as the Alertmanager API v2
//! gives it (source `prometheus`, the label-set fingerprint): an alert Prometheus sends to
//! tocsin directly and through an Alertmanager is one alert. Unlike Prometheus, an
//! Alertmanager sends a firing alert only once per `repeat_interval` (4 hours by default)
//! and says `resolved` when it ends, so a firing alert here never expires by itself.
//! Grafana's webhook is this message with a few more fields; grafana.rs reads it through
//! [`read_message`].

use crate::bounded::{too_many, Capped};
use crate::common::{end_not_before_start, go_time, link, LabeledAlert};
use crate::{parse, Adapter, Inbound, IntakeContext, IntakeError};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::cell::Cell;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Link, Status};

/// The message: its alerts and the fields tocsin reads around them.
#[derive(Debug)]
pub(crate) struct Message<A> {
    pub version: Option<String>,
    pub alerts: Vec<A>,
}

/// Reads a [`Message`] with its `alerts` counted while parsing ([`Capped`]), so a message
/// over the per-request limit is refused before its alerts are all in memory. Other
/// fields are skipped, as a derived `Deserialize` would.
struct MessageSeed<'a, A> {
    alerts: Capped<'a, A>,
}

impl<A> Clone for MessageSeed<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for MessageSeed<'_, A> {}

impl<'de, A: Deserialize<'de>> DeserializeSeed<'de> for MessageSeed<'_, A> {
    type Value = Message<A>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Message<A>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, A: Deserialize<'de>> Visitor<'de> for MessageSeed<'_, A> {
    type Value = Message<A>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a webhook message")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Message<A>, M::Error> {
        let mut version = None;
        let mut alerts = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => version = map.next_value()?,
                "alerts" if alerts.is_some() => return Err(de::Error::duplicate_field("alerts")),
                "alerts" => alerts = Some(map.next_value_seed(self.alerts)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let alerts = alerts.ok_or_else(|| de::Error::missing_field("alerts"))?;
        Ok(Message { version, alerts })
    }
}

/// One alert as an Alertmanager notifies it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookAlert {
    pub status: String,
    #[serde(deserialize_with = "crate::bounded::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    // Grafana's extras: its contact point sends Alertmanager's message with these. Here
    // rather than in a Grafana struct that flattens this one: serde's `flatten` buffers
    // every field first, which made Grafana's intake a fifth slower.
    #[serde(default, rename = "silenceURL")]
    pub silence_url: Option<String>,
    #[serde(default, rename = "dashboardURL")]
    pub dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    pub panel_url: Option<String>,
    #[serde(default, rename = "imageURL")]
    pub image_url: Option<String>,
    /// Query and expression results by reference id (`"B": 44.2`); null for no value.
    #[serde(default)]
    pub values: Option<BTreeMap<String, serde_json::Value>>,
    /// The same results as text, in Grafana 9 (`[ var='B' labels={} value=44.2 ]`).
    #[serde(default)]
    pub value_string: Option<String>,
}

/// Reads a webhook message: one JSON object whose `alerts` array is not empty and not over
/// the per-request limit.
pub(crate) fn read_message<A: serde::de::DeserializeOwned>(
    body: &[u8],
    ctx: &IntakeContext,
) -> Result<Message<A>, IntakeError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first.is_some() && first != Some(b'{') {
        return Err(IntakeError(
            "the body must be a JSON object with an `alerts` array".into(),
        ));
    }
    if first.is_none() {
        return Err(IntakeError("the body is empty".into()));
    }
    let over = Cell::new(false);
    let seed = MessageSeed {
        alerts: Capped::new(ctx.max_events, &over),
    };
    let message = parse(body, seed, &over);
    if over.get() {
        return Err(too_many("alerts", ctx.max_events));
    }
    let message = message?;
    if message.alerts.is_empty() {
        return Err(IntakeError("alerts: the array is empty".into()));
    }
    Ok(message)
}

impl WebhookAlert {
    /// The alert's state and times, with its `generatorURL` as a link named `source_text`
    /// and then `links`: a notified firing alert has no end (it lasts until the tool says
    /// `resolved`), a resolved one ended at `endsAt`.
    pub(crate) fn into_labeled(
        self,
        path: &str,
        source_text: &str,
        links: Vec<Link>,
        ctx: &IntakeContext,
    ) -> Result<LabeledAlert, IntakeError> {
        if self.labels.is_empty() {
            return Err(IntakeError(format!(
                "{path}.labels: at least one label is required"
            )));
        }
        let starts_at = go_time(path, "startsAt", self.starts_at.as_deref())?;
        let (ends_at, adjusted) =
            end_not_before_start(starts_at, go_time(path, "endsAt", self.ends_at.as_deref())?);
        let (status, occurred_at) = match self.status.as_str() {
            "firing" => (Status::Firing, starts_at.unwrap_or(ctx.now)),
            // An end after now would be a clock difference: the tool says it is over.
            "resolved" => (Status::Resolved, ends_at.unwrap_or(ctx.now).min(ctx.now)),
            other => {
                return Err(IntakeError(format!(
                    "{path}.status: {other:?} is not firing or resolved"
                )))
            }
        };
        let mut all = Vec::with_capacity(links.len() + 1);
        all.extend(link(
            path,
            "generatorURL",
            self.generator_url.as_deref(),
            source_text,
        )?);
        all.extend(links);
        Ok(LabeledAlert {
            labels: self.labels,
            annotations: self.annotations,
            status,
            occurred_at,
            ends_at: None,
            links: all,
            adjusted,
        })
    }
}

pub struct AlertmanagerWebhook;

impl Adapter for AlertmanagerWebhook {
    /// The metrics label; the events themselves carry source `prometheus`.
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let message: Message<WebhookAlert> = read_message(req.body, ctx)?;
        match message.version.as_deref() {
            None | Some("4") => {}
            Some(v) => {
                return Err(IntakeError(format!(
                    "version: {v:?} is not supported; tocsin reads webhook messages of version \"4\" (Alertmanager 0.x)"
                )))
            }
        }
        message
            .alerts
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let path = format!("alerts[{i}]");
                a.into_labeled(&path, "Source", Vec::new(), ctx)?
                    .into_event(crate::alertmanager_v2::SOURCE, &path, ctx)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::common::fuzz;
    use crate::testing::{context, NOW};
    use proptest::prelude::*;
    use tocsin_core::event::Severity;

    /// What Alertmanager 0.27 posts: two alerts of one group, one firing, one resolved.
    const FIXTURE: &str = r#"{
      "receiver": "tocsin",
      "status": "firing",
      "alerts": [
        {
          "status": "firing",
          "labels": {"alertname": "InstanceDown", "instance": "10.0.3.4:9100", "job": "node", "severity": "critical", "service": "checkout"},
          "annotations": {"summary": "10.0.3.4:9100 is down", "runbook_url": "https://runbooks.example.com/down", "dashboard": "http://grafana/d/node"},
          "startsAt": "2025-12-31T23:50:00.123Z",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
          "fingerprint": "a1b2c3d4e5f60718"
        },
        {
          "status": "resolved",
          "labels": {"alertname": "InstanceDown", "instance": "10.0.3.5:9100", "job": "node", "severity": "critical"},
          "annotations": {"summary": "10.0.3.5:9100 is down"},
          "startsAt": "2025-12-31T23:40:00Z",
          "endsAt": "2025-12-31T23:55:00Z",
          "generatorURL": "",
          "fingerprint": "0718a1b2c3d4e5f6"
        }
      ],
      "groupLabels": {"alertname": "InstanceDown"},
      "commonLabels": {"alertname": "InstanceDown", "job": "node", "severity": "critical"},
      "commonAnnotations": {},
      "externalURL": "http://alertmanager:9093",
      "version": "4",
      "groupKey": "{}:{alertname=\"InstanceDown\"}",
      "truncatedAlerts": 0
    }"#;

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        AlertmanagerWebhook.parse(&Inbound::json(body.as_bytes()), &context(100))
    }

    #[test]
    fn firing_and_resolved_alerts_of_one_message() {
        let events = parse(FIXTURE).unwrap();
        assert_eq!(events.len(), 2);
        let (f, r) = (&events[0], &events[1]);
        assert_eq!(f.source, "prometheus");
        assert_eq!(f.status, Status::Firing);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.name, "InstanceDown");
        assert_eq!(f.summary, "10.0.3.4:9100 is down");
        assert_eq!(f.description, "dashboard: http://grafana/d/node");
        assert_eq!(f.service.as_deref(), Some("checkout"));
        assert_eq!(f.occurred_at, NOW - 600_000 + 123);
        assert_eq!(
            f.ends_at, None,
            "a notified firing alert waits for its resolve"
        );
        let texts: Vec<&str> = f.links.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["Source", "Runbook"]);
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.occurred_at, NOW - 300_000);
        assert!(r.links.is_empty(), "{:?}", r.links);
    }

    #[test]
    fn identity_is_the_one_the_api_v2_gives() {
        let direct = crate::alertmanager_v2::AlertmanagerV2
            .parse(
                &Inbound::json(
                    br#"[{"labels": {"alertname": "InstanceDown", "instance": "10.0.3.4:9100", "job": "node", "severity": "critical", "service": "checkout"}}]"#,
                ),
                &context(100),
            )
            .unwrap();
        let via_am = parse(FIXTURE).unwrap();
        assert_eq!(direct[0].source, via_am[0].source);
        assert_eq!(direct[0].dedup_key, via_am[0].dedup_key);
    }

    #[test]
    fn refusals_name_the_field() {
        for (body, expect) in [
            ("[]", "JSON object"),
            ("", "empty"),
            (r#"{"version": "4"}"#, "missing field `alerts`"),
            (
                r#"{"version": "4", "alerts": []}"#,
                "alerts: the array is empty",
            ),
            (
                r#"{"version": "3", "alerts": [{"status": "firing", "labels": {"a": "1"}}]}"#,
                "version",
            ),
            (
                r#"{"alerts": [{"status": "pending", "labels": {"a": "1"}}]}"#,
                "alerts[0].status",
            ),
            (
                r#"{"alerts": [{"status": "firing", "labels": {}}]}"#,
                "alerts[0].labels",
            ),
            (
                r#"{"alerts": [{"status": "firing", "labels": {"a": 1}}]}"#,
                "alerts[0].labels.a",
            ),
            (
                r#"{"alerts": [{"status": "firing", "labels": {"a": "1"}, "startsAt": "yesterday"}]}"#,
                "alerts[0].startsAt",
            ),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
        let many = format!(
            r#"{{"alerts": [{}]}}"#,
            vec![r#"{"status": "firing", "labels": {"a": "1"}}"#; 101].join(",")
        );
        assert!(parse(&many).unwrap_err().0.contains("at most 100"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz::parse_json(&AlertmanagerWebhook, &body);
        }

        #[test]
        fn mutated_fixture_never_panics(at in 0..FIXTURE.len(), byte in any::<u8>()) {
            fuzz::parse_json(&AlertmanagerWebhook, &fuzz::mutate(FIXTURE, at, byte));
        }
    }
}
