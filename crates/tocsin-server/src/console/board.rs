//! The incidents board: open incidents by priority and age, filtered by team, service,
//! state, priority and text, live, with bulk acknowledge / resolve / assign.

use super::accounts::Viewer;
use super::render;
use crate::query::incident_query;
use crate::routes::incidents::urgency_of;
use crate::state::SharedState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tocsin_store::sqlite::queries;

/// Rows drawn at most; the rest are counted and the page says how many.
const BOARD_ROWS: usize = 300;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct BoardQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    q: String,
    /// `1` for the table alone, which the live script fetches.
    #[serde(default, skip_serializing)]
    fragment: String,
}

impl BoardQuery {
    /// The API's filter parameters for this board: `open` is triggered or acknowledged.
    fn pairs(&self) -> Vec<(String, String)> {
        let state = match self.state.as_str() {
            "" | "open" => "triggered,acknowledged",
            "all" => "",
            other => other,
        };
        [
            ("state", state),
            ("priority", self.priority.as_str()),
            ("team", self.team.as_str()),
            ("service", self.service.as_str()),
            ("q", self.q.trim()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn url(&self) -> String {
        let mut params: Vec<String> = [
            ("state", &self.state),
            ("priority", &self.priority),
            ("team", &self.team),
            ("service", &self.service),
            ("q", &self.q),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
        params.push("fragment=1".into());
        format!("/ui/incidents?{}", params.join("&"))
    }
}

pub(crate) fn encode(text: &str) -> String {
    minijinja::filters::urlencode(&minijinja::Value::from(text))
        .map(|v| v.to_string())
        .unwrap_or_default()
}

pub async fn page(
    State(s): State<SharedState>,
    viewer: Viewer,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = s.clock.now();
    let mut q = q.map(|Query(q)| q).unwrap_or_default();
    if q.state.is_empty() {
        q.state = "open".into();
    }
    let (filter, _) = match incident_query(&q.pairs()) {
        Ok(parsed) => parsed,
        Err(e) => return super::error_page(&viewer, now, StatusCode::BAD_REQUEST, &e.message),
    };
    let config = s.config.load_full();
    let urgency = urgency_of(&config);
    let (incidents, total) = match super::read(&s, &viewer, move |c| {
        queries::board_incidents(c, &filter, BOARD_ROWS, &urgency)
    })
    .await
    {
        Ok(found) => found,
        Err(page) => return page,
    };
    let more = total - incidents.len() as i64;
    let fragment = q.fragment == "1";
    let ctx = context! {
        incidents => incidents,
        more => more,
        filter => &q,
        fragment_url => q.url(),
        teams => config.teams.iter().map(|t| context!{ id => t.id, name => t.name }).collect::<Vec<_>>(),
        services => config.services.iter().map(|t| context!{ id => t.id, name => t.name }).collect::<Vec<_>>(),
        users => config.users.iter().map(|u| context!{ id => u.id, name => u.name }).collect::<Vec<_>>(),
    };
    let template = if fragment {
        "board_rows.html"
    } else {
        "board.html"
    };
    render::page(template, &viewer, "incidents", now, ctx)
}
