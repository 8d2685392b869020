//! Health, readiness, metrics, config reload and the OpenAPI document.

use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use tocsin_core::auth::Role;
use tocsin_store::sqlite::paging::backlog;

const OPENAPI: &str = include_str!("../openapi.json");

pub async fn healthy() -> &'static str {
    "OK\n"
}

pub async fn ready(State(s): State<SharedState>) -> (StatusCode, String) {
    if s.shutting_down.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".into())
    } else if let Some(why) = s.stats.gate.unready() {
        // Reads still work, but nothing new is taken: send alerts elsewhere.
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("read-only: {why}\n"),
        )
    } else {
        (StatusCode::OK, "OK\n".into())
    }
}

pub async fn metrics(State(s): State<SharedState>) -> impl IntoResponse {
    let now = s.clock.now();
    // A store that cannot be read leaves the outbox gauges at zero; the other series still
    // say what they know.
    let outbox = crate::routes::read(&s, move |c| backlog(c, now))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(&s, outbox),
    )
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

pub async fn reload(State(s): State<SharedState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    authorize(&s, &headers, Role::Admin)?;
    match crate::server::reload(&s).await {
        Ok(message) => Ok(Json(json!({"status": "ok", "message": message}))),
        Err(errors) => Err(ApiError::bad_request(format!(
            "the config was refused and the running one kept: {}",
            errors.join("; ")
        ))),
    }
}
