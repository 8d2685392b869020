//! The service catalog as the config defines it: services with their team, impact, labels
//! and hosts, and the teams. Read-only; the config is where it changes.

use crate::auth::authorize;
use crate::error::ApiResult;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;

/// `GET /api/v1/services`
pub async fn services(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let items: Vec<Value> = config
        .services
        .iter()
        .map(|sv| {
            let hosts: Vec<Value> = config
                .hosts
                .iter()
                .filter(|h| h.service == sv.id)
                .map(|h| json!({"name": h.name, "ips": h.ips, "aliases": h.aliases}))
                .collect();
            json!({
                "id": sv.id,
                "name": sv.name,
                "team": sv.team,
                "impact": sv.impact.as_str(),
                "labels": sv.labels,
                "hosts": hosts,
                "default": sv.id == config.default_service,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/teams`
pub async fn teams(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let items: Vec<Value> = config
        .teams
        .iter()
        .map(|t| {
            let services: Vec<&str> = config
                .services
                .iter()
                .filter(|sv| sv.team == t.id)
                .map(|sv| sv.id.as_str())
                .collect();
            json!({"id": t.id, "name": t.name, "services": services})
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
