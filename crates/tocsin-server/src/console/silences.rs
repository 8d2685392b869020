//! Silences and maintenance windows: what `GET /api/v1/silences` lists (active and pending
//! silences, expired ones behind a toggle, recurring silences, and the config's maintenance
//! windows, read only), with how many firing alerts each mutes now; and the form that makes
//! a silence through `POST /api/v1/silences`, filled in from an alert when it comes from
//! one ("Silence this alert").

use super::accounts::Viewer;
use super::render;
use crate::am_view::labels_of;
use crate::query::alert_query;
use crate::routes::silences::listing;
use crate::state::SharedState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use tocsin_core::config::maintenance::window_of;
use tocsin_core::silence::{valid_label_name, Matcher};
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::AlertRow;

/// Silenced firing alerts read at most to count what each silence mutes.
const COUNT_AT_MOST: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `1` to show silences that ended (within the last 120 hours) and deleted windows.
    #[serde(default)]
    expired: String,
}

/// `GET /ui/silences`.
pub async fn page(
    State(s): State<SharedState>,
    viewer: Viewer,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let show_expired = q.expired == "1";
    let items = match listing(&s, show_expired).await {
        Ok(items) => items,
        Err(e) => {
            return super::error_page(&viewer, now, StatusCode::SERVICE_UNAVAILABLE, &e.message)
        }
    };
    let muting = match super::read(&s, &viewer, muted_counts).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    let (mut config_windows, mut recurring, mut current, mut expired) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for mut item in items {
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let is_recurring = !item["recurrence"].is_null();
        let muted = if is_recurring {
            muting
                .iter()
                .filter(|(silence, _)| window_of(silence) == Some(id.as_str()))
                .map(|(_, n)| n)
                .sum()
        } else {
            muting.get(&id).copied().unwrap_or(0)
        };
        item["muting"] = json!(muted);
        let over = item["state"] == "expired";
        if item["source"] == "config" {
            config_windows.push(item);
        } else if is_recurring {
            recurring.push(item);
        } else if over {
            expired.push(item);
        } else {
            current.push(item);
        }
    }
    let ctx = context! {
        silences => current,
        expired => expired,
        recurring => recurring,
        windows => config_windows,
        show_expired => show_expired,
    };
    render::page("silences.html", &viewer, "silences", now, ctx)
}

/// How many firing alerts each silence mutes now, by silence id.
fn muted_counts(c: &rusqlite::Connection) -> rusqlite::Result<HashMap<String, usize>> {
    let pairs = |cursor: Option<String>| {
        let mut p = vec![
            ("status".to_string(), "firing".to_string()),
            ("silenced".into(), "true".into()),
            ("limit".into(), crate::query::MAX_LIMIT.to_string()),
        ];
        p.extend(cursor.map(|c| ("cursor".to_string(), c)));
        p
    };
    let mut counts = HashMap::new();
    let mut cursor = None;
    let mut seen = 0;
    while let Ok((filter, page)) = alert_query(&pairs(cursor)) {
        let found = queries::list_alerts(c, &filter, page)?;
        seen += found.items.len();
        for a in &found.items {
            for id in &a.silenced_by {
                *counts.entry(id.clone()).or_insert(0) += 1;
            }
        }
        match found.next_cursor {
            Some(next) if seen < COUNT_AT_MOST => cursor = Some(next),
            _ => break,
        }
    }
    Ok(counts)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// The alert to silence: its identity becomes the matchers.
    #[serde(default)]
    from_alert: String,
}

/// Sources whose alerts are known by their label set (Alertmanager's identity): Prometheus
/// (directly or through an Alertmanager) and Grafana.
const LABEL_SET_SOURCES: &[&str] = &["prometheus", "grafana"];

/// Equality matchers that match exactly this alert (and its later firings): the label set
/// for tools that identify an alert by it; otherwise its name, service and host, as
/// silences see them (`alert_labels`: an alert's own label of that name first, tocsin's
/// field where it has none). The alert's source is not among the labels silences match, so
/// it cannot be a matcher.
pub(crate) fn identity_matchers(a: &AlertRow) -> Vec<String> {
    let seen = labels_of(a);
    let names: Vec<&str> = if LABEL_SET_SOURCES.contains(&a.source.as_str()) && !a.labels.is_empty()
    {
        a.labels.keys().map(String::as_str).collect()
    } else {
        vec!["alertname", "service", "host"]
    };
    names
        .into_iter()
        .filter(|name| valid_label_name(name))
        .filter_map(|name| {
            let value = seen.get(name).filter(|v| !v.is_empty())?;
            let m = Matcher {
                name: name.to_string(),
                value: value.clone(),
                is_regex: false,
                is_equal: true,
            };
            Some(m.to_string())
        })
        .collect()
}

/// `GET /ui/silences/new?from_alert={id}`.
pub async fn new(
    State(s): State<SharedState>,
    viewer: Viewer,
    q: Result<Query<NewQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let mut alert: Option<Value> = None;
    let mut matchers = Vec::new();
    if !q.from_alert.is_empty() {
        let Ok(id) = q.from_alert.parse::<i64>() else {
            return super::error_page(&viewer, now, StatusCode::NOT_FOUND, "no such alert");
        };
        let found = match super::read(&s, &viewer, move |c| queries::get_alert(c, id)).await {
            Ok(found) => found,
            Err(page) => return page,
        };
        let Some(detail) = found else {
            return super::error_page(
                &viewer,
                now,
                StatusCode::NOT_FOUND,
                &format!("no alert {id}"),
            );
        };
        matchers = identity_matchers(&detail.alert);
        alert = Some(json!({
            "id": detail.alert.id,
            "name": detail.alert.name,
            "summary": detail.alert.summary,
        }));
    }
    let comment = alert
        .as_ref()
        .map(|a| format!("{} #{}", a["name"].as_str().unwrap_or_default(), a["id"]))
        .unwrap_or_default();
    let ctx = context! {
        alert => alert,
        matchers => matchers,
        comment => comment,
        duration => "2h",
        zone => viewer.zone,
        days => ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    };
    render::page("silence_new.html", &viewer, "silences", now, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tocsin_core::silence::{compile, matches_all, parse_matcher};

    fn alert(source: &str, labels: &[(&str, &str)]) -> AlertRow {
        AlertRow {
            id: 1,
            source: source.into(),
            integration: String::new(),
            dedup_key: "k".into(),
            name: "DiskFull".into(),
            service: "db".into(),
            host: Some("db-1".into()),
            status: "firing".into(),
            severity: "high".into(),
            summary: String::new(),
            description: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            links: Vec::new(),
            episode: 1,
            occurrences: 1,
            first_seen: String::new(),
            last_seen: String::new(),
            started_at: String::new(),
            resolved_at: None,
            ends_at: None,
            incident_id: None,
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
            flapping: false,
        }
    }

    fn mutes(matchers: &[String], a: &AlertRow) -> bool {
        let parsed: Vec<_> = matchers.iter().map(|m| parse_matcher(m).unwrap()).collect();
        matches_all(&compile(&parsed).unwrap(), &labels_of(a))
    }

    #[test]
    fn alertmanager_alerts_are_silenced_by_their_label_set() {
        let a = alert(
            "prometheus",
            &[
                ("alertname", "Down"),
                ("instance", "web-1:9100"),
                ("job", "node"),
            ],
        );
        let m = identity_matchers(&a);
        assert_eq!(
            m,
            vec![
                "alertname=\"Down\"",
                "instance=\"web-1:9100\"",
                "job=\"node\""
            ]
        );
        assert!(mutes(&m, &a));
        let other = alert(
            "prometheus",
            &[
                ("alertname", "Down"),
                ("instance", "web-2:9100"),
                ("job", "node"),
            ],
        );
        assert!(!mutes(&m, &other));
    }

    #[test]
    fn other_alerts_are_silenced_by_name_service_and_host() {
        let a = alert("zabbix", &[("trigger", "42"), ("service", "磁盘")]);
        let m = identity_matchers(&a);
        assert_eq!(
            m,
            vec![
                "alertname=\"DiskFull\"",
                "service=\"磁盘\"",
                "host=\"db-1\""
            ]
        );
        assert!(mutes(&m, &a));
        let mut elsewhere = a.clone();
        elsewhere.host = Some("db-2".into());
        assert!(!mutes(&m, &elsewhere));
        let mut no_host = alert("api", &[]);
        no_host.host = None;
        assert_eq!(identity_matchers(&no_host).len(), 2);
    }
}
