//! Merging an incident into another and splitting alerts out of one: people correcting how
//! alerts were grouped. Like the other incident actions they go through the event log and the
//! engine, and answer with the incident the alerts are in afterwards.

use super::incidents::{applied, check_text, fetch};
use super::{parse_id, read, submit};
use crate::auth::authorize;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeSet;
use tocsin_core::auth::Role;
use tocsin_core::command::{RegroupAction, RegroupCommand};
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::queries;
use tocsin_store::sqlite::rows::IncidentDetail;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: i64,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitBody {
    alerts: Vec<i64>,
    #[serde(default)]
    reason: String,
}

fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    serde_json::from_slice(&super::body(body)?)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// Logs the move and waits for the engine to apply it.
async fn regroup(
    s: &SharedState,
    actor: String,
    incident_id: i64,
    action: RegroupAction,
    reason: &str,
) -> ApiResult<()> {
    let reason = reason.trim().to_string();
    check_text("reason", &reason)?;
    let command = RegroupCommand {
        incident_id,
        action,
        actor,
        reason,
        at: s.clock.now(),
    };
    let outcome = submit(s, LogEntry::Regroup(command))
        .await
        .map_err(ApiError::from)?;
    applied(outcome)
}

/// `POST /api/v1/incidents/{id}/merge`: every alert of `id` moves into `into`; `id` resolves.
pub async fn merge(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IncidentDetail>> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let id = parse_id(&id, "incident")?;
    let body: MergeBody = parse(body)?;
    if body.into <= 0 {
        return Err(ApiError::bad_request(
            "into: the id of the incident to merge into",
        ));
    }
    let action = RegroupAction::Merge { into: body.into };
    regroup(&s, who.name, id, action, &body.reason).await?;
    fetch(&s, body.into).await.map(Json)
}

/// `POST /api/v1/incidents/{id}/split`: these alerts of `id` go into one new incident,
/// which the answer (201) is.
pub async fn split(
    State(s): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IncidentDetail>)> {
    let who = authorize(&s, &headers, Role::Responder)?;
    let id = parse_id(&id, "incident")?;
    let body: SplitBody = parse(body)?;
    let Some(&first) = body.alerts.first() else {
        return Err(ApiError::bad_request("alerts: name at least one alert id"));
    };
    if body.alerts.iter().collect::<BTreeSet<_>>().len() < body.alerts.len() {
        return Err(ApiError::bad_request("alerts: an alert is named twice"));
    }
    // An alert that is not in the incident is a wrong address, not a conflict with its
    // state; the engine checks again, in log order.
    fetch(&s, id).await?;
    let named = body.alerts.clone();
    let stray = read(&s, move |c| {
        for a in named {
            let at = queries::get_alert(c, a)?.and_then(|d| d.alert.incident_id);
            if at != Some(id) {
                return Ok(Some(a));
            }
        }
        Ok(None)
    })
    .await?;
    if let Some(a) = stray {
        return Err(ApiError::not_found(format!(
            "alert {a} is not in incident {id}"
        )));
    }
    let action = RegroupAction::Split {
        alerts: body.alerts,
    };
    regroup(&s, who.name, id, action, &body.reason).await?;
    let moved = read(&s, move |c| queries::get_alert(c, first)).await?;
    let created = moved.and_then(|a| a.alert.incident_id).ok_or_else(|| {
        ApiError::internal(format!("alert {first} has no incident after the split"))
    })?;
    Ok((StatusCode::CREATED, Json(fetch(&s, created).await?)))
}
