//! Intake: parse and validate, make durable, answer. Nothing is acknowledged before the
//! event log has synced it, and nothing is stored from a request that is refused.

use crate::auth::authorize_intake;
use crate::error::{ApiError, ApiResult};
use crate::metrics::{ReasonLabel, SourceLabel};
use crate::state::SharedState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;
use tocsin_integrations::alertmanager_v2::AlertmanagerV2;
use tocsin_integrations::native::Native;
use tocsin_integrations::{Adapter, IntakeContext};
use tocsin_store::log::{encode_entry, LogEntry};

pub async fn native(
    State(s): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match intake(&s, peer, &headers, body, &Native).await {
        Ok(n) => (StatusCode::ACCEPTED, Json(json!({"accepted": n}))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Answers like Alertmanager: 200 with an empty body.
pub async fn alertmanager_v2(
    State(s): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match intake(&s, peer, &headers, body, &AlertmanagerV2).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A client gets this long to send its body; slower ones are cut off.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn reject(s: &SharedState, reason: &'static str, e: ApiError) -> ApiError {
    s.metrics
        .intake_rejected
        .get_or_create(&ReasonLabel { reason })
        .inc();
    e
}

async fn intake(
    s: &SharedState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    adapter: &dyn Adapter,
) -> ApiResult<usize> {
    let started = Instant::now();
    if s.shutting_down.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::unavailable(
            "the server is shutting down; send again",
        ));
    }
    authorize_intake(s, headers, peer).map_err(|e| reject(s, "auth", e))?;
    let config = s.config.load();
    let limit = config.intake.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes (intake.max_body_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(reject(s, "too_large", too_large()));
    }
    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| {
            reject(
                s,
                "read",
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!("the body did not arrive within {BODY_TIMEOUT:?}"),
                ),
            )
        })?;
    let bytes = read.map_err(|e| {
        if e.to_string().contains("length limit") {
            reject(s, "too_large", too_large())
        } else {
            reject(
                s,
                "read",
                ApiError::bad_request(format!("the body could not be read: {e}")),
            )
        }
    })?;
    let ctx = IntakeContext {
        now: s.clock.now(),
        resolve_timeout: config.resolve_timeout,
        max_events: config.intake.max_events_per_request,
    };
    let events = adapter
        .parse(&bytes, &ctx)
        .map_err(|e| reject(s, "invalid", ApiError::bad_request(e.0)))?;
    let count = events.len();
    let payload = encode_entry(&LogEntry::Events(events));
    s.writer
        .append(payload, None)
        .await
        .map_err(|e| reject(s, "store", ApiError::unavailable(e.to_string())))?;
    // Counted by integration, not by the sender's `source` text, which would give the
    // metric an unbounded number of series.
    s.metrics
        .events_received
        .get_or_create(&SourceLabel {
            source: adapter.name(),
        })
        .inc_by(count as u64);
    s.metrics
        .intake_seconds
        .observe(started.elapsed().as_secs_f64());
    Ok(count)
}
