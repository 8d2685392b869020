//! The service catalog as the config defines it: services with their team, impact, labels
//! and hosts, and the teams; and the services discovered in alerts that the config does not
//! define (with the YAML that promotes them into it). Read-only; the config is where it
//! changes.

use crate::auth::authorize;
use crate::error::ApiResult;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::config::Config;
use tocsin_core::time::to_rfc3339;
use tocsin_store::sqlite::discovered::{self, DiscoveredRow};

/// The discovered services the config does not define: once it does, the configured one
/// wins and the record is no longer shown as discovered.
pub(crate) fn not_in_catalog(config: &Config, rows: Vec<DiscoveredRow>) -> Vec<DiscoveredRow> {
    rows.into_iter()
        .filter(|r| config.service(&r.id).is_none())
        .collect()
}

async fn discovered_services(s: &SharedState, config: &Config) -> ApiResult<Vec<DiscoveredRow>> {
    Ok(not_in_catalog(
        config,
        super::read(s, discovered::list).await?,
    ))
}

/// `GET /api/v1/services`
pub async fn services(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let found = discovered_services(&s, &config).await?;
    let mut items: Vec<Value> = config
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
                "discovered": false,
            })
        })
        .collect();
    items.extend(found.iter().map(|r| {
        let sv = config.discovered_service(&r.id);
        json!({
            "id": sv.id,
            "name": sv.name,
            "team": sv.team,
            "impact": sv.impact.as_str(),
            "labels": sv.labels,
            "hosts": [],
            "default": false,
            "discovered": true,
            "first_seen": to_rfc3339(r.first_seen),
            "last_seen": to_rfc3339(r.last_seen),
        })
    }));
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/services/discovered.yaml`: the `services:` entries to paste into the config
/// to make the discovered services catalog services (an empty list when there are none).
pub async fn discovered_yaml(
    State(s): State<SharedState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    authorize(&s, &headers, Role::Viewer)?;
    let config = s.config.load_full();
    let found = discovered_services(&s, &config).await?;
    let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    let yaml = tocsin_core::discovered::promotion_yaml(&config, &ids);
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        yaml,
    ))
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
