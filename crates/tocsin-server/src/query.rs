//! Query-string parsing for list endpoints: every parameter checked, unknown ones refused, so
//! a typo in a filter is an error rather than a silently unfiltered list. The Alertmanager
//! API's parameters follow Alertmanager instead (its clients send only what it knows, and it
//! ignores the rest).

use crate::error::ApiError;
use std::sync::Arc;
use tocsin_core::event::{Severity, Status};
use tocsin_core::incident::IncidentState;
use tocsin_core::priority::Priority;
use tocsin_core::silence::{compile, parse_matcher, CompiledMatcher, Matcher, MAX_MATCHERS};
use tocsin_core::time::parse_rfc3339;
use tocsin_core::user_regex;
use tocsin_store::sqlite::queries::{AlertFilter, IncidentFilter, PageRequest};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

fn bad(message: String) -> ApiError {
    ApiError::bad_request(message)
}

/// Handles `limit` and `cursor`; returns false for other keys.
fn page_param(page: &mut PageRequest, key: &str, value: &str) -> Result<bool, ApiError> {
    match key {
        "limit" => {
            let n: usize = value
                .parse()
                .map_err(|_| bad(format!("limit: {value:?} is not a number")))?;
            if n == 0 || n > MAX_LIMIT {
                return Err(bad(format!("limit: must be between 1 and {MAX_LIMIT}")));
            }
            page.limit = n;
        }
        "cursor" => {
            let id: i64 = value
                .parse()
                .map_err(|_| bad("cursor: not a cursor returned by this API".into()))?;
            page.after_id = Some(id);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn time(key: &str, value: &str) -> Result<i64, ApiError> {
    parse_rfc3339(value).map_err(|m| bad(format!("{key}: {m}")))
}

fn non_empty(key: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Err(bad(format!("{key}: must not be empty")));
    }
    Ok(value.to_string())
}

fn new_page() -> PageRequest {
    PageRequest {
        after_id: None,
        limit: DEFAULT_LIMIT,
    }
}

pub fn alert_query(params: &[(String, String)]) -> Result<(AlertFilter, PageRequest), ApiError> {
    let mut f = AlertFilter::default();
    let mut page = new_page();
    for (key, value) in params {
        if page_param(&mut page, key, value)? {
            continue;
        }
        match key.as_str() {
            "status" => {
                if !matches!(Status::parse(value), Some(Status::Firing | Status::Resolved)) {
                    return Err(bad(format!("status: {value:?} is not firing or resolved")));
                }
                f.status = Some(value.clone());
            }
            "severity" => {
                Severity::parse(value)
                    .ok_or_else(|| bad(format!("severity: {value:?} is not critical, high, warning or info")))?;
                f.severity = Some(value.clone());
            }
            "service" => f.service = Some(non_empty(key, value)?),
            "host" => f.host = Some(non_empty(key, value)?),
            "source" => f.source = Some(non_empty(key, value)?),
            "integration" => f.integration = Some(non_empty(key, value)?),
            "incident_id" => {
                f.incident_id = Some(value.parse().map_err(|_| bad(format!("incident_id: {value:?} is not a number")))?)
            }
            "since" => f.since = Some(time(key, value)?),
            "until" => f.until = Some(time(key, value)?),
            "q" => f.text = Some(non_empty(key, value)?),
            "silenced" | "inhibited" | "flapping" => {
                let flag = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(format!("{key}: {value:?} is not true or false"))),
                };
                match key.as_str() {
                    "silenced" => f.silenced = Some(flag),
                    "inhibited" => f.inhibited = Some(flag),
                    _ => f.flapping = Some(flag),
                }
            }
            "label" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| bad(format!("label: {value:?} must be NAME=VALUE")))?;
                f.labels.push((non_empty(key, k)?, v.to_string()));
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?}; use status, severity, service, host, source, integration, incident_id, since, until, q, label, silenced, inhibited, flapping, limit, cursor"
                )))
            }
        }
    }
    Ok((f, page))
}

pub fn incident_query(
    params: &[(String, String)],
) -> Result<(IncidentFilter, PageRequest), ApiError> {
    let mut f = IncidentFilter::default();
    let mut page = new_page();
    for (key, value) in params {
        if page_param(&mut page, key, value)? {
            continue;
        }
        match key.as_str() {
            "state" => {
                for s in value.split(',') {
                    IncidentState::parse(s).ok_or_else(|| {
                        bad(format!("state: {s:?} is not triggered, acknowledged, resolved or closed"))
                    })?;
                    f.state.push(s.to_string());
                }
            }
            "priority" => {
                let p = Priority::parse(value).ok_or_else(|| bad(format!("priority: {value:?} is not P1 to P5")))?;
                f.priority = Some(p.number());
            }
            "service" => f.service = Some(non_empty(key, value)?),
            "team" => f.team = Some(non_empty(key, value)?),
            "since" => f.since = Some(time(key, value)?),
            "until" => f.until = Some(time(key, value)?),
            "q" => f.text = Some(non_empty(key, value)?),
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?}; use state, priority, service, team, since, until, q, limit, cursor"
                )))
            }
        }
    }
    Ok((f, page))
}

/// `GET /api/v2/alerts` and `/alerts/groups` parameters. Errors are Alertmanager's
/// messages.
#[derive(Debug)]
pub struct AmAlertQuery {
    pub filter: Vec<CompiledMatcher>,
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
    pub receiver: Option<Arc<regex::Regex>>,
}

/// Go's `strconv.ParseBool`, which Alertmanager's parameters go through.
fn go_bool(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("{key} in query must be of type boolean: {value:?}")),
    }
}

/// Every `filter` parameter, parsed (at most as many as a silence may have matchers).
pub fn am_filter(params: &[(String, String)]) -> Result<Vec<Matcher>, String> {
    let filters: Vec<&String> = params
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| v)
        .collect();
    if filters.len() > MAX_MATCHERS {
        return Err(format!(
            "{} filter parameters, at most {MAX_MATCHERS} are allowed",
            filters.len()
        ));
    }
    filters.into_iter().map(|v| parse_matcher(v)).collect()
}

pub fn am_alert_query(params: &[(String, String)]) -> Result<AmAlertQuery, String> {
    let mut q = AmAlertQuery {
        filter: compile(&am_filter(params)?)?,
        active: true,
        silenced: true,
        inhibited: true,
        receiver: None,
    };
    for (key, value) in params {
        match key.as_str() {
            "active" => q.active = go_bool(key, value)?,
            "silenced" => q.silenced = go_bool(key, value)?,
            "inhibited" => q.inhibited = go_bool(key, value)?,
            // tocsin shows only alerts the engine has processed: this selects nothing more
            // or less, but must still be a boolean.
            "unprocessed" => {
                go_bool(key, value)?;
            }
            "receiver" => {
                q.receiver = Some(
                    user_regex::anchored(value)
                        .map_err(|e| format!("failed to parse receiver param: {e}"))?,
                );
            }
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn alert_filters_parse_and_refuse_typos() {
        let (f, page) = alert_query(&p(&[
            ("status", "firing"),
            ("label", "service=svc-1"),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(f.labels, vec![("service".into(), "svc-1".into())]);
        assert_eq!(page.limit, 5);
        for bad in [
            ("stat", "firing"),
            ("status", "open"),
            ("limit", "5000"),
            ("limit", "0"),
            ("label", "x"),
            ("since", "today"),
        ] {
            assert!(alert_query(&p(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn incident_filters_take_several_states() {
        let (f, _) = incident_query(&p(&[
            ("state", "triggered,acknowledged"),
            ("priority", "P2"),
        ]))
        .unwrap();
        assert_eq!(f.state.len(), 2);
        assert_eq!(f.priority, Some(2));
        assert!(incident_query(&p(&[("state", "open")])).is_err());
        assert!(incident_query(&p(&[("cursor", "abc")])).is_err());
    }

    #[test]
    fn silenced_filter_is_a_boolean() {
        assert_eq!(
            alert_query(&p(&[("silenced", "true")])).unwrap().0.silenced,
            Some(true)
        );
        assert_eq!(
            alert_query(&p(&[("silenced", "false")]))
                .unwrap()
                .0
                .silenced,
            Some(false)
        );
        assert!(alert_query(&p(&[("silenced", "yes")])).is_err());
    }

    #[test]
    fn alertmanager_parameters_parse_like_alertmanager() {
        let q = am_alert_query(&p(&[
            ("filter", "alertname=\"Down\""),
            ("filter", "env=~prod.*"),
            ("silenced", "false"),
            ("active", "True"),
            ("receiver", "web|db"),
            ("unknown", "ignored"),
        ]))
        .unwrap();
        assert_eq!(q.filter.len(), 2);
        assert!(!q.silenced && q.active);
        assert!(q.receiver.unwrap().is_match("db"));
        assert!(am_alert_query(&p(&[("filter", "nonsense")]))
            .unwrap_err()
            .contains("bad matcher format"));
        assert!(am_alert_query(&p(&[("receiver", "(")]))
            .unwrap_err()
            .contains("failed to parse receiver param"));
        assert_eq!(
            am_alert_query(&p(&[("receiver", "(.{0,100}){0,100}x")])).unwrap_err(),
            "failed to parse receiver param: the regular expression is too large (compiled size over 524288 bytes); simplify it"
        );
        let many: Vec<(&str, &str)> = (0..=MAX_MATCHERS).map(|_| ("filter", "a=b")).collect();
        assert_eq!(
            am_alert_query(&p(&many)).unwrap_err(),
            "33 filter parameters, at most 32 are allowed"
        );
        assert!(am_alert_query(&p(&[("active", "maybe")])).is_err());
    }
}
