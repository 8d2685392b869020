//! Open-Falcon's alarm callback: the alarm module calls an action's callback URL with an
//! HTTP `GET` and the event as query parameters (`endpoint, metric, tags, status, step,
//! priority, time, tpl_id, exp_id, stra_id, left_value`); forwarders also POST them as a
//! form or a JSON object, which [`flat_params`] reads alike.
//!
//! Identity is what Open-Falcon's own event id is made of: the strategy (or expression),
//! the endpoint, the metric and the tags. Open-Falcon writes the tags from a Go map, in a
//! different order from one call to the next, so they are sorted first. `status` PROBLEM
//! fires and OK resolves.

use crate::common::{fit, machine_label};
use crate::limits::*;
use crate::params::flat_params;
use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use std::collections::BTreeMap;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::fingerprint::label_fingerprint;

pub const SOURCE: &str = "open-falcon";

pub struct OpenFalcon;

impl Adapter for OpenFalcon {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let params = flat_params(req)?;
        convert(&params, ctx).map(|e| vec![e])
    }
}

/// Priority 0 is the most urgent. Open-Falcon's alarm sends 0-2 through its "high" queues,
/// one message per event, and merges 3-6; tocsin follows that line.
fn severity(priority: Option<&str>) -> Result<Severity, IntakeError> {
    let Some(text) = priority.filter(|p| !p.is_empty()) else {
        return Ok(Severity::Warning);
    };
    match text.trim().parse::<u8>() {
        Ok(0 | 1) => Ok(Severity::Critical),
        Ok(2) => Ok(Severity::High),
        Ok(3 | 4) => Ok(Severity::Warning),
        Ok(5 | 6) => Ok(Severity::Info),
        _ => Err(IntakeError(format!(
            "priority: {text:?} is not a number from 0 (highest) to 6"
        ))),
    }
}

/// `k:v,k:v` as labels. Open-Falcon's own tags are `k=v`, which some forwarders pass on,
/// so either separator is read; a value keeps any later `:` (`url:http://x`).
fn tags(text: &str) -> Result<BTreeMap<String, String>, IntakeError> {
    let mut out = BTreeMap::new();
    for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (k, v) = match tag.find([':', '=']) {
            Some(i) => (tag[..i].trim(), tag[i + 1..].trim()),
            None => (tag, ""),
        };
        if k.is_empty() {
            return Err(IntakeError(format!("tags: {tag:?} has no name")));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn required<'p>(params: &'p BTreeMap<String, String>, name: &str) -> Result<&'p str, IntakeError> {
    params
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            IntakeError(format!(
                "{name}: missing; Open-Falcon's callback sends endpoint, metric, status, \
                 priority, tags, stra_id ..."
            ))
        })
}

fn convert(params: &BTreeMap<String, String>, ctx: &IntakeContext) -> Result<Event, IntakeError> {
    let get = |name: &str| params.get(name).map(|v| v.trim()).unwrap_or("");
    let endpoint = required(params, "endpoint")?;
    let metric = required(params, "metric")?;
    let status = match required(params, "status")?.to_ascii_uppercase().as_str() {
        "PROBLEM" => Status::Firing,
        "OK" => Status::Resolved,
        other => {
            return Err(IntakeError(format!(
                "status: {other:?} is not PROBLEM or OK"
            )))
        }
    };
    let severity = severity(params.get("priority").map(String::as_str))?;
    let tags = tags(get("tags"))?;
    let sorted_tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let identity = BTreeMap::from([
        ("endpoint".to_string(), endpoint.to_string()),
        ("metric".to_string(), metric.to_string()),
        ("tags".to_string(), sorted_tags.join(",")),
        ("stra_id".to_string(), get("stra_id").to_string()),
        ("exp_id".to_string(), get("exp_id").to_string()),
    ]);
    let mut labels = tags;
    for (label, param) in [
        ("endpoint", "endpoint"),
        ("metric", "metric"),
        ("strategy_id", "stra_id"),
        ("expression_id", "exp_id"),
        ("template_id", "tpl_id"),
        ("priority", "priority"),
    ] {
        let value = get(param);
        // 0 is how Open-Falcon says "no strategy" (an expression fired) or "no template".
        let unset = value.is_empty() || (param.ends_with("_id") && value == "0");
        if !unset {
            labels.insert(label.to_string(), value.to_string());
        }
    }
    machine_label(&mut labels, endpoint);
    check_labels("", &labels).map_err(|e| IntakeError(e.0.trim_start_matches('.').into()))?;
    let value = get("left_value");
    let mut summary = format!("{metric} on {endpoint}");
    if !value.is_empty() {
        summary.push_str(&format!(" = {value}"));
    }
    if !sorted_tags.is_empty() {
        summary.push_str(&format!(" ({})", sorted_tags.join(",")));
    }
    // `time` is in the Open-Falcon server's zone with no offset, so it cannot be read as an
    // instant; it is kept as text, and the event happened when the callback came.
    let description = ["time", "step", "left_value"]
        .iter()
        .filter(|k| !get(k).is_empty())
        .map(|k| format!("{k}: {}", get(k)))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Event {
        source: SOURCE.into(),
        integration: ctx.integration.to_string(),
        dedup_key: label_fingerprint(SOURCE, &identity),
        status,
        severity,
        name: fit(metric.to_string(), MAX_SHORT),
        summary: fit(summary, MAX_SUMMARY),
        description,
        service: labels.get("service").cloned(),
        labels,
        links: Vec::new(),
        occurred_at: ctx.now,
        received_at: ctx.now,
        // Open-Falcon calls back with OK when the condition ends: no expiry.
        ends_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::fuzz;
    use crate::testing::{context, NOW};
    use crate::Method;
    use proptest::prelude::*;

    /// The query string Open-Falcon's alarm sends (Go's url.Values: sorted, `+` for space).
    const QUERY: &str = "endpoint=cart-bj-06&exp_id=0&left_value=13&metric=load.1min\
        &priority=3&status=PROBLEM&step=1&stra_id=959&tags=service%3Acart%2Cdc%3Abj\
        &time=2026-03-02+00%3A24%3A01&tpl_id=243";

    fn get(query: &str) -> Result<Vec<Event>, IntakeError> {
        let req = Inbound {
            method: Method::Get,
            query,
            ..Inbound::json(b"")
        };
        OpenFalcon.parse(&req, &context(100))
    }

    #[test]
    fn problem_from_a_get() {
        let e = &get(QUERY).unwrap()[0];
        assert_eq!(e.source, "open-falcon");
        assert_eq!(e.status, Status::Firing);
        assert_eq!(e.severity, Severity::Warning);
        assert_eq!(e.name, "load.1min");
        assert_eq!(
            e.summary,
            "load.1min on cart-bj-06 = 13 (dc:bj,service:cart)"
        );
        assert_eq!(
            e.description,
            "time: 2026-03-02 00:24:01\nstep: 1\nleft_value: 13"
        );
        assert_eq!(e.labels["host"], "cart-bj-06");
        assert_eq!(e.labels["dc"], "bj");
        assert_eq!(e.labels["strategy_id"], "959");
        assert_eq!(e.labels["template_id"], "243");
        assert!(!e.labels.contains_key("expression_id"));
        assert_eq!(e.service.as_deref(), Some("cart"));
        assert_eq!(e.occurred_at, NOW);
        assert_eq!(e.ends_at, None);
    }

    #[test]
    fn ok_resolves_the_same_alert_whatever_the_tag_order() {
        let problem = &get(QUERY).unwrap()[0];
        let ok = QUERY
            .replace("status=PROBLEM", "status=OK")
            .replace("service%3Acart%2Cdc%3Abj", "dc%3Abj%2Cservice%3Acart")
            .replace("step=1", "step=3")
            .replace("left_value=13", "left_value=2");
        let ok = &get(&ok).unwrap()[0];
        assert_eq!(ok.status, Status::Resolved);
        assert_eq!(ok.dedup_key, problem.dedup_key);
        let other_strategy = &get(&QUERY.replace("stra_id=959", "stra_id=960")).unwrap()[0];
        assert_ne!(other_strategy.dedup_key, problem.dedup_key);
    }

    #[test]
    fn json_and_form_bodies_read_like_the_query() {
        let json = br#"{"endpoint": "cart-bj-06", "metric": "load.1min", "tags": "service:cart,dc:bj", "status": "PROBLEM", "step": "1", "priority": "3", "time": "2026-03-02 00:24:01", "tpl_id": "243", "exp_id": "0", "stra_id": "959", "left_value": "13"}"#;
        let from_json = &OpenFalcon
            .parse(&Inbound::json(json), &context(100))
            .unwrap()[0];
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        let form = Inbound {
            headers: &headers,
            ..Inbound::json(QUERY.as_bytes())
        };
        let from_form = &OpenFalcon.parse(&form, &context(100)).unwrap()[0];
        let from_get = &get(QUERY).unwrap()[0];
        assert_eq!(from_json, from_get);
        assert_eq!(from_form, from_get);
    }

    #[test]
    fn priorities_and_addresses() {
        for (p, want) in [
            ("0", Severity::Critical),
            ("1", Severity::Critical),
            ("2", Severity::High),
            ("4", Severity::Warning),
            ("6", Severity::Info),
        ] {
            let e = &get(&QUERY.replace("priority=3", &format!("priority={p}"))).unwrap()[0];
            assert_eq!(e.severity, want, "priority {p}");
        }
        let e = &get(&QUERY.replace("endpoint=cart-bj-06", "endpoint=10.0.3.4")).unwrap()[0];
        assert_eq!(e.labels["host_ip"], "10.0.3.4");
        assert!(!e.labels.contains_key("host"));
    }

    #[test]
    fn refusals_name_the_field() {
        for (query, expect) in [
            ("metric=m&status=OK", "endpoint: missing"),
            ("endpoint=e&status=OK", "metric: missing"),
            ("endpoint=e&metric=m", "status: missing"),
            ("endpoint=e&metric=m&status=WARN", "status: \"WARN\""),
            ("endpoint=e&metric=m&status=OK&priority=9", "priority"),
            ("endpoint=e&metric=m&status=OK&tags=%3Ax", "tags"),
            ("", "no parameters"),
        ] {
            let err = get(query).unwrap_err();
            assert!(err.0.contains(expect), "{query}: {err}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz::parse_params(&OpenFalcon, &body);
        }

        #[test]
        fn mutated_fixture_never_panics(at in 0..QUERY.len(), byte in any::<u8>()) {
            fuzz::parse_params(&OpenFalcon, &fuzz::mutate(QUERY, at, byte));
        }
    }
}
