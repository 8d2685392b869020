//! `GET /api/v1/storms`: the storms detected, newest first (see docs/storms.md).

use super::read;
use crate::auth::authorize;
use crate::error::ApiResult;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use tocsin_core::auth::Role;
use tocsin_core::time::to_rfc3339;
use tocsin_store::sqlite::storms;

/// The most storms one answer lists.
const LIMIT: usize = 500;

pub async fn list(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Viewer)?;
    let rows = read(&s, |c| storms::list(c, LIMIT)).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "scope": r.scope,
                "service": r.service,
                "active": r.ended_at.is_none(),
                "started_at": to_rfc3339(r.started_at),
                "ended_at": r.ended_at.map(to_rfc3339),
                "start_rate": r.start_rate.round(),
                "baseline_rate": (r.baseline_rate * 10.0).round() / 10.0,
                "peak_rate": r.peak_rate.round(),
                "alerts": r.alerts,
                "incidents": r.incidents,
                "lead_incident": r.lead_incident,
                "summaries": r.summaries,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
