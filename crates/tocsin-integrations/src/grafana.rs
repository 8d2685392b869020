//! Grafana's alerting webhook contact point (unified alerting, Grafana 8 and later).
//!
//! The message is an Alertmanager webhook message (Grafana runs an Alertmanager inside)
//! with links to the rule, dashboard, panel and silence, and the query values that fired.
//! So it reads the same way: one event per alert, the label set its identity (source
//! `grafana`), firing until Grafana says `resolved`. Legacy dashboard alerts (Grafana 7 and
//! earlier, no `alerts` array) are refused with a message that says so.

use crate::alertmanager_webhook::{read_message, WebhookAlert};
use crate::common::{link, push_line};
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::Event;

pub const SOURCE: &str = "grafana";

pub struct Grafana;

impl Adapter for Grafana {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let message = read_message::<WebhookAlert>(req.body, ctx).map_err(|e| {
            if e.0.contains("missing field `alerts`") {
                IntakeError(
                    "alerts: missing; this looks like a legacy Grafana alert (Grafana 7 and \
                     earlier): tocsin reads Grafana Alerting contact points"
                        .into(),
                )
            } else {
                e
            }
        })?;
        message
            .alerts
            .into_iter()
            .enumerate()
            .map(|(i, a)| convert(&format!("alerts[{i}]"), a, ctx))
            .collect()
    }
}

fn convert(path: &str, mut a: WebhookAlert, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    let mut links = Vec::new();
    for (field, url, text) in [
        ("dashboardURL", &a.dashboard_url, "Dashboard"),
        ("panelURL", &a.panel_url, "Panel"),
        ("silenceURL", &a.silence_url, "Silence"),
        ("imageURL", &a.image_url, "Image"),
    ] {
        links.extend(link(path, field, url.as_deref(), text)?);
    }
    let (values, value_string) = (a.values.take(), a.value_string.take());
    let mut labeled = a.into_labeled(path, "Alert rule", links, ctx)?;
    // `__dashboardUid__`, `__panelId__`, `__orgId__`...: Grafana's internals, already links.
    labeled.annotations.retain(|k, _| !k.starts_with("__"));
    let mut event = labeled.into_event(SOURCE, path, ctx)?;
    let values = values_line(values.as_ref(), value_string.as_deref());
    if !values.is_empty() {
        push_line(&mut event.description, &format!("values: {values}"));
    }
    Ok(event)
}

/// `B=44.24, C=1` from `values`, else Grafana 9's `valueString` as it is.
fn values_line(values: Option<&BTreeMap<String, serde_json::Value>>, text: Option<&str>) -> String {
    match values.filter(|v| !v.is_empty()) {
        Some(values) => values
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Null => format!("{k}=none"),
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => text.unwrap_or("").trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fuzz;
    use crate::testing::{context, NOW};
    use proptest::prelude::*;
    use tocsin_core::event::{Severity, Status};

    /// What Grafana 11 posts for a rule with two instances, one firing and one resolved.
    const FIXTURE: &str = r#"{
      "receiver": "tocsin",
      "status": "firing",
      "orgId": 1,
      "alerts": [
        {
          "status": "firing",
          "labels": {"alertname": "High memory usage", "grafana_folder": "Infra", "instance": "web-01", "severity": "critical", "team": "blue"},
          "annotations": {"summary": "Memory above 90% on web-01", "description": "The system has high memory usage", "runbook_url": "https://runbooks.example.com/mem", "__dashboardUid__": "abc", "__panelId__": "2"},
          "startsAt": "2025-12-31T23:55:00Z",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "https://grafana.example.com/alerting/grafana/fe1xa/view?orgId=1",
          "fingerprint": "c6eadffa33fcdf37",
          "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage",
          "dashboardURL": "https://grafana.example.com/d/abc?orgId=1",
          "panelURL": "https://grafana.example.com/d/abc?orgId=1&viewPanel=2",
          "values": {"B": 93.52, "C": 1},
          "valueString": "[ var='B' labels={instance=web-01} value=93.52 ], [ var='C' labels={instance=web-01} value=1 ]"
        },
        {
          "status": "resolved",
          "labels": {"alertname": "High memory usage", "grafana_folder": "Infra", "instance": "web-02", "team": "blue"},
          "annotations": {},
          "startsAt": "2025-12-31T23:30:00Z",
          "endsAt": "2025-12-31T23:58:00Z",
          "generatorURL": "https://grafana.example.com/alerting/grafana/fe1xa/view?orgId=1",
          "fingerprint": "bc97ff14869b13e3",
          "silenceURL": "",
          "dashboardURL": "",
          "panelURL": "",
          "values": null,
          "valueString": "[ var='B' labels={instance=web-02} value=41 ]"
        }
      ],
      "groupLabels": {"alertname": "High memory usage"},
      "commonLabels": {"alertname": "High memory usage", "grafana_folder": "Infra", "team": "blue"},
      "commonAnnotations": {},
      "externalURL": "https://grafana.example.com/",
      "version": "1",
      "groupKey": "{}/{__grafana_autogenerated__=\"true\"}:{alertname=\"High memory usage\"}",
      "truncatedAlerts": 0,
      "title": "[FIRING:1, RESOLVED:1] High memory usage (Infra blue)",
      "state": "alerting",
      "message": "**Firing** ..."
    }"#;

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        Grafana.parse(&Inbound::json(body.as_bytes()), &context(100))
    }

    #[test]
    fn firing_alert_with_its_links_and_values() {
        let events = parse(FIXTURE).unwrap();
        let e = &events[0];
        assert_eq!(e.source, "grafana");
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.name, "High memory usage");
        assert_eq!(e.summary, "Memory above 90% on web-01");
        assert_eq!(
            e.description,
            "The system has high memory usage\nvalues: B=93.52, C=1"
        );
        assert_eq!(e.labels["instance"], "web-01");
        assert_eq!(e.occurred_at, NOW - 300_000);
        assert_eq!(e.ends_at, None);
        let texts: Vec<&str> = e.links.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Alert rule", "Dashboard", "Panel", "Silence", "Runbook"]
        );
        assert!(e.links[2].href.ends_with("viewPanel=2"));
    }

    #[test]
    fn resolved_alert_keeps_its_identity() {
        let events = parse(FIXTURE).unwrap();
        let r = &events[1];
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.severity, Severity::Warning);
        assert_eq!(r.occurred_at, NOW - 120_000);
        assert_eq!(
            r.description,
            "values: [ var='B' labels={instance=web-02} value=41 ]"
        );
        let firing_again = FIXTURE.replacen(r#""status": "resolved""#, r#""status": "firing""#, 1);
        let again = &parse(&firing_again).unwrap()[1];
        assert_eq!(again.status, Status::Firing);
        assert_eq!(again.dedup_key, r.dedup_key);
        assert_ne!(events[0].dedup_key, r.dedup_key);
    }

    #[test]
    fn refusals_name_the_field() {
        for (body, expect) in [
            (
                r#"{"title": "[Alerting] CPU", "ruleId": 1, "state": "alerting", "evalMatches": []}"#,
                "legacy Grafana alert",
            ),
            (
                r#"{"alerts": [{"status": "firing", "labels": {"a": "1"}, "panelURL": 3}]}"#,
                "alerts[0]",
            ),
            (
                r#"{"alerts": [{"status": "alerting", "labels": {"a": "1"}}]}"#,
                "alerts[0].status",
            ),
            ("not json", "JSON object"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz::parse_json(&Grafana, &body);
        }

        #[test]
        fn mutated_fixture_never_panics(at in 0..FIXTURE.len(), byte in any::<u8>()) {
            fuzz::parse_json(&Grafana, &fuzz::mutate(FIXTURE, at, byte));
        }
    }
}
