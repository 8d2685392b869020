//! Nightingale (n9e v6/v7) alert event callbacks: a rule's callback URL or a global
//! webhook posts the event as JSON, one object (or, from notify scripts, an array).
//!
//! n9e's `hash` (rule id + the series' labels) is the identity, the same for the firing and
//! the recovered event; `is_recovered` says which it is. Severity is n9e's 1 (critical),
//! 2 (warning), 3 (info). The monitored object (`target_ident`) is the host.

use crate::common::{fit, link, machine_label, push_line, unix_seconds};
use crate::limits::*;
use crate::{convert_all, one_or_many, Adapter, Inbound, IntakeContext, IntakeError};
use serde::Deserialize;
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};

pub const SOURCE: &str = "nightingale";

/// n9e is written in Go: an empty list or map arrives as `null`, so every collection is an
/// `Option`.
#[derive(Debug, Deserialize)]
struct N9eEvent {
    hash: String,
    rule_name: String,
    severity: i64,
    #[serde(default)]
    is_recovered: bool,
    #[serde(default)]
    rule_id: Option<i64>,
    #[serde(default)]
    rule_note: Option<String>,
    #[serde(default)]
    group_name: Option<String>,
    #[serde(default)]
    target_ident: Option<String>,
    #[serde(default)]
    trigger_value: Option<String>,
    #[serde(default)]
    trigger_time: Option<i64>,
    #[serde(default)]
    first_trigger_time: Option<i64>,
    /// When a recovered event recovered.
    #[serde(default)]
    last_eval_time: Option<i64>,
    /// `["ident=web-01", "service=cart"]`; v7 also sends them as `tags_map`.
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    tags_map: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    runbook_url: Option<String>,
    #[serde(default)]
    prom_ql: Option<String>,
}

pub struct Nightingale;

impl Adapter for Nightingale {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let (raw, single): (Vec<N9eEvent>, bool) = one_or_many(req.body, ctx.max_events)?;
        convert_all(raw, single, |path, item| convert(path, item, ctx))
    }
}

fn severity(path: &str, level: i64) -> Result<Severity, IntakeError> {
    match level {
        1 => Ok(Severity::Critical),
        2 => Ok(Severity::Warning),
        3 => Ok(Severity::Info),
        other => Err(IntakeError(format!(
            "{path}.severity: {other} is not 1, 2 or 3"
        ))),
    }
}

fn convert(path: &str, e: N9eEvent, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    if e.hash.is_empty() {
        return Err(IntakeError(format!("{path}.hash: must not be empty")));
    }
    check_len(path, "hash", &e.hash, MAX_SHORT)?;
    check_len(path, "rule_name", &e.rule_name, MAX_SHORT)?;
    let severity = severity(path, e.severity)?;
    let mut labels = match e.tags_map.filter(|m| !m.is_empty()) {
        Some(map) => map,
        None => e
            .tags
            .unwrap_or_default()
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| match t.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v.to_string()),
                None => (t.trim().to_string(), String::new()),
            })
            .collect(),
    };
    let ident = e.target_ident.unwrap_or_default();
    machine_label(&mut labels, &ident);
    if let Some(id) = e.rule_id {
        labels.insert("rule_id".into(), id.to_string());
    }
    if let Some(group) = e.group_name.filter(|g| !g.is_empty()) {
        labels.insert("busi_group".into(), group);
    }
    check_labels(path, &labels)?;
    let value = e.trigger_value.unwrap_or_default();
    let mut summary = e.rule_name.clone();
    if !ident.is_empty() {
        summary.push_str(&format!(" on {ident}"));
    }
    if !value.is_empty() {
        summary.push_str(&format!(": {value}"));
    }
    let mut description = e.rule_note.unwrap_or_default();
    for (k, v) in e.annotations.unwrap_or_default() {
        push_line(&mut description, &format!("{k}: {v}"));
    }
    if let Some(q) = e.prom_ql.filter(|q| !q.is_empty()) {
        push_line(&mut description, &format!("query: {q}"));
    }
    check_len(path, "rule_note", &description, MAX_DESCRIPTION)?;
    let first = unix_seconds(
        path,
        "first_trigger_time",
        e.first_trigger_time.unwrap_or(0),
    )?;
    let triggered = unix_seconds(path, "trigger_time", e.trigger_time.unwrap_or(0))?;
    let (status, occurred_at) = if e.is_recovered {
        let recovered = unix_seconds(path, "last_eval_time", e.last_eval_time.unwrap_or(0))?;
        (Status::Resolved, recovered.or(triggered).unwrap_or(ctx.now))
    } else {
        (Status::Firing, first.or(triggered).unwrap_or(ctx.now))
    };
    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key: e.hash,
        status,
        severity,
        name: e.rule_name,
        summary: fit(summary, MAX_SUMMARY),
        description,
        service: labels.get("service").cloned(),
        links: link(path, "runbook_url", e.runbook_url.as_deref(), "Runbook")?
            .into_iter()
            .collect(),
        labels,
        occurred_at,
        received_at: ctx.now,
        // n9e sends the recovery (when the rule notifies recoveries): no expiry.
        ends_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fuzz;
    use crate::testing::{context, NOW};
    use proptest::prelude::*;

    /// An n9e v7 event for a host rule, as its callback posts it (trimmed of the user and
    /// group objects tocsin does not read).
    const FIXTURE: &str = r#"{
      "id": 1024, "cate": "prometheus", "cluster": "prom-bj", "datasource_id": 1,
      "group_id": 1, "group_name": "DefaultBusiGroup",
      "hash": "5f2e8e6f1b3b4c1d9a0e7c6b5a4d3c2b",
      "rule_id": 7, "rule_name": "CPU usage high", "rule_note": "CPU above 90% for 5m",
      "rule_prod": "metric", "rule_algo": "", "severity": 1, "prom_for_duration": 300,
      "prom_ql": "cpu_usage_active > 90", "prom_eval_interval": 15,
      "callbacks": ["http://tocsin:7600/hooks/KEY"], "runbook_url": "https://runbooks.example.com/cpu",
      "notify_recovered": 1, "notify_channels": ["dingtalk"], "notify_groups": ["1"],
      "notify_groups_obj": null, "target_ident": "web-01", "target_note": "",
      "trigger_time": 1767225540, "trigger_value": "93.2",
      "tags": ["__name__=cpu_usage_active", "cpu=cpu-total", "ident=web-01", "service=cart", "rulename=CPU usage high"],
      "tags_map": {"__name__": "cpu_usage_active", "cpu": "cpu-total", "ident": "web-01", "service": "cart", "rulename": "CPU usage high"},
      "annotations": null, "is_recovered": false, "notify_users_obj": null,
      "last_eval_time": 1767225585, "last_sent_time": 1767225585, "notify_cur_number": 1,
      "first_trigger_time": 1767225300, "extra_config": null, "status": 0, "claimant": "",
      "sub_rule_id": 0, "extra_info": null
    }"#;

    fn parse(body: &str) -> Result<Vec<Event>, IntakeError> {
        Nightingale.parse(&Inbound::json(body.as_bytes()), &context(100))
    }

    #[test]
    fn firing_event() {
        let e = &parse(FIXTURE).unwrap()[0];
        assert_eq!(e.source, "nightingale");
        assert_eq!(e.dedup_key, "5f2e8e6f1b3b4c1d9a0e7c6b5a4d3c2b");
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.name, "CPU usage high");
        assert_eq!(e.summary, "CPU usage high on web-01: 93.2");
        assert_eq!(
            e.description,
            "CPU above 90% for 5m\nquery: cpu_usage_active > 90"
        );
        assert_eq!(e.labels["host"], "web-01");
        assert_eq!(e.labels["cpu"], "cpu-total");
        assert_eq!(e.labels["rule_id"], "7");
        assert_eq!(e.labels["busi_group"], "DefaultBusiGroup");
        assert_eq!(e.service.as_deref(), Some("cart"));
        assert_eq!(e.occurred_at, NOW - 300_000, "the first trigger");
        assert_eq!(e.links[0].text, "Runbook");
    }

    #[test]
    fn recovery_and_v6_tags() {
        let recovered = FIXTURE
            .replace(r#""is_recovered": false"#, r#""is_recovered": true"#)
            .replace(r#""severity": 1"#, r#""severity": 3"#)
            .replace(r#""tags_map": {"#, r#""unused": {"#);
        let events = parse(&format!("[{recovered}, {FIXTURE}]")).unwrap();
        let r = &events[0];
        assert_eq!(r.status, Status::Resolved);
        assert_eq!(r.severity, Severity::Info);
        assert_eq!(r.occurred_at, NOW - 15_000, "last_eval_time");
        assert_eq!(r.dedup_key, events[1].dedup_key);
        // Without tags_map (n9e v6) the tags list gives the same labels.
        assert_eq!(r.labels, events[1].labels);
    }

    #[test]
    fn refusals_name_the_field() {
        for (body, expect) in [
            (
                r#"{"hash": "h", "rule_name": "r", "severity": 4}"#,
                "severity: 4",
            ),
            (
                r#"{"hash": "", "rule_name": "r", "severity": 1}"#,
                "hash: must not be empty",
            ),
            (
                r#"{"rule_name": "r", "severity": 1}"#,
                "missing field `hash`",
            ),
            (
                r#"[{"hash": "h", "rule_name": "r", "severity": 1}, {"hash": "h", "rule_name": "r", "severity": "1"}]"#,
                "[1].severity",
            ),
            (
                r#"{"hash": "h", "rule_name": "r", "severity": 1, "trigger_time": 9223372036854775807}"#,
                "trigger_time",
            ),
            (
                r#"{"hash": "h", "rule_name": "r", "severity": 1, "tags": ["=x"]}"#,
                "label name is empty",
            ),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.0.contains(expect), "{body}: {err}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz::parse_json(&Nightingale, &body);
        }

        #[test]
        fn mutated_fixture_never_panics(at in 0..FIXTURE.len(), byte in any::<u8>()) {
            fuzz::parse_json(&Nightingale, &fuzz::mutate(FIXTURE, at, byte));
        }
    }
}
