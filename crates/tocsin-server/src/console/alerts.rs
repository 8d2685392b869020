//! The alerts explorer and an alert's page: every alert, searched and filtered with the
//! API's own parser (`GET /api/v1/alerts`), newest first, 50 a page with an "Older" link;
//! and one alert with its fields, labels, links back to the tool that sent it, its whole
//! history (fired, resolved, fired again, with the incidents), and a way to silence it.

use super::accounts::Viewer;
use super::board::encode;
use super::render;
use crate::query::alert_query;
use crate::state::SharedState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::AlertRow;

/// Alerts on one page of the explorer.
const PAGE_ROWS: usize = 50;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ExplorerQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    q: String,
    /// `NAME=VALUE`.
    #[serde(default)]
    label: String,
    /// `yes`, `no` or empty for either.
    #[serde(default)]
    silenced: String,
    #[serde(default, skip_serializing)]
    cursor: String,
}

impl ExplorerQuery {
    /// The form's fields that are set, trimmed, as they go back into links.
    fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("status", self.status.as_str()),
            ("severity", self.severity.as_str()),
            ("service", self.service.as_str()),
            ("host", self.host.as_str()),
            ("source", self.source.as_str()),
            ("q", self.q.as_str()),
            ("label", self.label.as_str()),
            ("silenced", self.silenced.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    /// The API's parameters for this form (`GET /api/v1/alerts` takes the same).
    fn pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields()
            .into_iter()
            .map(|(k, v)| {
                let v = match (k, v) {
                    ("silenced", "yes") => "true",
                    ("silenced", "no") => "false",
                    _ => v,
                };
                (k.to_string(), v.to_string())
            })
            .collect();
        if !self.cursor.trim().is_empty() {
            out.push(("cursor".into(), self.cursor.trim().into()));
        }
        out.push(("limit".into(), PAGE_ROWS.to_string()));
        out
    }

    /// This search's link, from the start or from `cursor`.
    fn url(&self, cursor: Option<&str>) -> String {
        let mut params: Vec<String> = self
            .fields()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if let Some(c) = cursor {
            params.push(format!("cursor={}", encode(c)));
        }
        if params.is_empty() {
            "/ui/alerts".into()
        } else {
            format!("/ui/alerts?{}", params.join("&"))
        }
    }
}

/// `GET /ui/alerts`.
pub async fn explorer(
    State(s): State<SharedState>,
    viewer: Viewer,
    q: Result<Query<ExplorerQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let config = s.config.load_full();
    let (alerts, next, error) = match alert_query(&q.pairs()) {
        Ok((filter, page)) => {
            match super::read(&s, &viewer, move |c| queries::list_alerts(c, &filter, page)).await {
                Ok(found) => (found.items, found.next_cursor, None),
                Err(page) => return page,
            }
        }
        // A filter the API refuses (a label without `=`) is said above an empty list, with
        // the form kept, so it can be corrected.
        Err(e) => (Vec::new(), None, Some(e.message)),
    };
    let ctx = context! {
        alerts => alerts,
        filter => &q,
        error => error,
        paged => !q.cursor.trim().is_empty(),
        first_url => q.url(None),
        older_url => next.as_deref().map(|c| q.url(Some(c))),
        services => config.services.iter().map(|t| context!{ id => t.id, name => t.name }).collect::<Vec<_>>(),
    };
    render::page("alerts.html", &viewer, "alerts", now, ctx)
}

/// A link to show as one: only web addresses, so a tool cannot put a script in one.
fn safe_href(href: &str) -> bool {
    let lower = href.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// `GET /ui/alerts/{id}`.
pub async fn detail(
    State(s): State<SharedState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let now = s.clock.now();
    let not_found = |viewer: &Viewer| {
        super::error_page(
            viewer,
            now,
            StatusCode::NOT_FOUND,
            &format!("no alert {id}"),
        )
    };
    let Ok(number) = id.parse::<i64>() else {
        return not_found(&viewer);
    };
    let found = match super::read(&s, &viewer, move |c| queries::get_alert(c, number)).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Some(detail) = found else {
        return not_found(&viewer);
    };
    let a: &AlertRow = &detail.alert;
    let links: Vec<_> = a
        .links
        .iter()
        .map(|l| {
            let text = if l.text.trim().is_empty() {
                l.href.clone()
            } else {
                l.text.clone()
            };
            context! { href => l.href, text => text, safe => safe_href(&l.href) }
        })
        .collect();
    let ctx = context! {
        alert => a,
        history => detail.history,
        links => links,
    };
    render::page("alert.html", &viewer, "alerts", now, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_apis_parameters() {
        let q = ExplorerQuery {
            service: "db".into(),
            q: " 磁盘 ".into(),
            silenced: "no".into(),
            label: "env=prod".into(),
            cursor: "42".into(),
            ..Default::default()
        };
        let pairs = q.pairs();
        let (f, page) = alert_query(&pairs).unwrap();
        assert_eq!(f.service.as_deref(), Some("db"));
        assert_eq!(f.text.as_deref(), Some("磁盘"));
        assert_eq!(f.silenced, Some(false));
        assert_eq!(f.labels, vec![("env".to_string(), "prod".to_string())]);
        assert_eq!((page.after_id, page.limit), (Some(42), PAGE_ROWS));
        assert_eq!(
            q.url(Some("7")),
            "/ui/alerts?service=db&q=%E7%A3%81%E7%9B%98&label=env%3Dprod&silenced=no&cursor=7"
        );
        assert!(alert_query(
            &ExplorerQuery {
                label: "x".into(),
                ..Default::default()
            }
            .pairs()
        )
        .is_err());
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(safe_href("https://grafana/d/1"));
        assert!(safe_href("http://zabbix/tr_events.php"));
        assert!(!safe_href("javascript:alert(1)"));
        assert!(!safe_href(" JavaScript:x"));
    }
}
